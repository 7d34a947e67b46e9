//! The command line: global flags, subcommands, and the per-field flags of clients and
//! contacts turned into the field values the store validates.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use serde_json::Value as Json;
use tandem_domain::{Entity, FieldKind, field_spec};

/// Tandem: client contacts for coaching teams, offline first.
#[derive(Debug, Parser)]
#[command(name = "tandem", version, about, max_term_width = 100)]
pub(crate) struct Cli {
    /// The data directory of the store (default: the desktop app's per-user directory,
    /// ~/.local/share/tandem on Linux).
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        env = "TANDEM_DATA_DIR",
        help_heading = "Every command"
    )]
    pub(crate) data_dir: Option<PathBuf>,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true, help_heading = "Every command")]
    pub(crate) json: bool,
    #[command(subcommand)]
    pub(crate) command: Command,
}

// Parsed once per run; boxing the field sets would only add noise.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create the encrypted store (and its key in the OS keyring) if it does not exist.
    Init,
    /// Register, edit, show, search and list clients.
    #[command(subcommand)]
    Client(ClientCommand),
    /// Log and list contacts.
    #[command(subcommand)]
    Contact(ContactCommand),
    /// Show the store path, schema version, pending changes, last sync, last error and
    /// clock skew.
    Status,
    /// Sign this store in to a server (the password is read from standard input).
    Login(crate::sync_args::LoginArgs),
    /// Send pending changes to the server and fetch the team's changes (once, or with
    /// --watch on a schedule until stopped).
    Sync(crate::sync_args::SyncArgs),
    /// Conflicts of the team known to this device.
    #[command(subcommand)]
    Conflicts(crate::sync_args::ConflictsCommand),
    /// Changes the server refused.
    #[command(subcommand)]
    Rejected(crate::sync_args::RejectedCommand),
    /// The sites (NGO premises) a contact can name, as the last sync brought them.
    Sites,
    /// The users of the team (a contact's coach, whoever wrote a change), as the last sync
    /// brought them.
    Users,
    /// Print every record as JSON.
    Export,
    /// The participant report (ESF+ indicators, contacts) of a period, from this laptop's
    /// data: a table, or CSV or JSON with --format (definitions in docs/reports.md).
    Report(ReportArgs),
    /// The configuration IT provisioned (/etc/tandem/config.toml, or
    /// TANDEM_PROVISIONING_FILE) and the user's settings.
    #[command(subcommand)]
    Config(crate::sync_args::ConfigCommand),
}

/// `tandem report`.
#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    /// First day of the period (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub(crate) from: String,
    /// Last day of the period, included (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub(crate) to: String,
    /// csv (one line per figure, with a header) or json; a readable table without it.
    #[arg(long, value_enum)]
    pub(crate) format: Option<ReportFormat>,
}

/// The machine-readable forms of `tandem report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ReportFormat {
    /// `from,to,indicator,category,count`, one line per figure.
    Csv,
    /// The report as JSON, as the server's `GET /v1/reports/participants` gives it.
    Json,
}

// Parsed once per run; boxing the field sets would only add noise.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub(crate) enum ClientCommand {
    /// Register a client; prints the new id.
    Add(ClientFields),
    /// Change fields of a client (`--FIELD VALUE`; `--clear FIELD` empties one; list flags
    /// such as --language replace the whole list).
    Edit {
        /// The client's id.
        id: String,
        #[command(flatten)]
        fields: ClientFields,
    },
    /// Show a client with its contacts.
    Show {
        /// The client's id.
        id: String,
    },
    /// Find clients by name, nickname or phone (case and diacritics do not matter).
    Search {
        /// What to look for.
        text: String,
    },
    /// Register many clients from JSON lines (one object of wire field names per line, from
    /// FILE or standard input); prints each new id as soon as it is stored. Stops at the
    /// first invalid line, naming it; the lines before it stay registered.
    Import {
        /// A file of JSON lines (default: standard input).
        file: Option<PathBuf>,
    },
    /// List clients by name.
    List {
        /// Include deleted clients.
        #[arg(long)]
        include_deleted: bool,
    },
}

