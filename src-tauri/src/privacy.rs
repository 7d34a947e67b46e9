//! A team lead's privacy requests in the app (docs/security.md): erasing a client, its
//! subject-access export, the audit log; and saving a file where the user chose in a save
//! dialog (the export, the Reports screen's CSV). The requests need the server: offline they
//! are refused with "needs a connection" and nothing changes.
//!
//! The save dialog is opened here, in Rust, not by the UI: the UI never names a path, so no
//! script in the web view can make the app write a file anywhere the user did not pick.

use std::io::Write;
use std::path::{Path, PathBuf};

use tandem_protocol::{AuditList, AuditQuery};
use tandem_sync::privacy::ExportFormat;
use tauri::{AppHandle, Runtime};
use tauri_plugin_dialog::DialogExt;

use crate::dto::{AuditEntryView, AuditPageView, AuditRequest, ErasureView, ExportFormatInput};
use crate::error::{CommandError, ErrorKind};
use crate::state::AppState;
use crate::sync_bridge::{client_uuid, online_only, run_fresh_cycle, signed_in_connection};

/// Entries per page of the audit viewer.
pub const AUDIT_PAGE_SIZE: u32 = 100;

fn ensure_unlocked(state: &AppState) -> Result<(), CommandError> {
    if state.is_unlocked() {
        Ok(())
    } else {
        Err(CommandError::new(ErrorKind::Locked, "unlock first"))
    }
}

/// Erases a client on the server (team leads of its team, admins), then syncs, so that this
/// laptop removes it at once; every other laptop does at its next sync.
pub async fn erase_client(state: &AppState, client_id: &str) -> Result<ErasureView, CommandError> {
    let client = client_uuid("client_id", client_id)?;
    ensure_unlocked(state)?;
    let (_, transport) = signed_in_connection(state)?;
    let erased = transport.erase_client(client).await.map_err(online_only)?;
    // Erased on the server whatever the sync after it does; a failed sync leaves the purge to
    // the next cycle. A cycle that started after the erasure and succeeded pulled its purges
    // (or found them pulled by a cycle that ran meanwhile): none of the records is here now.
    let records = erased.records.len() as u64;
    let synced = run_fresh_cycle(state).await.is_ok();
    Ok(ErasureView {
        records,
        purged_here: if synced { records } else { 0 },
    })
}

/// A client's subject-access export as the server sends it, and the file name to offer: the
/// client's id, not its name, which would stay in the file system's lists of recent files.
pub async fn client_export(
    state: &AppState,
    client_id: &str,
    format: ExportFormatInput,
) -> Result<(Vec<u8>, String), CommandError> {
    let client = client_uuid("client_id", client_id)?;
    ensure_unlocked(state)?;
    let (_, transport) = signed_in_connection(state)?;
    let (format, extension) = match format {
        ExportFormatInput::Json => (ExportFormat::Json, "json"),
        ExportFormatInput::Csv => (ExportFormat::Csv, "csv"),
    };
    let bytes = tandem_sync::privacy::export_client(&transport, client, format)
        .await
        .map_err(online_only)?;
    Ok((bytes, format!("client-{client}.{extension}")))
}

/// A page of the audit log (team leads: their team's; admins: all), oldest first.
pub async fn audit_page(
    state: &AppState,
    request: &AuditRequest,
) -> Result<AuditPageView, CommandError> {
    let record_id = match request.record_id.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(client_uuid("record_id", text)?),
    };
    ensure_unlocked(state)?;
    let (_, transport) = signed_in_connection(state)?;
    let list = transport
        .audit(&AuditQuery {
            after: request.after,
            limit: AUDIT_PAGE_SIZE,
            record_id,
        })
        .await
        .map_err(online_only)?;
    Ok(audit_page_view(list))
}

fn audit_page_view(list: AuditList) -> AuditPageView {
    AuditPageView {
        entries: list
            .entries
            .into_iter()
            .map(|entry| AuditEntryView {
                seq: entry.seq,
                at: entry.at.to_rfc3339(),
                actor: entry.actor,
                action: entry.action,
                entity: entry.entity,
                record_id: entry.record_id.map(|id| id.to_string()),
                detail: entry.detail,
            })
            .collect(),
        next: list.next,
        has_more: list.has_more,
    }
}

