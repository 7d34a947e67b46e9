//! The user's own settings (the interface language, kept in `settings.json` in the data
//! directory). What IT provisions system-wide, which the user cannot change, is read by
//! `tandem_sync::provisioning`, shared with the `tandem` command.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tandem_store::StoreError;

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

/// Writes the user's settings (write to a temporary file, then rename). A failure is the
/// data directory's I/O error naming the file, as the store's are (so a full disk reads as
/// one: `StoreError::is_disk_full`).
pub fn save_user_settings(data_dir: &Path, settings: &UserSettings) -> Result<(), StoreError> {
    let path = user_settings_path(data_dir);
    write_settings(data_dir, &path, settings).map_err(|source| StoreError::Io {
        action: "save the settings to",
        path,
        source,
    })
}

fn write_settings(data_dir: &Path, path: &Path, settings: &UserSettings) -> std::io::Result<()> {
    std::fs::create_dir_all(data_dir)?;
    let temporary = path.with_extension("json.tmp");
    std::fs::write(&temporary, serde_json::to_vec_pretty(settings)?)?;
    std::fs::rename(temporary, path)
}

/// The locale the web view formats for, so that date fields take their day, month and year
/// order from the interface language: the same locales the UI formats dates with (`intlLocale`
/// in ui/src/i18n/index.svelte.ts; British English for English).
pub fn web_locale(language: InterfaceLanguage) -> &'static str {
    match language {
        InterfaceLanguage::Fi => "fi-FI",
        InterfaceLanguage::Sv => "sv-FI",
        InterfaceLanguage::En => "en-GB",
    }
}

/// Makes the app's web view format dates for the interface language. WebKitGTK takes its
/// locale from the system's language (`LANG`), not from the page's `lang`: without this, a
/// Finnish interface on an English desktop shows 6 December 2026 as 12/06/2026.
#[cfg(target_os = "linux")]
pub fn apply_to_webview(window: &tauri::WebviewWindow, language: InterfaceLanguage) {
    use webkit2gtk::{WebContextExt, WebViewExt};
    let locale = web_locale(language);
    // Fails only when the window is gone; there is nothing to format for then.
    let _ = window.with_webview(move |webview| {
        if let Some(context) = webview.inner().context() {
            context.set_preferred_languages(&[locale]);
        }
    });
}

/// Other systems' web views follow the system's settings.
#[cfg(not(target_os = "linux"))]
pub fn apply_to_webview(_window: &tauri::WebviewWindow, _language: InterfaceLanguage) {}

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

    #[test]
    fn settings_that_cannot_be_saved_name_their_file() {
        let dir = tempfile::tempdir().unwrap();
        // A file where the data directory should be.
        let data_dir = dir.path().join("data");
        std::fs::write(&data_dir, b"").unwrap();
        let error = save_user_settings(&data_dir, &UserSettings::default()).unwrap_err();
        assert!(matches!(error, StoreError::Io { .. }), "{error:?}");
        assert!(
            error.to_string().contains("could not save the settings to")
                && error.to_string().contains("settings.json"),
            "{error}"
        );
    }
}
