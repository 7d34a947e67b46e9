//! The sites (NGO premises) where contacts happen, as the server names them: reference data
//! that every sync replaces whole, so that a contact's `site` (a site's id) can be shown by
//! name and offered in the contact form. Nothing on a laptop edits a site.

use rusqlite::{OptionalExtension, params};
use tandem_domain::SiteId;
use uuid::Uuid;

use crate::{Store, StoreError};

/// How many of the newest contacts [`Store::last_site_of`] looks through.
pub(crate) const LAST_SITE_LOOKBACK: i64 = 500;

/// The site (JSON) of the newest contact of the coach `?1` (JSON) among the newest `?2`
/// contacts. The contacts come newest first from the records' key, one at a time, and each
/// one's deletion, coach and site by the fields' key, until the first that is the coach's:
/// a few rows when the coach logged one of the latest contacts, `?2` at the most (no index
/// orders one coach's contacts by id: schema 6 dropped the index of every field's value,
/// and one of `coach_id` alone would cost every contact saved or pulled an index entry).
const LAST_SITE_OF: &str = "SELECT site.value
     FROM (SELECT record_id FROM records WHERE entity = 'contact'
           ORDER BY record_id DESC LIMIT ?2) AS contact
     JOIN record_fields AS coach ON coach.entity = 'contact'
          AND coach.record_id = contact.record_id AND coach.field = 'coach_id'
     JOIN record_fields AS site ON site.entity = 'contact'
          AND site.record_id = contact.record_id AND site.field = 'site'
     WHERE coach.value = ?1 AND site.value <> 'null'
       AND NOT EXISTS (SELECT 1 FROM record_fields AS deleted
                       WHERE deleted.entity = 'contact'
                         AND deleted.record_id = contact.record_id
                         AND deleted.field = 'deleted' AND deleted.value = 'true')
     ORDER BY contact.record_id DESC LIMIT 1";

/// A site as the server lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// The value of a contact's `site` field.
    pub id: Uuid,
    /// The premises' name.
    pub name: String,
    /// No longer offered for new contacts; still named for the contacts that have it.
    pub archived: bool,
}

