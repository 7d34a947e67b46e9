//! Records in the local store: creating and editing them (each changed field gets a new
//! value, a history row and an outbox row, all in the transaction of the edit), reading
//! them back, and the lists the app and the CLI show.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde_json::Value as Json;
use tandem_domain::{
    ChangeId, Entity, FieldValue, HlcClock, Record, RecordId, ValidationContext,
    check_lawful_basis, field_spec,
};
use uuid::Uuid;

use crate::meta::{self, MetaKey};
use crate::search;
use crate::{Store, StoreError};

/// The contacts of a client (`?1`, its id as JSON), with those filed under a duplicate merged
/// into it. Both lookups use their field's partial index (schema 6), each for one value at a
/// time (an `OR` would read every contact's entry).
const CONTACTS_OF_CLIENT: &str = "SELECT record_id FROM record_fields
     WHERE entity = 'contact' AND field = 'client_id'
       AND value IN (
           SELECT ?1 UNION ALL
           SELECT json_quote(record_id) FROM record_fields
           WHERE entity = 'client' AND field = 'merged_into' AND value = ?1)";

/// The open follow-ups due from `?1` to `?2` (dates as JSON strings, both included) of the
/// coach `?3` (a user id as JSON) or, with `ANYONE`, of anyone: rows of `open_follow_ups`
/// (schema 8), through its index by due day or by coach and due day. Dates are stored as JSON
/// strings ("YYYY-MM-DD"), which order like the dates; every JSON string starts with `"`, the
/// lower bound of all of them.
const OPEN_FOLLOW_UPS_OF: &str = "FROM open_follow_ups AS due
     WHERE due.coach = ?3 AND due.due >= ?1 AND due.due <= ?2";
const OPEN_FOLLOW_UPS_OF_ANYONE: &str = "FROM open_follow_ups AS due
     WHERE ?3 IS NULL AND due.due >= ?1 AND due.due <= ?2";

/// The order of a list of follow-ups, by the day they are due (then by contact, so that the
/// order is the same every time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DueOrder {
    /// The earliest due first.
    EarliestFirst,
    /// The latest due first.
    LatestFirst,
}

/// Some of the open follow-ups due in a span of days, and how many there are in all.
#[derive(Debug, Clone, PartialEq)]
pub struct FollowUps {
    /// The contacts with the follow-ups, in the order asked for, at most as many as asked for.
    pub contacts: Vec<Record>,
    /// How many open follow-ups are due in the span.
    pub total: u64,
}

/// Contacts from the most recent (as instants: the offsets of `occurred_at` may differ)
/// with their client and whether they are deleted, through the index of `occurred_at`
/// (schema 7), so that a caller reads only as many as it needs. Named: without statistics
/// SQLite would rather read every contact through the key and sort them. Without the index
/// (`indexed` false: a first pull builds it when it ends) they are read and sorted.
fn contacts_newest_first(indexed: bool) -> String {
    let occurred = if indexed {
        "record_fields AS occurred INDEXED BY record_fields_occurred_at"
    } else {
        "record_fields AS occurred"
    };
    format!(
        "SELECT
         (SELECT json_extract(client.value, '$') FROM record_fields AS client
          WHERE client.entity = 'contact' AND client.record_id = occurred.record_id
            AND client.field = 'client_id' AND json_type(client.value) = 'text'),
         EXISTS (SELECT 1 FROM record_fields AS deleted
          WHERE deleted.entity = 'contact' AND deleted.record_id = occurred.record_id
            AND deleted.field = 'deleted' AND deleted.value = 'true')
     FROM {occurred}
     WHERE occurred.entity = 'contact' AND occurred.field = 'occurred_at'
     ORDER BY julianday(json_extract(occurred.value, '$')) DESC"
    )
}

/// The ids of the contacts whose coach is `?2` (as stored: a JSON string) that happened at
/// `?1` or later, newest first, at most `?3`; through the contacts' time index when `indexed`.
fn contacts_of_coach_since(indexed: bool) -> String {
    let occurred = if indexed {
        "record_fields AS occurred INDEXED BY record_fields_occurred_at"
    } else {
        "record_fields AS occurred"
    };
    format!(
        "SELECT occurred.record_id
     FROM {occurred}
     WHERE occurred.entity = 'contact' AND occurred.field = 'occurred_at'
       AND julianday(json_extract(occurred.value, '$')) >= julianday(?1)
       AND EXISTS (SELECT 1 FROM record_fields AS coach
                   WHERE coach.entity = 'contact' AND coach.record_id = occurred.record_id
                     AND coach.field = 'coach_id' AND coach.value = ?2)
     ORDER BY julianday(json_extract(occurred.value, '$')) DESC
     LIMIT ?3"
    )
}

/// Who makes an edit, and when. The caller reads the clock; the store never does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EditContext {
    /// The moment of the edit.
    pub now: DateTime<Utc>,
}

impl EditContext {
    /// An edit made at `now`.
    pub fn at(now: DateTime<Utc>) -> Self {
        Self { now }
    }

    fn validation(&self) -> ValidationContext {
        ValidationContext::new(self.now.date_naive())
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.now.timestamp_millis()).unwrap_or(0)
    }
}

/// What an edit changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditOutcome {
    /// The fields whose value changed (an edit to the same value changes nothing and queues
    /// nothing).
    pub changed_fields: Vec<&'static str>,
}

/// Values read back from the store were validated when they were written (locally or by the
/// server), so they are parsed without the "not in the future" rules that depend on today.
fn stored_values() -> ValidationContext {
    ValidationContext::new(NaiveDate::MAX)
}

impl Store {
    /// Creates a record from field values (wire names to JSON values), validating every
    /// value and the consent gate. Every non-empty field is queued for the server with
    /// `base_version` 0. A contact that names no coach is the signed-in user's (none before
    /// the first sign-in).
    pub fn create_record(
        &mut self,
        entity: Entity,
        input: &BTreeMap<String, Json>,
        edit: EditContext,
    ) -> Result<RecordId, StoreError> {
        self.create_record_with(entity, input, edit, None)
    }

    /// Creates a record as [`Store::create_record`] does, from the signed-in user's `form`
    /// whose draft the store keeps (`drafts.rs`): the draft is forgotten in the same
    /// transaction, so a form saved is never offered again to be saved twice.
    pub fn create_record_from_draft(
        &mut self,
        entity: Entity,
        input: &BTreeMap<String, Json>,
        edit: EditContext,
        form: &str,
    ) -> Result<RecordId, StoreError> {
        self.create_record_with(entity, input, edit, Some(form))
    }

