//! Opening stores: encryption at rest, one key per data directory, and the refusals.

use tandem_store::{SCHEMA_VERSION, Store, StoreError, StoreKey, delete_key, key};

use crate::{DataDir, open};

#[test]
fn a_new_store_file_is_encrypted_and_does_not_begin_with_the_sqlite_header() {
    let dir = DataDir::new();
    let store = open(&dir.path);
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    drop(store);
    let bytes = std::fs::read(dir.store_file()).unwrap();
    assert!(
        bytes.len() >= 4096,
        "the store file has {} bytes",
        bytes.len()
    );
    assert!(
        !bytes.starts_with(b"SQLite format 3"),
        "the store file is plaintext SQLite"
    );
}

#[test]
fn a_store_opens_again_from_the_same_data_directory_with_its_data() {
    let dir = DataDir::new();
    let first_key = {
        let _store = open(&dir.path);
        dir.key().expect("a key was stored on first open")
    };
    let store = open(&dir.path);
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(dir.key().unwrap(), first_key, "the key did not change");
}

#[cfg(unix)]
#[test]
fn the_data_directory_and_the_store_file_are_private_to_their_owner() {
    use std::os::unix::fs::PermissionsExt;
    let dir = DataDir::new();
    let _store = open(&dir.path);
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir.path), 0o700);
    assert_eq!(mode(&dir.store_file()), 0o600);
}

#[test]
fn opening_a_store_with_a_wrong_key_is_refused_as_wrong_key() {
    let dir = DataDir::new();
    drop(open(&dir.path));
    let error = Store::open_with_key(&dir.store_file(), &StoreKey::generate()).unwrap_err();
    assert!(matches!(error, StoreError::WrongKey { .. }), "{error:?}");
    assert!(error.to_string().contains("cannot be decrypted"), "{error}");
    // The refused attempt changed nothing: the right key still opens it.
    let store = open(&dir.path);
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
}

#[test]
fn two_data_directories_get_two_different_keys_in_the_keyring() {
    let (one, two) = (DataDir::new(), DataDir::new());
    drop(open(&one.path));
    drop(open(&two.path));
    let (key_one, key_two) = (one.key().unwrap(), two.key().unwrap());
    assert_ne!(key_one, key_two);
    assert_ne!(
        key::keyring_user(&one.path).unwrap(),
        key::keyring_user(&two.path).unwrap()
    );
    // Each key opens its own store only.
    assert!(Store::open_with_key(&one.store_file(), &key_one).is_ok());
    let crossed = Store::open_with_key(&two.store_file(), &key_one).unwrap_err();
    assert!(
        matches!(crossed, StoreError::WrongKey { .. }),
        "{crossed:?}"
    );
}

#[test]
fn a_store_whose_keyring_entry_was_deleted_is_refused_and_no_new_key_is_made() {
    let dir = DataDir::new();
    drop(open(&dir.path));
    delete_key(&dir.path).unwrap();
    let error = Store::open(&dir.path).unwrap_err();
    assert!(matches!(error, StoreError::KeyMissing { .. }), "{error:?}");
    assert!(
        error.to_string().contains("will not make a new key"),
        "{error}"
    );
    assert!(dir.key().is_none(), "a new key was stored after all");
}

#[test]
fn a_key_whose_store_file_is_gone_is_reused_for_the_new_store() {
    let dir = DataDir::new();
    drop(open(&dir.path));
    let key = dir.key().unwrap();
    for suffix in ["", "-wal", "-shm"] {
        let file = dir
            .path
            .join(format!("{}{suffix}", tandem_store::STORE_FILE_NAME));
        let _ = std::fs::remove_file(file);
    }
    drop(open(&dir.path));
    assert_eq!(dir.key().unwrap(), key);
    assert!(Store::open_with_key(&dir.store_file(), &key).is_ok());
}

#[test]
fn deleting_a_key_that_does_not_exist_is_not_an_error() {
    let dir = DataDir::new();
    delete_key(&dir.path).unwrap();
    delete_key(&dir.path).unwrap();
}

#[test]
fn a_store_written_by_a_newer_schema_refuses_to_open_and_says_to_update() {
    let dir = DataDir::new();
    drop(open(&dir.path));
    {
        // Pretend a newer Tandem migrated this store.
        let conn = rusqlite::Connection::open(dir.store_file()).unwrap();
        conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", key_hex(&dir)))
            .unwrap();
        conn.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, 'future', '2099-01-01T00:00:00Z')",
            [SCHEMA_VERSION + 1],
        )
        .unwrap();
    }
    let error = Store::open(&dir.path).unwrap_err();
    assert!(
        matches!(error, StoreError::SchemaTooNew { found, supported }
            if found == SCHEMA_VERSION + 1 && supported == SCHEMA_VERSION),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        format!(
            "This data was written by a newer version of Tandem (schema {}; this version knows up to {}): update Tandem.",
            SCHEMA_VERSION + 1,
            SCHEMA_VERSION
        )
    );
}

/// The hex key as the keyring holds it, read with the Secret Service command-line client.
pub(crate) fn key_hex(dir: &DataDir) -> String {
    let user = key::keyring_user(&dir.path).unwrap();
    let output = std::process::Command::new("secret-tool")
        .args(["lookup", "service", key::KEYRING_SERVICE, "username", &user])
        .output()
        .expect("secret-tool runs (apt-get install libsecret-tools, or run scripts/test)");
    assert!(
        output.status.success(),
        "secret-tool lookup failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let hex = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    assert_eq!(hex.len(), 64, "the keyring holds 64 hex digits");
    hex
}

#[test]
fn stores_opened_at_once_in_a_new_data_directory_share_one_key() {
    let dir = DataDir::new();
    let opened: Vec<Result<Store, StoreError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| Store::open(&dir.path)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for result in &opened {
        assert!(result.is_ok(), "{result:?}");
    }
    drop(opened);
    let key = dir.key().unwrap();
    assert!(Store::open_with_key(&dir.store_file(), &key).is_ok());
}
