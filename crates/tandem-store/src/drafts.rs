//! A new contact's unsaved values, kept while they are typed so that a lock, a closed window,
//! a killed app or a dead battery does not take them: one draft at a time, in the `meta`
//! table, encrypted like everything else here. The text is the app's own (JSON); the store
//! knows whose form it is (`owner`) and which client it is about, so that saving the form
//! forgets it in the same transaction (`Store::create_record_from_draft`: never saved twice),
//! a draft about a client this store does not hold is not kept, and a purge of that client
//! (an erasure, a retention purge) drops it: nothing of the client stays behind.

use rusqlite::{Connection, OptionalExtension};
use serde::Deserialize;
use tandem_domain::RecordId;

use crate::meta::{self, MetaKey};
use crate::{Store, StoreError};

/// The longest draft kept: a contact's every field at its longest is far less.
pub const MAX_FORM_DRAFT_BYTES: usize = 256 * 1024;

/// A form's unsaved values.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FormDraft {
    /// Whose form it is: the app's name for the user and the form.
    pub owner: String,
    /// The client it is about (none: an anonymous visit).
    pub about: Option<String>,
    /// The values, as the app wrote them.
    pub text: String,
}

impl Store {
    /// The form draft kept, if any.
    pub fn form_draft(&self) -> Result<Option<FormDraft>, StoreError> {
        read(&self.conn)
    }

    /// Keeps `draft` in place of any other. A draft about a client this store does not hold
    /// (erased meanwhile) is not kept, and any draft of the same owner is forgotten; says
    /// whether it was kept.
    pub fn set_form_draft(&mut self, draft: &FormDraft) -> Result<bool, StoreError> {
        if draft.text.len() > MAX_FORM_DRAFT_BYTES {
            return Err(StoreError::DraftTooLarge {
                bytes: draft.text.len(),
                max: MAX_FORM_DRAFT_BYTES,
            });
        }
        let tx = self.conn.transaction()?;
        let held = match &draft.about {
            Some(id) => {
                let id = RecordId::parse(id)?;
                tx.prepare_cached("SELECT 1 FROM records WHERE record_id = ?1")?
                    .query_row([id.to_string()], |_| Ok(()))
                    .optional()?
                    .is_some()
            }
            None => true,
        };
        if held {
            let stored = serde_json::json!({
                "owner": draft.owner,
                "about": draft.about,
                "text": draft.text,
            });
            meta::set(&tx, MetaKey::FormDraft, &stored.to_string())?;
        } else {
            forget(&tx, &draft.owner)?;
        }
        tx.commit()?;
        Ok(held)
    }

    /// Forgets the draft of `owner`, if it is the one kept.
    pub fn forget_form_draft(&mut self, owner: &str) -> Result<(), StoreError> {
        forget(&self.conn, owner)
    }
}

fn read(conn: &Connection) -> Result<Option<FormDraft>, StoreError> {
    // A draft this version cannot read is no draft: it was only ever a convenience.
    Ok(meta::get(conn, MetaKey::FormDraft)?.and_then(|text| serde_json::from_str(&text).ok()))
}

/// Forgets the draft of `owner`, if it is the one kept (inside the caller's transaction).
pub(crate) fn forget(conn: &Connection, owner: &str) -> Result<(), StoreError> {
    if read(conn)?.is_some_and(|draft| draft.owner == owner) {
        meta::delete(conn, MetaKey::FormDraft)?;
    }
    Ok(())
}