    fn create_record_with(
        &mut self,
        entity: Entity,
        input: &BTreeMap<String, Json>,
        edit: EditContext,
        draft_form: Option<&str>,
    ) -> Result<RecordId, StoreError> {
        let with_coach;
        let input = match meta::get(&self.conn, MetaKey::UserId)? {
            Some(user) if entity == Entity::Contact && !input.contains_key("coach_id") => {
                with_coach = {
                    let mut input = input.clone();
                    input.insert("coach_id".to_owned(), Json::String(user));
                    input
                };
                &with_coach
            }
            _ => input,
        };
        let id = RecordId::from_uuid(new_uuid_v7(edit));
        let mut record = Record::create(entity, id, input, edit.validation())?;
        let mut written: Vec<&str> = input.keys().map(String::as_str).collect();
        if !record.get("consent").is_null() {
            written.extend(record_consent(&self.conn, &mut record, input, edit)?);
        }
        check_lawful_basis(&record, &written)?;
        let tx = self.conn.write_transaction()?;
        let now = edit.now.to_rfc3339();
        let team = meta::get(&tx, MetaKey::TeamId)?;
        tx.execute(
            "INSERT INTO records (entity, record_id, team_id, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)",
            params![entity.as_str(), id.to_string(), team, now],
        )?;
        let changes: Vec<(&'static str, FieldValue)> = record
            .values()
            .filter(|(name, value)| {
                // Empty fields need not travel: an absent field is empty on every device.
                **value
                    != field_spec(entity, name)
                        .map(|s| s.empty_value())
                        .unwrap_or(FieldValue::NULL)
            })
            .map(|(name, value)| (name, value.clone()))
            .collect();
        write_fields(&tx, entity, id, &changes, edit, true)?;
        if entity == Entity::Client {
            search::index_client(&tx, &record)?;
        }
        if let Some(form) = draft_form {
            crate::drafts::forget(&tx, form)?;
        }
        tx.commit()?;
        Ok(id)
    }

    /// Changes fields of an existing record. Fields given the value they already hold are
    /// left alone; every other one gets a history row and an outbox row in one transaction.
    /// The record as the edit leaves it must pass the consent gate.
    pub fn edit_record(
        &mut self,
        entity: Entity,
        id: RecordId,
        changes: &BTreeMap<String, Json>,
        edit: EditContext,
    ) -> Result<EditOutcome, StoreError> {
        self.edit_record_from_form(entity, id, changes, edit, FormSave::default())
    }

    /// Changes fields as [`Store::edit_record`] does, from a form the user filled in. With
    /// `form.before` (the values the form was filled with, of the fields it sends), a field
    /// whose value here differs from it, changed meanwhile (a colleague's edit a sync brought
    /// while the form was open), is not written over unseen: nothing is written, and the error
    /// names those fields ([`StoreError::ChangedMeanwhile`]); the user sees the new value and
    /// saves again. With `form.deleted`, the record must be deleted or not, as read in the
    /// same transaction (a deleted contact is only restored, never corrected). With
    /// `form.draft`, the signed-in user's form whose draft the store keeps
    /// (`drafts.rs`): the draft is forgotten in the same transaction (also when nothing
    /// differed any more), so an edit saved is never offered again.
    pub fn edit_record_from_form(
        &mut self,
        entity: Entity,
        id: RecordId,
        changes: &BTreeMap<String, Json>,
        edit: EditContext,
        form: FormSave<'_>,
    ) -> Result<EditOutcome, StoreError> {
        let ctx = edit.validation();
        // What is compared below is what the write replaces (the sync writes on a connection
        // of its own): read in the write transaction.
        let tx = self.conn.write_transaction()?;
        let mut record = read_record(&tx, entity, id)?
            .filter(|record| {
                form.deleted
                    .is_none_or(|deleted| record.is_deleted() == deleted)
            })
            .ok_or(StoreError::RecordNotFound { entity, id })?;
        if let Some(before) = form.before {
            let fields = changed_meanwhile(&record, changes, before)?;
            if !fields.is_empty() {
                return Err(StoreError::ChangedMeanwhile { entity, id, fields });
            }
        }
        let mut changed = Vec::new();
        for (name, json) in changes {
            let spec = field_spec(entity, name)?;
            let value = spec.parse_json(json, ctx)?;
            if *record.get(spec.name) != value {
                record.set(spec, value.clone());
                changed.push((spec.name, value));
            }
        }
        if changed
            .iter()
            .any(|(name, value)| *name == "consent" && !value.is_null())
        {
            for name in record_consent(&tx, &mut record, changes, edit)? {
                changed.push((name, record.get(name).clone()));
            }
        }
        let written: Vec<&str> = changed.iter().map(|(name, _)| *name).collect();
        check_lawful_basis(&record, &written)?;
        if let Some(form) = form.draft {
            crate::drafts::forget(&tx, form)?;
        }
        if changed.is_empty() {
            tx.commit()?;
            return Ok(EditOutcome {
                changed_fields: Vec::new(),
            });
        }
        tx.prepare_cached(
            "UPDATE records SET updated_at = ?3 WHERE entity = ?1 AND record_id = ?2",
        )?
        .execute(params![
            entity.as_str(),
            id.to_string(),
            edit.now.to_rfc3339()
        ])?;
        write_fields(&tx, entity, id, &changed, edit, false)?;
        if entity == Entity::Client
            && changed
                .iter()
                .any(|(name, _)| search::SEARCH_FIELDS.contains(name))
        {
            search::index_client(&tx, &record)?;
        }
        tx.commit()?;
        Ok(EditOutcome {
            changed_fields: changed.into_iter().map(|(name, _)| name).collect(),
        })
    }

    /// One record with all its fields, or `None` if this store has never seen it.
    pub fn record(&self, entity: Entity, id: RecordId) -> Result<Option<Record>, StoreError> {
        read_record(&self.conn, entity, id)
    }

    /// Every client, sorted by name; tombstones and duplicates merged into another client
    /// only when asked for.
    pub fn list_clients(&self, include_deleted: bool) -> Result<Vec<Record>, StoreError> {
        let ids = self.record_ids(Entity::Client)?;
        let mut clients = self.load_all(Entity::Client, &ids)?;
        if !include_deleted {
            clients.retain(|c| !c.is_deleted() && c.get("merged_into").is_null());
        }
        clients.sort_by_key(client_sort_key);
        Ok(clients)
    }

    /// The client a team lead kept for `id`: `id` itself, or, for a duplicate merged into
    /// another client, the client it was merged into (following a chain of merges, and
    /// stopping at a client this device does not hold yet or at a cycle).
    pub fn surviving_client(&self, id: RecordId) -> Result<Option<Record>, StoreError> {
        let Some(mut client) = self.record(Entity::Client, id)? else {
            return Ok(None);
        };
        let mut seen = vec![client.id()];
        while let Some(next) = client.get("merged_into").as_text() {
            let next = RecordId::parse(next)?;
            if seen.contains(&next) {
                break;
            }
            match self.record(Entity::Client, next)? {
                Some(survivor) => client = survivor,
                None => break,
            }
            seen.push(next);
        }
        Ok(Some(client))
    }

    /// The contacts of one client, newest first, without tombstones. Contacts still filed
    /// under a duplicate merged into this client (recorded offline after the merge) are its
    /// contacts too.
    pub fn contacts_of_client(&self, client: RecordId) -> Result<Vec<Record>, StoreError> {
        let mut contacts = self.all_contacts_of_client(client)?;
        contacts.retain(|c| !c.is_deleted());
        Ok(contacts)
    }

    /// The contacts of one client as [`Store::contacts_of_client`] reads them, the deleted
    /// ones included (a profile offers those back).
    pub fn all_contacts_of_client(&self, client: RecordId) -> Result<Vec<Record>, StoreError> {
        let key = Json::String(client.to_string()).to_string();
        let mut statement = self.conn.prepare_cached(CONTACTS_OF_CLIENT)?;
        let ids = statement
            .query_map([key], |row| row.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        let mut contacts = self.load_all(Entity::Contact, &ids)?;
        contacts.sort_by(|a, b| {
            b.get("occurred_at")
                .as_date_time()
                .cmp(&a.get("occurred_at").as_date_time())
        });
        Ok(contacts)
    }

    /// The Today screen's recent clients, at most `limit`: those coached most recently (by
    /// their latest contact that is not deleted), newest first, then, when there are fewer,
    /// the most recently registered (UUIDv7 ids sort by creation time). Each once, without
    /// deleted clients and merged duplicates. Reads the contacts from the newest only until
    /// it has them, and loads only the clients it returns.
    pub fn recent_clients(&self, limit: usize) -> Result<Vec<Record>, StoreError> {
        let mut found: Vec<Record> = Vec::with_capacity(limit);
        let mut seen = BTreeSet::new();
        let mut consider = |id: &str| -> Result<bool, StoreError> {
            if found.len() < limit
                && seen.insert(id.to_owned())
                && let Some(client) = self.record(Entity::Client, RecordId::parse(id)?)?
                && !client.is_deleted()
                && client.get("merged_into").is_null()
            {
                found.push(client);
            }
            Ok(found.len() < limit)
        };
        // One read transaction, so that the index found is the index read: a first pull
        // (another process's, too) drops it and builds it when it ends (`pull_session.rs`),
        // and meanwhile the contacts are sorted instead.
        let _read = self.read_snapshot()?;
        let indexed = self.contacts_time_indexed()?;
        let mut contacts = self.conn.prepare_cached(&contacts_newest_first(indexed))?;
        let mut rows = contacts.query([])?;
        while let Some(row) = rows.next()? {
            let (client, deleted): (Option<String>, bool) = (row.get(0)?, row.get(1)?);
            if let Some(client) = client.filter(|_| !deleted)
                && !consider(&client)?
            {
                break;
            }
        }
        let mut newest = self.conn.prepare_cached(
            "SELECT record_id FROM records WHERE entity = 'client' ORDER BY record_id DESC",
        )?;
        let mut rows = newest.query([])?;
        while let Some(row) = rows.next()? {
            if !consider(&row.get::<_, String>(0)?)? {
                break;
            }
        }
        Ok(found)
    }

    /// The contacts `coach` logged (their `coach_id`) that happened at `since` or later, newest
    /// first, the deleted ones too (the Today screen lists a coach's day, to correct a contact
    /// or take a deletion back; one dated later by mistake with it), at most `limit`. Reads the
    /// contacts' time index from `since`, so a store's years of contacts cost nothing.
    pub fn contacts_of_coach_since(
        &self,
        coach: Uuid,
        since: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Record>, StoreError> {
        // As `recent_clients`: the index found is the index read.
        let _read = self.read_snapshot()?;
        let indexed = self.contacts_time_indexed()?;
        let coach = Json::String(coach.to_string()).to_string();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let ids = self
            .conn
            .prepare_cached(&contacts_of_coach_since(indexed))?
            .query_map(params![since.to_rfc3339(), coach, limit], |row| {
                row.get::<_, String>(0)
            })?
            .collect::<Result<Vec<_>, _>>()?;
        self.load_all(Entity::Contact, &ids)
    }

    /// Whether the contacts' time index is there (a first pull drops it until it ends).
    fn contacts_time_indexed(&self) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM sqlite_schema
                                WHERE type = 'index' AND name = 'record_fields_occurred_at')",
            )?
            .query_row([], |row| row.get(0))?)
    }

    /// The open follow-ups (not done, the contact not deleted) due from `from` (none: any day
    /// before) to `until`, both included, of contacts whose coach is `coach` (none: anyone's):
    /// the first `limit` of them in `order`, and how many there are. Only those listed are
    /// read whole; the rest are counted in `open_follow_ups` (schema 8), which holds the open
    /// ones only, so a team's years of done follow-ups cost nothing.
    pub fn open_follow_ups(
        &self,
        from: Option<NaiveDate>,
        until: NaiveDate,
        coach: Option<Uuid>,
        order: DueOrder,
        limit: usize,
    ) -> Result<FollowUps, StoreError> {
        let date = |day: NaiveDate| Json::String(day.format("%Y-%m-%d").to_string()).to_string();
        let from = from.map_or_else(|| "\"".to_owned(), date);
        let until = date(until);
        let coach = coach.map(|user| Json::String(user.to_string()).to_string());
        let direction = match order {
            DueOrder::EarliestFirst => "ASC",
            DueOrder::LatestFirst => "DESC",
        };
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = match coach {
            Some(_) => OPEN_FOLLOW_UPS_OF,
            None => OPEN_FOLLOW_UPS_OF_ANYONE,
        };
        // One read, so that the count is of the same follow-ups as the list.
        let _read = self.read_snapshot()?;
        let mut first = self.conn.prepare_cached(&format!(
            "SELECT due.record_id {rows}
             ORDER BY due.due {direction}, due.record_id {direction} LIMIT ?4"
        ))?;
        let ids = first
            .query_map(params![from, until, coach, limit], |row| {
                row.get::<_, String>(0)
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let total: i64 = self
            .conn
            .prepare_cached(&format!("SELECT count(*) {rows}"))?
            .query_row(params![from, until, coach], |row| row.get(0))?;
        Ok(FollowUps {
            contacts: self.load_all(Entity::Contact, &ids)?,
            total: u64::try_from(total).unwrap_or(0),
        })
    }

    /// Every record of one entity, tombstones included (for export).
    pub fn all_records(&self, entity: Entity) -> Result<Vec<Record>, StoreError> {
        let ids = self.record_ids(entity)?;
        self.load_all(entity, &ids)
    }

    /// How many field changes wait to be pushed.
    pub fn pending_count(&self) -> Result<u64, StoreError> {
        let count: i64 = self
            .conn
            .query_row("SELECT count(*) FROM outbox", [], |row| row.get(0))?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    fn record_ids(&self, entity: Entity) -> Result<Vec<String>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT record_id FROM records WHERE entity = ?1")?;
        let ids = statement
            .query_map([entity.as_str()], |row| row.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ids)
    }

    pub(crate) fn load_all(
        &self,
        entity: Entity,
        ids: &[String],
    ) -> Result<Vec<Record>, StoreError> {
        let mut records = Vec::with_capacity(ids.len());
        for id in ids {
            let id = RecordId::parse(id)?;
            if let Some(record) = self.record(entity, id)? {
                records.push(record);
            }
        }
        Ok(records)
    }
}

fn client_sort_key(client: &Record) -> (String, String) {
    let text = |field| {
        client
            .get(field)
            .as_text()
            .unwrap_or_default()
            .to_lowercase()
    };
    (text("family_name"), text("given_name"))
}

/// Recording consent records when and by whom: a write of `consent` that does not give
/// `consent_date` or `consent_by` sets them to the day of the edit and the signed-in user.
/// Returns the fields it changed.
fn record_consent(
    conn: &Connection,
    record: &mut Record,
    input: &BTreeMap<String, Json>,
    edit: EditContext,
) -> Result<Vec<&'static str>, StoreError> {
    let today = Json::String(edit.now.date_naive().format("%Y-%m-%d").to_string());
    let author = Json::String(meta::author_id(conn)?);
    let mut filled = Vec::new();
    for (name, value) in [("consent_date", today), ("consent_by", author)] {
        if input.contains_key(name) {
            continue;
        }
        let spec = field_spec(record.entity(), name)?;
        let value = spec.parse_json(&value, edit.validation())?;
        if *record.get(name) != value {
            record.set(spec, value);
            filled.push(spec.name);
        }
    }
    Ok(filled)
}