/// Asks where to save `bytes` (offering `file_name`) and writes them there. `None` when the
/// user cancelled the dialog; otherwise the path written.
pub async fn save_with_dialog<R: Runtime>(
    app: &AppHandle<R>,
    file_name: &str,
    bytes: &[u8],
) -> Result<Option<String>, CommandError> {
    let (sender, receiver) = tokio::sync::oneshot::channel();
    let mut dialog = app.dialog().file().set_file_name(file_name);
    if let Some((_, extension)) = file_name.rsplit_once('.') {
        dialog = dialog.add_filter(extension.to_uppercase(), &[extension]);
    }
    dialog.save_file(move |path| {
        let _ = sender.send(path);
    });
    let Some(chosen) = receiver.await.ok().flatten() else {
        return Ok(None);
    };
    let path = chosen.into_path().map_err(|error| {
        CommandError::new(
            ErrorKind::FileNotSaved,
            format!("the chosen place is not a file path: {error}"),
        )
    })?;
    write_file(&path, bytes)?;
    Ok(Some(path.display().to_string()))
}

/// Writes `bytes` to `path` so that the file is either complete or as it was: a temporary
/// file beside it, flushed to disk, then renamed over it. The data is personal, so the file
/// is readable by its owner only (on Unix).
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), CommandError> {
    let failed = |error: std::io::Error| {
        CommandError::new(
            ErrorKind::FileNotSaved,
            format!("cannot save {}: {error}", path.display()),
        )
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    // tempfile creates the file with mode 0600 on Unix.
    let mut file = tempfile::NamedTempFile::new_in(&dir).map_err(failed)?;
    file.write_all(bytes).map_err(failed)?;
    file.as_file().sync_all().map_err(failed)?;
    file.persist(path).map_err(|error| failed(error.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::UserSettings;
    use serde_json::json;
    use tandem_domain::{Entity, RecordId};
    use tandem_store::{EditContext, SignIn, Store};
    use tandem_sync::{Provisioning, SystemClock};

    fn files_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_saved_file_holds_the_bytes_replaces_an_older_one_and_only_its_owner_reads_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("client-1.csv");
        std::fs::write(&path, "an older, longer export that must not survive").unwrap();
        write_file(&path, "section,entity\r\ncurrent,client\r\n".as_bytes()).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "section,entity\r\ncurrent,client\r\n"
        );
        assert_eq!(
            files_in(dir.path()),
            ["client-1.csv"],
            "no temporary file left"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_file_that_cannot_be_written_is_named_in_the_error_and_nothing_else_changes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gone").join("export.json");
        let error = write_file(&path, b"{}").unwrap_err();
        assert_eq!(error.kind, ErrorKind::FileNotSaved);
        assert!(error.message.contains("export.json"), "{}", error.message);
        assert!(files_in(dir.path()).is_empty());
        // A directory in the way is not replaced.
        let taken = dir.path().join("taken.csv");
        std::fs::create_dir(&taken).unwrap();
        std::fs::write(taken.join("inside"), "kept").unwrap();
        let error = write_file(&taken, b"x").unwrap_err();
        assert_eq!(error.kind, ErrorKind::FileNotSaved);
        assert_eq!(
            std::fs::read_to_string(taken.join("inside")).unwrap(),
            "kept"
        );
        assert_eq!(
            files_in(dir.path()),
            ["taken.csv"],
            "no temporary file left"
        );
    }

    #[test]
    fn audit_entries_reach_the_ui_with_ids_as_text_and_the_cursor_of_the_next_page() {
        let record = uuid::Uuid::from_u128(7);
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-27T10:00:00Z")
            .unwrap()
            .to_utc();
        let list = AuditList {
            entries: vec![tandem_protocol::AuditEntry {
                seq: 41,
                at,
                actor: "operator".to_owned(),
                action: "erase".to_owned(),
                team_id: None,
                entity: Some("client".to_owned()),
                record_id: Some(record),
                detail: "records=1".to_owned(),
                hash: "ab".to_owned(),
            }],
            next: 41,
            has_more: true,
        };
        let view = audit_page_view(list);
        assert_eq!(
            serde_json::to_value(&view).unwrap(),
            json!({
                "entries": [{
                    "seq": 41, "at": "2026-11-27T10:00:00+00:00", "actor": "operator",
                    "action": "erase", "entity": "client", "record_id": record.to_string(),
                    "detail": "records=1",
                }],
                "next": 41,
                "has_more": true,
            })
        );
    }

    /// An unlocked app signed in as a team lead to a server that does not answer, with one
    /// client in its store.
    fn offline_team_lead() -> (tempfile::TempDir, AppState, String) {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().join("data");
        let mut store = Store::open(&data_dir).unwrap();
        store
            .record_sign_in(&SignIn {
                server_url: "http://127.0.0.1:9".to_owned(),
                user_id: uuid::Uuid::now_v7(),
                username: "lead".to_owned(),
                role: "team_lead".to_owned(),
                team_id: uuid::Uuid::now_v7(),
                team_name: "demo".to_owned(),
                device_id: uuid::Uuid::now_v7(),
                device_name: "laptop".to_owned(),
                password_verifier: String::new(),
            })
            .unwrap();
        let fields = std::collections::BTreeMap::from([("given_name".to_owned(), json!("Amina"))]);
        let id = store
            .create_record(
                Entity::Client,
                &fields,
                EditContext::at(
                    chrono::DateTime::parse_from_rfc3339("2026-11-27T10:00:00Z")
                        .unwrap()
                        .to_utc(),
                ),
            )
            .unwrap();
        drop(store);
        let state = AppState::new(
            data_dir,
            Ok(Provisioning::default()),
            UserSettings::default(),
        );
        state.set_unlocked(true);
        (dir, state, id.to_string())
    }

    #[tokio::test]
    async fn offline_an_erasure_or_export_says_it_needs_a_connection_and_nothing_is_lost() {
        let (_dir, state, id) = offline_team_lead();
        let error = erase_client(&state, &id).await.unwrap_err();
        assert_eq!(error.kind, ErrorKind::NeedsConnection, "{error:?}");
        let error = client_export(&state, &id, ExportFormatInput::Csv)
            .await
            .unwrap_err();
        assert_eq!(error.kind, ErrorKind::NeedsConnection, "{error:?}");
        let error = audit_page(
            &state,
            &AuditRequest {
                after: 0,
                record_id: None,
            },
        )
        .await
        .unwrap_err();
        assert_eq!(error.kind, ErrorKind::NeedsConnection, "{error:?}");
        let kept = state
            .with_store(|store| {
                store.record(Entity::Client, tandem_domain::RecordId::parse(&id).unwrap())
            })
            .unwrap()
            .unwrap();
        assert_eq!(kept.get("given_name").to_json(), json!("Amina"));
        assert_eq!(state.with_store(|store| store.pending_count()).unwrap(), 1);
    }

    #[tokio::test]
    async fn a_malformed_client_or_record_id_is_a_validation_error_of_its_field() {
        let dir = tempfile::tempdir().unwrap();
        let state = AppState::new(
            dir.path().join("data"),
            Ok(Provisioning::default()),
            UserSettings::default(),
        );
        let error = erase_client(&state, "not-a-uuid").await.unwrap_err();
        assert_eq!(error.field.as_deref(), Some("client_id"));
        let request = AuditRequest {
            after: 0,
            record_id: Some("1234".to_owned()),
        };
        let error = audit_page(&state, &request).await.unwrap_err();
        assert_eq!(error.field.as_deref(), Some("record_id"));
        // A locked app refuses before anything else.
        let request = AuditRequest {
            after: 0,
            record_id: Some("  ".to_owned()),
        };
        let error = audit_page(&state, &request).await.unwrap_err();
        assert_eq!(error.kind, ErrorKind::Locked);
    }

    const NAME: &str = "Qwyxzabel";

    async fn audit_actions(state: &AppState, client: &str) -> Vec<String> {
        let request = AuditRequest {
            after: 0,
            record_id: Some(client.to_owned()),
        };
        let page = audit_page(state, &request).await.unwrap();
        assert!(!page.has_more);
        for entry in &page.entries {
            assert_eq!(entry.record_id.as_deref(), Some(client));
            assert!(!entry.detail.contains(NAME), "{entry:?}");
        }
        page.entries.into_iter().map(|entry| entry.action).collect()
    }

    /// A team lead signed in on a laptop whose background sync runs, and a client of theirs
    /// that reached the server. The temporary directory holds the data directory.
    async fn lead_with_synced_client() -> (AppState, tempfile::TempDir, RecordId) {
        let base = crate::test_server(&[("lead", tandem_protocol::Role::TeamLead)]).await;
        let dir = tempfile::tempdir().unwrap();
        let state = AppState::new(
            dir.path().join("data"),
            Ok(Provisioning::default()),
            UserSettings::default(),
        );
        let input = crate::dto::SignInInput {
            server_url: base,
            username: "lead".to_owned(),
            password: crate::TEST_PASSWORD.to_owned(),
        };
        crate::sync_bridge::sign_in_online(&state, &input)
            .await
            .unwrap();
        state.set_unlocked(true);
        // As the app does at start: the erasure's sync runs in the app's schedule.
        state.sync.start_schedule();
        let fields = std::collections::BTreeMap::from([("given_name".to_owned(), json!(NAME))]);
        let id = state
            .with_store(|store| {
                store.create_record(
                    Entity::Client,
                    &fields,
                    EditContext::at(tandem_sync::Clock::now(&SystemClock)),
                )
            })
            .unwrap();
        {
            let (mut store, transport) = signed_in_connection(&state).unwrap();
            let mut progress = tandem_sync::NoProgress;
            tandem_sync::sync_once(&mut store, &transport, &SystemClock, &mut progress)
                .await
                .unwrap();
        }
        (state, dir, id)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_erasure_during_a_sync_waits_for_it_and_then_purges_the_client_here() {
        let (state, _dir, id) = lead_with_synced_client().await;
        // The sync starts first (its cycle is marked running before its first await) and may
        // have pulled before the server erased; the erasure's own cycle starts when it has
        // ended. Either of them purges the client here, and it is gone when the erasure returns.
        let client = id.to_string();
        let (status, erased) = tokio::join!(
            crate::sync_bridge::sync_now(&state),
            erase_client(&state, &client)
        );
        status.unwrap();
        assert_eq!(
            erased.unwrap(),
            ErasureView {
                records: 1,
                purged_here: 1
            }
        );
        let left = state
            .with_store(|store| store.record(Entity::Client, id))
            .unwrap();
        assert!(
            left.is_none(),
            "the client is still on the laptop after its erasure"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_team_lead_exports_reads_the_audit_log_and_erases_a_client_in_the_app() {
        let (state, dir, id) = lead_with_synced_client().await;
        let client = id.to_string();

        let (csv, file_name) = client_export(&state, &client, ExportFormatInput::Csv)
            .await
            .unwrap();
        assert_eq!(file_name, format!("client-{client}.csv"));
        let saved = dir.path().join(&file_name);
        write_file(&saved, &csv).unwrap();
        let text = std::fs::read_to_string(&saved).unwrap();
        assert!(
            text.contains(&format!("current,client,{client},given_name,{NAME},")),
            "{text}"
        );
        let (json_export, file_name) = client_export(&state, &client, ExportFormatInput::Json)
            .await
            .unwrap();
        assert_eq!(file_name, format!("client-{client}.json"));
        let export: tandem_protocol::ClientExport = serde_json::from_slice(&json_export).unwrap();
        assert_eq!(export.client["given_name"], json!(NAME));
        assert_eq!(
            audit_actions(&state, &client).await,
            ["change", "export", "export"]
        );

        let erased = erase_client(&state, &client).await.unwrap();
        assert_eq!(
            erased,
            ErasureView {
                records: 1,
                purged_here: 1
            }
        );
        let left = state
            .with_store(|store| store.record(Entity::Client, id))
            .unwrap();
        assert!(left.is_none(), "this laptop's copy is purged at once");
        assert_eq!(
            audit_actions(&state, &client).await,
            ["change", "export", "export", "erase"]
        );
        let error = client_export(&state, &client, ExportFormatInput::Json)
            .await
            .unwrap_err();
        assert_eq!(error.kind, ErrorKind::NotOnServer, "{error:?}");
    }
}
