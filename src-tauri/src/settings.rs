//! The user's own settings (the interface language, kept in `settings.json` in the data
//! directory). What IT provisions system-wide, which the user cannot change, is read by
//! `tandem_sync::provisioning`, shared with the `tandem` command.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::dto::InterfaceLanguage;

/// The user's own choices.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UserSettings {
    /// The interface language.
    pub language: InterfaceLanguage,
}

/// The user's settings file in a data directory.
pub fn user_settings_path(data_dir: &Path) -> PathBuf {
    data_dir.join(tandem_sync::provisioning::USER_SETTINGS_FILE)
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
