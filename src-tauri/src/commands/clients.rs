//! Commands over clients: search, recent clients, the profile, registering and editing.

use tandem_domain::{Entity, Record};
use tauri::State;

use super::{create_record, edit_fields, record_id};
use crate::dto::{ClientDetail, ClientDraft, ClientSummary, EditResult, RecordEdit, RecordRef};
use crate::error::{CommandError, ErrorKind};
use crate::state::AppState;
use crate::views;

/// Clients whose names, nickname or phone match what was typed.
#[tauri::command]
pub async fn search_clients(
    state: State<'_, AppState>,
    query: String,
) -> Result<Vec<ClientSummary>, CommandError> {
    let found = state.with_store(|store| store.search_clients(&query))?;
    Ok(found.iter().map(views::client_summary).collect())
}

/// The clients coached most recently.
#[tauri::command]
pub async fn recent_clients(
    state: State<'_, AppState>,
) -> Result<Vec<ClientSummary>, CommandError> {
    state.with_store(|store| views::recent_clients(store, views::RECENT_CLIENTS))
}

/// One client with its contacts, open follow-ups and deleted contacts. A duplicate merged into
/// another client opens as that client (the answer's id says which).
#[tauri::command]
pub async fn get_client(
    state: State<'_, AppState>,
    id: String,
) -> Result<ClientDetail, CommandError> {
    let id = record_id("id", &id)?;
    let detail = state.with_store(|store| {
        let Some(client) = store.surviving_client(id)? else {
            return Ok(None);
        };
        let contacts = store.all_contacts_of_client(client.id())?;
        let (deleted, live): (Vec<&Record>, Vec<&Record>) =
            contacts.iter().partition(|contact| contact.is_deleted());
        let me = store.author()?;
        let deleted = deleted
            .into_iter()
            .map(|contact| views::deleted_contact(store, contact, &me))
            .collect::<Result<_, _>>()?;
        Ok(Some(views::client_detail(&client, &live, deleted)))
    })?;
    detail.ok_or_else(|| CommandError::new(ErrorKind::NotFound, format!("no client {id}")))
}

/// Registers a client.
#[tauri::command]
pub async fn create_client(
    state: State<'_, AppState>,
    draft: ClientDraft,
) -> Result<RecordRef, CommandError> {
    create_record(&state, Entity::Client, &draft.fields, draft.form.as_deref())
}

/// Changes fields of a client.
#[tauri::command]
pub async fn edit_client(
    state: State<'_, AppState>,
    edit: RecordEdit,
) -> Result<EditResult, CommandError> {
    let id = record_id("id", &edit.id)?;
    edit_fields(&state, Entity::Client, id, &edit.fields, edit.form_save())
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use tauri::Manager;
    use tauri::async_runtime::block_on;

    use super::*;
    use crate::commands::drafts::{form_draft, set_form_draft};
    use crate::commands::tests::unlocked_app;

    #[test]
    fn registering_a_client_forgets_the_registration_draft_with_the_save_and_a_refused_one_keeps_it()
     {
        let (app, _data) = unlocked_app();
        let state = || app.state::<AppState>();
        let kept = || {
            block_on(form_draft(state()))
                .unwrap()
                .map(|draft| draft.form)
        };
        let draft = |fields| ClientDraft {
            fields: serde_json::from_value(fields).unwrap(),
            form: Some("new-client".into()),
        };
        let keep = set_form_draft(state(), "new-client".into(), None, Some("Olga".into()));
        assert!(block_on(keep).unwrap());

        // Refused (a phone number too short): nothing saved, the draft stays.
        let refused = block_on(create_client(
            state(),
            draft(json!({"given_name": "Olga", "phone": "040 12"})),
        ));
        assert_eq!(refused.unwrap_err().kind, ErrorKind::Validation);
        assert_eq!(kept().as_deref(), Some("new-client"));

        let id = block_on(create_client(state(), draft(json!({"given_name": "Olga"}))))
            .unwrap()
            .id;
        assert_eq!(
            kept(),
            None,
            "saved: the draft goes in the same transaction"
        );
        let saved = block_on(get_client(state(), id)).unwrap();
        assert_eq!(saved.fields["given_name"], json!("Olga"));
    }

    #[test]
    fn an_edit_over_a_field_changed_since_the_form_opened_is_refused_naming_it() {
        let (app, _data) = unlocked_app();
        let state = || app.state::<AppState>();
        let new = ClientDraft {
            fields: serde_json::from_value(json!({"given_name": "Olga", "notes": "Rent."}))
                .unwrap(),
            form: None,
        };
        let id = block_on(create_client(state(), new)).unwrap().id;
        let edit = |fields, before| RecordEdit {
            id: id.clone(),
            fields: serde_json::from_value(fields).unwrap(),
            before: Some(serde_json::from_value(before).unwrap()),
            form: None,
        };
        // The form showed other notes than the store holds now.
        let refused = block_on(edit_client(
            state(),
            edit(json!({"notes": "Work."}), json!({"notes": "Rent?"})),
        ))
        .unwrap_err();
        assert_eq!(refused.kind, ErrorKind::ChangedMeanwhile);
        assert_eq!(refused.field.as_deref(), Some("notes"));
        assert_eq!(
            block_on(get_client(state(), id.clone())).unwrap().fields["notes"],
            json!("Rent.")
        );
        let saved = block_on(edit_client(
            state(),
            edit(json!({"notes": "Work."}), json!({"notes": "Rent."})),
        ))
        .unwrap();
        assert_eq!(saved.changed_fields, ["notes"]);
    }
}
