//! What the CLI prints: JSON with `--json`, short readable text otherwise. Errors go to
//! standard error, as `{"error": ...}` with `--json`.

#![allow(clippy::print_stdout, clippy::print_stderr)] // Printing is this module's job.

use std::collections::BTreeMap;
use std::io::Write;

use serde_json::{Value as Json, json};
use tandem_domain::{Entity, Record, fields_of};
use tandem_protocol::ParticipantReport;
use tandem_store::{StoreError, StoreStatus};
use tandem_sync::SyncError;

/// Where results and errors go, and in which form.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Output {
    json: bool,
}

impl Output {
    pub(crate) fn new(json: bool) -> Self {
        Self { json }
    }

    /// Prints a result: `value` with --json, else the text.
    pub(crate) fn print(&self, value: &Json, text: impl FnOnce() -> String) {
        if self.json {
            self.json(value);
        } else {
            let text = text();
            if !text.is_empty() {
                println!("{text}");
            }
        }
    }

    /// Prints JSON whatever the mode.
    pub(crate) fn json(&self, value: &Json) {
        println!(
            "{}",
            serde_json::to_string_pretty(value).unwrap_or_default()
        );
    }

    /// Prints one line of a stream of results (`tandem sync --watch`): `value` as compact
    /// JSON on one line with --json, else the text. An error means the reader is gone (a
    /// closed pipe).
    pub(crate) fn line(&self, value: &Json, text: impl FnOnce() -> String) -> std::io::Result<()> {
        let line = if self.json { value.to_string() } else { text() };
        writeln!(std::io::stdout().lock(), "{line}")
    }

    /// Like [`Output::line`], but the text (a failure the stream goes on from) goes to
    /// standard error; the JSON stays in the stream on standard output.
    pub(crate) fn warning_line(
        &self,
        value: &Json,
        text: impl FnOnce() -> String,
    ) -> std::io::Result<()> {
        if self.json {
            writeln!(std::io::stdout().lock(), "{value}")
        } else {
            writeln!(std::io::stderr().lock(), "{}", text())
        }
    }

    /// Prints text as it is (it ends with its own line break).
    pub(crate) fn raw(&self, text: &str) {
        print!("{text}");
    }

    /// Reports a failure with its whole chain of causes; with --json also its kind, where
    /// the chain holds an error that has one (`disk_full`, `offline`, `device_revoked`...).
    pub(crate) fn error(&self, err: &anyhow::Error) {
        let message = format!("{err:#}");
        if self.json {
            let mut error = json!({ "message": message });
            if let Some(kind) = kind_of(err) {
                error["kind"] = json!(kind);
            }
            eprintln!("{}", json!({ "error": error }));
        } else {
            eprintln!("error: {message}");
        }
    }
}

/// The machine name of the first cause in `err`'s chain that has one.
fn kind_of(err: &anyhow::Error) -> Option<&'static str> {
    err.chain().find_map(|cause| {
        if let Some(sync) = cause.downcast_ref::<SyncError>() {
            Some(sync.kind())
        } else {
            cause.downcast_ref::<StoreError>().map(StoreError::kind)
        }
    })
}

fn text<'a>(record: &'a Record, field: &str) -> &'a str {
    record.get(field).as_text().unwrap_or_default()
}

fn client_name(client: &Record) -> String {
    let mut name = text(client, "given_name").to_owned();
    if !text(client, "family_name").is_empty() {
        name.push(' ');
        name.push_str(text(client, "family_name"));
    }
    name
}

