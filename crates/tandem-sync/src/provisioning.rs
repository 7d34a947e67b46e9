//! The system-wide provisioning file IT writes on every laptop (`/etc/tandem/config.toml` on
//! Linux, `%ProgramData%\Tandem\config.toml` on Windows): the server, the organisation, its
//! CA, the lock timeout and the update policy. The desktop app and the `tandem` command read
//! it through this one strict parser: an unknown key, a wrong type or an unusable value is an
//! error naming the file and the key, never silently ignored, because a typo by IT would
//! otherwise leave a whole fleet on the wrong server or without the CA.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::SyncError;

/// The environment variable that names another provisioning file (tests, trials).
pub const PROVISIONING_FILE_ENV: &str = "TANDEM_PROVISIONING_FILE";

/// Minutes of inactivity before the app locks when IT set nothing (DESIGN.md).
pub const DEFAULT_LOCK_AFTER_MINUTES: u32 = 10;

/// The longest lock timeout IT may set: a day.
pub const MAX_LOCK_AFTER_MINUTES: i64 = 24 * 60;

/// The user's own settings file in a data directory (the desktop app writes it).
pub const USER_SETTINGS_FILE: &str = "settings.json";

/// The provisioning file of this machine: `TANDEM_PROVISIONING_FILE` when set, otherwise
/// the system-wide one of the platform.
pub fn provisioning_file_path() -> PathBuf {
    if let Some(path) = std::env::var_os(PROVISIONING_FILE_ENV) {
        return PathBuf::from(path);
    }
    system_provisioning_file()
}

#[cfg(windows)]
fn system_provisioning_file() -> PathBuf {
    let program_data = std::env::var_os("ProgramData").unwrap_or_else(|| r"C:\ProgramData".into());
    PathBuf::from(program_data)
        .join("Tandem")
        .join("config.toml")
}

#[cfg(not(windows))]
fn system_provisioning_file() -> PathBuf {
    PathBuf::from("/etc/tandem/config.toml")
}

/// The organisation's CA certificate(s), read and checked when the file is loaded: the sync
/// transport trusts them in addition to the public roots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganisationCa {
    path: PathBuf,
    pem: Vec<u8>,
}

impl OrganisationCa {
    /// Reads a PEM file of one or more CA certificates; the error says what is wrong.
    pub fn load(path: &Path) -> Result<Self, String> {
        let pem = std::fs::read(path).map_err(|error| {
            format!(
                "cannot read the certificate file {}: {error}",
                path.display()
            )
        })?;
        let ca = Self {
            path: path.to_owned(),
            pem,
        };
        let certificates = ca.certificates()?;
        // Building a client parses every certificate as a trust anchor, as the transport will.
        let mut builder = reqwest::Client::builder().tls_built_in_root_certs(false);
        for certificate in certificates {
            builder = builder.add_root_certificate(certificate);
        }
        builder.build().map_err(|error| {
            format!(
                "{} holds a certificate that cannot be used as a trusted root ({})",
                path.display(),
                crate::transport::error_chain(&error)
            )
        })?;
        Ok(ca)
    }

    /// The PEM file the certificates came from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The PEM text of the file, for clients other than the sync transport's (the updater's).
    pub fn pem(&self) -> &[u8] {
        &self.pem
    }

    /// The certificates, ready for reqwest.
    pub fn certificates(&self) -> Result<Vec<reqwest::Certificate>, String> {
        let certificates = reqwest::Certificate::from_pem_bundle(&self.pem).map_err(|error| {
            format!(
                "{} is not a PEM certificate file ({error})",
                self.path.display()
            )
        })?;
        if certificates.is_empty() {
            return Err(format!(
                "{} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
                self.path.display()
            ));
        }
        Ok(certificates)
    }
}

/// The update policy: the Tauri updater stays off unless IT turns it on and names where
/// updates come from and the key that must have signed them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UpdatePolicy {
    /// Whether the app looks for updates.
    pub enabled: bool,
    /// The updater's endpoint (an https:// URL; Tauri's `{{target}}`, `{{arch}}` and
    /// `{{current_version}}` placeholders allowed).
    pub endpoint: Option<String>,
    /// The minisign public key (base64, as `tauri signer generate` prints it).
    pub pubkey: Option<String>,
}

