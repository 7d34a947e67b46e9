//! Test scaffolding the crates' tests share; a dev-dependency only, never in a build that
//! ships.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};

/// The host name the test server certificate is made for (besides 127.0.0.1); clients resolve
/// it to the test's port.
pub const SERVER_NAME: &str = "tandem.city.test";

/// PEM files in a temporary directory, as an organisation's IT would have them: a CA
/// (`ca.pem`), and a server certificate for [`SERVER_NAME`] and 127.0.0.1 signed by it
/// (`server.pem`) with its key (`server.key`). Made anew for each test.
#[derive(Debug)]
pub struct TestPki {
    dir: tempfile::TempDir,
    ca_pem: String,
}

impl TestPki {
    /// A new CA and server certificate.
    pub fn new() -> Self {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "City of Vantaa test CA");
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
        let server_key = KeyPair::generate().unwrap();
        let server_cert =
            CertificateParams::new(vec![SERVER_NAME.to_owned(), "127.0.0.1".to_owned()])
                .unwrap()
                .signed_by(&server_key, &ca)
                .unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("server.pem"), server_cert.pem()).unwrap();
        std::fs::write(dir.path().join("server.key"), server_key.serialize_pem()).unwrap();
        std::fs::write(dir.path().join("ca.pem"), ca.pem()).unwrap();
        Self {
            dir,
            ca_pem: ca.pem(),
        }
    }

    /// The directory holding the files (for files of a test's own beside them).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The CA certificate file.
    pub fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The CA certificate's PEM text.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The server certificate file.
    pub fn cert(&self) -> PathBuf {
        self.dir.path().join("server.pem")
    }

    /// The server key file.
    pub fn key(&self) -> PathBuf {
        self.dir.path().join("server.key")
    }
}

impl Default for TestPki {
    fn default() -> Self {
        Self::new()
    }
}

/// Writes a file of zeros at `path` until its file system has no byte left (a small tmpfs
/// of the test's, not a real disk).
pub fn fill_until_full(path: &Path) {
    use std::io::{ErrorKind, Write};

    let mut filler = std::fs::File::create(path).expect("create the filler");
    let chunk = vec![0u8; 64 << 10];
    loop {
        match filler.write_all(&chunk) {
            Ok(()) => {}
            Err(error) if error.kind() == ErrorKind::StorageFull => break,
            Err(error) => panic!("filling the disk: {error}"),
        }
    }
    // The last bytes of a chunk that did not fit whole.
    while filler.write(&chunk[..512]).is_ok_and(|written| written > 0) {}
}