/// Forgets the draft if it is about one of `removed` (record ids), inside a purge's
/// transaction.
pub(crate) fn forget_drafts_about<'a>(
    conn: &Connection,
    mut removed: impl Iterator<Item = &'a String>,
) -> Result<(), StoreError> {
    let Some(about) = read(conn)?.and_then(|draft| draft.about) else {
        return Ok(());
    };
    if removed.any(|id| *id == about) {
        meta::delete(conn, MetaKey::FormDraft)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use serde_json::json;
    use tandem_domain::Entity;
    use uuid::Uuid;

    use super::*;
    use crate::connection::test_store;
    use crate::purge::{PurgedRecord, purge_records};
    use crate::records::EditContext;

    fn draft(owner: &str, about: Option<RecordId>, text: &str) -> FormDraft {
        FormDraft {
            owner: owner.to_owned(),
            about: about.map(|id| id.to_string()),
            text: text.to_owned(),
        }
    }

    fn at() -> EditContext {
        EditContext::at(Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).unwrap())
    }

    fn client(store: &mut Store, name: &str) -> RecordId {
        let input = serde_json::from_value(json!({"given_name": name})).unwrap();
        store.create_record(Entity::Client, &input, at()).unwrap()
    }

    #[test]
    fn a_draft_is_kept_replaced_and_forgotten_by_its_owner_only_and_a_huge_one_refused() {
        let (_dir, mut store) = test_store();
        assert_eq!(store.form_draft().unwrap(), None);
        let amina = client(&mut store, "Amina");
        assert!(
            store
                .set_form_draft(&draft("u1", Some(amina), "CV"))
                .unwrap()
        );
        assert!(
            store
                .set_form_draft(&draft("u1", None, "CV, letter"))
                .unwrap()
        );
        assert_eq!(
            store.form_draft().unwrap(),
            Some(draft("u1", None, "CV, letter"))
        );
        let huge = "x".repeat(MAX_FORM_DRAFT_BYTES + 1);
        assert!(matches!(
            store.set_form_draft(&draft("u1", None, &huge)),
            Err(StoreError::DraftTooLarge { .. })
        ));
        store.forget_form_draft("u2").unwrap();
        assert!(store.form_draft().unwrap().is_some(), "another owner's");
        store.forget_form_draft("u1").unwrap();
        assert_eq!(store.form_draft().unwrap(), None);
    }

    #[test]
    fn saving_the_form_forgets_its_draft_in_the_same_transaction() {
        let (_dir, mut store) = test_store();
        let amina = client(&mut store, "Amina");
        store
            .set_form_draft(&draft("u1", Some(amina), "rent"))
            .unwrap();
        let input =
            serde_json::from_value(json!({"client_id": amina.to_string(), "summary": "rent",
                "occurred_at": "2026-12-07T10:00:00+02:00"}))
            .unwrap();
        store
            .create_record_from_draft(Entity::Contact, &input, at(), "u2")
            .unwrap();
        assert!(store.form_draft().unwrap().is_some(), "another form's");
        store
            .create_record_from_draft(Entity::Contact, &input, at(), "u1")
            .unwrap();
        assert_eq!(store.form_draft().unwrap(), None);
        // A save the store refuses leaves the draft.
        store
            .set_form_draft(&draft("u1", Some(amina), "rent"))
            .unwrap();
        let invalid = serde_json::from_value(json!({"duration_min": 9000})).unwrap();
        assert!(
            store
                .create_record_from_draft(Entity::Contact, &invalid, at(), "u1")
                .is_err()
        );
        assert!(store.form_draft().unwrap().is_some());
    }

    #[test]
    fn a_draft_about_a_purged_client_is_dropped_and_never_kept_again() {
        let (_dir, mut store) = test_store();
        let named = client(&mut store, "Amina");
        let other = client(&mut store, "Jari");
        store
            .set_form_draft(&draft("u1", Some(named), "rent"))
            .unwrap();
        let purge = |store: &Store, id: RecordId| {
            let purges = [PurgedRecord {
                seq: 1,
                entity: "client".to_owned(),
                record_id: Uuid::parse_str(&id.to_string()).unwrap(),
            }];
            purge_records(&store.conn, &purges).unwrap();
        };

        purge(&store, other);
        assert!(
            store.form_draft().unwrap().is_some(),
            "about another client"
        );
        purge(&store, named);
        assert_eq!(store.form_draft().unwrap(), None);
        // The form still open writes again: not kept.
        assert!(
            !store
                .set_form_draft(&draft("u1", Some(named), "rent"))
                .unwrap()
        );
        assert_eq!(store.form_draft().unwrap(), None);
    }
}
