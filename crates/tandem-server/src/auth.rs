//! Passwords (argon2id) and device tokens (random, stored as SHA-256 hashes), the gate
//! that bounds how many passwords are checked at once, and the client address that login
//! limits count (behind trusted proxies, from `X-Forwarded-For`).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;
use sha2::{Digest, Sha256};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::ServerError;

/// How passwords are hashed. Verification reads the parameters from the stored hash, so a
/// change of parameters only affects new hashes.
#[derive(Debug, Clone)]
pub struct PasswordHashing {
    params: Params,
}

impl PasswordHashing {
    /// The OWASP-recommended argon2id parameters (19 MiB, 2 passes, 1 lane).
    pub fn recommended() -> Self {
        Self {
            params: Params::default(),
        }
    }

    /// Deliberately weak parameters that keep test suites fast. Never for real users.
    pub fn fast_insecure_for_tests() -> Self {
        Self {
            params: Params::new(8, 1, 1, None).unwrap_or_default(),
        }
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// Hashes a password into a PHC string.
    pub fn hash(&self, password: &str) -> Result<String, ServerError> {
        let mut salt = [0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        let salt = SaltString::encode_b64(&salt)
            .map_err(|err| ServerError::PasswordHashing(err.to_string()))?;
        self.argon2()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|err| ServerError::PasswordHashing(err.to_string()))
    }

    /// Whether a password matches a stored PHC string.
    pub fn verify(&self, password: &str, phc: &str) -> bool {
        PasswordHash::new(phc)
            .map(|hash| {
                self.argon2()
                    .verify_password(password.as_bytes(), &hash)
                    .is_ok()
            })
            .unwrap_or(false)
    }
}

/// How many logins may have their password checked at once, and how many more may wait.
#[derive(Debug, Clone, Copy)]
pub struct LoginConcurrency {
    /// Passwords checked at the same time (each argon2id check holds its memory, 19 MiB
    /// with the recommended parameters, and a core).
    pub checking: usize,
    /// Logins waiting for a check beyond those; more are answered 503 at once.
    pub waiting: usize,
}

impl Default for LoginConcurrency {
    /// As many checks as the machine has cores, at most 8 (152 MiB), and 64 waiting.
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Self {
            checking: cores.clamp(1, 8),
            waiting: 64,
        }
    }
}

/// Bounds the password checks of one server instance: a login first takes a place
/// ([`LoginGate::try_admit`]; none free means the server answers 503 without counting an
/// attempt), then waits its turn to check ([`LoginPlace::check`]). So a burst of logins,
/// wrong or right, costs at most `checking` times an argon2id check's memory, and the
/// waiting ones only their requests.
#[derive(Debug, Clone)]
pub struct LoginGate {
    places: Arc<Semaphore>,
    checks: Arc<Semaphore>,
}

/// A login's place at the gate, held until its request is answered.
#[derive(Debug)]
pub struct LoginPlace {
    _place: OwnedSemaphorePermit,
    checks: Arc<Semaphore>,
}

impl LoginGate {
    /// A gate with `limits.checking` checks (at least 1) and `limits.waiting` places to
    /// wait.
    pub fn new(limits: LoginConcurrency) -> Self {
        let checking = limits.checking.max(1);
        Self {
            places: Arc::new(Semaphore::new(checking + limits.waiting)),
            checks: Arc::new(Semaphore::new(checking)),
        }
    }

    /// A place for one login, or `None` when every place is taken.
    pub fn try_admit(&self) -> Option<LoginPlace> {
        let place = Arc::clone(&self.places).try_acquire_owned().ok()?;
        Some(LoginPlace {
            _place: place,
            checks: Arc::clone(&self.checks),
        })
    }
}

impl LoginPlace {
    /// Waits for a turn, then checks `password` against `phc` on a blocking thread.
    pub async fn check(
        &self,
        hashing: PasswordHashing,
        password: String,
        phc: String,
    ) -> Result<bool, ServerError> {
        // The gate's semaphores are never closed.
        let turn = Arc::clone(&self.checks)
            .acquire_owned()
            .await
            .map_err(|err| ServerError::TaskFailed(err.to_string()))?;
        // The turn goes with the check: a request given up (a timeout) does not end a check
        // that has begun, so its turn must not be free before the check is.
        tokio::task::spawn_blocking(move || {
            let verified = hashing.verify(&password, &phc);
            drop(turn);
            verified
        })
        .await
        .map_err(|err| ServerError::TaskFailed(err.to_string()))
    }
}

