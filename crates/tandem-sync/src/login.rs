//! Signing a store in: the online login that registers this laptop as a device, and the
//! offline check of a password against the argon2id verifier kept in the encrypted store.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Utc};
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

/// Whether `username` and `password` match the sign-in kept in the store (offline sign-in),
/// at `now`. Wrong passwords are counted in the store; from the fifth in a row unlocking is
/// refused for a growing wait ([`tandem_store::lockout_after`]) with
/// [`SyncError::LockedOut`], without even checking the password. The right one resets the
/// count.
pub fn verify_offline(
    store: &mut Store,
    username: &str,
    password: &str,
    now: DateTime<Utc>,
) -> Result<bool, SyncError> {
    let Some(sign_in) = store.sign_in()? else {
        return Err(SyncError::NotSignedIn);
    };
    let locked_out = |until: DateTime<Utc>| SyncError::LockedOut {
        until,
        wait_secs: u64::try_from((until - now).num_milliseconds())
            .map_or(0, |ms| ms.div_ceil(1000)),
    };
    if let Some(until) = store.unlock_locked_until(now)? {
        return Err(locked_out(until));
    }
    let matches = sign_in.username == username
        && PasswordHash::new(&sign_in.password_verifier).is_ok_and(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        });
    if matches {
        store.record_unlock_success()?;
        return Ok(true);
    }
    match store.record_unlock_failure(now)? {
        Some(until) => Err(locked_out(until)),
        None => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeDelta, TimeZone};
    use tandem_store::{STORE_FILE_NAME, StoreKey};

    fn signed_in_store(dir: &std::path::Path, key: &StoreKey) -> Store {
        let mut store = Store::open_with_key(&dir.join(STORE_FILE_NAME), key).unwrap();
        store
            .record_sign_in(&SignIn {
                server_url: "http://127.0.0.1:1".into(),
                user_id: uuid::Uuid::from_u128(1),
                username: "coach".into(),
                role: "coach".into(),
                team_id: uuid::Uuid::from_u128(2),
                team_name: "north".into(),
                device_id: uuid::Uuid::from_u128(3),
                device_name: "laptop".into(),
                password_verifier: password_verifier("correct horse").unwrap(),
            })
            .unwrap();
        store
    }

    #[test]
    fn the_fifth_wrong_password_locks_out_across_a_restart_even_the_right_one_until_the_wait_ends()
    {
        let dir = tempfile::tempdir().unwrap();
        let key = StoreKey::generate();
        let mut store = signed_in_store(dir.path(), &key);
        let t0 = Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 0).unwrap();
        for _ in 0..4 {
            assert!(!verify_offline(&mut store, "coach", "wrong", t0).unwrap());
        }
        let err = verify_offline(&mut store, "coach", "wrong", t0).unwrap_err();
        assert!(
            matches!(err, SyncError::LockedOut { wait_secs: 30, .. }),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .starts_with("Too many wrong passwords: try again in 30 seconds")
        );
        drop(store);
        let mut store = Store::open_with_key(&dir.path().join(STORE_FILE_NAME), &key).unwrap();
        let later = t0 + TimeDelta::seconds(20);
        let err = verify_offline(&mut store, "coach", "correct horse", later).unwrap_err();
        assert!(
            matches!(err, SyncError::LockedOut { wait_secs: 10, .. }),
            "{err:?}"
        );
        assert_eq!(err.kind(), "locked_out");
        let after = t0 + TimeDelta::seconds(30);
        assert!(verify_offline(&mut store, "coach", "correct horse", after).unwrap());
        // The right password reset the count: four more wrong ones are free again.
        for _ in 0..4 {
            assert!(!verify_offline(&mut store, "coach", "wrong", after).unwrap());
        }
        // A wrong user name counts like a wrong password: this is the fifth.
        assert!(matches!(
            verify_offline(&mut store, "someone", "correct horse", after),
            Err(SyncError::LockedOut { .. })
        ));
    }

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
