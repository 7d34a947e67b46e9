//! The `tandem-desktop` binary: starts the desktop app (see the library for everything else).

// No console window next to the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::process::ExitCode;

fn main() -> ExitCode {
    match tandem_desktop::run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("tandem-desktop: {error}");
            ExitCode::FAILURE
        }
    }
}