/// The address a login comes from, for its rate limit. Without trusted proxies, or when the
/// peer is not one of them, it is the peer's address: `X-Forwarded-For` is a header anyone
/// can send. From a trusted proxy it is the last hop of `X-Forwarded-For` (all its fields,
/// in order) that is not itself a trusted proxy, read from the right: each proxy appends the
/// address it was connected from, so hops to the right of that one were written by trusted
/// proxies and hops to its left by whoever sent the request, who may lie. A hop that is
/// not an address (with or without a port) ends the walk at the last trusted one, as does a
/// missing header, so a broken proxy counts as one client, never as an address it was
/// told.
pub fn client_address(peer: IpAddr, forwarded_for: &[&str], trusted_proxies: &[IpAddr]) -> IpAddr {
    let trusted = |address: IpAddr| {
        trusted_proxies
            .iter()
            .any(|proxy| proxy.to_canonical() == address.to_canonical())
    };
    let peer = peer.to_canonical();
    if !trusted(peer) {
        return peer;
    }
    let hops = forwarded_for
        .iter()
        .flat_map(|field| field.split(','))
        .map(str::trim)
        .rev();
    let mut client = peer;
    for hop in hops {
        let Some(address) = parse_hop(hop) else {
            return client;
        };
        client = address.to_canonical();
        if !trusted(client) {
            return client;
        }
    }
    client
}

/// An `X-Forwarded-For` hop: an address, or an address with a port (`[v6]:port` too).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|socket| socket.ip()))
}

/// A new device token: 32 random bytes, hex, with a prefix that makes leaked tokens easy
/// to recognise in logs and secret scanners.
pub fn new_device_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("tdt1_{}", hex::encode(bytes))
}

/// The stored form of a device token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hashed_password_verifies_and_a_wrong_one_does_not() {
        let hashing = PasswordHashing::fast_insecure_for_tests();
        let phc = hashing.hash("correct horse").unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(hashing.verify("correct horse", &phc));
        assert!(!hashing.verify("wrong horse", &phc));
        assert!(!hashing.verify("correct horse", "not a hash"));
    }

    #[test]
    fn a_client_address_is_read_from_x_forwarded_for_only_behind_a_trusted_proxy() {
        let ip = |text: &str| text.parse::<IpAddr>().unwrap();
        let proxy = ip("10.0.0.5");
        let trusted = [proxy, ip("10.0.0.6")];
        let cases: &[(&str, &[&str], &[IpAddr], &str)] = &[
            // Off: the header is ignored.
            ("10.0.0.5", &["198.51.100.1"], &[], "10.0.0.5"),
            // A peer that is not a trusted proxy cannot name another address.
            ("203.0.113.9", &["198.51.100.1"], &trusted, "203.0.113.9"),
            ("10.0.0.5", &["198.51.100.1"], &trusted, "198.51.100.1"),
            // What the client put in front is skipped; the proxies' own hops too.
            (
                "10.0.0.5",
                &["1.2.3.4, 198.51.100.1"],
                &trusted,
                "198.51.100.1",
            ),
            (
                "10.0.0.5",
                &["1.2.3.4", "198.51.100.1, 10.0.0.6"],
                &trusted,
                "198.51.100.1",
            ),
            ("10.0.0.5", &["198.51.100.1:4711"], &trusted, "198.51.100.1"),
            ("10.0.0.5", &["[2001:db8::1]:4711"], &trusted, "2001:db8::1"),
            // No header, only proxies, or garbage: the last trusted hop.
            ("10.0.0.5", &[], &trusted, "10.0.0.5"),
            ("10.0.0.5", &["10.0.0.6"], &trusted, "10.0.0.6"),
            ("10.0.0.5", &["198.51.100.1, unknown"], &trusted, "10.0.0.5"),
            // An IPv4 peer seen on an IPv6 socket is the same proxy.
            (
                "::ffff:10.0.0.5",
                &["198.51.100.1"],
                &trusted,
                "198.51.100.1",
            ),
        ];
        for (peer, header, trusted, expected) in cases {
            assert_eq!(
                client_address(ip(peer), header, trusted),
                ip(expected),
                "{peer} {header:?}"
            );
        }
    }

    #[tokio::test]
    async fn a_gate_admits_its_checks_and_waiting_places_and_no_more() {
        let gate = LoginGate::new(LoginConcurrency {
            checking: 2,
            waiting: 1,
        });
        let places: Vec<_> = (0..3).map(|_| gate.try_admit()).collect();
        assert!(places.iter().all(Option::is_some));
        assert!(gate.try_admit().is_none());
        drop(places);
        let place = gate.try_admit().unwrap();
        let hashing = PasswordHashing::fast_insecure_for_tests();
        let phc = hashing.hash("pw").unwrap();
        assert!(place.check(hashing, "pw".into(), phc).await.unwrap());
    }

    #[test]
    fn tokens_are_unique_and_stored_only_as_their_hash() {
        let (a, b) = (new_device_token(), new_device_token());
        assert_ne!(a, b);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
        assert_eq!(token_hash(&a), token_hash(&a));
    }
}