// Parsed once per run; boxing the field sets would only add noise.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub(crate) enum ContactCommand {
    /// Log a contact; prints the new id.
    Add(NewContact),
    /// Correct fields of a contact (`--FIELD VALUE`; `--clear FIELD` empties one; list flags
    /// such as --topic replace the whole list; `--deleted true` deletes a contact logged by
    /// mistake, `--deleted false` brings it back).
    Edit {
        /// The contact's id.
        id: String,
        #[command(flatten)]
        fields: ContactFields,
        /// true marks the contact deleted (a tombstone that syncs); false undoes that.
        #[arg(long, value_name = "BOOL")]
        deleted: Option<String>,
        /// Empty this field; repeat for several.
        #[arg(long, value_name = "FIELD")]
        clear: Vec<String>,
    },
    /// List a client's contacts, newest first.
    List {
        /// The client's id.
        #[arg(long)]
        client: String,
    },
}

/// The fields of a client, each optional; names as in DESIGN.md with dashes.
#[derive(Debug, Args)]
pub(crate) struct ClientFields {
    #[arg(long)]
    given_name: Option<String>,
    #[arg(long)]
    family_name: Option<String>,
    #[arg(long)]
    nickname: Option<String>,
    #[arg(long, value_name = "YEAR")]
    birth_year: Option<String>,
    /// female, male, non_binary or undisclosed.
    #[arg(long)]
    gender: Option<String>,
    /// An ISO 639 code; repeat for several languages.
    #[arg(long = "language", value_name = "CODE")]
    languages: Vec<String>,
    #[arg(long, value_name = "CODE")]
    preferred_language: Option<String>,
    #[arg(long, value_name = "BOOL")]
    interpreter_needed: Option<String>,
    /// E.164 (+358401234567) or Finnish national format (040 123 4567).
    #[arg(long)]
    phone: Option<String>,
    #[arg(long)]
    email: Option<String>,
    #[arg(long)]
    municipality: Option<String>,
    #[arg(long, value_name = "YEAR")]
    arrived_in_finland: Option<String>,
    #[arg(long)]
    employment_status: Option<String>,
    #[arg(long)]
    education_level: Option<String>,
    /// yes, no or declined.
    #[arg(long)]
    third_country_national: Option<String>,
    /// yes, no or declined.
    #[arg(long)]
    foreign_background: Option<String>,
    /// yes, no or declined.
    #[arg(long)]
    disability: Option<String>,
    #[arg(long)]
    consent: Option<String>,
    #[arg(long, value_name = "DATE")]
    consent_date: Option<String>,
    /// Who recorded the consent (default: the signed-in user, with --consent): a username of
    /// the team or a user's id, as the last sync brought them (`tandem users` lists them).
    #[arg(long, value_name = "USER")]
    pub(crate) consent_by: Option<String>,
    #[arg(long)]
    lawful_basis: Option<String>,
    #[arg(long, value_name = "DATE")]
    participant_start: Option<String>,
    #[arg(long, value_name = "DATE")]
    participant_exit: Option<String>,
    #[arg(long)]
    exit_situation: Option<String>,
    #[arg(long)]
    notes: Option<String>,
    /// Read the notes from a file (for long texts).
    #[arg(long, value_name = "FILE", conflicts_with = "notes")]
    notes_file: Option<PathBuf>,
    /// A tag; repeat for several.
    #[arg(long = "tag")]
    tags: Vec<String>,
    /// true marks the client deleted (a tombstone that syncs).
    #[arg(long, value_name = "BOOL")]
    deleted: Option<String>,
    /// Empty this field; repeat for several.
    #[arg(long, value_name = "FIELD")]
    clear: Vec<String>,
}

