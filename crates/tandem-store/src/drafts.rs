//! A form's unsaved values, kept while they are typed so that a lock, a closed window, a
//! killed app or a dead battery does not take them: one at a time, in the `meta` table,
//! encrypted like everything else here. The text is the app's own (JSON); the store only
//! drops it when a record it names is purged (an erasure or a retention purge must leave
//! nothing of the client behind, a half-typed contact included).

use rusqlite::Connection;

use crate::meta::{self, MetaKey};
use crate::{Store, StoreError};

/// The longest draft kept: a contact's every field at its longest is far less.
pub const MAX_FORM_DRAFT_BYTES: usize = 256 * 1024;

impl Store {
    /// The form draft kept, if any.
    pub fn form_draft(&self) -> Result<Option<String>, StoreError> {
        meta::get(&self.conn, MetaKey::FormDraft)
    }

    /// Keeps `draft` in place of any other, or with none forgets it.
    pub fn set_form_draft(&mut self, draft: Option<&str>) -> Result<(), StoreError> {
        match draft {
            Some(text) if text.len() > MAX_FORM_DRAFT_BYTES => Err(StoreError::DraftTooLarge {
                bytes: text.len(),
                max: MAX_FORM_DRAFT_BYTES,
            }),
            Some(text) => meta::set(&self.conn, MetaKey::FormDraft, text),
            None => meta::delete(&self.conn, MetaKey::FormDraft),
        }
    }
}

/// Forgets the draft if it names one of `removed` (record ids), inside a purge's transaction.
pub(crate) fn forget_drafts_naming<'a>(
    conn: &Connection,
    mut removed: impl Iterator<Item = &'a String>,
) -> Result<(), StoreError> {
    if let Some(draft) = meta::get(conn, MetaKey::FormDraft)?
        && removed.any(|id| draft.contains(id.as_str()))
    {
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

    #[test]
    fn a_draft_is_kept_replaced_and_forgotten_and_a_huge_one_refused() {
        let (_dir, mut store) = test_store();
        assert_eq!(store.form_draft().unwrap(), None);
        store.set_form_draft(Some(r#"{"summary":"CV"}"#)).unwrap();
        store
            .set_form_draft(Some(r#"{"summary":"CV, cover letter"}"#))
            .unwrap();
        assert_eq!(
            store.form_draft().unwrap().as_deref(),
            Some(r#"{"summary":"CV, cover letter"}"#)
        );
        let huge = "x".repeat(MAX_FORM_DRAFT_BYTES + 1);
        assert!(matches!(
            store.set_form_draft(Some(&huge)),
            Err(StoreError::DraftTooLarge { .. })
        ));
        assert!(store.form_draft().unwrap().is_some(), "the old one stays");
        store.set_form_draft(None).unwrap();
        assert_eq!(store.form_draft().unwrap(), None);
    }

    #[test]
    fn purging_the_client_a_draft_names_forgets_the_draft_and_another_purge_keeps_it() {
        let (_dir, mut store) = test_store();
        let at = EditContext::at(Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).unwrap());
        let mut client = |name: &str| {
            let input = serde_json::from_value(json!({"given_name": name})).unwrap();
            store.create_record(Entity::Client, &input, at).unwrap()
        };
        let named = client("Amina");
        let other = client("Jari");
        let draft = json!({"key": format!("new-contact:{named}"), "values": {"summary": "rent"}});
        store.set_form_draft(Some(&draft.to_string())).unwrap();
        let purge = |store: &Store, id: tandem_domain::RecordId| {
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
            "names another client"
        );
        purge(&store, named);
        assert_eq!(store.form_draft().unwrap(), None);
    }
}
