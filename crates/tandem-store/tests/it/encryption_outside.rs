//! The store checked from outside the project: an independent SQLCipher 4 (PyPI's
//! sqlcipher3-binary) opens it with the key read from the keyring by `secret-tool`, and
//! fails with any other key.

use std::process::{Command, Output};

use crate::open::key_hex;
use crate::{DataDir, open};

const READ_WITH_SQLCIPHER3: &str = r#"
import sys
import sqlcipher3
path, key = sys.argv[1], sys.argv[2]
conn = sqlcipher3.connect(path)
conn.execute("PRAGMA key = \"x'%s'\"" % key)
versions = [row[0] for row in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]
meta = conn.execute("SELECT count(*) FROM meta").fetchone()[0]
print("versions=%s meta=%d" % (",".join(map(str, versions)), meta))
"#;

fn run_python(path: &std::path::Path, hex: &str) -> Output {
    let import = Command::new("python3")
        .args(["-c", "import sqlcipher3"])
        .output()
        .expect("python3 runs");
    assert!(
        import.status.success(),
        "python3 cannot import sqlcipher3 ({}). Run scripts/test, which installs the PyPI \
         package sqlcipher3-binary, or: python3 -m pip install sqlcipher3-binary",
        String::from_utf8_lossy(&import.stderr).trim()
    );
    Command::new("python3")
        .args(["-c", READ_WITH_SQLCIPHER3])
        .arg(path)
        .arg(hex)
        .output()
        .expect("python3 runs")
}

#[test]
fn an_independent_sqlcipher_opens_the_store_with_the_key_from_the_keyring() {
    let dir = DataDir::new();
    drop(open(&dir.path));
    let output = run_python(&dir.store_file(), &key_hex(&dir));
    assert!(
        output.status.success(),
        "sqlcipher3 could not read the store: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let expected = (1..=tandem_store::SCHEMA_VERSION)
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join(",");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        format!("versions={expected} meta=0")
    );
}

#[test]
fn an_independent_sqlcipher_cannot_open_the_store_with_another_key() {
    let dir = DataDir::new();
    drop(open(&dir.path));
    let wrong = "00".repeat(32);
    assert_ne!(key_hex(&dir), wrong);
    let output = run_python(&dir.store_file(), &wrong);
    assert!(!output.status.success(), "a wrong key opened the store");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("file is not a database"), "{stderr}");
}