/// One line per client: id, name, birth year, phone.
pub(crate) fn client_lines(clients: &[Record]) -> String {
    if clients.is_empty() {
        return "no clients".to_owned();
    }
    clients
        .iter()
        .map(|c| {
            let year = c
                .get("birth_year")
                .as_int()
                .map(|y| format!(" ({y})"))
                .unwrap_or_default();
            let phone = c
                .get("phone")
                .as_text()
                .map(|p| format!("  {p}"))
                .unwrap_or_default();
            let deleted = if c.is_deleted() { "  [deleted]" } else { "" };
            format!("{}  {}{year}{phone}{deleted}", c.id(), client_name(c))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Names for the ids records hold (a contact's site and coach, a client's consent
/// recorder), as this store knows them; an id it cannot name is shown as it is.
#[derive(Debug, Default)]
pub(crate) struct Names {
    /// Site names by id.
    pub(crate) sites: tandem_reports::SiteNames,
    /// Usernames by user id.
    pub(crate) users: BTreeMap<uuid::Uuid, String>,
}

impl Names {
    /// The names the last sync brought and those of who signed in on `store`.
    pub(crate) fn of(store: &tandem_store::Store) -> Result<Self, StoreError> {
        Ok(Self {
            sites: store.site_names()?,
            users: store.known_user_names()?,
        })
    }

    /// The name of the site or user that `id`, the value of `field`, names, if `field` holds
    /// one and this store knows it.
    fn name_of(&self, field: &str, id: &str) -> Option<String> {
        match field {
            "site" => self.sites.get(id).cloned(),
            "coach_id" | "consent_by" => uuid::Uuid::parse_str(id)
                .ok()
                .and_then(|user| self.users.get(&user).cloned()),
            _ => None,
        }
    }

    /// `record`'s `field` as people read it: a site or a user by name, else as it is.
    fn of_field(&self, record: &Record, field: &str) -> String {
        let value = text(record, field);
        self.name_of(field, value)
            .unwrap_or_else(|| value.to_owned())
    }
}

/// Every non-empty field of a client, then its contacts.
pub(crate) fn client_text(client: &Record, contacts: &[Record], names: &Names) -> String {
    let mut lines = vec![format!("{}  {}", client.id(), client_name(client))];
    // In the order of the field catalogue, which groups related fields.
    for name in fields_of(Entity::Client).iter().map(|spec| spec.name) {
        let value = client.get(name);
        if value.is_null()
            || value.as_set().is_some_and(|s| s.is_empty())
            || name == "deleted" && !client.is_deleted()
        {
            continue;
        }
        let shown = match value.to_json() {
            Json::String(s) => names.name_of(name, &s).unwrap_or(s),
            Json::Array(items) => items
                .iter()
                .filter_map(Json::as_str)
                .collect::<Vec<_>>()
                .join(", "),
            other => other.to_string(),
        };
        lines.push(format!("  {name}: {shown}"));
    }
    lines.push(format!("contacts ({}):", contacts.len()));
    lines.push(contact_lines(contacts, names));
    lines.join("\n")
}

/// One line per contact: when, channel, where, whose, topics, follow-up.
pub(crate) fn contact_lines(contacts: &[Record], names: &Names) -> String {
    if contacts.is_empty() {
        return "  no contacts".to_owned();
    }
    contacts
        .iter()
        .map(|c| {
            let topics = c
                .get("topics")
                .as_set()
                .map(|s| s.iter().cloned().collect::<Vec<_>>().join(", "))
                .unwrap_or_default();
            let follow_up = c
                .get("follow_up_on")
                .as_date()
                .map(|d| format!("follow-up {d}"))
                .unwrap_or_default();
            // When, in the zone it was logged in.
            let at = c
                .get("occurred_at")
                .as_date_time()
                .map(|at| at.format("%Y-%m-%d %H:%M %:z").to_string())
                .unwrap_or_default();
            let labelled = |label: &str, field: &str| match names.of_field(c, field) {
                value if value.is_empty() => String::new(),
                value => format!("{label} {value}"),
            };
            let parts = [
                c.id().to_string(),
                at,
                text(c, "channel").to_owned(),
                labelled("at", "site"),
                labelled("coach", "coach_id"),
                topics,
                follow_up,
            ];
            let parts: Vec<_> = parts.into_iter().filter(|part| !part.is_empty()).collect();
            format!("  {}", parts.join("  "))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// One line per user of the team: id, username, role.
pub(crate) fn user_lines(users: &[tandem_store::TeamUser]) -> String {
    if users.is_empty() {
        return "no users yet (a sync brings the team's)".to_owned();
    }
    users
        .iter()
        .map(|user| format!("{}  {}  ({})", user.id, user.username, user.role))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One line per site: id, name, and whether it was archived.
pub(crate) fn site_lines(sites: &[tandem_store::Site]) -> String {
    if sites.is_empty() {
        return "no sites yet (a sync brings them)".to_owned();
    }
    sites
        .iter()
        .map(|site| {
            let archived = if site.archived { "  (archived)" } else { "" };
            format!("{}  {}{archived}", site.id, site.name)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The status as readable lines.
pub(crate) fn status_text(status: &StoreStatus) -> String {
    let or_never = |v: &Option<String>, none: &str| v.clone().unwrap_or_else(|| none.to_owned());
    [
        format!("store:          {}", status.path.display()),
        format!("schema version: {}", status.schema_version),
        format!(
            "pending:        {} change(s) not yet on the server",
            status.pending_count
        ),
        format!(
            "server:         {}",
            or_never(&status.server_url, "not signed in")
        ),
        format!(
            "last sync:      {}",
            status.last_sync_at.as_deref().map_or_else(
                || "never".to_owned(),
                |at| readable_time(at, &chrono::Local)
            )
        ),
        format!(
            "last error:     {}",
            or_never(&status.last_sync_error, "none")
        ),
    ]
    .join("\n")
}

/// A stored RFC 3339 time in the time zone of whoever reads it, to the second and with its
/// offset (support staff read it out on the phone); anything else as it is.
fn readable_time<Tz: chrono::TimeZone>(rfc3339: &str, zone: &Tz) -> String
where
    Tz::Offset: std::fmt::Display,
{
    match chrono::DateTime::parse_from_rfc3339(rfc3339) {
        Ok(at) => at
            .with_timezone(zone)
            .format("%Y-%m-%d %H:%M:%S (UTC%:z)")
            .to_string(),
        Err(_) => rfc3339.to_owned(),
    }
}

/// The participant report as a table: one block per indicator, a line per category; a site
/// by its name where `sites` (the last sync's) has it.
pub(crate) fn report_text(report: &ParticipantReport, sites: &tandem_reports::SiteNames) -> String {
    let mut out = format!(
        "Participant report {} to {}, from this laptop's data\n",
        report.from, report.to
    );
    let mut last = "";
    for row in tandem_reports::indicator_rows(report) {
        if row.category == "total" {
            out.push_str(&format!("\n{:<34} {:>6}\n", row.indicator, row.count));
            last = "";
            continue;
        }
        if row.indicator != last {
            out.push_str(&format!("\n{}\n", row.indicator));
            last = row.indicator;
        }
        let category = tandem_reports::category_label(&row, sites);
        out.push_str(&format!("  {category:<32} {:>6}\n", row.count));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sync_time_is_shown_to_the_second_in_the_readers_zone() {
        let helsinki = chrono::FixedOffset::east_opt(2 * 3600).unwrap();
        assert_eq!(
            readable_time("2026-11-27T04:15:46.050304533+00:00", &helsinki),
            "2026-11-27 06:15:46 (UTC+02:00)"
        );
        assert_eq!(readable_time("not a time", &helsinki), "not a time");
    }
}
