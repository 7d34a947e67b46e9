//! HTTPS for the server: the rustls configuration built from a PEM certificate chain and a
//! PEM private key (`--tls-cert`, `--tls-key`).
//!
//! The cryptography is rustls's `ring` provider, passed in explicitly. reqwest's rustls in
//! the same workspace also uses ring; naming the provider here means neither side depends
//! on a process-wide default, which rustls cannot pick when two providers are compiled in.

use std::path::Path;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::ServerError;

/// Reads the certificate chain (server certificate first, then any intermediates) and the
/// private key (PKCS#8, PKCS#1 or SEC1), and checks that the key belongs to the certificate,
/// so that a wrong file fails at start with its name rather than at the first handshake.
pub fn load_server_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, ServerError> {
    let cert_error = |reason: String| ServerError::TlsCertificate {
        path: cert.to_path_buf(),
        reason,
    };
    let key_error = |reason: String| ServerError::TlsKey {
        path: key.to_path_buf(),
        reason,
    };
    let cert_pem =
        std::fs::read(cert).map_err(|err| cert_error(format!("cannot be read: {err}")))?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| cert_error(format!("is not valid PEM: {err}")))?;
    if chain.is_empty() {
        return Err(cert_error(
            "holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into(),
        ));
    }
    let key_pem = std::fs::read(key).map_err(|err| key_error(format!("cannot be read: {err}")))?;
    // The parser's message never quotes the key material, only what it expected.
    let private_key = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|err| key_error(format!("holds no usable PEM private key: {err}")))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| key_error(format!("no TLS version is usable: {err}")))?
        .with_no_client_auth()
        .with_single_cert(chain, private_key)
        .map_err(|err| {
            key_error(format!(
                "does not fit the certificate in {}: {err}",
                cert.display()
            ))
        })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
