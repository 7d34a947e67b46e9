//! A new contact's unsaved values, kept while they are typed so that a lock, a closed window,
//! a killed app or a dead battery does not take them: one draft per user of the laptop, all
//! in one `meta` row, encrypted like everything else here. The text is the app's own (JSON);
//! the store knows whose it is (the signed-in user, and the app's name for the form) and which
//! client it is about, so that another user's draft is neither shown, replaced nor forgotten,
//! saving the form forgets it in the same transaction (`Store::create_record_from_draft`:
//! never saved twice), a draft about a client this store does not hold is not kept, and a
//! purge of that client (an erasure, a retention purge) drops it: nothing of the client stays
//! behind.

use rusqlite::{Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use tandem_domain::RecordId;

use crate::meta::{self, MetaKey};
use crate::{Store, StoreError};

/// The longest draft kept: a contact's every field at its longest is far less.
pub const MAX_FORM_DRAFT_BYTES: usize = 256 * 1024;

/// A form's unsaved values, as kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Kept {
    /// The user who typed them (none before the first sign-in).
    user: Option<String>,
    /// The app's name for the form.
    form: String,
    /// The client they are about (none: an anonymous visit).
    about: Option<String>,
    /// The values, as the app wrote them.
    text: String,
}

/// What the `form_draft` row holds: every user's draft (at most one each), or the one draft
/// of the version before drafts were kept per user.
#[derive(Deserialize)]
#[serde(untagged)]
enum Stored {
    PerUser(Vec<Kept>),
    One(Kept),
}

/// The signed-in user's kept draft of a form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormDraft {
    /// The app's name for the form.
    pub form: String,
    /// The values, as the app wrote them.
    pub text: String,
}

impl Store {
    /// The signed-in user's draft, if the store keeps one.
    pub fn form_draft(&self) -> Result<Option<FormDraft>, StoreError> {
        let user = meta::get(&self.conn, MetaKey::UserId)?;
        Ok(read(&self.conn)?
            .unwrap_or_default()
            .into_iter()
            .find(|kept| kept.user == user)
            .map(|kept| FormDraft {
                form: kept.form,
                text: kept.text,
            }))
    }

    /// Keeps `text` as the signed-in user's draft of `form`, about the client `about`, in
    /// place of that user's other draft; other users' drafts stay. A draft about a client this
    /// store does not hold (erased meanwhile) is not kept, and the user's draft of that form is
    /// forgotten; says whether it was kept.
    pub fn set_form_draft(
        &mut self,
        form: &str,
        about: Option<RecordId>,
        text: &str,
    ) -> Result<bool, StoreError> {
        if text.len() > MAX_FORM_DRAFT_BYTES {
            return Err(StoreError::DraftTooLarge {
                bytes: text.len(),
                max: MAX_FORM_DRAFT_BYTES,
            });
        }
        let tx = self.conn.transaction()?;
        let held = match about {
            Some(id) => tx
                .prepare_cached("SELECT 1 FROM records WHERE record_id = ?1")?
                .query_row([id.to_string()], |_| Ok(()))
                .optional()?
                .is_some(),
            None => true,
        };
        if held {
            let user = meta::get(&tx, MetaKey::UserId)?;
            // An unreadable row holds no draft anyone can get back: replaced.
            let mut drafts = read(&tx)?.unwrap_or_default();
            drafts.retain(|kept| kept.user != user);
            drafts.push(Kept {
                user,
                form: form.to_owned(),
                about: about.map(|id| id.to_string()),
                text: text.to_owned(),
            });
            write(&tx, &drafts)?;
        } else {
            forget(&tx, form)?;
        }
        tx.commit()?;
        Ok(held)
    }

    /// Forgets the signed-in user's draft of `form`, if it is the one kept.
    pub fn forget_form_draft(&mut self, form: &str) -> Result<(), StoreError> {
        forget(&self.conn, form)
    }
}

/// Every user's draft; `None` when the row cannot be read (`forget_drafts_about` removes it,
/// so that it can hold nothing of a purged client either).
fn read(conn: &Connection) -> Result<Option<Vec<Kept>>, StoreError> {
    let Some(text) = meta::get(conn, MetaKey::FormDraft)? else {
        return Ok(Some(Vec::new()));
    };
    Ok(match serde_json::from_str(&text) {
        Ok(Stored::PerUser(drafts)) => Some(drafts),
        Ok(Stored::One(kept)) => Some(vec![kept]),
        Err(_) => None,
    })
}

