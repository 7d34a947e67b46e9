//! Passwords (argon2id) and device tokens (random, stored as SHA-256 hashes).

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;
use sha2::{Digest, Sha256};

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
    fn tokens_are_unique_and_stored_only_as_their_hash() {
        let (a, b) = (new_device_token(), new_device_token());
        assert_ne!(a, b);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
        assert_eq!(token_hash(&a), token_hash(&a));
    }
}
