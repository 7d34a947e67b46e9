//! Commands over contacts: logging one (for a client or an anonymous visitor), correcting
//! and deleting one, the coach's contacts of the last days, the follow-ups due, and marking a
//! follow-up done.

use std::collections::BTreeMap;

use chrono::Local;
use serde_json::{Value as Json, json};
use tandem_domain::{Entity, Record, RecordId};
use tandem_store::{EditContext, FormSave, Store, StoreError};
use tauri::State;

use super::{create_record, edit_fields, local_now_rfc3339, now, record_id, start_of_days, today};
use crate::dto::{
    ContactDetail, ContactDraft, EditResult, FieldValues, FollowUpsDue, LoggedContacts, RecordEdit,
    RecordRef, SitesView, UserNamesView,
};
use crate::error::CommandError;
use crate::state::AppState;
use crate::views;

/// The fields of a new contact: what was entered, the client (none for an anonymous
/// visitor), and the defaults of a drop-in desk (now, `drop_in`).
fn contact_fields(draft: ContactDraft, at: String) -> Result<FieldValues, CommandError> {
    let mut fields = draft.fields;
    fields.remove("client_id");
    if let Some(client) = draft.client_id {
        let client = record_id("client_id", &client)?;
        fields.insert("client_id".to_owned(), json!(client.to_string()));
    }
    fields
        .entry("occurred_at".to_owned())
        .or_insert(Json::String(at));
    fields
        .entry("channel".to_owned())
        .or_insert_with(|| json!("drop_in"));
    Ok(fields)
}

/// Logs a contact.
#[tauri::command]
pub async fn create_contact(
    state: State<'_, AppState>,
    draft: ContactDraft,
) -> Result<RecordRef, CommandError> {
    let form = draft.form.clone();
    let fields = contact_fields(draft, local_now_rfc3339())?;
    create_record(&state, Entity::Contact, &fields, form.as_deref())
}

/// A contact of this store that is not deleted; any other is not found. A deleted contact is
/// gone from every list, so it is not there to open or correct either (a save checks the
/// same in its own transaction: `FormSave::deleted`).
fn live_contact(store: &Store, id: RecordId) -> Result<Record, StoreError> {
    store
        .record(Entity::Contact, id)?
        .filter(|contact| !contact.is_deleted())
        .ok_or(StoreError::RecordNotFound {
            entity: Entity::Contact,
            id,
        })
}

/// One contact with its client, for the form that corrects it.
#[tauri::command]
pub async fn get_contact(
    state: State<'_, AppState>,
    id: String,
) -> Result<ContactDetail, CommandError> {
    let id = record_id("id", &id)?;
    state.with_store(|store| {
        let contact = views::contact_view(&live_contact(store, id)?);
        let client = match contact.client_id.as_deref().map(RecordId::parse) {
            Some(Ok(client)) => store.surviving_client(client)?,
            _ => None,
        };
        Ok(ContactDetail {
            contact,
            client: client.as_ref().map(views::client_summary),
        })
    })
}

/// Corrects fields of a contact (not of a deleted one).
#[tauri::command]
pub async fn edit_contact(
    state: State<'_, AppState>,
    edit: RecordEdit,
) -> Result<EditResult, CommandError> {
    let id = record_id("id", &edit.id)?;
    edit_fields(
        &state,
        Entity::Contact,
        id,
        &edit.fields,
        FormSave {
            deleted: Some(false),
            ..edit.form_save()
        },
    )
}

/// Deletes a contact logged by mistake: it leaves every list and report, and its tombstone
/// syncs like any edit (its values stay in the history). `form`: the correction open on it,
/// whose kept draft is forgotten with the deletion.
#[tauri::command]
pub async fn delete_contact(
    state: State<'_, AppState>,
    id: String,
    form: Option<String>,
) -> Result<(), CommandError> {
    let id = record_id("id", &id)?;
    let deleted = BTreeMap::from([("deleted".to_owned(), json!(true))]);
    edit_fields(
        &state,
        Entity::Contact,
        id,
        &deleted,
        FormSave {
            before: None,
            draft: form.as_deref(),
            deleted: Some(false),
        },
    )?;
    Ok(())
}

/// Brings back a deleted contact: it is in its client's timeline, the lists and reports again.
/// The undeletion syncs like any edit.
#[tauri::command]
pub async fn restore_contact(state: State<'_, AppState>, id: String) -> Result<(), CommandError> {
    let id = record_id("id", &id)?;
    let restored = BTreeMap::from([("deleted".to_owned(), json!(false))]);
    edit_fields(
        &state,
        Entity::Contact,
        id,
        &restored,
        FormSave {
            deleted: Some(true),
            ..FormSave::default()
        },
    )?;
    Ok(())
}