/// What IT provisioned; every key is optional. Keys set here cannot be changed by the user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Provisioning {
    /// The file it was read from; `None` when there is no file.
    pub file: Option<PathBuf>,
    /// The server every sign-in goes to (without a trailing slash).
    pub server_url: Option<String>,
    /// The organisation's name, shown read-only.
    pub organisation: Option<String>,
    /// The organisation CA the transport trusts.
    pub ca_cert: Option<OrganisationCa>,
    /// Minutes of inactivity before the app locks.
    pub lock_after_minutes: Option<u32>,
    /// The `[updates]` table, if present.
    pub updates: Option<UpdatePolicy>,
}

impl Provisioning {
    /// Reads the provisioning file at `path`. A missing file means nothing is provisioned;
    /// anything else that is wrong is an error naming the file and the key.
    pub fn load(path: &Path) -> Result<Self, SyncError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Self::default());
            }
            Err(error) => {
                return Err(invalid(path, None, format!("cannot be read: {error}")));
            }
        };
        Self::parse(path, &text)
    }

    /// Reads the provisioning file of this machine ([`provisioning_file_path`]).
    pub fn load_system() -> Result<Self, SyncError> {
        Self::load(&provisioning_file_path())
    }

    /// Parses the text of the provisioning file at `path` (relative `ca_cert` paths are
    /// relative to the file's folder).
    pub fn parse(path: &Path, text: &str) -> Result<Self, SyncError> {
        let table: toml::Table = text.parse().map_err(|error: toml::de::Error| {
            let line = error
                .span()
                .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1)
                .map_or_else(String::new, |line| format!(" on line {line}"));
            invalid(
                path,
                None,
                format!("is not valid TOML{line}: {}", error.message().trim()),
            )
        })?;
        let mut provisioning = Self {
            file: Some(path.to_owned()),
            ..Self::default()
        };
        for (key, value) in &table {
            let wrong = |problem: String| invalid(path, Some(key), problem);
            match key.as_str() {
                "server_url" => {
                    provisioning.server_url =
                        Some(parse_url(string(value).map_err(wrong)?, false).map_err(wrong)?);
                }
                "organisation" => {
                    let name = string(value).map_err(wrong)?.trim();
                    if name.is_empty() {
                        return Err(wrong("must not be empty".to_owned()));
                    }
                    provisioning.organisation = Some(name.to_owned());
                }
                "ca_cert" => {
                    let given = Path::new(string(value).map_err(wrong)?);
                    let resolved = match path.parent() {
                        Some(folder) if given.is_relative() => folder.join(given),
                        _ => given.to_owned(),
                    };
                    provisioning.ca_cert = Some(OrganisationCa::load(&resolved).map_err(wrong)?);
                }
                "lock_after_minutes" => {
                    let minutes = value.as_integer().ok_or_else(|| {
                        wrong(format!(
                            "must be a whole number of minutes, not {}",
                            describe(value)
                        ))
                    })?;
                    if !(1..=MAX_LOCK_AFTER_MINUTES).contains(&minutes) {
                        return Err(wrong(format!(
                            "must be from 1 to {MAX_LOCK_AFTER_MINUTES} minutes (got {minutes})"
                        )));
                    }
                    provisioning.lock_after_minutes = u32::try_from(minutes).ok();
                }
                "updates" => {
                    let updates = value.as_table().ok_or_else(|| {
                        wrong(format!(
                            "must be a table ([updates]), not {}",
                            describe(value)
                        ))
                    })?;
                    provisioning.updates = Some(parse_updates(path, updates)?);
                }
                _ => {
                    return Err(wrong(
                        "is not a provisioning key (known keys: server_url, organisation, ca_cert, lock_after_minutes, [updates])".to_owned(),
                    ));
                }
            }
        }
        Ok(provisioning)
    }

    /// The lock timeout in minutes.
    pub fn lock_after_minutes(&self) -> u32 {
        self.lock_after_minutes
            .unwrap_or(DEFAULT_LOCK_AFTER_MINUTES)
    }

    /// Whether the updater is on (only when IT turned it on; it then names endpoint and key).
    pub fn updates_enabled(&self) -> bool {
        self.updates.as_ref().is_some_and(|u| u.enabled)
    }

    /// The transport settings for this machine: the defaults, trusting the organisation CA.
    pub fn transport_settings(&self) -> crate::TransportSettings {
        crate::TransportSettings {
            organisation_ca: self.ca_cert.clone(),
            ..crate::TransportSettings::default()
        }
    }

    /// The server a sign-in goes to: the provisioned one, which the user cannot change, or
    /// the one the user typed. A different address while one is provisioned is refused.
    pub fn sign_in_server(&self, chosen: Option<&str>) -> Result<String, SyncError> {
        match (&self.server_url, chosen) {
            (Some(provisioned), None) => Ok(provisioned.clone()),
            (Some(provisioned), Some(chosen)) => {
                if chosen.trim().trim_end_matches('/') == provisioned {
                    Ok(provisioned.clone())
                } else {
                    Err(SyncError::ProvisionedServer {
                        provisioned: provisioned.clone(),
                        file: self.file.clone().unwrap_or_default(),
                    })
                }
            }
            (None, Some(chosen)) => Ok(chosen.trim().to_owned()),
            (None, None) => Err(SyncError::InvalidServerUrl { url: String::new() }),
        }
    }

    /// Every effective setting with where its value came from, in a fixed order (for
    /// `tandem config show` and support calls). `language` is the user's setting in
    /// `data_dir`, when there is one.
    pub fn effective_settings(&self, data_dir: &Path) -> Vec<EffectiveSetting> {
        // A value is the provisioning file's when the file set it, else Tandem's default.
        let or_default = |key: &'static str, value: Option<String>, default: Option<String>| match (
            &self.file, value,
        ) {
            (Some(file), Some(value)) => EffectiveSetting {
                key,
                value: Some(value),
                source: SettingSource::ProvisioningFile { path: file.clone() },
            },
            _ => EffectiveSetting {
                key,
                value: default,
                source: SettingSource::Default,
            },
        };
        let updates = self.updates.clone();
        let update = |pick: fn(&UpdatePolicy) -> Option<String>| updates.as_ref().and_then(pick);
        let mut settings = vec![
            or_default("server_url", self.server_url.clone(), None),
            or_default("organisation", self.organisation.clone(), None),
            or_default(
                "ca_cert",
                self.ca_cert
                    .as_ref()
                    .map(|ca| ca.path().display().to_string()),
                None,
            ),
            or_default(
                "lock_after_minutes",
                self.lock_after_minutes.map(|m| m.to_string()),
                Some(DEFAULT_LOCK_AFTER_MINUTES.to_string()),
            ),
            or_default(
                "updates.enabled",
                update(|u| Some(u.enabled.to_string())),
                Some("false".to_owned()),
            ),
            or_default("updates.endpoint", update(|u| u.endpoint.clone()), None),
            or_default("updates.pubkey", update(|u| u.pubkey.clone()), None),
        ];
        let user_file = data_dir.join(USER_SETTINGS_FILE);
        let language = std::fs::read(&user_file)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
            .and_then(|json| json.get("language")?.as_str().map(str::to_owned));
        settings.push(match language {
            Some(language) => EffectiveSetting {
                key: "language",
                value: Some(language),
                source: SettingSource::UserSetting { path: user_file },
            },
            None => EffectiveSetting {
                key: "language",
                value: Some("fi".to_owned()),
                source: SettingSource::Default,
            },
        });
        settings
    }
}

