//! The `tandem` command: a headless client over the same encrypted store as the desktop app,
//! for IT, scripts and tests. `--data-dir` and `--json` are global flags, accepted before or
//! after the subcommand. Exit code 0 on success; otherwise 1 with a message that names the
//! field or the problem.

mod args;
mod output;
mod sync_args;
mod sync_commands;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use clap::Parser;
use serde_json::{Value as Json, json};
use tandem_domain::{Entity, RecordId};
use tandem_store::{EditContext, EditOutcome, Store};
use tandem_sync::Provisioning;

use crate::args::{
    Cli, ClientCommand, Command, ContactCommand, ContactFields, ReportArgs, ReportFormat,
};
use crate::output::Output;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let out = Output::new(cli.json);
    match run(cli, &out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            out.error(&err);
            ExitCode::FAILURE
        }
    }
}

/// The moment of an edit, read once at the edge of the program.
fn now() -> DateTime<Utc> {
    #[allow(clippy::disallowed_methods)] // The binary is the edge where the clock is read.
    Utc::now()
}

fn data_dir(cli_dir: Option<PathBuf>) -> Result<PathBuf> {
    match cli_dir {
        Some(dir) => Ok(dir),
        None => tandem_store::default_data_dir()
            .context("cannot find a per-user data directory (is HOME set?); pass --data-dir DIR"),
    }
}

fn run(cli: Cli, out: &Output) -> Result<()> {
    let dir = data_dir(cli.data_dir)?;
    let open =
        || Store::open(&dir).with_context(|| format!("cannot open the store in {}", dir.display()));
    match cli.command {
        Command::Init => {
            let store = open()?;
            let status = store.status()?;
            out.print(
                &json!({"data_dir": dir, "store": status.path, "schema_version": status.schema_version}),
                || format!("Tandem store ready in {}", status.path.display()),
            );
        }
        Command::Client(command) => client(command, open()?, out)?,
        Command::Contact(command) => contact(command, open()?, out)?,
        // An invalid provisioning file is reported, not fatal: status is for support calls.
        Command::Status => sync_commands::status(&open()?, &Provisioning::load_system(), out)?,
        Command::Login(args) => {
            let provisioning = Provisioning::load_system()?;
            sync_commands::login(args, &provisioning, &dir, open()?, out)?;
        }
        Command::Sync(args) => {
            let provisioning = Provisioning::load_system()?;
            if args.watch {
                let interval = std::time::Duration::from_secs(args.interval);
                sync_commands::watch(&provisioning, &dir, open()?, out, cli.json, interval)?;
            } else {
                sync_commands::sync(&provisioning, &dir, open, out, cli.json)?;
            }
        }
        Command::Config(command) => {
            sync_commands::config(command, &Provisioning::load_system()?, &dir, out)?;
        }
        Command::Conflicts(command) => {
            sync_commands::conflicts(command, &dir, &mut open()?, out)?;
        }
        Command::Rejected(command) => sync_commands::rejected(command, &mut open()?, out)?,
        Command::Report(args) => report(&args, &open()?, out, cli.json)?,
        Command::Sites => {
            let sites = open()?.sites()?;
            out.print(
                &Json::Array(
                    sites
                        .iter()
                        .map(|site| json!({"id": site.id, "name": site.name, "archived": site.archived}))
                        .collect(),
                ),
                || output::site_lines(&sites),
            );
        }
        Command::Users => {
            let users = open()?.team_users()?;
            out.print(
                &Json::Array(
                    users
                        .iter()
                        .map(|user| json!({"id": user.id, "username": user.username, "role": user.role}))
                        .collect(),
                ),
                || output::user_lines(&users),
            );
        }
        Command::Export => {
            let store = open()?;
            let records = |entity| -> Result<Vec<Json>> {
                Ok(store
                    .all_records(entity)?
                    .iter()
                    .map(|r| r.to_json())
                    .collect())
            };
            // Export is always JSON: it is meant for files and other programs.
            out.json(&json!({
                "format": "tandem-export",
                "version": 1,
                "exported_at": now().to_rfc3339(),
                "clients": records(Entity::Client)?,
                "contacts": records(Entity::Contact)?,
            }));
        }
    }
    Ok(())
}

