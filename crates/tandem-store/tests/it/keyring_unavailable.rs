//! Without a reachable keyring the store refuses to open, says what to do, and writes no
//! plaintext. The test runs itself again as a child process whose session bus address
//! points at a socket that does not exist (changing the environment of the test process
//! itself would be racy).

use std::process::Command;

use tandem_store::{STORE_FILE_NAME, Store, StoreError};

/// Set in the child process to the data directory it should try to open.
const CHILD_DATA_DIR: &str = "TANDEM_TEST_CHILD_DATA_DIR";

#[test]
fn without_a_reachable_keyring_the_store_refuses_to_open_and_says_what_to_do() {
    if let Some(dir) = std::env::var_os(CHILD_DATA_DIR) {
        let dir = std::path::PathBuf::from(dir);
        let error = Store::open(&dir).unwrap_err();
        assert!(
            matches!(error, StoreError::KeyringUnavailable { .. }),
            "{error:?}"
        );
        let message = error.to_string();
        println!("the store said: {message}");
        assert!(
            message.starts_with(
                "Tandem keeps its encryption key in the OS keyring (Secret Service). None is reachable: "
            ),
            "{message}"
        );
        assert!(message.contains("dbus-run-session"), "{message}");
        let store_file = dir.join(STORE_FILE_NAME);
        assert!(
            std::fs::metadata(&store_file)
                .map(|m| m.len() == 0)
                .unwrap_or(true),
            "something was written to {} without a key",
            store_file.display()
        );
        return;
    }

    let temp = tempfile::tempdir().unwrap();
    let missing_socket = temp.path().join("no-bus-here");
    let bad_address = format!("unix:path={}", missing_socket.display());
    let exe = std::env::current_exe().unwrap();
    let test_args = [
        "--exact",
        "keyring_unavailable::without_a_reachable_keyring_the_store_refuses_to_open_and_says_what_to_do",
        "--nocapture",
        "--test-threads=1",
    ];

    // A session bus address that leads nowhere.
    let mut bad_bus = Command::new(&exe);
    bad_bus.env("DBUS_SESSION_BUS_ADDRESS", &bad_address);
    // No session bus at all: libdbus tries to autolaunch one, which fails without a display.
    let mut no_bus = Command::new(&exe);
    no_bus.env_remove("DBUS_SESSION_BUS_ADDRESS");
    // A session bus whose Secret Service has no unlocked collection (gnome-keyring started
    // on demand, never unlocked): a headless login without the keyring unlock step.
    let locked_home = temp.path().join("locked-home");
    let locked_runtime = temp.path().join("locked-runtime");
    for dir in [&locked_home, &locked_runtime] {
        std::fs::create_dir(dir).unwrap();
    }
    let mut locked = Command::new("dbus-run-session");
    locked
        .arg("--")
        .arg(&exe)
        .env("HOME", &locked_home)
        .env("XDG_RUNTIME_DIR", &locked_runtime)
        // Away from scripts/with-keyring's session service, which would unlock the keyring.
        .env("XDG_DATA_HOME", locked_home.join(".local/share"));

    for (case, mut child) in [("bad-bus", bad_bus), ("no-bus", no_bus), ("locked", locked)] {
        child
            .args(test_args)
            .env(CHILD_DATA_DIR, temp.path().join(case))
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY");
        let output = child
            .output()
            .unwrap_or_else(|error| panic!("{case}: could not start the child: {error}"));
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success() && stdout.contains("1 passed"),
            "the child test ({case}) failed:\n{stdout}\n{stderr}"
        );
    }
}