/// One effective setting and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EffectiveSetting {
    /// The key (`updates.endpoint` for keys of the `[updates]` table).
    pub key: &'static str,
    /// The value in effect; `None` when nothing is set.
    pub value: Option<String>,
    /// Where the value came from.
    pub source: SettingSource,
}

/// Where an effective setting came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SettingSource {
    /// The provisioning file (the user cannot change it).
    ProvisioningFile {
        /// The file.
        path: PathBuf,
    },
    /// The user's settings file in the data directory.
    UserSetting {
        /// The file.
        path: PathBuf,
    },
    /// Tandem's built-in default.
    Default,
}

impl std::fmt::Display for SettingSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SettingSource::ProvisioningFile { path } => {
                write!(f, "provisioning file {}", path.display())
            }
            SettingSource::UserSetting { path } => write!(f, "user setting {}", path.display()),
            SettingSource::Default => f.write_str("default"),
        }
    }
}

fn invalid(path: &Path, key: Option<&str>, problem: String) -> SyncError {
    SyncError::InvalidProvisioning {
        path: path.to_owned(),
        key: key.map(str::to_owned),
        problem,
    }
}

fn describe(value: &toml::Value) -> String {
    format!("{} {value}", value.type_str())
}

fn string(value: &toml::Value) -> Result<&str, String> {
    value
        .as_str()
        .ok_or_else(|| format!("must be a string in quotes, not {}", describe(value)))
}