/// `tandem report`: the participant report of what this laptop holds.
fn report(args: &ReportArgs, store: &Store, out: &Output, json: bool) -> Result<()> {
    let period = tandem_reports::ReportPeriod::parse(Some(&args.from), Some(&args.to))?;
    let report = tandem_reports::participant_report(&store.report_data()?, period);
    match args.format {
        Some(ReportFormat::Csv) => out.raw(&tandem_reports::to_csv(&report, &store.site_names()?)),
        Some(ReportFormat::Json) => out.json(&serde_json::to_value(&report)?),
        None if json => out.json(&serde_json::to_value(&report)?),
        None => out.raw(&output::report_text(&report, &store.site_names()?)),
    }
    Ok(())
}

fn client(command: ClientCommand, mut store: Store, out: &Output) -> Result<()> {
    match command {
        ClientCommand::Add(mut fields) => {
            fields.consent_by = consent_by(&store, fields.consent_by)?;
            let input = fields.to_input(Entity::Client)?;
            let id = store.create_record(Entity::Client, &input, EditContext::at(now()))?;
            out.print(&json!({"id": id}), || id.to_string());
        }
        ClientCommand::Edit { id, mut fields } => {
            let id = RecordId::parse(&id)?;
            fields.consent_by = consent_by(&store, fields.consent_by)?;
            let input = fields.to_input(Entity::Client)?;
            if input.is_empty() {
                bail!(
                    "nothing to change: give at least one --FIELD VALUE (see `tandem client edit --help`)"
                );
            }
            let outcome = store.edit_record(Entity::Client, id, &input, EditContext::at(now()))?;
            print_edit(out, id, &outcome);
        }
        ClientCommand::Show { id } => {
            let id = RecordId::parse(&id)?;
            let client = store.record(Entity::Client, id)?.ok_or(
                tandem_store::StoreError::RecordNotFound {
                    entity: Entity::Client,
                    id,
                },
            )?;
            let contacts = store.contacts_of_client(id)?;
            let mut shown = client.to_json();
            shown["contacts"] = Json::Array(contacts.iter().map(|c| c.to_json()).collect());
            let names = output::Names::of(&store)?;
            out.print(&shown, || output::client_text(&client, &contacts, &names));
        }
        ClientCommand::Search { text } => {
            let found = store.search_clients(&text)?;
            out.print(
                &Json::Array(found.iter().map(|c| c.to_json()).collect()),
                || output::client_lines(&found),
            );
        }
        ClientCommand::Import { file } => import_clients(&mut store, file, out)?,
        ClientCommand::List { include_deleted } => {
            let clients = store.list_clients(include_deleted)?;
            out.print(
                &Json::Array(clients.iter().map(|c| c.to_json()).collect()),
                || output::client_lines(&clients),
            );
        }
    }
    Ok(())
}

/// Registers one client per JSON line, each in its own transaction, printing its id once it
/// is durable, so a caller (or a person watching) knows exactly which lines are stored.
fn import_clients(store: &mut Store, file: Option<PathBuf>, out: &Output) -> Result<()> {
    let reader: Box<dyn BufRead> = match &file {
        Some(path) => Box::new(BufReader::new(
            File::open(path).with_context(|| format!("cannot read {}", path.display()))?,
        )),
        None => Box::new(BufReader::new(std::io::stdin().lock())),
    };
    for (index, line) in reader.lines().enumerate() {
        let number = index + 1;
        let line = line.with_context(|| format!("line {number}: cannot read"))?;
        if line.trim().is_empty() {
            continue;
        }
        let input: BTreeMap<String, Json> = serde_json::from_str(&line)
            .with_context(|| format!("line {number}: not a JSON object of client fields"))?;
        let id = store
            .create_record(Entity::Client, &input, EditContext::at(now()))
            .with_context(|| format!("line {number}"))?;
        out.print(&json!({"line": number, "id": id}), || id.to_string());
    }
    Ok(())
}

