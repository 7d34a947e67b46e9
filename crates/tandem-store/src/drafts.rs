//! A form's unsaved values (a new contact, a client's edit, a contact's correction), kept while
//! they are typed so that a lock, a closed window, a killed app or a dead battery does not take
//! them: one draft per user of the laptop, all in one `meta` row, encrypted like everything
//! else here. The text is the app's own (JSON); the store knows whose it is (the signed-in
//! user, and the app's name for the form) and which record it is about, so that another user's
//! draft is neither shown, replaced nor forgotten, saving the form forgets it in the same
//! transaction (`Store::create_record_from_draft`, `Store::edit_record_from_form`: never
//! saved twice), a draft about a record this store does not hold is not kept, and a purge of
//! that record (an erasure, a retention purge) drops it: nothing of the client stays behind. A
//! draft not written for [`DRAFT_KEPT_DAYS`] is forgotten (a coach who left the team, a laptop
//! passed on).

use chrono::{DateTime, Duration, Utc};
use rusqlite::{Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use tandem_domain::RecordId;

use crate::meta::{self, MetaKey};
use crate::{Store, StoreError};

/// The longest draft kept: a contact's every field at its longest is far less.
pub const MAX_FORM_DRAFT_BYTES: usize = 256 * 1024;

/// How long a draft is kept after it was last written.
pub const DRAFT_KEPT_DAYS: i64 = 30;

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
    /// When they were last written (none: by the version before drafts expired; dated when
    /// first read or written by this one).
    #[serde(default)]
    kept_at: Option<DateTime<Utc>>,
}

impl Kept {
    fn expired(&self, now: DateTime<Utc>) -> bool {
        self.kept_at
            .is_some_and(|at| now - at > Duration::days(DRAFT_KEPT_DAYS))
    }
}

/// What the `form_draft` row holds: every user's draft (at most one each), or the one draft
/// of the version before drafts were kept per user.
#[derive(Deserialize)]
#[serde(untagged)]
enum Stored {
    PerUser(Vec<serde_json::Value>),
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
    /// The signed-in user's draft, if the store keeps one written in the last
    /// [`DRAFT_KEPT_DAYS`] before `now`. Every user's expired draft is forgotten on the way.
    pub fn form_draft(&mut self, now: DateTime<Utc>) -> Result<Option<FormDraft>, StoreError> {
        let tx = self.conn.write_transaction()?;
        let user = meta::get(&tx, MetaKey::UserId)?;
        let Some(mut drafts) = read(&tx)? else {
            return Ok(None);
        };
        if tidy(&mut drafts, now) {
            write(&tx, &drafts)?;
        }
        tx.commit()?;
        Ok(drafts
            .into_iter()
            .find(|kept| kept.user == user)
            .map(|kept| FormDraft {
                form: kept.form,
                text: kept.text,
            }))
    }

    /// Keeps `text` as the signed-in user's draft of `form`, about the record `about`, written
    /// `now`, in place of that user's other draft; other users' drafts stay, but for those
    /// expired. A draft about a record this store does not hold (erased meanwhile) is not
    /// kept, and the user's draft of that form is forgotten; says whether it was kept.
    pub fn set_form_draft(
        &mut self,
        form: &str,
        about: Option<RecordId>,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        if text.len() > MAX_FORM_DRAFT_BYTES {
            return Err(StoreError::DraftTooLarge {
                bytes: text.len(),
                max: MAX_FORM_DRAFT_BYTES,
            });
        }
        let tx = self.conn.write_transaction()?;
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
            tidy(&mut drafts, now);
            drafts.retain(|kept| kept.user != user);
            drafts.push(Kept {
                user,
                form: form.to_owned(),
                about: about.map(|id| id.to_string()),
                text: text.to_owned(),
                kept_at: Some(now),
            });
            write(&tx, &drafts)?;
        } else {
            forget(&tx, form)?;
        }
        tx.commit()?;
        Ok(held)
    }

    /// Forgets the signed-in user's draft of `form`, if it is the one kept. The drafts are
    /// read and written back in one write transaction: a purge committed between would be
    /// undone (an erased client's draft kept again).
    pub fn forget_form_draft(&mut self, form: &str) -> Result<(), StoreError> {
        let tx = self.conn.write_transaction()?;
        forget(&tx, form)?;
        tx.commit()?;
        Ok(())
    }
}