/// What a form's save brings beside its values (`Store::edit_record_from_form`).
#[derive(Debug, Clone, Copy, Default)]
pub struct FormSave<'a> {
    /// The values the form was filled with, of the fields it sends (a field missing here is
    /// written whatever it holds now).
    pub before: Option<&'a BTreeMap<String, Json>>,
    /// The form whose kept draft is forgotten with the save.
    pub draft: Option<&'a str>,
    /// Whether the save applies to the record deleted (`Some(true)`: a restore) or not
    /// (`Some(false)`: a correction, a deletion), checked in the save's transaction, so that
    /// a deletion a sync brings meanwhile cannot slip in between the check and the write;
    /// otherwise the save is refused as [`StoreError::RecordNotFound`] and nothing is
    /// written. `None`: either.
    pub deleted: Option<bool>,
}

/// The fields of `changes` whose value in `record` is not the one the form was filled with
/// (`before`), in the order of `changes`. Values are compared as the store holds them: the
/// form's value of a field is read by the field's rules for stored values, so a value the
/// rules refuse today (written by an older version) still compares.
fn changed_meanwhile(
    record: &Record,
    changes: &BTreeMap<String, Json>,
    before: &BTreeMap<String, Json>,
) -> Result<Vec<String>, StoreError> {
    let mut moved = Vec::new();
    for name in changes.keys() {
        let Some(shown) = before.get(name) else {
            continue;
        };
        let spec = field_spec(record.entity(), name)?;
        let shown = spec.parse_json(shown, stored_values())?;
        let now = record.get(spec.name);
        // An empty set, or a box never ticked (shown unticked), is as empty as a field never
        // written.
        let empty = |value: &FieldValue| {
            value.is_null() || *value == spec.empty_value() || value.as_bool() == Some(false)
        };
        if *now != shown && !(empty(now) && empty(&shown)) {
            moved.push(name.clone());
        }
    }
    Ok(moved)
}

