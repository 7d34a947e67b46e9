//! Application updates through the Tauri updater, as the provisioning file's `[updates]`
//! table allows. Nothing is checked unless IT turned updates on and named the endpoint and
//! the minisign public key every update must be signed with (`tandem_sync::UpdatePolicy`);
//! the organisation CA of the provisioning file is trusted for the endpoint as for the sync
//! server. The app checks at start and every [`CHECK_EVERY`]; installing is the user's
//! choice (the system's package manager asks for an administrator), and a package whose
//! signature does not verify against the provisioned key, or that was signed for another
//! version than the one announced, is never installed. The web view has no updater
//! permission: the UI asks through Tandem's own commands.

use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;
use tandem_sync::Provisioning;
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_updater::{Update, Updater, UpdaterExt};
use ts_rs::TS;

use crate::error::{CommandError, ErrorKind};
use crate::state::{AppState, lock};
use crate::sync_bridge::now;

/// How often a running app looks for an update.
pub const CHECK_EVERY: Duration = Duration::from_secs(6 * 60 * 60);

/// How long a check or a download may take before it counts as failed.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);

/// Where the app stands with updates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum UpdateState {
    /// The provisioning file does not turn updates on.
    Off,
    /// Updates are on; no check has finished yet.
    NotChecked,
    /// A check is running.
    Checking,
    /// The endpoint offers nothing newer than this version.
    UpToDate,
    /// A newer version is offered (`available_version`).
    Available,
    /// The update is being downloaded, verified and installed.
    Installing,
    /// The last check or install failed (`error`).
    Failed,
}

/// What the settings screen and the update notice show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct UpdateStatusView {
    /// Where the app stands.
    pub state: UpdateState,
    /// The running version.
    pub current_version: String,
    /// The provisioned endpoint, when updates are on.
    pub endpoint: Option<String>,
    /// The version offered, when one is.
    pub available_version: Option<String>,
    /// The release notes of the version offered.
    pub notes: Option<String>,
    /// When the last check finished (RFC 3339).
    pub last_checked_at: Option<String>,
    /// Why the last check or install failed.
    pub error: Option<CommandError>,
}

/// The update state of the running app, shared by the background check and the commands.
#[derive(Default)]
pub struct UpdateRuntime {
    status: Mutex<Option<UpdateStatusView>>,
    channel: Mutex<Option<Channel<UpdateStatusView>>>,
    /// The update the last check found, kept for the install.
    found: Mutex<Option<Update>>,
    /// Held while a check or an install runs, so they never overlap.
    busy: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for UpdateRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpdateRuntime")
            .field("status", &lock(&self.status))
            .finish_non_exhaustive()
    }
}

/// The status now; before any check, what the provisioning says.
pub fn status<R: Runtime>(app: &AppHandle<R>) -> UpdateStatusView {
    let runtime = app.state::<UpdateRuntime>();
    let current = lock(&runtime.status).clone();
    current.unwrap_or_else(|| initial_status(app))
}

fn initial_status<R: Runtime>(app: &AppHandle<R>) -> UpdateStatusView {
    let provisioning = &app.state::<AppState>().provisioning;
    let policy = provisioning
        .updates
        .as_ref()
        .filter(|policy| policy.enabled);
    UpdateStatusView {
        state: if policy.is_some() {
            UpdateState::NotChecked
        } else {
            UpdateState::Off
        },
        current_version: app.package_info().version.to_string(),
        endpoint: policy.and_then(|policy| policy.endpoint.clone()),
        available_version: None,
        notes: None,
        last_checked_at: None,
        error: None,
    }
}

/// Sends every change of the status to `channel` from now on.
pub fn watch<R: Runtime>(app: &AppHandle<R>, channel: Channel<UpdateStatusView>) {
    *lock(&app.state::<UpdateRuntime>().channel) = Some(channel);
}

fn publish<R: Runtime>(app: &AppHandle<R>, change: impl FnOnce(&mut UpdateStatusView)) {
    let mut status = status(app);
    change(&mut status);
    let runtime = app.state::<UpdateRuntime>();
    *lock(&runtime.status) = Some(status.clone());
    if let Some(channel) = lock(&runtime.channel).as_ref() {
        // A closed window is no reason to stop.
        let _ = channel.send(status);
    }
}