impl Store {
    /// Replaces the sites with the server's list, in one transaction.
    pub fn replace_sites(&mut self, sites: &[Site]) -> Result<(), StoreError> {
        let tx = self.conn.write_transaction()?;
        tx.execute("DELETE FROM sites", [])?;
        {
            let mut insert =
                tx.prepare("INSERT INTO sites (id, name, archived) VALUES (?1, ?2, ?3)")?;
            for site in sites {
                insert.execute(params![site.id.to_string(), site.name, site.archived])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The site of the newest contact `coach` logged, among the store's newest
    /// 500 contacts (`LAST_SITE_LOOKBACK`): where the coach is most likely working now, for the
    /// contact form to start from. Contact ids are UUIDv7, so newest first is by id.
    pub fn last_site_of(&self, coach: Uuid) -> Result<Option<Uuid>, StoreError> {
        let coach = serde_json::Value::String(coach.to_string()).to_string();
        let site: Option<String> = self
            .conn
            .prepare_cached(LAST_SITE_OF)?
            .query_row(params![coach, LAST_SITE_LOOKBACK], |row| row.get(0))
            .optional()?;
        // Stored values are JSON; a site is a JSON string.
        Ok(site
            .and_then(|json| serde_json::from_str::<String>(&json).ok())
            .and_then(|id| Uuid::parse_str(&id).ok()))
    }

    /// The sites' names by id, for reports.
    pub fn site_names(&self) -> Result<tandem_reports::SiteNames, StoreError> {
        Ok(self
            .sites()?
            .into_iter()
            .map(|site| (site.id.to_string(), site.name))
            .collect())
    }

    /// Every site the last sync brought, archived ones included, by name.
    pub fn sites(&self) -> Result<Vec<Site>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT id, name, archived FROM sites")?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, bool>(2)?,
            ))
        })?;
        let mut sites = Vec::new();
        for row in rows {
            let (id, name, archived) = row?;
            let id = *SiteId::parse(&id)?.as_uuid();
            sites.push(Site { id, name, archived });
        }
        // As the server orders them: by the name in lower case (any letter, not only ASCII,
        // which is all SQLite's NOCASE folds), then by id.
        sites.sort_by_cached_key(|site| (site.name.trim().to_lowercase(), site.id));
        Ok(sites)
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::StatementStatus;

    use super::*;
    use crate::connection::{query_plan, test_store};

    fn site(n: u128, name: &str, archived: bool) -> Site {
        Site {
            id: Uuid::from_u128(n),
            name: name.to_owned(),
            archived,
        }
    }

    #[test]
    fn each_list_replaces_the_last_and_reads_back_by_name() {
        let (_dir, mut store) = test_store();
        assert_eq!(store.sites().unwrap(), []);
        let first = [
            site(1, "Tikkurila NGO house", false),
            site(2, "myyrmäki library", true),
            site(3, "Ämmässuo depot", false),
            site(4, "äkäslompolo office", false),
        ];
        store.replace_sites(&first).unwrap();
        let names: Vec<_> = store.sites().unwrap().into_iter().map(|s| s.name).collect();
        assert_eq!(
            names,
            [
                "myyrmäki library",
                "Tikkurila NGO house",
                "äkäslompolo office",
                "Ämmässuo depot"
            ],
            "case ignored for every letter"
        );
        let renamed = [site(1, "Tikkurila NGO House", false)];
        store.replace_sites(&renamed).unwrap();
        assert_eq!(store.sites().unwrap(), renamed, "the server's list, whole");
    }

    #[test]
    fn a_coach_starts_from_the_site_of_their_newest_contact() {
        let (_dir, mut store) = test_store();
        let (me, colleague) = (Uuid::from_u128(0x9001), Uuid::from_u128(0x9002));
        let (library, ngo_house) = (Uuid::from_u128(1), Uuid::from_u128(2));
        // A contact's id is a UUIDv7 of the time it was logged: one minute apart each.
        let mut minute = 30;
        let mut log = |coach: Uuid, site: Option<Uuid>| {
            minute += 1;
            let mut fields = std::collections::BTreeMap::from([
                ("coach_id".to_owned(), serde_json::json!(coach.to_string())),
                (
                    "occurred_at".to_owned(),
                    serde_json::json!("2026-11-26T09:30:00+02:00"),
                ),
            ]);
            if let Some(site) = site {
                fields.insert("site".to_owned(), serde_json::json!(site.to_string()));
            }
            let at = format!("2026-11-26T09:{minute}:00+02:00");
            let at = chrono::DateTime::parse_from_rfc3339(&at).unwrap();
            store
                .create_record(
                    tandem_domain::Entity::Contact,
                    &fields,
                    crate::EditContext::at(at.into()),
                )
                .unwrap()
        };
        log(me, Some(library));
        log(me, Some(ngo_house));
        log(me, None);
        log(colleague, Some(library));
        // A contact logged by mistake and deleted does not count.
        let mistake = log(me, Some(library));
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-26T10:00:00+02:00").unwrap();
        let deleted =
            std::collections::BTreeMap::from([("deleted".to_owned(), serde_json::json!(true))]);
        store
            .edit_record(
                tandem_domain::Entity::Contact,
                mistake,
                &deleted,
                crate::EditContext::at(at.into()),
            )
            .unwrap();
        assert_eq!(store.last_site_of(me).unwrap(), Some(ngo_house));
        assert_eq!(store.last_site_of(colleague).unwrap(), Some(library));
        assert_eq!(store.last_site_of(Uuid::from_u128(0x9003)).unwrap(), None);
    }

    /// Contacts `ids` (newest last), each of `coach` with `site`, written straight into the
    /// store's tables in one transaction.
    fn contacts(store: &Store, ids: std::ops::Range<u128>, coach: Uuid, site: Option<Uuid>) {
        let json = |id: Uuid| serde_json::Value::String(id.to_string()).to_string();
        store.conn.execute_batch("BEGIN").unwrap();
        for n in ids {
            let id = Uuid::from_u128(0x1_0000 + n).to_string();
            store
                .conn
                .execute(
                    "INSERT INTO records (entity, record_id, created_at, updated_at)
                     VALUES ('contact', ?1, '', '')",
                    [&id],
                )
                .unwrap();
            let fields = [("coach_id", Some(json(coach))), ("site", site.map(json))];
            for (field, value) in fields {
                let Some(value) = value else { continue };
                store
                    .conn
                    .execute(
                        "INSERT INTO record_fields (entity, record_id, field, value, hlc, author_id)
                         VALUES ('contact', ?1, ?2, ?3, '', '')",
                        [&id, field, &value],
                    )
                    .unwrap();
            }
        }
        store.conn.execute_batch("COMMIT").unwrap();
    }

    #[test]
    fn only_the_newest_500_contacts_count_for_the_last_site() {
        let (_dir, store) = test_store();
        let (me, colleague) = (Uuid::from_u128(0x9001), Uuid::from_u128(0x9002));
        let library = Uuid::from_u128(1);
        let window = LAST_SITE_LOOKBACK as u128;
        contacts(&store, 0..1, me, Some(library));
        contacts(&store, 1..window, colleague, None);
        assert_eq!(
            store.last_site_of(me).unwrap(),
            Some(library),
            "the oldest of the newest 500"
        );
        contacts(&store, window..window + 1, colleague, None);
        assert_eq!(store.last_site_of(me).unwrap(), None, "the 501st newest");
    }

    #[test]
    fn the_last_site_walks_the_newest_contacts_by_key_and_stops_at_the_coachs_newest() {
        let (_dir, store) = test_store();
        let plan = query_plan(&store, LAST_SITE_OF);
        assert!(
            plan.iter()
                .any(|step| step == "SEARCH records USING PRIMARY KEY (entity=?)"),
            "{plan:?}"
        );
        assert!(
            plan.iter().all(|step| !step.contains("TEMP B-TREE")
                && (!step.starts_with("SCAN") || step == "SCAN contact")
                && (!step.starts_with("SEARCH")
                    || step.starts_with("SEARCH records")
                    || step.ends_with("USING PRIMARY KEY (entity=? AND record_id=? AND field=?)"))),
            "{plan:?}"
        );

        // What SQLite does for the statement, in steps of its virtual machine.
        let steps = |coach: Uuid| {
            let coach = serde_json::Value::String(coach.to_string()).to_string();
            let mut statement = store.conn.prepare(LAST_SITE_OF).unwrap();
            let _: Option<String> = statement
                .query_row(params![coach, LAST_SITE_LOOKBACK], |row| row.get(0))
                .optional()
                .unwrap();
            statement.get_status(StatementStatus::VmStep)
        };
        let (me, colleague, newcomer) = (
            Uuid::from_u128(0x9001),
            Uuid::from_u128(0x9002),
            Uuid::from_u128(0x9003),
        );
        contacts(&store, 0..600, colleague, Some(Uuid::from_u128(1)));
        contacts(&store, 600..601, me, Some(Uuid::from_u128(2)));
        assert_eq!(store.last_site_of(me).unwrap(), Some(Uuid::from_u128(2)));
        let (found_first, read_whole) = (steps(me), steps(newcomer));
        assert!(
            found_first * 50 < read_whole,
            "{found_first} steps for the newest contact, {read_whole} for none of 500"
        );
        contacts(&store, 601..1200, colleague, Some(Uuid::from_u128(1)));
        assert_eq!(
            steps(newcomer),
            read_whole,
            "the 500 newest contacts, however many there are"
        );
    }
}