/// The record `id` of `entity` as `conn` reads it now (see [`Store::record`]).
fn read_record(
    conn: &Connection,
    entity: Entity,
    id: RecordId,
) -> Result<Option<Record>, StoreError> {
    let exists: Option<i64> = conn
        .prepare_cached("SELECT 1 FROM records WHERE entity = ?1 AND record_id = ?2")?
        .query_row(params![entity.as_str(), id.to_string()], |row| row.get(0))
        .optional()?;
    if exists.is_none() {
        return Ok(None);
    }
    let mut statement = conn.prepare_cached(
        "SELECT field, value FROM record_fields WHERE entity = ?1 AND record_id = ?2",
    )?;
    let mut record = Record::empty(entity, id);
    let rows = statement.query_map(params![entity.as_str(), id.to_string()], |row| {
        Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
    })?;
    for row in rows {
        let (field, value) = row?;
        // A field this version does not know (written by a newer client) stays in the
        // table untouched and is simply not shown.
        let Ok(spec) = field_spec(entity, &field) else {
            continue;
        };
        record.set(spec, spec.parse_json_str(&value, stored_values())?);
    }
    Ok(Some(record))
}

/// Writes changed fields: the new current value, a history row and an outbox row each.
/// `base_version` of the outbox row is the server version this device last saw of the field
/// (0 for a field the server has never had).
fn write_fields(
    tx: &Transaction<'_>,
    entity: Entity,
    id: RecordId,
    changes: &[(&'static str, FieldValue)],
    edit: EditContext,
    new_record: bool,
) -> Result<(), StoreError> {
    let mut clock = load_clock(tx)?;
    let hlc = clock.tick(edit.now_ms()).to_string();
    meta::set(tx, MetaKey::HlcLast, &hlc)?;
    let author = meta::author_id(tx)?;
    let now = edit.now.to_rfc3339();
    let record_id = id.to_string();
    for (field, value) in changes {
        let value = value.to_json_string();
        let base_version: i64 = if new_record {
            0
        } else {
            tx.prepare_cached(
                "SELECT version FROM record_fields WHERE entity = ?1 AND record_id = ?2 AND field = ?3",
            )?
            .query_row(params![entity.as_str(), record_id, field], |row| row.get(0))
            .optional()?
            .unwrap_or(0)
        };
        tx.prepare_cached(
            "INSERT INTO record_fields (entity, record_id, field, value, version, hlc, author_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (entity, record_id, field) DO UPDATE
             SET value = excluded.value, hlc = excluded.hlc, author_id = excluded.author_id",
        )?
        .execute(params![
            entity.as_str(),
            record_id,
            field,
            value,
            base_version,
            hlc,
            author
        ])?;
        tx.prepare_cached(
            "INSERT INTO field_history (entity, record_id, field, value, version, hlc, author_id, origin, recorded_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'local', ?8)",
        )?
        .execute(params![entity.as_str(), record_id, field, value, base_version, hlc, author, now])?;
        let change_id = ChangeId::from_uuid(new_uuid_v7(edit));
        tx.prepare_cached(
            "INSERT INTO outbox (change_id, entity, record_id, field, value, base_version, hlc, author_id, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?
        .execute(params![change_id.to_string(), entity.as_str(), record_id, field, value, base_version, hlc, author, now])?;
    }
    Ok(())
}

/// The store's clock, resumed from its last persisted reading.
pub(crate) fn load_clock(tx: &rusqlite::Connection) -> Result<HlcClock, StoreError> {
    match meta::get(tx, MetaKey::HlcLast)? {
        Some(last) => Ok(HlcClock::resume(tandem_domain::Hlc::parse(&last)?)),
        None => Ok(HlcClock::new(&meta::node_id(tx)?)?),
    }
}

/// A UUIDv7 for the moment of the edit; the random part comes from the OS.
fn new_uuid_v7(edit: EditContext) -> Uuid {
    let seconds = u64::try_from(edit.now.timestamp()).unwrap_or(0);
    let nanos = edit.now.timestamp_subsec_nanos();
    Uuid::new_v7(uuid::Timestamp::from_unix(uuid::NoContext, seconds, nanos))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;
    use crate::ServerWrite;
    use crate::connection::{fill_the_disk, free_the_disk, query_plan, test_store};
    use tandem_domain::Rule;

    #[test]
    fn a_clients_contacts_are_read_through_their_fields_partial_indexes_and_scan_nothing() {
        let (_dir, store) = test_store();
        let plan = query_plan(&store, CONTACTS_OF_CLIENT);
        for index in ["record_fields_client_id", "record_fields_merged_into"] {
            assert!(
                plan.iter()
                    .any(|step| step.contains(&format!("INDEX {index} (entity=? AND value"))),
                "{index} unused: {plan:?}"
            );
        }
        assert!(
            plan.iter().all(
                |step| !step.starts_with("SCAN record_fields") && !step.contains("PRIMARY KEY")
            ),
            "{plan:?}"
        );
    }

    #[test]
    fn a_deleted_contact_leaves_the_clients_contacts_and_stays_among_all_of_them() {
        let (_dir, mut store) = test_store();
        let at = EditContext::at(Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap());
        let input = |value: Json| serde_json::from_value(value).unwrap();
        let client = store
            .create_record(Entity::Client, &input(json!({"given_name": "Leyla"})), at)
            .unwrap();
        let mut contact = |day: u32| {
            let occurred_at = format!("2026-11-{day:02}T09:00:00+02:00");
            let fields = json!({"client_id": client.to_string(), "occurred_at": occurred_at});
            store.create_record(Entity::Contact, &input(fields), at)
        };
        let older = contact(3).unwrap();
        let newer = contact(17).unwrap();
        let deleted = BTreeMap::from([("deleted".to_owned(), json!(true))]);
        store
            .edit_record(Entity::Contact, older, &deleted, at)
            .unwrap();
        let ids = |records: Vec<Record>| records.iter().map(Record::id).collect::<Vec<_>>();

        assert_eq!(ids(store.contacts_of_client(client).unwrap()), [newer]);
        assert_eq!(
            ids(store.all_contacts_of_client(client).unwrap()),
            [newer, older],
            "newest first, the tombstone included"
        );
    }

    #[test]
    fn a_contact_dated_after_tomorrow_is_refused_with_its_rule_and_nothing_is_queued() {
        let (_dir, mut store) = test_store();
        let at = EditContext::at(Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap());
        let input = |value: Json| serde_json::from_value(value).unwrap();
        let client = store
            .create_record(Entity::Client, &input(json!({"given_name": "Leyla"})), at)
            .unwrap();
        let queued = store.pending_count().unwrap();
        let contact = |occurred_at: &str| {
            input(json!({"client_id": client.to_string(), "occurred_at": occurred_at}))
        };
        let error = store
            .create_record(Entity::Contact, &contact("2062-11-20T09:00:00+02:00"), at)
            .unwrap_err();
        assert!(
            matches!(
                &error,
                StoreError::Invalid(error) if error.rule()
                    == Some(Rule::TooLate { latest: "2026-11-21".into() })
            ),
            "{error:?}"
        );
        assert_eq!(store.pending_count().unwrap(), queued, "nothing queued");
        assert!(store.contacts_of_client(client).unwrap().is_empty());
        // Tomorrow is allowed: a visit logged late in the evening east of here.
        store
            .create_record(Entity::Contact, &contact("2026-11-21T08:00:00+10:00"), at)
            .unwrap();
    }

    #[test]
    fn the_triggers_recompute_one_contacts_follow_up_by_key() {
        let (_dir, store) = test_store();
        // What each trigger of schema 8 inserts for the contact written.
        let plan = query_plan(
            &store,
            "SELECT record_id, due, coach FROM open_follow_ups_in_fields WHERE record_id = ?1",
        );
        assert!(
            plan.iter().all(|step| !step.starts_with("SCAN")
                && (!step.starts_with("SEARCH")
                    || step.contains("(entity=? AND record_id=? AND field=?)"))),
            "{plan:?}"
        );
        let by_key = plan
            .iter()
            .filter(|step| step.contains("(entity=? AND record_id=? AND field=?)"))
            .count();
        assert!(
            by_key >= 3,
            "the day, the coach, done and deleted: {plan:?}"
        );
    }

    #[test]
    fn open_follow_ups_are_read_in_the_order_of_their_index_and_scan_nothing() {
        let (_dir, store) = test_store();
        for (rows, index) in [
            (
                OPEN_FOLLOW_UPS_OF_ANYONE,
                "INDEX open_follow_ups_by_due (due>? AND due<?)",
            ),
            (
                OPEN_FOLLOW_UPS_OF,
                "INDEX open_follow_ups_by_coach (coach=? AND due>? AND due<?)",
            ),
        ] {
            for direction in ["ASC", "DESC"] {
                let sql = format!(
                    "SELECT due.record_id {rows}
                     ORDER BY due.due {direction}, due.record_id {direction} LIMIT ?4"
                );
                for sql in [sql.as_str(), &format!("SELECT count(*) {rows}")] {
                    let plan = query_plan(&store, sql);
                    assert!(plan.iter().any(|step| step.contains(index)), "{plan:?}");
                    assert!(
                        plan.iter().all(|step| !step.starts_with("SCAN")
                            && !step.contains("TEMP B-TREE")
                            && !step.contains("record_fields")),
                        "{plan:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn open_follow_ups_follow_every_write_pull_and_purge_of_their_fields() {
        let (_dir, mut store) = test_store();
        let at = EditContext::at(Utc.with_ymd_and_hms(2026, 11, 20, 10, 0, 0).unwrap());
        let open = |store: &Store| -> Vec<(String, String, Option<String>)> {
            let mut statement = store
                .conn
                .prepare("SELECT record_id, due, coach FROM open_follow_ups ORDER BY record_id")
                .unwrap();
            statement
                .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        let edit = |store: &mut Store, id, fields: Json| {
            let input = serde_json::from_value(fields).unwrap();
            store.edit_record(Entity::Contact, id, &input, at).unwrap();
        };
        let input = serde_json::from_value(json!({
            "occurred_at": "2026-11-01T10:00:00+02:00",
            "follow_up_on": "2026-11-24",
        }))
        .unwrap();
        let id = store.create_record(Entity::Contact, &input, at).unwrap();
        let key = id.to_string();
        let row = |due: &str, coach: Option<&str>| {
            vec![(
                key.clone(),
                format!("\"{due}\""),
                coach.map(|c| format!("\"{c}\"")),
            )]
        };
        assert_eq!(open(&store), row("2026-11-24", None));

        let coach = Uuid::from_u128(0xc0).to_string();
        edit(
            &mut store,
            id,
            json!({ "coach_id": coach, "follow_up_on": "2026-11-25" }),
        );
        assert_eq!(open(&store), row("2026-11-25", Some(&coach)));
        edit(&mut store, id, json!({ "follow_up_done": true }));
        assert_eq!(open(&store), []);
        edit(&mut store, id, json!({ "follow_up_done": false }));
        assert_eq!(open(&store), row("2026-11-25", Some(&coach)));
        edit(&mut store, id, json!({ "coach_id": null }));
        assert_eq!(open(&store), row("2026-11-25", None));
        edit(&mut store, id, json!({ "deleted": true }));
        assert_eq!(open(&store), []);
        edit(
            &mut store,
            id,
            json!({ "deleted": false, "follow_up_on": null }),
        );
        assert_eq!(open(&store), [], "no day, no follow-up");
        edit(&mut store, id, json!({ "follow_up_on": "2026-11-26" }));
        assert_eq!(open(&store), row("2026-11-26", None));

        // A value that is not JSON (no writer makes one) is no follow-up, and no reason to
        // refuse the write.
        let write_raw_follow_up_on = |store: &Store, raw: &str| {
            store
                .conn
                .execute(
                    "UPDATE record_fields SET value = ?2 WHERE entity = 'contact'
                     AND record_id = ?1 AND field = 'follow_up_on'",
                    rusqlite::params![&key, raw],
                )
                .unwrap()
        };
        assert_eq!(write_raw_follow_up_on(&store, "{not json"), 1);
        assert_eq!(open(&store), []);
        assert_eq!(write_raw_follow_up_on(&store, "\"2026-11-26\""), 1);
        assert_eq!(open(&store), row("2026-11-26", None));

        // A purge removes the contact's fields, and its follow-up with them.
        store
            .conn
            .execute(
                "DELETE FROM record_fields WHERE entity = 'contact' AND record_id = ?1",
                [&key],
            )
            .unwrap();
        assert_eq!(open(&store), []);
    }

    #[test]
    fn open_follow_ups_leave_out_the_done_and_the_deleted_and_count_beyond_the_limit() {
        let (_dir, mut store) = test_store();
        let at = EditContext::at(Utc.with_ymd_and_hms(2026, 11, 20, 10, 0, 0).unwrap());
        let mut contact = |follow_up_on: Json, extra: Json| {
            let mut fields = json!({
                "occurred_at": "2026-11-01T10:00:00+02:00",
                "channel": "drop_in",
                "follow_up_on": follow_up_on,
            });
            fields
                .as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            let input = serde_json::from_value(fields).unwrap();
            store.create_record(Entity::Contact, &input, at).unwrap()
        };
        let nov = |day| json!(format!("2026-11-{day:02}"));
        let oldest = contact(nov(2), json!({}));
        let coach = Uuid::from_u128(0xc0);
        let old = contact(nov(9), json!({ "coach_id": coach.to_string() }));
        contact(nov(10), json!({ "follow_up_done": true }));
        let recent = contact(nov(19), json!({}));
        let reopened = contact(nov(19), json!({ "follow_up_done": false }));
        let today = contact(nov(20), json!({}));
        let next_week = contact(nov(27), json!({}));
        contact(Json::Null, json!({}));
        let removed = contact(nov(18), json!({}));
        let deleted = BTreeMap::from([("deleted".to_owned(), json!(true))]);
        store
            .edit_record(Entity::Contact, removed, &deleted, at)
            .unwrap();
        let day = |d| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        let ids = |found: &FollowUps| -> Vec<RecordId> {
            found.contacts.iter().map(Record::id).collect()
        };
        let tie = |a: RecordId, b: RecordId| if a < b { [a, b] } else { [b, a] };

        let overdue = store
            .open_follow_ups(None, day(19), None, DueOrder::LatestFirst, 100)
            .unwrap();
        let [first, second] = tie(recent, reopened);
        assert_eq!(ids(&overdue), [second, first, old, oldest]);
        assert_eq!(overdue.total, 4);

        let shown = store
            .open_follow_ups(None, day(19), None, DueOrder::LatestFirst, 3)
            .unwrap();
        assert_eq!(ids(&shown), [second, first, old]);
        assert_eq!(shown.total, 4, "counted beyond the limit");

        let earliest = store
            .open_follow_ups(None, day(19), None, DueOrder::EarliestFirst, 2)
            .unwrap();
        assert_eq!(ids(&earliest), [oldest, old]);

        let on_the_day = store
            .open_follow_ups(Some(day(20)), day(20), None, DueOrder::EarliestFirst, 100)
            .unwrap();
        assert_eq!(ids(&on_the_day), [today]);
        assert_eq!(on_the_day.total, 1);
        let later = store
            .open_follow_ups(Some(day(21)), day(29), None, DueOrder::EarliestFirst, 100)
            .unwrap();
        assert_eq!(ids(&later), [next_week]);
        assert_eq!(later.total, 1);

        let coachs = store
            .open_follow_ups(None, day(29), Some(coach), DueOrder::EarliestFirst, 100)
            .unwrap();
        assert_eq!((ids(&coachs), coachs.total), (vec![old], 1));
        let someone_elses = store
            .open_follow_ups(
                None,
                day(29),
                Some(Uuid::from_u128(0xc1)),
                DueOrder::EarliestFirst,
                100,
            )
            .unwrap();
        assert_eq!((ids(&someone_elses), someone_elses.total), (vec![], 0));
    }

    #[test]
    fn the_newest_contacts_are_read_in_the_order_of_the_occurred_at_index() {
        let (_dir, store) = test_store();
        let plan = query_plan(&store, &contacts_newest_first(true));
        assert!(
            plan.iter()
                .any(|step| step.contains("INDEX record_fields_occurred_at")),
            "{plan:?}"
        );
        assert!(
            plan.iter().all(|step| !step.contains("TEMP B-TREE")),
            "sorted instead of walked: {plan:?}"
        );
    }

    #[test]
    fn a_coachs_contacts_since_a_moment_are_theirs_newest_first_deleted_ones_too() {
        let (_dir, mut store) = test_store();
        let coach = Uuid::from_u128(0xc0);
        let colleague = Uuid::from_u128(0xc1);
        let at = EditContext::at(Utc.with_ymd_and_hms(2026, 12, 7, 12, 0, 0).unwrap());
        let mut logged = |occurred_at: &str, by: Uuid, at: EditContext| {
            let fields = json!({ "occurred_at": occurred_at, "channel": "drop_in", "coach_id": by.to_string() });
            let input = serde_json::from_value(fields).unwrap();
            store.create_record(Entity::Contact, &input, at).unwrap()
        };
        logged("2026-12-06T23:59:00+02:00", coach, at); // the day before, in Helsinki
        // Dated a year later on a laptop whose clock was a year ahead (a date typed after
        // tomorrow is refused): listed, to be corrected.
        let clock_ahead = EditContext::at(Utc.with_ymd_and_hms(2027, 12, 7, 9, 0, 0).unwrap());
        let later_by_mistake = logged("2027-12-07T10:00:00+02:00", coach, clock_ahead);
        let mut contact = |occurred_at: &str, by: Uuid| logged(occurred_at, by, at);
        let morning = contact("2026-12-07T08:15:00+02:00", coach);
        // Later as an instant although its text sorts first: 07:30 UTC is 09:30 in Helsinki.
        let later = contact("2026-12-07T07:30:00+00:00", coach);
        contact("2026-12-07T10:00:00+02:00", colleague);
        let removed = contact("2026-12-07T11:00:00+02:00", coach);
        let deleted = BTreeMap::from([("deleted".to_owned(), json!(true))]);
        store
            .edit_record(Entity::Contact, removed, &deleted, at)
            .unwrap();
        let midnight = Utc.with_ymd_and_hms(2026, 12, 6, 22, 0, 0).unwrap();
        let ids = |limit| -> Vec<RecordId> {
            store
                .contacts_of_coach_since(coach, midnight, limit)
                .unwrap()
                .iter()
                .map(Record::id)
                .collect()
        };
        assert_eq!(ids(10), [later_by_mistake, removed, later, morning]);
        assert_eq!(ids(2), [later_by_mistake, removed]);

        let plan = query_plan(&store, &contacts_of_coach_since(true));
        assert!(
            plan.iter()
                .any(|step| step.contains("INDEX record_fields_occurred_at (<expr>>?)")),
            "not a range of the index: {plan:?}"
        );
        assert!(
            plan.iter().all(|step| !step.contains("TEMP B-TREE")),
            "sorted instead of walked: {plan:?}"
        );
    }

    #[test]
    fn recent_clients_are_those_met_last_each_once_then_the_newest_registered() {
        let (_dir, mut store) = test_store();
        let create = |store: &mut Store, entity, fields: Json, minute| {
            let input = serde_json::from_value(fields).unwrap();
            let at = Utc.with_ymd_and_hms(2026, 11, 28, 10, minute, 0).unwrap();
            store
                .create_record(entity, &input, EditContext::at(at))
                .unwrap()
        };
        let client = |store: &mut Store, name: &str, minute| {
            create(store, Entity::Client, json!({ "given_name": name }), minute)
        };
        let contact = |client: RecordId, occurred_at: &str| json!({ "client_id": client.to_string(), "occurred_at": occurred_at, "channel": "drop_in" });
        let amina = client(&mut store, "Amina", 0);
        let olga = client(&mut store, "Olga", 1);
        let jari = client(&mut store, "Jari", 2);
        client(&mut store, "Ali", 3);
        let gone = client(&mut store, "Gone", 4);
        let deleted = BTreeMap::from([("deleted".to_owned(), json!(true))]);
        let later = EditContext::at(Utc.with_ymd_and_hms(2026, 11, 28, 11, 0, 0).unwrap());
        store
            .edit_record(Entity::Client, gone, &deleted, later)
            .unwrap();
        create(
            &mut store,
            Entity::Contact,
            contact(amina, "2026-11-25T11:00:00+02:00"),
            10,
        );
        // Met last as an instant, although its text sorts first: 09:30 UTC is 11:30 in Helsinki.
        create(
            &mut store,
            Entity::Contact,
            contact(olga, "2026-11-25T09:30:00+00:00"),
            11,
        );
        create(
            &mut store,
            Entity::Contact,
            contact(amina, "2026-11-24T10:00:00+02:00"),
            12,
        );
        create(
            &mut store,
            Entity::Contact,
            contact(gone, "2026-11-26T10:00:00+02:00"),
            13,
        );
        let removed = create(
            &mut store,
            Entity::Contact,
            contact(jari, "2026-11-27T10:00:00+02:00"),
            14,
        );
        store
            .edit_record(Entity::Contact, removed, &deleted, later)
            .unwrap();
        let anonymous = json!({ "occurred_at": "2026-11-28T10:00:00+02:00", "channel": "drop_in" });
        create(&mut store, Entity::Contact, anonymous, 15);

        let names = |limit| -> Vec<String> {
            store
                .recent_clients(limit)
                .unwrap()
                .iter()
                .map(|c| c.get("given_name").as_text().unwrap().to_owned())
                .collect()
        };
        // Jari's only contact is deleted and Gone is deleted: after the clients met come the
        // newest registrations, Gone left out.
        assert_eq!(names(8), ["Olga", "Amina", "Ali", "Jari"]);
        assert_eq!(names(3), ["Olga", "Amina", "Ali"]);
        assert_eq!(names(1), ["Olga"]);
    }

    #[test]
    fn a_forms_save_over_a_field_a_sync_changed_meanwhile_writes_nothing_until_saved_again() {
        let (_dir, mut store) = test_store();
        let at = EditContext::at(Utc.with_ymd_and_hms(2026, 11, 20, 10, 0, 0).unwrap());
        // A client the laptop pulled, as the form opens with it.
        let amina = RecordId::from_uuid(Uuid::from_u128(0xa1));
        let pulled = |seq: u64, field: &str, value: Json| ServerWrite {
            seq,
            entity: "client".to_owned(),
            record_id: *amina.as_uuid(),
            field: field.to_owned(),
            value: value.to_string(),
            version: seq,
            hlc: format!("1768471200000-{seq:05}-colleague"),
            author_id: Uuid::from_u128(0xc011),
        };
        let synced = [
            pulled(1, "given_name", json!("Amina")),
            pulled(2, "phone", json!("040 123 4567")),
            pulled(3, "notes", json!("Rent.")),
        ];
        store.record_server_writes(&synced, at.now).unwrap();
        // As the app shows them (a phone number in its international form).
        let shown: BTreeMap<String, Json> = serde_json::from_value(json!({
            "phone": "+358401234567", "notes": "Rent.", "languages": [], "nickname": null
        }))
        .unwrap();
        // Meanwhile a sync brings a colleague's phone number.
        store
            .record_server_writes(&[pulled(4, "phone", json!("040 765 4321"))], at.now)
            .unwrap();
        let pending = store.pending_count().unwrap();
        let typed =
            |fields: Json| -> BTreeMap<String, Json> { serde_json::from_value(fields).unwrap() };
        let save = |store: &mut Store,
                    fields: &BTreeMap<String, Json>,
                    before: &BTreeMap<String, Json>| {
            store.edit_record_from_form(
                Entity::Client,
                amina,
                fields,
                at,
                FormSave {
                    before: Some(before),
                    draft: None,
                    deleted: None,
                },
            )
        };

        // The coach's phone number and notes: refused whole, the colleague's number kept.
        let mine = typed(json!({ "phone": "040 111 2222", "notes": "Rent and work." }));
        let error = save(&mut store, &mine, &shown).unwrap_err();
        assert!(
            matches!(&error, StoreError::ChangedMeanwhile { fields, .. } if fields == &["phone"]),
            "{error:?}"
        );
        assert!(error.to_string().contains("phone of client"), "{error}");
        let now = store.record(Entity::Client, amina).unwrap().unwrap();
        assert_eq!(now.get("phone").as_text(), Some("+358407654321"));
        assert_eq!(now.get("notes").as_text(), Some("Rent."));
        assert_eq!(store.pending_count().unwrap(), pending, "nothing queued");

        // Fields the form does not send, and an empty set shown as empty, refuse nothing.
        let notes = typed(json!({ "notes": "Rent and work.", "languages": [] }));
        assert_eq!(
            save(&mut store, &notes, &shown).unwrap().changed_fields,
            ["notes"]
        );
        // A box never ticked is shown unticked: a form that ticks it saved the same way.
        let contact_input = typed(json!({ "occurred_at": "2026-11-20T10:00:00+02:00" }));
        let contact = store
            .create_record(Entity::Contact, &contact_input, at)
            .unwrap();
        let done = typed(json!({ "follow_up_done": true, "interpreter_used": true }));
        let unticked = typed(json!({ "follow_up_done": false, "interpreter_used": false }));
        let saved = store
            .edit_record_from_form(
                Entity::Contact,
                contact,
                &done,
                at,
                FormSave {
                    before: Some(&unticked),
                    draft: None,
                    deleted: None,
                },
            )
            .unwrap();
        assert_eq!(saved.changed_fields, ["follow_up_done", "interpreter_used"]);
        // Seen, the colleague's number is replaced on purpose.
        let seen = typed(json!({ "phone": "+358407654321" }));
        let phone = typed(json!({ "phone": "040 111 2222" }));
        assert_eq!(
            save(&mut store, &phone, &seen).unwrap().changed_fields,
            ["phone"]
        );
        let saved = store.record(Entity::Client, amina).unwrap().unwrap();
        assert_eq!(saved.get("phone").as_text(), Some("+358401112222"));
    }

    #[test]
    fn a_correction_of_a_contact_a_sync_deleted_is_refused_in_the_saves_transaction() {
        let (_dir, mut store) = test_store();
        let at = EditContext::at(Utc.with_ymd_and_hms(2026, 11, 20, 10, 0, 0).unwrap());
        let contact = Uuid::from_u128(0xc0);
        let pulled = |seq: u64, field: &str, value: Json| ServerWrite {
            seq,
            entity: "contact".to_owned(),
            record_id: contact,
            field: field.to_owned(),
            value: value.to_string(),
            version: seq,
            hlc: format!("1768471200000-{seq:05}-colleague"),
            author_id: Uuid::from_u128(0xc011),
        };
        store
            .record_server_writes(
                &[
                    pulled(1, "occurred_at", json!("2026-11-20T10:00:00+02:00")),
                    pulled(2, "summary", json!("Rent.")),
                ],
                at.now,
            )
            .unwrap();
        // The correction's form was opened on the live contact; a colleague's deletion
        // arrives before it is saved.
        store
            .record_server_writes(&[pulled(3, "deleted", json!(true))], at.now)
            .unwrap();
        let id = RecordId::from_uuid(contact);
        let typed =
            |fields: Json| -> BTreeMap<String, Json> { serde_json::from_value(fields).unwrap() };
        let live = FormSave {
            deleted: Some(false),
            ..FormSave::default()
        };
        let error = store
            .edit_record_from_form(
                Entity::Contact,
                id,
                &typed(json!({"summary": "Rent and work."})),
                at,
                live,
            )
            .unwrap_err();
        assert!(
            matches!(error, StoreError::RecordNotFound { .. }),
            "{error:?}"
        );
        let now = store.record(Entity::Contact, id).unwrap().unwrap();
        assert_eq!(now.get("summary").as_text(), Some("Rent."));
        assert_eq!(store.pending_count().unwrap(), 0, "nothing queued");

        // A restore applies to a deleted contact only.
        let deleted = FormSave {
            deleted: Some(true),
            ..FormSave::default()
        };
        let restore = typed(json!({"deleted": false}));
        store
            .edit_record_from_form(Entity::Contact, id, &restore, at, deleted)
            .unwrap();
        let again = store.edit_record_from_form(Entity::Contact, id, &restore, at, deleted);
        assert!(
            matches!(again, Err(StoreError::RecordNotFound { .. })),
            "{again:?}"
        );
        store
            .edit_record_from_form(
                Entity::Contact,
                id,
                &typed(json!({"summary": "Rent and work."})),
                at,
                live,
            )
            .unwrap();
    }

    #[test]
    fn an_edit_on_a_full_disk_is_refused_whole_and_saved_once_there_is_room() {
        let (_dir, mut store) = test_store();
        let at = EditContext::at(Utc.with_ymd_and_hms(2026, 11, 20, 10, 0, 0).unwrap());
        let input = serde_json::from_value(json!({ "given_name": "Amina" })).unwrap();
        let amina = store.create_record(Entity::Client, &input, at).unwrap();
        let pending = store.pending_count().unwrap();
        fill_the_disk(&mut store);
        // The name fits where it was; the long notes need pages the full disk cannot give.
        let edit = BTreeMap::from([
            ("given_name".to_owned(), json!("Aminah")),
            (
                "notes".to_owned(),
                json!("Asked about a rental contract. ".repeat(300)),
            ),
        ]);
        let error = store
            .edit_record(Entity::Client, amina, &edit, at)
            .unwrap_err();
        assert!(matches!(error, StoreError::DiskFull), "{error:?}");
        assert!(
            error
                .to_string()
                .contains("disk holding Tandem's local store is full"),
            "{error}"
        );
        let unchanged = store.record(Entity::Client, amina).unwrap().unwrap();
        assert_eq!(unchanged.get("given_name").as_text(), Some("Amina"));
        assert!(unchanged.get("notes").is_null());
        assert_eq!(store.pending_count().unwrap(), pending, "nothing queued");
        assert_eq!(
            store
                .field_history("client", *amina.as_uuid(), "given_name")
                .unwrap()
                .len(),
            1
        );

        free_the_disk(&store);
        let saved = store.edit_record(Entity::Client, amina, &edit, at).unwrap();
        assert_eq!(saved.changed_fields, ["given_name", "notes"]);
        assert_eq!(store.pending_count().unwrap(), pending + 2);
    }
}