/// Checks now when the provisioning turns updates on, then every [`CHECK_EVERY`].
pub fn start_background_checks<R: Runtime>(app: AppHandle<R>) {
    if !app.state::<AppState>().provisioning.updates_enabled() {
        return;
    }
    tauri::async_runtime::spawn(async move {
        loop {
            // The outcome is in the status (and in the UI); a failed check waits for the next.
            let _ = check(&app).await;
            tokio::time::sleep(CHECK_EVERY).await;
        }
    });
}

/// Asks the provisioned endpoint for a newer version.
pub async fn check<R: Runtime>(app: &AppHandle<R>) -> Result<UpdateStatusView, CommandError> {
    let runtime = app.state::<UpdateRuntime>();
    let Ok(_busy) = runtime.busy.try_lock() else {
        // A check or an install is running; its outcome will be published.
        return Ok(status(app));
    };
    let updater = updater(app, app.state::<AppState>().valid_provisioning()?)?;
    publish(app, |status| status.state = UpdateState::Checking);
    let checked = updater.check().await.map_err(update_error);
    let checked_at = now().to_rfc3339();
    match checked {
        Ok(found) => {
            publish(app, |status| {
                status.state = if found.is_some() {
                    UpdateState::Available
                } else {
                    UpdateState::UpToDate
                };
                status.available_version = found.as_ref().map(|update| update.version.clone());
                status.notes = found.as_ref().and_then(|update| update.body.clone());
                status.last_checked_at = Some(checked_at);
                status.error = None;
            });
            *lock(&runtime.found) = found;
            Ok(status(app))
        }
        Err(error) => {
            publish(app, |status| {
                status.state = UpdateState::Failed;
                status.last_checked_at = Some(checked_at);
                status.error = Some(error.clone());
            });
            Err(error)
        }
    }
}

/// Downloads the update the last check found, verifies its signature against the provisioned
/// key and installs it with the system's package manager. The caller restarts the app.
pub async fn download_and_install<R: Runtime>(app: &AppHandle<R>) -> Result<(), CommandError> {
    let runtime = app.state::<UpdateRuntime>();
    let _busy = runtime.busy.lock().await;
    let installed = async {
        let (update, package) = download_verified(app).await?;
        // The package manager (pkexec, sudo) blocks until the administrator has answered.
        tauri::async_runtime::spawn_blocking(move || update.install(package))
            .await
            .map_err(|error| CommandError::new(ErrorKind::UpdateFailed, error.to_string()))?
            .map_err(update_error)
    }
    .await;
    if let Err(error) = &installed {
        publish(app, |status| {
            status.state = UpdateState::Failed;
            status.error = Some(error.clone());
        });
    }
    installed
}

/// The update the last check found and its package, downloaded and verified.
async fn download_verified<R: Runtime>(
    app: &AppHandle<R>,
) -> Result<(Update, Vec<u8>), CommandError> {
    let update = lock(&app.state::<UpdateRuntime>().found)
        .clone()
        .ok_or_else(|| {
            CommandError::new(
                ErrorKind::UpdateFailed,
                "no update has been found to install: check for updates first",
            )
        })?;
    publish(app, |status| {
        status.state = UpdateState::Installing;
        status.error = None;
    });
    // `download` checks the signature (and the version it was signed for) before it returns.
    let package = update
        .download(|_, _| {}, || {})
        .await
        .map_err(update_error)?;
    Ok((update, package))
}

