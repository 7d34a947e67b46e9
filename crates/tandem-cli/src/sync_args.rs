//! The command-line arguments of the sync commands (wired into `args::Command`).

use clap::{Args, Subcommand};

/// `tandem login`.
#[derive(Debug, Args)]
pub(crate) struct LoginArgs {
    /// The server's address, e.g. https://tandem.example.org (default: server_url of the
    /// provisioning file, which cannot be overridden).
    #[arg(long, value_name = "URL", env = "TANDEM_SERVER")]
    pub(crate) server: Option<String>,
    /// The login name.
    #[arg(long)]
    pub(crate) username: String,
    /// Read the password from the first line of standard input (required: a password on
    /// the command line would end up in the shell history and the process list).
    #[arg(long)]
    pub(crate) password_stdin: bool,
    /// The team this laptop works for, when the user belongs to several.
    #[arg(long, value_name = "NAME")]
    pub(crate) team: Option<String>,
    /// A name for this laptop, shown to team leads (default: the host name).
    #[arg(long, value_name = "NAME")]
    pub(crate) device_name: Option<String>,
}

/// `tandem sync`.
#[derive(Debug, Args)]
pub(crate) struct SyncArgs {
    /// Keep syncing until stopped (Ctrl-C or SIGTERM), on the desktop app's schedule: at
    /// once, every --interval, a few seconds after a change is saved on this laptop, with
    /// growing waits after a failure, and as soon as the server answers again after being
    /// offline. One line per sync. Ends with an error when a failure needs a person (a
    /// revoked device, an update, a new sign-in); a server address that answers 404 and a
    /// record too large to send are said and retried every 7.5 to 15 minutes.
    #[arg(long)]
    pub(crate) watch: bool,
    /// With --watch: seconds between syncs while nothing happens.
    #[arg(
        long,
        value_name = "SECONDS",
        requires = "watch",
        default_value_t = 300,
        value_parser = clap::value_parser!(u64).range(1..=86_400)
    )]
    pub(crate) interval: u64,
}

/// `tandem conflicts ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum ConflictsCommand {
    /// List the conflicts this device knows (open ones; --all also closed ones). Team leads see
    /// the whole team's; coaches see the ones their own changes ran into.
    List {
        /// Also auto-resolved and resolved conflicts (a team lead's laptop keeps the 50
        /// most recently closed of those).
        #[arg(long)]
        all: bool,
    },
    /// Resolve an open conflict (team leads; needs the server): the field gets the chosen
    /// value as an ordinary new change that every device pulls.
    #[command(group(clap::ArgGroup::new("choice").required(true).args(["value", "pick"])))]
    Resolve {
        /// The conflict's id (see `tandem conflicts list`).
        id: i64,
        /// Another value, as JSON (`'"Mariam"'`, `1988`, `'["fi","so"]'`, `null`).
        #[arg(long, value_name = "JSON")]
        value: Option<String>,
        /// One of the values in conflict, counted from 1 as `tandem conflicts list` shows them.
        #[arg(long, value_name = "N")]
        pick: Option<usize>,
    },
}

/// `tandem rejected ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum RejectedCommand {
    /// List the changes the server refused, with its reason.
    List,
    /// Queue a refused change again (as a new change of its field).
    Retry {
        /// The refused change's id.
        change_id: String,
    },
    /// Remove a refused change from the list for good.
    Dismiss {
        /// The refused change's id.
        change_id: String,
    },
}

/// `tandem config ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum ConfigCommand {
    /// Print the effective configuration and where each value came from (the provisioning
    /// file, a user setting, or the default). An invalid provisioning file is an error that
    /// names the key.
    Show,
}