/// Open follow-ups: overdue, today, later this week; only those of the signed-in coach's
/// contacts with `only_mine`, else the whole team's.
#[tauri::command]
pub async fn follow_ups_due(
    state: State<'_, AppState>,
    only_mine: bool,
) -> Result<FollowUpsDue, CommandError> {
    let today = today();
    state.with_store(|store| {
        let coach = match only_mine {
            true => store.sign_in()?.map(|signed_in| signed_in.user_id),
            false => None,
        };
        views::follow_ups_due(store, today, coach)
    })
}

/// The contacts the signed-in coach logged in the last `days` days of this laptop's calendar
/// (1: today; 7, at most: [`views::LOGGED_DAYS_MAX`]; and any dated later, by mistake), newest
/// first, with those the coach deleted, to correct or take back; none before the first
/// sign-in.
#[tauri::command]
pub async fn contacts_logged(
    state: State<'_, AppState>,
    days: u32,
) -> Result<LoggedContacts, CommandError> {
    if !(1..=views::LOGGED_DAYS_MAX).contains(&days) {
        return Err(CommandError::invalid_field(
            "days",
            format!("must be 1 to {}, not {days}", views::LOGGED_DAYS_MAX),
        ));
    }
    let since = start_of_days(today(), days, &Local);
    state.with_store(|store| {
        let Some(signed_in) = store.sign_in()? else {
            return Ok(LoggedContacts::default());
        };
        views::logged_contacts(store, signed_in.user_id, (since, days), &store.author()?)
    })
}

/// The sites a contact can name, and the one the signed-in coach used last.
#[tauri::command]
pub async fn sites(state: State<'_, AppState>) -> Result<SitesView, CommandError> {
    state.with_store(|store| {
        let coach = store.sign_in()?.map(|signed_in| signed_in.user_id);
        views::sites(store, coach)
    })
}

/// The names of the people a contact's coach or a change's author can be.
#[tauri::command]
pub async fn user_names(state: State<'_, AppState>) -> Result<UserNamesView, CommandError> {
    state.with_store(|store| {
        Ok(UserNamesView {
            names: views::user_names(store.known_user_names()?),
        })
    })
}

/// Marks the follow-up of a contact done.
#[tauri::command]
pub async fn complete_follow_up(
    state: State<'_, AppState>,
    contact_id: String,
) -> Result<(), CommandError> {
    let id = record_id("contact_id", &contact_id)?;
    let done = BTreeMap::from([("follow_up_done".to_owned(), json!(true))]);
    state.with_store(|store| {
        store.edit_record(Entity::Contact, id, &done, EditContext::at(now()))
    })?;
    state.sync.local_save();
    Ok(())
}

#[cfg(test)]
mod tests {
    use tauri::Manager;
    use tauri::async_runtime::block_on;

    use super::*;
    use crate::commands::clients::get_client;
    use crate::commands::drafts::{form_draft, set_form_draft};
    use crate::commands::tests::unlocked_app;
    use crate::error::ErrorKind;

    #[test]
    fn the_days_of_contacts_listed_are_one_to_a_week() {
        let (app, _data) = unlocked_app();
        let state = || app.state::<AppState>();
        for days in [0, views::LOGGED_DAYS_MAX + 1] {
            let refused = block_on(contacts_logged(state(), days)).unwrap_err();
            assert_eq!(
                (refused.kind, refused.field.as_deref()),
                (ErrorKind::Validation, Some("days"))
            );
        }
        // Before the first sign-in there is no coach to list the contacts of.
        for days in [1, views::LOGGED_DAYS_MAX] {
            let listed = block_on(contacts_logged(state(), days)).unwrap();
            assert_eq!(listed, LoggedContacts::default());
        }
    }