/// Checks an http(s) URL with a host; `https_only` for the update endpoint.
fn parse_url(text: &str, https_only: bool) -> Result<String, String> {
    let trimmed = text.trim().trim_end_matches('/');
    let url =
        reqwest::Url::parse(trimmed).map_err(|error| format!("{text:?} is not a URL ({error})"))?;
    let scheme_ok = if https_only {
        url.scheme() == "https"
    } else {
        matches!(url.scheme(), "http" | "https")
    };
    if !scheme_ok {
        let wanted = if https_only {
            "https://"
        } else {
            "http:// or https://"
        };
        return Err(format!("{text:?} must be an {wanted} URL"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("{text:?} has no host name"));
    }
    Ok(trimmed.to_owned())
}

fn parse_updates(path: &Path, table: &toml::Table) -> Result<UpdatePolicy, SyncError> {
    let mut policy = UpdatePolicy::default();
    for (key, value) in table {
        let full_key = format!("updates.{key}");
        let wrong = |problem: String| invalid(path, Some(&full_key), problem);
        match key.as_str() {
            "enabled" => {
                policy.enabled = value.as_bool().ok_or_else(|| {
                    wrong(format!("must be true or false, not {}", describe(value)))
                })?;
            }
            "endpoint" => {
                policy.endpoint =
                    Some(parse_url(string(value).map_err(wrong)?, true).map_err(wrong)?);
            }
            "pubkey" => {
                let key_text = string(value).map_err(wrong)?.trim();
                let base64 = |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=');
                if key_text.len() < 40 || !key_text.chars().all(base64) {
                    return Err(wrong(
                        "must be the updater's public key as `tauri signer generate` prints it (base64)"
                            .to_owned(),
                    ));
                }
                policy.pubkey = Some(key_text.to_owned());
            }
            _ => {
                return Err(wrong(
                    "is not an update setting (known keys: enabled, endpoint, pubkey)".to_owned(),
                ));
            }
        }
    }
    if policy.enabled {
        for (key, missing) in [
            ("updates.endpoint", policy.endpoint.is_none()),
            ("updates.pubkey", policy.pubkey.is_none()),
        ] {
            if missing {
                return Err(invalid(
                    path,
                    Some(key),
                    "must be set when updates.enabled is true (updates are only installed from a named endpoint and checked against its key)".to_owned(),
                ));
            }
        }
    }
    Ok(policy)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUBKEY: &str =
        "dW50cnVzdGVkIGNvbW1lbnQ6IG1pbmlzaWduIHB1YmxpYyBrZXk6IEFCQ0RFRgpSV1RBQkNERUY=";

    fn parse(text: &str) -> Result<Provisioning, String> {
        Provisioning::parse(Path::new("/etc/tandem/config.toml"), text).map_err(|e| e.to_string())
    }

    fn error(text: &str) -> String {
        parse(text).expect_err("the file should be refused")
    }

    #[test]
    fn a_missing_file_provisions_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let provisioning = Provisioning::load(&dir.path().join("config.toml")).unwrap();
        assert_eq!(provisioning, Provisioning::default());
        assert_eq!(provisioning.lock_after_minutes(), 10);
        assert!(!provisioning.updates_enabled());
    }

    #[test]
    fn every_key_is_read() {
        let provisioning = parse(&format!(
            "server_url = \"https://tandem.vantaa.example/\"\norganisation = \" City of Vantaa \"\nlock_after_minutes = 3\n[updates]\nenabled = true\nendpoint = \"https://updates.vantaa.example/tandem/{{{{target}}}}/{{{{current_version}}}}\"\npubkey = \"{PUBKEY}\"\n"
        ))
        .unwrap();
        assert_eq!(
            provisioning.server_url.as_deref(),
            Some("https://tandem.vantaa.example")
        );
        assert_eq!(provisioning.organisation.as_deref(), Some("City of Vantaa"));
        assert_eq!(provisioning.lock_after_minutes(), 3);
        assert!(provisioning.updates_enabled());
        assert_eq!(
            provisioning.updates.unwrap().pubkey.as_deref(),
            Some(PUBKEY)
        );
    }

    #[test]
    fn errors_name_the_file_the_key_and_the_problem() {
        let cases = [
            (
                "server_ur = \"https://x.example\"",
                "server_ur",
                "is not a provisioning key",
            ),
            ("server_url = 5", "server_url", "must be a string"),
            (
                "server_url = \"ftp://x.example\"",
                "server_url",
                "http:// or https://",
            ),
            ("server_url = \"not a url\"", "server_url", "is not a URL"),
            ("organisation = \"  \"", "organisation", "must not be empty"),
            (
                "lock_after_minutes = \"10\"",
                "lock_after_minutes",
                "whole number",
            ),
            (
                "lock_after_minutes = 0",
                "lock_after_minutes",
                "from 1 to 1440",
            ),
            (
                "lock_after_minutes = 10.5",
                "lock_after_minutes",
                "whole number",
            ),
            (
                "ca_cert = \"/nonexistent/ca.pem\"",
                "ca_cert",
                "cannot read the certificate file /nonexistent/ca.pem",
            ),
            ("updates = true", "updates", "must be a table"),
            (
                "[updates]\nenabled = \"yes\"",
                "updates.enabled",
                "true or false",
            ),
            (
                "[updates]\nchannel = \"beta\"",
                "updates.channel",
                "is not an update setting",
            ),
            (
                "[updates]\nendpoint = \"http://u.example\"",
                "updates.endpoint",
                "https://",
            ),
            (
                "[updates]\npubkey = \"short\"",
                "updates.pubkey",
                "public key",
            ),
            (
                "[updates]\nenabled = true",
                "updates.endpoint",
                "must be set when updates.enabled is true",
            ),
        ];
        for (text, key, problem) in cases {
            let message = error(text);
            assert!(
                message.contains("/etc/tandem/config.toml"),
                "{text}: {message}"
            );
            assert!(
                message.contains(&format!("key `{key}`")),
                "{text}: {message}"
            );
            assert!(message.contains(problem), "{text}: {message}");
        }
    }

    #[test]
    fn a_syntax_error_names_the_file() {
        let message = error("server_url = \"https://x.example");
        assert!(message.contains("/etc/tandem/config.toml"), "{message}");
        assert!(message.contains("not valid TOML"), "{message}");
    }

    #[test]
    fn a_ca_file_without_a_certificate_is_refused_and_a_relative_path_is_beside_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.toml");
        std::fs::write(dir.path().join("ca.pem"), "not a certificate\n").unwrap();
        let message = Provisioning::parse(&file, "ca_cert = \"ca.pem\"")
            .unwrap_err()
            .to_string();
        assert!(message.contains("key `ca_cert`"), "{message}");
        assert!(message.contains("holds no PEM certificate"), "{message}");
        assert!(
            message.contains(&dir.path().join("ca.pem").display().to_string()),
            "{message}"
        );
        std::fs::write(
            dir.path().join("ca.pem"),
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let message = Provisioning::parse(&file, "ca_cert = \"ca.pem\"")
            .unwrap_err()
            .to_string();
        assert!(message.contains("key `ca_cert`"), "{message}");
    }

    #[test]
    fn a_provisioned_server_cannot_be_changed_at_sign_in() {
        let provisioning = parse("server_url = \"https://tandem.vantaa.example\"").unwrap();
        assert_eq!(
            provisioning.sign_in_server(None).unwrap(),
            "https://tandem.vantaa.example"
        );
        assert_eq!(
            provisioning
                .sign_in_server(Some("https://tandem.vantaa.example/"))
                .unwrap(),
            "https://tandem.vantaa.example"
        );
        let refused = provisioning
            .sign_in_server(Some("https://evil.example"))
            .unwrap_err();
        assert_eq!(refused.kind(), "provisioned_server");
        assert!(
            refused
                .to_string()
                .contains("https://tandem.vantaa.example"),
            "{refused}"
        );
        let free = Provisioning::default();
        assert_eq!(
            free.sign_in_server(Some(" http://x.example ")).unwrap(),
            "http://x.example"
        );
        assert!(free.sign_in_server(None).is_err());
    }

    #[test]
    fn effective_settings_say_where_each_value_came_from() {
        let dir = tempfile::tempdir().unwrap();
        let provisioning = parse("organisation = \"Vantaa\"\nlock_after_minutes = 5").unwrap();
        let settings = provisioning.effective_settings(dir.path());
        let find = |key: &str| settings.iter().find(|s| s.key == key).unwrap().clone();
        assert_eq!(find("organisation").value.as_deref(), Some("Vantaa"));
        assert_eq!(
            find("organisation").source.to_string(),
            "provisioning file /etc/tandem/config.toml"
        );
        assert_eq!(find("server_url").source, SettingSource::Default);
        assert_eq!(find("server_url").value, None);
        assert_eq!(find("lock_after_minutes").value.as_deref(), Some("5"));
        assert_eq!(find("updates.enabled").value.as_deref(), Some("false"));
        assert_eq!(find("language").source, SettingSource::Default);
        std::fs::write(dir.path().join("settings.json"), r#"{"language": "sv"}"#).unwrap();
        let settings = provisioning.effective_settings(dir.path());
        let language = settings.iter().find(|s| s.key == "language").unwrap();
        assert_eq!(language.value.as_deref(), Some("sv"));
        assert!(matches!(language.source, SettingSource::UserSetting { .. }));
    }
}