impl ClientFields {
    pub(crate) fn to_input(&self, entity: Entity) -> Result<BTreeMap<String, Json>> {
        let notes = read_text_file("notes", self.notes.clone(), self.notes_file.as_ref())?;
        let single = [
            ("given_name", &self.given_name),
            ("family_name", &self.family_name),
            ("nickname", &self.nickname),
            ("birth_year", &self.birth_year),
            ("gender", &self.gender),
            ("preferred_language", &self.preferred_language),
            ("interpreter_needed", &self.interpreter_needed),
            ("phone", &self.phone),
            ("email", &self.email),
            ("municipality", &self.municipality),
            ("arrived_in_finland", &self.arrived_in_finland),
            ("employment_status", &self.employment_status),
            ("education_level", &self.education_level),
            ("third_country_national", &self.third_country_national),
            ("foreign_background", &self.foreign_background),
            ("disability", &self.disability),
            ("consent", &self.consent),
            ("consent_date", &self.consent_date),
            ("consent_by", &self.consent_by),
            ("lawful_basis", &self.lawful_basis),
            ("participant_start", &self.participant_start),
            ("participant_exit", &self.participant_exit),
            ("exit_situation", &self.exit_situation),
            ("notes", &notes),
            ("deleted", &self.deleted),
        ];
        let sets = [("languages", &self.languages), ("tags", &self.tags)];
        collect_input(entity, &single, &sets, &self.clear)
    }
}

/// A new contact: whom it was with, and its fields.
#[derive(Debug, Args)]
pub(crate) struct NewContact {
    /// The client met (see --anonymous for a visitor who stays anonymous).
    #[arg(long, value_name = "CLIENT_ID", required_unless_present = "anonymous")]
    pub(crate) client: Option<String>,
    /// An anonymous drop-in visitor: counted, but not a participant.
    #[arg(long, conflicts_with = "client")]
    pub(crate) anonymous: bool,
    #[command(flatten)]
    pub(crate) fields: ContactFields,
}

/// The fields of a contact, each optional; names as in DESIGN.md with dashes.
#[derive(Debug, Args)]
pub(crate) struct ContactFields {
    /// When it happened (RFC 3339; default: now).
    #[arg(long, value_name = "DATE_TIME")]
    occurred_at: Option<String>,
    /// Where it happened: a site's name or id, as the last sync brought them (`tandem
    /// sites` lists them; an archived site too, for a contact of the past).
    #[arg(long, value_name = "SITE")]
    pub(crate) site: Option<String>,
    /// Whose contact it is (default: the signed-in user's): a username of the team or a
    /// user's id, as the last sync brought them (`tandem users` lists them).
    #[arg(long = "coach", value_name = "USER")]
    pub(crate) coach_id: Option<String>,
    /// drop_in (default), appointment, phone, outreach or group.
    #[arg(long)]
    channel: Option<String>,
    #[arg(long, value_name = "MINUTES")]
    duration_min: Option<String>,
    /// A topic; repeat for several.
    #[arg(long = "topic")]
    topics: Vec<String>,
    #[arg(long, value_name = "CODE")]
    service_language: Option<String>,
    #[arg(long, value_name = "BOOL")]
    interpreter_used: Option<String>,
    /// A referral; repeat for several.
    #[arg(long = "referral")]
    referrals: Vec<String>,
    #[arg(long)]
    summary: Option<String>,
    /// Read the summary from a file (for long texts).
    #[arg(long, value_name = "FILE", conflicts_with = "summary")]
    summary_file: Option<PathBuf>,
    #[arg(long, value_name = "DATE")]
    follow_up_on: Option<String>,
    #[arg(long, value_name = "BOOL")]
    follow_up_done: Option<String>,
}