    #[test]
    fn a_contact_is_corrected_deleted_and_restored_and_a_deleted_one_is_not_edited() {
        let (app, _data) = unlocked_app();
        let state = || app.state::<AppState>();
        let fields = |value: Json| -> FieldValues { serde_json::from_value(value).unwrap() };
        // Keeps `text` as the draft of `form` about the record `about`, as the app does.
        let keep = |form: &str, about: &str, text: &str| {
            let kept = set_form_draft(state(), form.into(), Some(about.into()), Some(text.into()));
            assert!(block_on(kept).unwrap(), "{form} not kept");
        };
        let client = state()
            .with_store(|store| {
                let input = fields(json!({"given_name": "Amina"}));
                store.create_record(Entity::Client, &input, EditContext::at(now()))
            })
            .unwrap()
            .to_string();
        let draft = ContactDraft {
            client_id: Some(client.clone()),
            fields: fields(json!({"summary": "CV", "duration_min": 20})),
            form: None,
        };
        // Typed first, the form's draft is kept; saving the form forgets it.
        let form = format!("new-contact:{client}");
        keep(&form, &client, "CV");
        let kept = block_on(form_draft(state()))
            .unwrap()
            .map(|draft| draft.form);
        assert_eq!(kept.as_ref(), Some(&form));
        let draft = ContactDraft {
            form: Some(form),
            ..draft
        };
        let contact = block_on(create_contact(state(), draft)).unwrap().id;
        assert_eq!(block_on(form_draft(state())).unwrap(), None);

        let opened = block_on(get_contact(state(), contact.clone())).unwrap();
        assert_eq!(opened.contact.summary.as_deref(), Some("CV"));
        assert_eq!(opened.client.map(|c| c.id), Some(client.clone()));
        // A correction typed is kept as a draft too; saving it forgets it.
        let correction = format!("edit-contact:{contact}");
        keep(&correction, &contact, "CV and cover letter");
        let edit = RecordEdit {
            id: contact.clone(),
            fields: fields(json!({"summary": "CV and cover letter", "duration_min": 20})),
            before: None,
            form: Some(correction),
        };
        let edited = block_on(edit_contact(state(), edit)).unwrap();
        assert_eq!(
            edited.changed_fields,
            ["summary"],
            "an unchanged value is not written"
        );
        assert_eq!(block_on(form_draft(state())).unwrap(), None);

        // Deleting it forgets a correction kept of it, with the deletion.
        let correction = format!("edit-contact:{contact}");
        keep(&correction, &contact, "called back");
        block_on(delete_contact(state(), contact.clone(), Some(correction))).unwrap();
        assert_eq!(block_on(form_draft(state())).unwrap(), None);
        let profile = block_on(get_client(state(), client.clone())).unwrap();
        assert!(profile.contacts.is_empty());
        let deleted: Vec<&str> = profile
            .deleted_contacts
            .iter()
            .map(|c| c.contact.id.as_str())
            .collect();
        assert_eq!(deleted, [contact.as_str()]);
        // Who deleted it and when: whoever writes on this laptop (the author of its other
        // values), just now.
        let deletion = &profile.deleted_contacts[0];
        let author = state()
            .with_store(|store| {
                let id = uuid::Uuid::parse_str(&contact).unwrap();
                store.field_history("contact", id, "summary")
            })
            .unwrap()[0]
            .author_id
            .clone();
        assert_eq!(deletion.deleted_by.as_ref(), Some(&author));
        assert!(
            deletion.deleted_by_me,
            "deleted on this laptop, by its author"
        );
        let id = record_id("id", &contact).unwrap();
        let record = state()
            .with_store(|store| store.record(Entity::Contact, id))
            .unwrap()
            .unwrap();
        let by_a_colleague = state()
            .with_store(|store| views::deleted_contact(store, &record, "a-colleague"))
            .unwrap();
        assert!(!by_a_colleague.deleted_by_me, "deleted by someone else");
        let at =
            chrono::DateTime::parse_from_rfc3339(deletion.deleted_at.as_deref().unwrap()).unwrap();
        assert!((now() - at.to_utc()).num_seconds().abs() < 60, "{at}");
        let not_found = |result: Result<(), CommandError>| result.unwrap_err().kind;
        assert_eq!(
            not_found(block_on(get_contact(state(), contact.clone())).map(drop)),
            ErrorKind::NotFound
        );
        let edit = RecordEdit {
            id: contact.clone(),
            fields: fields(json!({"summary": "edited after deletion"})),
            before: None,
            form: None,
        };
        assert_eq!(
            not_found(block_on(edit_contact(state(), edit)).map(drop)),
            ErrorKind::NotFound
        );
        assert_eq!(
            not_found(block_on(delete_contact(state(), contact.clone(), None))),
            ErrorKind::NotFound,
            "deleted once"
        );

        block_on(restore_contact(state(), contact.clone())).unwrap();
        let profile = block_on(get_client(state(), client)).unwrap();
        assert_eq!(profile.contacts.len(), 1);
        assert_eq!(
            profile.contacts[0].summary.as_deref(),
            Some("CV and cover letter")
        );
        assert!(profile.deleted_contacts.is_empty());
        assert_eq!(
            not_found(block_on(restore_contact(state(), contact))),
            ErrorKind::NotFound,
            "nothing to restore"
        );
    }

    #[test]
    fn an_anonymous_visitor_gets_no_client_and_the_drop_in_defaults() {
        let draft = ContactDraft {
            client_id: None,
            fields: BTreeMap::from([("topics".to_owned(), json!(["housing"]))]),
            form: None,
        };
        let fields = contact_fields(draft, "2026-11-26T09:30:00+02:00".to_owned()).unwrap();
        assert_eq!(fields.get("client_id"), None);
        assert_eq!(fields["occurred_at"], json!("2026-11-26T09:30:00+02:00"));
        assert_eq!(fields["channel"], json!("drop_in"));
    }

    #[test]
    fn a_malformed_client_id_is_a_validation_error_of_client_id() {
        let draft = ContactDraft {
            client_id: Some("amina".to_owned()),
            fields: BTreeMap::new(),
            form: None,
        };
        let error = contact_fields(draft, String::new()).unwrap_err();
        assert_eq!(error.field.as_deref(), Some("client_id"));
    }
}
