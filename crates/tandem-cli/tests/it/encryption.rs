//! The store on disk is SQLCipher: no plaintext header, no names in the file or its WAL, and
//! an independent SQLCipher 4 implementation (Python's `sqlcipher3`) reads it with the key
//! from the OS keyring, and only with that key.

use std::process::Command;

use crate::{TestStore, file_contains};

/// The store key as the OS keyring holds it (hex), read with `secret-tool`.
fn key_from_keyring(store: &TestStore) -> String {
    let dir = std::fs::canonicalize(store.data_dir()).expect("data dir exists");
    let output = Command::new("secret-tool")
        .args(["lookup", "service", "tandem", "username"])
        .arg(format!("store-key:{}", dir.display()))
        .output()
        .expect("secret-tool is installed (scripts/test installs libsecret-tools)");
    assert!(
        output.status.success(),
        "no key in the keyring: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// Runs Python's sqlcipher3 on the store with `key_hex`; returns (success, stdout+stderr).
fn read_with_python(store: &TestStore, key_hex: &str) -> (bool, String) {
    let script = r#"
import sys, sqlcipher3
db = sqlcipher3.connect(sys.argv[1])
db.execute("PRAGMA key = \"x'" + sys.argv[2] + "'\"")
rows = db.execute("SELECT value FROM record_fields WHERE field = 'family_name'").fetchall()
print(rows[0][0])
"#;
    let output = Command::new("python3")
        .args(["-c", script])
        .arg(store.db_path())
        .arg(key_hex)
        .output()
        .expect("python3 runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        !text.contains("No module named 'sqlcipher3'"),
        "the PyPI package sqlcipher3-binary is missing: run scripts/test, which installs it"
    );
    (output.status.success(), text)
}

#[test]
fn the_store_file_is_encrypted_and_an_independent_sqlcipher_reads_it_with_the_keyring_key() {
    let store = TestStore::new();
    store.ok(&[
        "client",
        "add",
        "--given-name",
        "Amina",
        "--family-name",
        "Warsame",
        "--phone",
        "0401234567",
    ]);

    let header = std::fs::read(store.db_path()).unwrap();
    assert!(
        !header.starts_with(b"SQLite format 3"),
        "the file has a plaintext SQLite header"
    );
    for file in [store.db_path(), store.db_path().with_extension("db-wal")] {
        assert!(
            !file_contains(&file, b"Warsame"),
            "{} contains the name in plaintext",
            file.display()
        );
        assert!(
            !file_contains(&file, b"Amina"),
            "{} contains the name in plaintext",
            file.display()
        );
    }

    let key = key_from_keyring(&store);
    assert_eq!(key.len(), 64, "a 32-byte key, hex-encoded");
    let (ok, text) = read_with_python(&store, &key);
    assert!(ok, "sqlcipher3 could not read the store: {text}");
    assert_eq!(text.trim(), "\"Warsame\"");

    let wrong = "00".repeat(32);
    let (ok, text) = read_with_python(&store, &wrong);
    assert!(!ok, "a wrong key must not open the store: {text}");
    assert!(text.contains("file is not a database"), "{text}");
}

#[test]
fn two_data_directories_have_different_keys() {
    let (a, b) = (TestStore::new(), TestStore::new());
    a.ok(&["init"]);
    b.ok(&["init"]);
    assert_ne!(key_from_keyring(&a), key_from_keyring(&b));
}