impl ContactFields {
    /// The input of these fields, with a correction's `deleted` and fields to `clear`.
    pub(crate) fn to_input(
        &self,
        entity: Entity,
        deleted: &Option<String>,
        clear: &[String],
    ) -> Result<BTreeMap<String, Json>> {
        let summary = read_text_file("summary", self.summary.clone(), self.summary_file.as_ref())?;
        let single = [
            ("occurred_at", &self.occurred_at),
            ("site", &self.site),
            ("coach_id", &self.coach_id),
            ("channel", &self.channel),
            ("duration_min", &self.duration_min),
            ("service_language", &self.service_language),
            ("interpreter_used", &self.interpreter_used),
            ("summary", &summary),
            ("follow_up_on", &self.follow_up_on),
            ("follow_up_done", &self.follow_up_done),
            ("deleted", deleted),
        ];
        let sets = [("topics", &self.topics), ("referrals", &self.referrals)];
        collect_input(entity, &single, &sets, clear)
    }
}

fn read_text_file(
    field: &str,
    inline: Option<String>,
    file: Option<&PathBuf>,
) -> Result<Option<String>> {
    match file {
        Some(path) => std::fs::read_to_string(path)
            .map(Some)
            .with_context(|| format!("{field}: cannot read {}", path.display())),
        None => Ok(inline),
    }
}

fn collect_input(
    entity: Entity,
    single: &[(&str, &Option<String>)],
    sets: &[(&str, &Vec<String>)],
    clear: &[String],
) -> Result<BTreeMap<String, Json>> {
    let mut input = BTreeMap::new();
    for (name, value) in single {
        if let Some(text) = value {
            input.insert((*name).to_owned(), cli_value(entity, name, text)?);
        }
    }
    for (name, members) in sets {
        if !members.is_empty() {
            input.insert((*name).to_owned(), Json::from(members.to_vec()));
        }
    }
    for name in clear {
        let spec = field_spec(entity, &name.replace('-', "_"))?;
        if spec.entity == Entity::Client && spec.name == "merged_into" {
            // The server refuses it from any device: a merge has a row to undo it by, and the
            // erasure of the survivor follows the link, so only the merge itself writes it.
            bail!(
                "merged_into: only a team lead's duplicate merge (and its undo) changes it, in \
                 the desktop app's duplicates panel"
            );
        }
        input.insert(spec.name.to_owned(), Json::Null);
    }
    Ok(input)
}

/// Turns the text of a flag into the JSON the field expects: numbers for years and counts,
/// booleans for yes/no flags, text otherwise. What does not convert is passed on as text,
/// so the domain's error names the field and the expected form.
fn cli_value(entity: Entity, name: &str, text: &str) -> Result<Json> {
    let spec = field_spec(entity, name)?;
    Ok(match spec.kind {
        FieldKind::Year | FieldKind::Integer { .. } => text
            .trim()
            .parse::<i64>()
            .map_or_else(|_| Json::from(text), Json::from),
        FieldKind::Bool => match text.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Json::Bool(true),
            "false" | "no" | "0" => Json::Bool(false),
            _ => Json::from(text),
        },
        _ => Json::from(text),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_flags_are_accepted_after_the_subcommand() {
        let cli =
            Cli::try_parse_from(["tandem", "client", "list", "--json", "--data-dir", "/tmp/x"])
                .unwrap();
        assert!(cli.json);
        assert_eq!(
            cli.data_dir.as_deref(),
            Some(std::path::Path::new("/tmp/x"))
        );
    }

    #[test]
    fn flag_texts_become_the_json_their_field_expects() {
        assert_eq!(
            cli_value(Entity::Client, "birth_year", "1990").unwrap(),
            Json::from(1990)
        );
        assert_eq!(
            cli_value(Entity::Client, "birth_year", "nineteen").unwrap(),
            Json::from("nineteen")
        );
        assert_eq!(
            cli_value(Entity::Client, "interpreter_needed", "yes").unwrap(),
            Json::Bool(true)
        );
        assert_eq!(
            cli_value(Entity::Client, "phone", "040 123 4567").unwrap(),
            Json::from("040 123 4567")
        );
    }
}
