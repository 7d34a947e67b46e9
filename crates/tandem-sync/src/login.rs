//! Signing a store in: the online login that registers this laptop as a device, and the
//! offline check of a password against the argon2id verifier kept in the encrypted store.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use tandem_protocol::{LoginRequest, LoginResponse};
use tandem_store::{SignIn, Store};

use crate::SyncError;
use crate::credentials::DeviceToken;
use crate::transport::HttpTransport;

/// What a person types to sign in.
#[derive(Debug, Clone)]
pub struct LoginInput {
    /// The login name.
    pub username: String,
    /// The password (sent once over TLS; only a verifier is kept).
    pub password: zeroize::Zeroizing<String>,
    /// The team, when the user belongs to several.
    pub team: Option<String>,
    /// The laptop's name, shown to team leads.
    pub device_name: String,
}

/// Logs in online and records the sign-in in the store (see
/// [`Store::record_sign_in`]); returns the server's answer and the device token, which the
/// caller keeps in the OS keyring. Nothing is written to the store when the login fails.
pub async fn sign_in(
    store: &mut Store,
    transport: &HttpTransport,
    input: &LoginInput,
) -> Result<(LoginResponse, DeviceToken), SyncError> {
    let response = transport
        .login(&LoginRequest {
            username: input.username.clone(),
            password: input.password.to_string(),
            device_name: input.device_name.clone(),
            team: input.team.clone(),
        })
        .await?;
    let team = response.team.clone().ok_or_else(|| SyncError::Forbidden {
        message:
            "this account belongs to no team (an admin account keeps no client data on a laptop)"
                .to_owned(),
    })?;
    let verifier = password_verifier(&input.password)?;
    store.record_sign_in(&SignIn {
        server_url: transport.server_url().to_owned(),
        user_id: response.user.id,
        username: response.user.username.clone(),
        role: response.role.as_str().to_owned(),
        team_id: team.id,
        team_name: team.name,
        device_id: response.device_id,
        device_name: input.device_name.clone(),
        password_verifier: verifier,
    })?;
    let token = DeviceToken::new(response.device_token.clone());
    Ok((response, token))
}

/// An argon2id PHC string of `password` with a fresh salt.
pub fn password_verifier(password: &str) -> Result<String, SyncError> {
    let mut bytes = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    let salt = SaltString::encode_b64(&bytes).map_err(|error| SyncError::Protocol {
        detail: format!("cannot make a salt: {error}"),
    })?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| SyncError::Protocol {
            detail: format!("cannot make the password verifier: {error}"),
        })
}

/// Whether `username` and `password` match the sign-in kept in the store (offline sign-in).
pub fn verify_offline(store: &Store, username: &str, password: &str) -> Result<bool, SyncError> {
    let Some(sign_in) = store.sign_in()? else {
        return Err(SyncError::NotSignedIn);
    };
    if sign_in.username != username {
        return Ok(false);
    }
    let Ok(hash) = PasswordHash::new(&sign_in.password_verifier) else {
        return Ok(false);
    };
    Ok(Argon2::default()
        .verify_password(password.as_bytes(), &hash)
        .is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verifier_accepts_its_password_and_nothing_else() {
        let verifier = password_verifier("correct horse").unwrap();
        assert!(verifier.starts_with("$argon2id$"));
        let hash = PasswordHash::new(&verifier).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse", &hash)
                .is_ok()
        );
        assert!(
            Argon2::default()
                .verify_password(b"wrong horse", &hash)
                .is_err()
        );
    }
}