/// The updater for the provisioned endpoint, key and organisation CA.
fn updater<R: Runtime>(
    app: &AppHandle<R>,
    provisioning: &Provisioning,
) -> Result<Updater, CommandError> {
    let turned_off = || {
        CommandError::new(
            ErrorKind::UpdatesOff,
            "updates are turned off: the provisioning file does not enable [updates]",
        )
    };
    let policy = provisioning
        .updates
        .as_ref()
        .filter(|policy| policy.enabled)
        .ok_or_else(turned_off)?;
    // Provisioning refuses `enabled = true` without both; an unchecked policy is a bug here.
    let (Some(endpoint), Some(pubkey)) = (&policy.endpoint, &policy.pubkey) else {
        return Err(turned_off());
    };
    let endpoint = endpoint.parse().map_err(|error| {
        CommandError::new(
            ErrorKind::InvalidProvisioning,
            format!("updates.endpoint {endpoint:?} is not a URL: {error}"),
        )
    })?;
    let mut builder = app
        .updater_builder()
        .endpoints(vec![endpoint])
        .map_err(update_error)?
        .pubkey(pubkey.clone())
        .timeout(REQUEST_TIMEOUT);
    if let Some(ca) = &provisioning.ca_cert {
        let certificates =
            reqwest_updater::Certificate::from_pem_bundle(ca.pem()).map_err(|error| {
                CommandError::new(
                    ErrorKind::InvalidProvisioning,
                    format!(
                        "{} cannot be read as certificates: {error}",
                        ca.path().display()
                    ),
                )
            })?;
        builder = builder.configure_client(move |client| {
            certificates
                .iter()
                .cloned()
                .fold(client, |client, certificate| {
                    client.add_root_certificate(certificate)
                })
        });
    }
    builder.build().map_err(update_error)
}