/// Stores `drafts`, or removes the row when there are none.
fn write(conn: &Connection, drafts: &[Kept]) -> Result<(), StoreError> {
    if drafts.is_empty() {
        meta::delete(conn, MetaKey::FormDraft)
    } else {
        meta::set(
            conn,
            MetaKey::FormDraft,
            &serde_json::json!(drafts).to_string(),
        )
    }
}

/// Forgets the signed-in user's draft of `form`, if it is the one kept (inside the caller's
/// transaction).
pub(crate) fn forget(conn: &Connection, form: &str) -> Result<(), StoreError> {
    let user = meta::get(conn, MetaKey::UserId)?;
    if let Some(mut drafts) = read(conn)? {
        let before = drafts.len();
        drafts.retain(|kept| !(kept.user == user && kept.form == form));
        if drafts.len() != before {
            write(conn, &drafts)?;
        }
    }
    Ok(())
}

/// Forgets every draft about one of `removed` (record ids), and the row if it cannot be read,
/// inside a purge's transaction.
pub(crate) fn forget_drafts_about<'a>(
    conn: &Connection,
    removed: impl Iterator<Item = &'a String> + Clone,
) -> Result<(), StoreError> {
    if meta::get(conn, MetaKey::FormDraft)?.is_none() {
        return Ok(());
    }
    match read(conn)? {
        None => meta::delete(conn, MetaKey::FormDraft),
        Some(mut drafts) => {
            let before = drafts.len();
            drafts.retain(|kept| {
                kept.about
                    .as_ref()
                    .is_none_or(|about| !removed.clone().any(|id| id == about))
            });
            if drafts.len() == before {
                Ok(())
            } else {
                write(conn, &drafts)
            }
        }
    }
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

    fn at() -> EditContext {
        EditContext::at(Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).unwrap())
    }

    fn client(store: &mut Store, name: &str) -> RecordId {
        let input = serde_json::from_value(json!({"given_name": name})).unwrap();
        store.create_record(Entity::Client, &input, at()).unwrap()
    }

    const U1: &str = "0190f0c4-0000-7000-8000-000000000001";
    const U2: &str = "0190f0c4-0000-7000-8000-000000000002";

    fn sign_in_as(store: &Store, user: &str) {
        meta::set(&store.conn, MetaKey::UserId, user).unwrap();
    }

    fn kept(form: &str, text: &str) -> Option<FormDraft> {
        Some(FormDraft {
            form: form.to_owned(),
            text: text.to_owned(),
        })
    }

    #[test]
    fn a_draft_is_the_users_who_typed_it_and_a_huge_one_is_refused() {
        let (_dir, mut store) = test_store();
        sign_in_as(&store, U1);
        assert_eq!(store.form_draft().unwrap(), None);
        let amina = client(&mut store, "Amina");
        assert!(store.set_form_draft("new:a", Some(amina), "CV").unwrap());
        assert!(store.set_form_draft("new:a", None, "CV, letter").unwrap());
        assert_eq!(store.form_draft().unwrap(), kept("new:a", "CV, letter"));
        let huge = "x".repeat(MAX_FORM_DRAFT_BYTES + 1);
        assert!(matches!(
            store.set_form_draft("new:a", None, &huge),
            Err(StoreError::DraftTooLarge { .. })
        ));
        store.forget_form_draft("new:b").unwrap();
        assert!(store.form_draft().unwrap().is_some(), "another form's");

        // Another user signed in on the laptop neither sees, forgets nor replaces it: each
        // has a draft of their own.
        sign_in_as(&store, U2);
        assert_eq!(store.form_draft().unwrap(), None);
        store.forget_form_draft("new:a").unwrap();
        assert!(store.set_form_draft("new:a", None, "housing").unwrap());
        assert_eq!(store.form_draft().unwrap(), kept("new:a", "housing"));
        sign_in_as(&store, U1);
        assert_eq!(store.form_draft().unwrap(), kept("new:a", "CV, letter"));
        store.forget_form_draft("new:a").unwrap();
        assert_eq!(store.form_draft().unwrap(), None);
        sign_in_as(&store, U2);
        assert_eq!(store.form_draft().unwrap(), kept("new:a", "housing"));
        store.forget_form_draft("new:a").unwrap();
        assert_eq!(meta::get(&store.conn, MetaKey::FormDraft).unwrap(), None);
    }

    #[test]
    fn a_draft_kept_by_the_version_before_per_user_drafts_is_given_back() {
        let (_dir, mut store) = test_store();
        sign_in_as(&store, U1);
        let one = json!({"user": U1, "form": "new:a", "about": null, "text": "CV"});
        meta::set(&store.conn, MetaKey::FormDraft, &one.to_string()).unwrap();
        assert_eq!(store.form_draft().unwrap(), kept("new:a", "CV"));
        // Another user's draft is added beside it.
        sign_in_as(&store, U2);
        assert!(store.set_form_draft("new:b", None, "rent").unwrap());
        sign_in_as(&store, U1);
        assert_eq!(store.form_draft().unwrap(), kept("new:a", "CV"));
    }

    #[test]
    fn saving_the_form_forgets_its_draft_in_the_same_transaction() {
        let (_dir, mut store) = test_store();
        sign_in_as(&store, U1);
        let amina = client(&mut store, "Amina");
        store.set_form_draft("new:a", Some(amina), "rent").unwrap();
        let input = serde_json::from_value(json!({
            "client_id": amina.to_string(), "summary": "rent",
            "occurred_at": "2026-12-07T10:00:00+02:00",
        }))
        .unwrap();
        store
            .create_record_from_draft(Entity::Contact, &input, at(), "new:b")
            .unwrap();
        assert!(store.form_draft().unwrap().is_some(), "another form's");
        store
            .create_record_from_draft(Entity::Contact, &input, at(), "new:a")
            .unwrap();
        assert_eq!(store.form_draft().unwrap(), None);
        // A save the store refuses leaves the draft.
        store.set_form_draft("new:a", Some(amina), "rent").unwrap();
        let invalid = serde_json::from_value(json!({"duration_min": 9000})).unwrap();
        let refused = store.create_record_from_draft(Entity::Contact, &invalid, at(), "new:a");
        assert!(refused.is_err());
        assert!(store.form_draft().unwrap().is_some());
    }

    #[test]
    fn a_draft_about_a_purged_client_is_dropped_and_never_kept_again() {
        let (_dir, mut store) = test_store();
        let named = client(&mut store, "Amina");
        let other = client(&mut store, "Jari");
        store.set_form_draft("new:a", Some(named), "rent").unwrap();
        let purge = |store: &Store, id: RecordId| {
            let purges = [PurgedRecord {
                seq: 1,
                entity: "client".to_owned(),
                record_id: Uuid::parse_str(&id.to_string()).unwrap(),
            }];
            purge_records(&store.conn, &purges).unwrap();
        };

        sign_in_as(&store, U2);
        store
            .set_form_draft("new:b", None, "an anonymous visit")
            .unwrap();
        sign_in_as(&store, U1);
        store.set_form_draft("new:a", Some(named), "rent").unwrap();

        purge(&store, other);
        assert!(
            store.form_draft().unwrap().is_some(),
            "about another client"
        );
        purge(&store, named);
        assert_eq!(store.form_draft().unwrap(), None);
        sign_in_as(&store, U2);
        assert_eq!(
            store.form_draft().unwrap(),
            kept("new:b", "an anonymous visit"),
            "another user's, about no client"
        );
        let row = meta::get(&store.conn, MetaKey::FormDraft).unwrap().unwrap();
        assert!(
            !row.contains(&named.to_string()),
            "the draft typed before signing in"
        );
        sign_in_as(&store, U1);
        // The form still open writes again: not kept.
        assert!(!store.set_form_draft("new:a", Some(named), "rent").unwrap());
        assert_eq!(store.form_draft().unwrap(), None);

        // A draft this version cannot read goes with any purge: it might name the client.
        meta::set(&store.conn, MetaKey::FormDraft, "{not a draft").unwrap();
        purge(&store, other);
        assert_eq!(meta::get(&store.conn, MetaKey::FormDraft).unwrap(), None);
    }
}
