//! Settings: what the user chooses (the interface language, kept in `settings.json` in the
//! data directory) and what IT provisions system-wide (`/etc/tandem/config.toml`: server,
//! organisation, lock timeout), which the user cannot change.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::dto::InterfaceLanguage;

/// Minutes of inactivity before the app locks when IT set nothing (DESIGN.md).
pub const DEFAULT_LOCK_AFTER_MINUTES: u32 = 10;

/// The system-wide provisioning file on Linux.
pub const PROVISIONING_FILE: &str = "/etc/tandem/config.toml";

/// The user's own choices.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UserSettings {
    /// The interface language.
    pub language: InterfaceLanguage,
}

/// What IT set for every user of the laptop.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Provisioning {
    /// The server every sign-in goes to.
    pub server_url: Option<String>,
    /// The organisation's name, shown read-only.
    pub organisation: Option<String>,
    /// Minutes of inactivity before the app locks.
    pub lock_after_minutes: Option<u32>,
}

impl Provisioning {
    /// Reads the provisioning file; a missing file means nothing is provisioned. A file that
    /// cannot be read or parsed is reported on stderr and ignored, so that a typo by IT does
    /// not keep coaches out of their data.
    pub fn load(path: &Path) -> Self {
        match std::fs::read_to_string(path) {
            Ok(text) => toml::from_str(&text).unwrap_or_else(|error| {
                eprintln!("tandem: ignoring {}: {error}", path.display());
                Self::default()
            }),
            Err(_) => Self::default(),
        }
    }

    /// The lock timeout in minutes (at least one).
    pub fn lock_after_minutes(&self) -> u32 {
        self.lock_after_minutes
            .unwrap_or(DEFAULT_LOCK_AFTER_MINUTES)
            .max(1)
    }
}

/// The user's settings file in a data directory.
pub fn user_settings_path(data_dir: &Path) -> PathBuf {
    data_dir.join("settings.json")
}

/// Reads the user's settings; defaults when the file is missing or unreadable.
pub fn load_user_settings(data_dir: &Path) -> UserSettings {
    std::fs::read(user_settings_path(data_dir))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

/// Writes the user's settings (write to a temporary file, then rename).
pub fn save_user_settings(data_dir: &Path, settings: &UserSettings) -> std::io::Result<()> {
    std::fs::create_dir_all(data_dir)?;
    let path = user_settings_path(data_dir);
    let temporary = path.with_extension("json.tmp");
    std::fs::write(&temporary, serde_json::to_vec_pretty(settings)?)?;
    std::fs::rename(temporary, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provisioning_sets_the_lock_timeout_and_defaults_to_ten_minutes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        assert_eq!(Provisioning::load(&path).lock_after_minutes(), 10);
        std::fs::write(
            &path,
            "server_url = \"https://tandem.example\"\norganisation = \"Vantaa\"\nlock_after_minutes = 3\n",
        )
        .unwrap();
        let provisioning = Provisioning::load(&path);
        assert_eq!(provisioning.lock_after_minutes(), 3);
        assert_eq!(provisioning.organisation.as_deref(), Some("Vantaa"));
    }

    #[test]
    fn the_interface_language_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            load_user_settings(dir.path()).language,
            InterfaceLanguage::Fi
        );
        save_user_settings(
            dir.path(),
            &UserSettings {
                language: InterfaceLanguage::Sv,
            },
        )
        .unwrap();
        assert_eq!(
            load_user_settings(dir.path()).language,
            InterfaceLanguage::Sv
        );
    }
}