/// What an edit changed: its fields, or that nothing did.
fn print_edit(out: &Output, id: RecordId, outcome: &EditOutcome) {
    out.print(
        &json!({"id": id, "changed": outcome.changed_fields}),
        || {
            if outcome.changed_fields.is_empty() {
                "nothing changed".to_owned()
            } else {
                format!("changed {}", outcome.changed_fields.join(", "))
            }
        },
    );
}

/// A contact's fields with its site and coach given by name turned into their ids (and, for
/// a correction, `deleted` and the fields to clear).
fn contact_input(
    store: &Store,
    mut fields: ContactFields,
    deleted: &Option<String>,
    clear: &[String],
) -> Result<BTreeMap<String, Json>> {
    fields.site = fields
        .site
        .map(|site| site_id(&store.sites()?, &site))
        .transpose()?;
    fields.coach_id = fields
        .coach_id
        .map(|coach| user_id(&COACH, &store.known_user_names()?, &coach))
        .transpose()?;
    fields.to_input(Entity::Contact, deleted, clear)
}

fn contact(command: ContactCommand, mut store: Store, out: &Output) -> Result<()> {
    match command {
        ContactCommand::Add(new) => {
            let mut input = contact_input(&store, new.fields, &None, &[])?;
            let client = new.client.as_deref().map(RecordId::parse).transpose()?;
            match client {
                Some(client) => {
                    if store.record(Entity::Client, client)?.is_none() {
                        bail!("client_id: no client {client} in this store");
                    }
                    input.insert("client_id".to_owned(), json!(client));
                }
                None if new.anonymous => {}
                None => bail!(
                    "client_id: give --client ID, or --anonymous for an anonymous drop-in visitor"
                ),
            }
            let now = now();
            input
                .entry("occurred_at".to_owned())
                .or_insert_with(|| json!(now.to_rfc3339()));
            input
                .entry("channel".to_owned())
                .or_insert_with(|| json!("drop_in"));
            let id = store.create_record(Entity::Contact, &input, EditContext::at(now))?;
            out.print(&json!({"id": id}), || id.to_string());
        }
        ContactCommand::Edit {
            id,
            fields,
            deleted,
            clear,
        } => {
            let id = RecordId::parse(&id)?;
            let input = contact_input(&store, fields, &deleted, &clear)?;
            if input.is_empty() {
                bail!(
                    "nothing to change: give at least one --FIELD VALUE (see `tandem contact edit --help`)"
                );
            }
            let outcome = store.edit_record(Entity::Contact, id, &input, EditContext::at(now()))?;
            print_edit(out, id, &outcome);
        }
        ContactCommand::List { client } => {
            let client = RecordId::parse(&client)?;
            let contacts = store.contacts_of_client(client)?;
            let names = output::Names::of(&store)?;
            out.print(
                &Json::Array(contacts.iter().map(|c| c.to_json()).collect()),
                || output::contact_lines(&contacts, &names),
            );
        }
    }
    Ok(())
}

/// What a command's flag may name by name or id: reference data that syncs bring (a
/// contact's site and coach, a client's consent recorder).
struct Reference {
    /// The field that holds the id.
    field: &'static str,
    /// What one of them is called in an error.
    noun: &'static str,
    /// The command that lists them.
    lists: &'static str,
}

const SITE: Reference = Reference {
    field: "site",
    noun: "site",
    lists: "tandem sites",
};

const COACH: Reference = Reference {
    field: "coach_id",
    noun: "user of the team",
    lists: "tandem users",
};

const CONSENT_BY: Reference = Reference {
    field: "consent_by",
    ..COACH
};

/// The id of the user `given` names for the field `what`: a username or an id among the
/// `names` this store knows (the team's users from the last sync, and who signed in here).
fn user_id(what: &Reference, names: &BTreeMap<uuid::Uuid, String>, given: &str) -> Result<String> {
    let known: Vec<_> = names
        .iter()
        .map(|(id, name)| (*id, name.as_str()))
        .collect();
    reference_id(what, &known, given)
}