/// Every user's draft; `None` when the row cannot be read (`forget_drafts_about` removes it,
/// so that it can hold nothing of a purged client either).
fn read(conn: &Connection) -> Result<Option<Vec<Kept>>, StoreError> {
    let Some(text) = meta::get(conn, MetaKey::FormDraft)? else {
        return Ok(Some(Vec::new()));
    };
    Ok(match serde_json::from_str(&text) {
        // A draft this version cannot read is dropped; the others stay.
        Ok(Stored::PerUser(drafts)) => Some(
            drafts
                .into_iter()
                .filter_map(|draft| serde_json::from_value(draft).ok())
                .collect(),
        ),
        Ok(Stored::One(kept)) => Some(vec![kept]),
        Err(_) => None,
    })
}

/// Forgets the drafts expired at `now`, and dates those the version before drafts expired
/// wrote (their time runs from now); says whether anything changed.
fn tidy(drafts: &mut Vec<Kept>, now: DateTime<Utc>) -> bool {
    let before = drafts.len();
    drafts.retain(|kept| !kept.expired(now));
    let mut changed = drafts.len() != before;
    for kept in drafts.iter_mut().filter(|kept| kept.kept_at.is_none()) {
        kept.kept_at = Some(now);
        changed = true;
    }
    changed
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

/// Forgets every draft about one of `removed` (record ids), and every one this version cannot
/// read (it might be about one of them), inside a purge's transaction.
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
            drafts.retain(|kept| {
                kept.about
                    .as_ref()
                    .is_none_or(|about| !removed.clone().any(|id| id == about))
            });
            write(conn, &drafts)
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

    fn from_draft(form: &str) -> crate::FormSave<'_> {
        crate::FormSave {
            draft: Some(form),
            ..Default::default()
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).unwrap()
    }

    fn at() -> EditContext {
        EditContext::at(now())
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
    fn saving_and_reading_a_draft_and_creating_a_record_wait_for_a_write_made_meanwhile() {
        let (_dir, mut store, key) = crate::connection::test_store_and_key();
        sign_in_as(&store, U1);
        let amina = client(&mut store, "Amina");
        store.set_form_draft("new:a", None, "CV", now()).unwrap();
        // A sync on its own connection (the desktop's bridge) notes a failed cycle.
        let mut refused = Vec::new();
        let mut call = |name: &'static str, call: &dyn Fn(&mut Store) -> Result<(), StoreError>| {
            let meanwhile = move |other: &mut Store| other.record_sync_failure(now(), name, false);
            let made = crate::connection::with_a_write_meanwhile(&mut store, &key, meanwhile, call);
            if let Err(error) = made {
                refused.push(format!("{name}: {error}"));
            }
        };
        // Reading forgets an expired draft: it writes too.
        call("form_draft", &|store| {
            store
                .form_draft(now() + Duration::days(DRAFT_KEPT_DAYS + 1))
                .map(drop)
        });
        call("set_form_draft", &|store| {
            store
                .set_form_draft("new:a", Some(amina), "CV", now())
                .map(drop)
        });
        let input = serde_json::from_value(json!({"given_name": "Bo"})).unwrap();
        call("create_record", &|store| {
            store.create_record(Entity::Client, &input, at()).map(drop)
        });
        assert_eq!(refused, Vec::<String>::new());
    }

    #[test]
    fn forgetting_a_draft_while_a_purge_commits_on_another_connection_leaves_the_purge_done() {
        let (_dir, mut store, key) = crate::connection::test_store_and_key();
        sign_in_as(&store, U1);
        let amina = client(&mut store, "Amina");
        store
            .set_form_draft("edit:amina", Some(amina), "rent arrears", now())
            .unwrap();
        sign_in_as(&store, U2);
        store.set_form_draft("new:b", None, "visit", now()).unwrap();
        // A sync on its own connection purges Amina (an erasure) as U2's draft is forgotten.
        let purges = [PurgedRecord {
            seq: 1,
            entity: "client".to_owned(),
            record_id: *amina.as_uuid(),
        }];
        crate::connection::with_a_write_meanwhile(
            &mut store,
            &key,
            move |other| {
                let tx = other.conn.write_transaction()?;
                purge_records(&tx, &purges)?;
                tx.commit()?;
                Ok(())
            },
            |store| store.forget_form_draft("new:b"),
        )
        .unwrap();
        let row = meta::get(&store.conn, MetaKey::FormDraft).unwrap();
        assert_eq!(row, None, "both drafts are gone");
        sign_in_as(&store, U1);
        assert_eq!(store.form_draft(now()).unwrap(), None);
    }

    #[test]
    fn a_draft_is_the_users_who_typed_it_and_a_huge_one_is_refused() {
        let (_dir, mut store) = test_store();
        sign_in_as(&store, U1);
        assert_eq!(store.form_draft(now()).unwrap(), None);
        let amina = client(&mut store, "Amina");
        assert!(
            store
                .set_form_draft("new:a", Some(amina), "CV", now())
                .unwrap()
        );
        assert!(
            store
                .set_form_draft("new:a", None, "CV, letter", now())
                .unwrap()
        );
        assert_eq!(
            store.form_draft(now()).unwrap(),
            kept("new:a", "CV, letter")
        );
        let huge = "x".repeat(MAX_FORM_DRAFT_BYTES + 1);
        assert!(matches!(
            store.set_form_draft("new:a", None, &huge, now()),
            Err(StoreError::DraftTooLarge { .. })
        ));
        store.forget_form_draft("new:b").unwrap();
        assert!(store.form_draft(now()).unwrap().is_some(), "another form's");

        // Another user signed in on the laptop neither sees, forgets nor replaces it: each
        // has a draft of their own.
        sign_in_as(&store, U2);
        assert_eq!(store.form_draft(now()).unwrap(), None);
        store.forget_form_draft("new:a").unwrap();
        assert!(
            store
                .set_form_draft("new:a", None, "housing", now())
                .unwrap()
        );
        assert_eq!(store.form_draft(now()).unwrap(), kept("new:a", "housing"));
        sign_in_as(&store, U1);
        assert_eq!(
            store.form_draft(now()).unwrap(),
            kept("new:a", "CV, letter")
        );
        store.forget_form_draft("new:a").unwrap();
        assert_eq!(store.form_draft(now()).unwrap(), None);
        sign_in_as(&store, U2);
        assert_eq!(store.form_draft(now()).unwrap(), kept("new:a", "housing"));
        store.forget_form_draft("new:a").unwrap();
        assert_eq!(meta::get(&store.conn, MetaKey::FormDraft).unwrap(), None);
    }

    #[test]
    fn a_draft_not_given_back_within_its_days_is_forgotten() {
        let (_dir, mut store) = test_store();
        sign_in_as(&store, U1);
        store.set_form_draft("new:a", None, "CV", now()).unwrap();
        let days = |n: i64| now() + Duration::days(n);
        assert_eq!(
            store.form_draft(days(DRAFT_KEPT_DAYS)).unwrap(),
            kept("new:a", "CV")
        );
        assert_eq!(store.form_draft(days(DRAFT_KEPT_DAYS + 1)).unwrap(), None);
        // Another user's write drops it from the store.
        sign_in_as(&store, U2);
        store
            .set_form_draft("new:b", None, "rent", days(DRAFT_KEPT_DAYS + 1))
            .unwrap();
        let row = meta::get(&store.conn, MetaKey::FormDraft).unwrap().unwrap();
        assert!(!row.contains("\"CV\""), "{row}");
        // Reading it drops an expired draft from the store too.
        sign_in_as(&store, U1);
        store.set_form_draft("new:a", None, "CV", now()).unwrap();
        sign_in_as(&store, U2);
        assert_eq!(
            store.form_draft(days(DRAFT_KEPT_DAYS + 1)).unwrap(),
            kept("new:b", "rent")
        );
        let row = meta::get(&store.conn, MetaKey::FormDraft).unwrap().unwrap();
        assert!(!row.contains("\"CV\""), "{row}");
        // One written by the version before drafts expired is dated when first read.
        let old = json!([{"user": U1, "form": "new:a", "about": null, "text": "CV"}]);
        meta::set(&store.conn, MetaKey::FormDraft, &old.to_string()).unwrap();
        sign_in_as(&store, U1);
        assert!(store.form_draft(days(400)).unwrap().is_some());
        assert!(
            store
                .form_draft(days(400 + DRAFT_KEPT_DAYS))
                .unwrap()
                .is_some()
        );
        assert!(
            store
                .form_draft(days(401 + DRAFT_KEPT_DAYS))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn a_draft_this_version_cannot_read_takes_no_other_users_draft_with_it() {
        let (_dir, mut store) = test_store();
        sign_in_as(&store, U1);
        let row = json!([
            {"user": U1, "form": "new:a", "about": null, "text": "CV"},
            {"user": U2, "form": 7},
        ]);
        meta::set(&store.conn, MetaKey::FormDraft, &row.to_string()).unwrap();
        assert_eq!(store.form_draft(now()).unwrap(), kept("new:a", "CV"));
        sign_in_as(&store, U2);
        assert_eq!(store.form_draft(now()).unwrap(), None);
        assert!(store.set_form_draft("new:b", None, "rent", now()).unwrap());
        sign_in_as(&store, U1);
        assert_eq!(store.form_draft(now()).unwrap(), kept("new:a", "CV"));
    }

    #[test]
    fn a_draft_kept_by_the_version_before_per_user_drafts_is_given_back() {
        let (_dir, mut store) = test_store();
        sign_in_as(&store, U1);
        let one = json!({"user": U1, "form": "new:a", "about": null, "text": "CV"});
        meta::set(&store.conn, MetaKey::FormDraft, &one.to_string()).unwrap();
        assert_eq!(store.form_draft(now()).unwrap(), kept("new:a", "CV"));
        // Another user's draft is added beside it.
        sign_in_as(&store, U2);
        assert!(store.set_form_draft("new:b", None, "rent", now()).unwrap());
        sign_in_as(&store, U1);
        assert_eq!(store.form_draft(now()).unwrap(), kept("new:a", "CV"));
    }

    #[test]
    fn saving_the_form_forgets_its_draft_in_the_same_transaction() {
        let (_dir, mut store) = test_store();
        sign_in_as(&store, U1);
        let amina = client(&mut store, "Amina");
        store
            .set_form_draft("new:a", Some(amina), "rent", now())
            .unwrap();
        let input = serde_json::from_value(json!({
            "client_id": amina.to_string(), "summary": "rent",
            "occurred_at": "2026-12-07T10:00:00+02:00",
        }))
        .unwrap();
        store
            .create_record_from_draft(Entity::Contact, &input, at(), "new:b")
            .unwrap();
        assert!(store.form_draft(now()).unwrap().is_some(), "another form's");
        store
            .create_record_from_draft(Entity::Contact, &input, at(), "new:a")
            .unwrap();
        assert_eq!(store.form_draft(now()).unwrap(), None);
        // A save the store refuses leaves the draft.
        store
            .set_form_draft("new:a", Some(amina), "rent", now())
            .unwrap();
        let invalid = serde_json::from_value(json!({"duration_min": 9000})).unwrap();
        let refused = store.create_record_from_draft(Entity::Contact, &invalid, at(), "new:a");
        assert!(refused.is_err());
        assert!(store.form_draft(now()).unwrap().is_some());

        // An edit's draft goes with the edit, even one that finds nothing left to change.
        for phone in ["040 123 4567", "040 123 4567"] {
            store
                .set_form_draft("edit:a", Some(amina), "phone", now())
                .unwrap();
            let input = serde_json::from_value(json!({"phone": phone})).unwrap();
            store
                .edit_record_from_form(Entity::Client, amina, &input, at(), from_draft("edit:a"))
                .unwrap();
            assert_eq!(store.form_draft(now()).unwrap(), None);
        }
        store
            .set_form_draft("edit:a", Some(amina), "phone", now())
            .unwrap();
        let invalid = serde_json::from_value(json!({"phone": "040 12"})).unwrap();
        let refused = store.edit_record_from_form(
            Entity::Client,
            amina,
            &invalid,
            at(),
            from_draft("edit:a"),
        );
        assert!(refused.is_err());
        assert!(
            store.form_draft(now()).unwrap().is_some(),
            "an edit refused"
        );
    }

    #[test]
    fn a_draft_about_a_purged_client_is_dropped_and_never_kept_again() {
        let (_dir, mut store) = test_store();
        let named = client(&mut store, "Amina");
        let other = client(&mut store, "Jari");
        store
            .set_form_draft("new:a", Some(named), "rent", now())
            .unwrap();
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
            .set_form_draft("new:b", None, "an anonymous visit", now())
            .unwrap();
        sign_in_as(&store, U1);
        store
            .set_form_draft("new:a", Some(named), "rent", now())
            .unwrap();

        purge(&store, other);
        assert!(
            store.form_draft(now()).unwrap().is_some(),
            "about another client"
        );
        purge(&store, named);
        assert_eq!(store.form_draft(now()).unwrap(), None);
        sign_in_as(&store, U2);
        assert_eq!(
            store.form_draft(now()).unwrap(),
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
        assert!(
            !store
                .set_form_draft("new:a", Some(named), "rent", now())
                .unwrap()
        );
        assert_eq!(store.form_draft(now()).unwrap(), None);

        // A draft this version cannot read goes with any purge: it might name the client.
        meta::set(&store.conn, MetaKey::FormDraft, "{not a draft").unwrap();
        purge(&store, other);
        assert_eq!(meta::get(&store.conn, MetaKey::FormDraft).unwrap(), None);
        let row = json!([{"user": U1, "form": 7, "about": named.to_string()}]);
        meta::set(&store.conn, MetaKey::FormDraft, &row.to_string()).unwrap();
        purge(&store, other);
        assert_eq!(meta::get(&store.conn, MetaKey::FormDraft).unwrap(), None);
    }
}