/// The updater's errors in the UI's terms: a signature that does not verify is a kind of its
/// own (IT must hear of it); everything else failed the check, download or install.
fn update_error(error: tauri_plugin_updater::Error) -> CommandError {
    use tauri_plugin_updater::Error;
    let kind = match &error {
        Error::Minisign(_)
        | Error::Base64(_)
        | Error::SignatureUtf8(_)
        | Error::SignedVersionMismatch { .. }
        | Error::MissingSignedVersion => ErrorKind::UpdateUnverified,
        _ => ErrorKind::UpdateFailed,
    };
    CommandError::new(kind, tandem_sync::transport::error_chain(&error))
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::Router;
    use axum::extract::State;
    use axum::routing::get;
    use base64::Engine;
    use serde_json::{Value, json};
    use tandem_sync::OrganisationCa;
    use tandem_sync::provisioning::UpdatePolicy;
    use tandem_testkit::TestPki;
    use tauri::test::{MockRuntime, mock_builder, mock_context, noop_assets};

    use super::*;
    use crate::settings::UserSettings;

    /// An HTTPS update endpoint with a certificate of an organisation CA made here: it serves
    /// a manifest (`/tandem/{target}/{current_version}`) and one package, and counts requests.
    struct Endpoint {
        base: String,
        pki: TestPki,
        manifest: Arc<Mutex<Value>>,
        package: Arc<Mutex<Vec<u8>>>,
        requests: Arc<AtomicUsize>,
    }

    #[derive(Clone)]
    struct Served {
        manifest: Arc<Mutex<Value>>,
        package: Arc<Mutex<Vec<u8>>>,
        requests: Arc<AtomicUsize>,
    }

    impl Endpoint {
        fn start() -> Self {
            let pki = TestPki::new();
            let tls = tandem_server::tls::load_server_config(&pki.cert(), &pki.key()).unwrap();

            let served = Served {
                manifest: Arc::new(Mutex::new(Value::Null)),
                package: Arc::new(Mutex::new(Vec::new())),
                requests: Arc::new(AtomicUsize::new(0)),
            };
            let app = Router::new()
                .route(
                    "/tandem/{target}/{version}",
                    get(|State(served): State<Served>| async move {
                        served.requests.fetch_add(1, Ordering::SeqCst);
                        axum::Json(lock(&served.manifest).clone())
                    }),
                )
                .route(
                    "/packages/tandem.deb",
                    get(|State(served): State<Served>| async move {
                        served.requests.fetch_add(1, Ordering::SeqCst);
                        lock(&served.package).clone()
                    }),
                )
                .with_state(served.clone());
            let listener = tauri::async_runtime::block_on(async {
                tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap()
            });
            let port = listener.local_addr().unwrap().port();
            tauri::async_runtime::spawn(async move {
                let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(
                    axum_server::tls_rustls::RustlsConfig::from_config(tls),
                );
                axum_server::Server::<SocketAddr>::from_listener(listener)
                    .acceptor(acceptor)
                    .serve(app.into_make_service())
                    .await
                    .unwrap();
            });
            Self {
                base: format!("https://127.0.0.1:{port}"),
                pki,
                manifest: served.manifest,
                package: served.package,
                requests: served.requests,
            }
        }

        /// Offers `package` as `version`, with `signature`.
        fn offer(&self, version: &str, package: &[u8], signature: &str) {
            *lock(&self.package) = package.to_vec();
            *lock(&self.manifest) = json!({
                "version": version,
                "notes": "Faster search.",
                "pub_date": "2026-11-27T12:00:00Z",
                "platforms": {
                    "linux-x86_64": {
                        "signature": signature,
                        "url": format!("{}/packages/tandem.deb", self.base),
                    }
                }
            });
        }

        fn provisioning(&self, signer: &Signer, with_ca: bool) -> Provisioning {
            Provisioning {
                ca_cert: with_ca.then(|| OrganisationCa::load(&self.pki.ca()).unwrap()),
                updates: Some(UpdatePolicy {
                    enabled: true,
                    endpoint: Some(format!(
                        "{}/tandem/{{{{target}}}}/{{{{current_version}}}}",
                        self.base
                    )),
                    pubkey: Some(signer.public_key.clone()),
                }),
                ..Provisioning::default()
            }
        }
    }

    /// A minisign key pair as `tauri signer generate` makes one, and signatures as `tauri
    /// signer sign --app-version` writes them (base64 of the minisign files).
    struct Signer {
        public_key: String,
        secret: minisign::SecretKey,
    }

    impl Signer {
        fn new() -> Self {
            let pair = minisign::KeyPair::generate_unencrypted_keypair().unwrap();
            Self {
                public_key: base64(&pair.pk.to_box().unwrap().to_string()),
                secret: pair.sk,
            }
        }

        fn sign(&self, package: &[u8], version: &str) -> String {
            self.sign_with_comment(
                package,
                &format!("timestamp:1795262400\tfile:tandem.deb\tversion:{version}"),
            )
        }

        /// A signature with its own trusted comment (old Tauri CLIs wrote no version).
        fn sign_with_comment(&self, package: &[u8], trusted: &str) -> String {
            let signature = minisign::sign(
                None,
                &self.secret,
                std::io::Cursor::new(package),
                Some(trusted),
                Some("signature from tauri secret key"),
            )
            .unwrap();
            base64(&signature.to_string())
        }
    }

    fn base64(text: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(text)
    }

    /// An app on Tauri's mock runtime with the updater plugin configured as tauri.conf.json
    /// configures it, and `provisioning`.
    fn app(provisioning: Provisioning) -> (tauri::App<MockRuntime>, tempfile::TempDir) {
        let shipped: Value = serde_json::from_str(include_str!("../../tauri.conf.json")).unwrap();
        let mut context = mock_context(noop_assets());
        context
            .config_mut()
            .plugins
            .0
            .insert("updater".to_owned(), shipped["plugins"]["updater"].clone());
        let data_dir = tempfile::tempdir().unwrap();
        let app = mock_builder()
            .plugin(tauri_plugin_updater::Builder::new().build())
            .manage(AppState::new(
                data_dir.path().to_owned(),
                Ok(provisioning),
                UserSettings::default(),
            ))
            .manage(UpdateRuntime::default())
            .build(context)
            .unwrap();
        (app, data_dir)
    }

    /// The version after the app's own.
    fn next_version(app: &tauri::App<MockRuntime>) -> String {
        let current = &app.package_info().version;
        format!("{}.{}.0", current.major, current.minor + 1)
    }

    const PACKAGE: &[u8] = b"!<arch>\ndebian-binary   a package of the next version";

    #[test]
    fn nothing_is_checked_unless_the_provisioning_file_turns_updates_on() {
        let endpoint = Endpoint::start();
        let signer = Signer::new();
        let mut turned_off = endpoint.provisioning(&signer, true);
        turned_off.updates.as_mut().unwrap().enabled = false;
        for provisioning in [Provisioning::default(), turned_off] {
            let (app, _data) = app(provisioning);
            let handle = app.handle();
            assert_eq!(status(handle).state, UpdateState::Off);
            assert_eq!(status(handle).endpoint, None);
            let error = tauri::async_runtime::block_on(check(handle)).unwrap_err();
            assert_eq!(error.kind, ErrorKind::UpdatesOff, "{error:?}");
            assert_eq!(status(handle).state, UpdateState::Off);
        }
        assert_eq!(endpoint.requests.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn a_newer_version_signed_with_the_provisioned_key_is_found_downloaded_and_verified() {
        let endpoint = Endpoint::start();
        let signer = Signer::new();
        let (app, _data) = app(endpoint.provisioning(&signer, true));
        let handle = app.handle();
        assert_eq!(status(handle).state, UpdateState::NotChecked);
        let next = next_version(&app);
        endpoint.offer(&next, PACKAGE, &signer.sign(PACKAGE, &next));

        let found = tauri::async_runtime::block_on(check(handle)).unwrap();
        assert_eq!(found.state, UpdateState::Available);
        assert_eq!(found.available_version.as_deref(), Some(next.as_str()));
        assert_eq!(found.notes.as_deref(), Some("Faster search."));
        assert!(found.last_checked_at.is_some());
        assert_eq!(
            found.current_version,
            app.package_info().version.to_string()
        );

        let (update, package) = tauri::async_runtime::block_on(download_verified(handle)).unwrap();
        assert_eq!(update.version, next);
        assert_eq!(package, PACKAGE);
    }

    #[test]
    fn the_same_version_is_up_to_date() {
        let endpoint = Endpoint::start();
        let signer = Signer::new();
        let (app, _data) = app(endpoint.provisioning(&signer, true));
        let current = app.package_info().version.to_string();
        endpoint.offer(&current, PACKAGE, &signer.sign(PACKAGE, &current));
        let checked = tauri::async_runtime::block_on(check(app.handle())).unwrap();
        assert_eq!(checked.state, UpdateState::UpToDate);
        assert_eq!(checked.available_version, None);
        let Err(error) = tauri::async_runtime::block_on(download_verified(app.handle())) else {
            panic!("an up-to-date app downloaded an update");
        };
        assert_eq!(
            error.kind,
            ErrorKind::UpdateFailed,
            "nothing to install: {error:?}"
        );
    }

    #[test]
    fn a_package_that_does_not_verify_against_the_provisioned_key_is_never_installed() {
        let endpoint = Endpoint::start();
        let signer = Signer::new();
        let stranger = Signer::new();
        let (app, _data) = app(endpoint.provisioning(&signer, true));
        let handle = app.handle();
        let next = next_version(&app);
        let tampered = [PACKAGE, b" and something else"].concat();
        let cases = [
            (
                "signed by another key",
                PACKAGE.to_vec(),
                stranger.sign(PACKAGE, &next),
            ),
            (
                "changed after signing",
                tampered,
                signer.sign(PACKAGE, &next),
            ),
            (
                "signed for another version",
                PACKAGE.to_vec(),
                signer.sign(PACKAGE, "0.0.1"),
            ),
            (
                "signed without a version",
                PACKAGE.to_vec(),
                signer.sign_with_comment(PACKAGE, "timestamp:1795262400\tfile:tandem.deb"),
            ),
        ];
        for (case, package, signature) in cases {
            endpoint.offer(&next, &package, &signature);
            let found = tauri::async_runtime::block_on(check(handle)).unwrap();
            assert_eq!(found.state, UpdateState::Available, "{case}");
            let error = tauri::async_runtime::block_on(download_and_install(handle)).unwrap_err();
            assert_eq!(error.kind, ErrorKind::UpdateUnverified, "{case}: {error:?}");
            let after = status(handle);
            assert_eq!(after.state, UpdateState::Failed, "{case}");
            assert_eq!(after.error, Some(error), "{case}");
        }
    }

    #[test]
    fn without_the_organisation_ca_the_endpoint_is_not_trusted() {
        let endpoint = Endpoint::start();
        let signer = Signer::new();
        let (app, _data) = app(endpoint.provisioning(&signer, false));
        let next = next_version(&app);
        endpoint.offer(&next, PACKAGE, &signer.sign(PACKAGE, &next));
        let error = tauri::async_runtime::block_on(check(app.handle())).unwrap_err();
        assert_eq!(error.kind, ErrorKind::UpdateFailed);
        assert!(
            error.message.to_lowercase().contains("certificate"),
            "the error names the certificate: {}",
            error.message
        );
        let after = status(app.handle());
        assert_eq!(after.state, UpdateState::Failed);
        assert!(after.last_checked_at.is_some());
        assert_eq!(after.available_version, None);
    }
}