/// `--consent-by` as a user's id (see [`user_id`]).
fn consent_by(store: &Store, given: Option<String>) -> Result<Option<String>> {
    given
        .map(|user| user_id(&CONSENT_BY, &store.known_user_names()?, &user))
        .transpose()
}

/// The id of the site `given` names: its name (any case) or its id among `sites`.
fn site_id(sites: &[tandem_store::Site], given: &str) -> Result<String> {
    let known: Vec<_> = sites
        .iter()
        .map(|site| (site.id, site.name.trim()))
        .collect();
    reference_id(&SITE, &known, given)
}

/// The id that `given` names among `known` (ids and names, as the last sync brought them): an
/// id, a name as it is written, or a name in another case when only one matches so. When
/// the store knows none (no sync yet; for users, no sign-in yet), an id is taken as it is.
fn reference_id(what: &Reference, known: &[(uuid::Uuid, &str)], given: &str) -> Result<String> {
    let Reference { field, noun, lists } = what;
    // Errors list them by name, as people look for them.
    let mut known = known.to_vec();
    known.sort_by_cached_key(|(id, name)| (name.to_lowercase(), name.to_string(), *id));
    let given = given.trim();
    let id = uuid::Uuid::parse_str(given).ok();
    if let Some((id, _)) = known
        .iter()
        .find(|(known_id, known_name)| Some(*known_id) == id || *known_name == given)
    {
        return Ok(id.to_string());
    }
    let name = given.to_lowercase();
    let in_any_case: Vec<_> = known
        .iter()
        .filter(|(_, known_name)| known_name.to_lowercase() == name)
        .collect();
    match in_any_case[..] {
        [(id, _)] => return Ok(id.to_string()),
        [] => {}
        _ => bail!(
            "{field}: `{given}` could be {}; write the name as it is written",
            in_any_case
                .iter()
                .map(|(_, name)| format!("`{name}`"))
                .collect::<Vec<_>>()
                .join(" or ")
        ),
    }
    match id {
        Some(id) if known.is_empty() => Ok(id.to_string()),
        _ if known.is_empty() => bail!(
            "{field}: no {noun} is known to this store yet; sync first (`tandem login`, then `tandem sync`), or give an id"
        ),
        _ => bail!(
            "{field}: no {noun} `{given}` (known: {}; `{lists}` lists them, a sync brings new ones)",
            known
                .iter()
                .map(|(_, name)| *name)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_is_named_by_id_by_its_name_or_in_another_case_when_that_is_unambiguous() {
        let (mira, other_mira, lead) = (
            uuid::Uuid::from_u128(1),
            uuid::Uuid::from_u128(2),
            uuid::Uuid::from_u128(3),
        );
        let known = [(other_mira, "mira"), (lead, "lead1"), (mira, "Mira")];
        let named = |given: &str| reference_id(&COACH, &known, given);
        assert_eq!(named("Mira").unwrap(), mira.to_string());
        assert_eq!(named(" mira ").unwrap(), other_mira.to_string());
        assert_eq!(named(&lead.to_string()).unwrap(), lead.to_string());
        assert_eq!(named("LEAD1").unwrap(), lead.to_string());
        let ambiguous = named("MIRA").unwrap_err().to_string();
        assert_eq!(
            ambiguous,
            "coach_id: `MIRA` could be `Mira` or `mira`; write the name as it is written"
        );
        let unknown = named("nobody").unwrap_err().to_string();
        assert!(
            unknown
                .starts_with("coach_id: no user of the team `nobody` (known: lead1, Mira, mira;"),
            "{unknown}"
        );

        // Before a sync brought any: an id as it is, a name not at all.
        let stranger = uuid::Uuid::from_u128(9);
        assert_eq!(
            reference_id(&SITE, &[], &stranger.to_string()).unwrap(),
            stranger.to_string()
        );
        let refused = reference_id(&SITE, &[], "Tikkurila")
            .unwrap_err()
            .to_string();
        assert!(refused.contains("sync first"), "{refused}");
    }
}
