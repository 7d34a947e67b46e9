//! The first use of SQLCipher in a process, from several threads at once.
//!
//! SQLite marks itself initialised before SQLCipher's own initialisation has finished, so a
//! thread that keys a connection while another thread is still inside that first
//! initialisation used to fail with "An error occurred with PRAGMA key or rekey". That can
//! only happen once per process, so this test re-runs itself as fresh processes, each of
//! which opens stores from several threads released at the same instant.

use std::process::Command;
use std::sync::{Arc, Barrier};

use tandem_store::{STORE_FILE_NAME, Store, StoreKey};

const CHILD_ENV: &str = "TANDEM_FIRST_OPEN_CHILD";
const PROCESSES: usize = 150;
const THREADS: usize = 32;

#[test]
fn stores_opened_by_many_threads_as_a_process_first_touches_sqlcipher_all_unlock() {
    if std::env::var_os(CHILD_ENV).is_some() {
        open_from_many_threads_at_once();
        return;
    }
    let exe = std::env::current_exe().expect("the test binary");
    for run in 0..PROCESSES {
        let output = Command::new(&exe)
            .args([
                "--exact",
                "stores_opened_by_many_threads_as_a_process_first_touches_sqlcipher_all_unlock",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, "1")
            .output()
            .expect("the test binary runs");
        assert!(
            output.status.success(),
            "process {run} failed:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

fn open_from_many_threads_at_once() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let barrier = Arc::new(Barrier::new(THREADS));
    let threads: Vec<_> = (0..THREADS)
        .map(|index| {
            let barrier = Arc::clone(&barrier);
            let path = dir.path().join(format!("{index}-{STORE_FILE_NAME}"));
            std::thread::spawn(move || {
                let key = StoreKey::generate();
                barrier.wait();
                // Staggered starts, so that some threads key their connection while the
                // first is still initialising SQLCipher, however long that takes here.
                std::thread::sleep(std::time::Duration::from_micros(20 * index as u64));
                Store::open_with_key(&path, &key).map(drop)
            })
        })
        .collect();
    for (index, thread) in threads.into_iter().enumerate() {
        let opened = thread.join().expect("the thread does not panic");
        assert!(opened.is_ok(), "thread {index}: {:?}", opened.err());
    }
}
