//! Dashboard users: argon2id password hashes, creation with checks, and
//! sign-in. Sessions are random tokens stored only as SHA-256 hashes.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use crate::admin::{hash_secret, random_bytes};
use crate::error::{Error, Result};
use crate::model::{Role, User};
use crate::storage::Storage;

/// Shortest password accepted.
pub const MIN_PASSWORD: usize = 12;
/// How long a session lasts, in ms (a working day).
pub const SESSION_MS: i64 = 12 * 60 * 60 * 1000;

/// Hashes a password with argon2id (the crate's default parameters: 19 MiB,
/// 2 passes) and a random salt.
pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::encode_b64(&random_bytes::<16>())
        .map_err(|e| Error::Config(format!("salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Config(format!("password hash: {e}")))
}

/// Checks a password against a stored hash.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A hash that no password matches, checked when the user is unknown so
/// that sign-in takes as long for an unknown name as for a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password(&hex::encode(random_bytes::<16>())).unwrap_or_default())
}

/// Creates a user in the named area.
pub fn create_user(
    storage: &dyn Storage,
    area_name: &str,
    username: &str,
    password: &str,
    role: Role,
    free_text: bool,
) -> Result<User> {
    let area = crate::admin::area_named(storage, area_name)?;
    check_username(username)?;
    if password.chars().count() < MIN_PASSWORD {
        return Err(Error::Invalid(format!(
            "a password is at least {MIN_PASSWORD} characters"
        )));
    }
    let user = User {
        id: uuid::Uuid::new_v4().to_string(),
        area_id: area.id,
        username: username.to_owned(),
        password_hash: hash_password(password)?,
        role,
        free_text: free_text || role == Role::Administrator,
    };
    storage.create_user(&user)?;
    Ok(user)
}

/// User names: 2 to 64 of lowercase letters, digits, `.`, `_`, `-`, `@`.
pub fn check_username(username: &str) -> Result<()> {
    let ok = (2..=64).contains(&username.len())
        && username
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-@".contains(c));
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid(
            "a user name is 2 to 64 lowercase letters, digits, '.', '_', '-' or '@'".into(),
        ))
    }
}

/// A random password for generated accounts (24 hex digits).
pub fn generate_password() -> String {
    hex::encode(random_bytes::<12>())
}

/// Signs in: the user and a new session token, or `None` for a wrong name
/// or password (indistinguishable).
pub fn sign_in(
    storage: &dyn Storage,
    username: &str,
    password: &str,
    now: i64,
) -> Result<Option<(User, String)>> {
    let user = storage.user_by_name(username)?;
    let hash = user
        .as_ref()
        .map_or_else(|| decoy_hash(), |u| u.password_hash.as_str());
    if !verify_password(password, hash) {
        return Ok(None);
    }
    let Some(user) = user else {
        return Ok(None);
    };
    let token = hex::encode(random_bytes::<32>());
    storage.create_session(&hash_secret(&token), &user.id, now + SESSION_MS)?;
    Ok(Some((user, token)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_own_hash() {
        let h = hash_password("correct horse battery").expect("hash");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterx", &h));
        assert!(!verify_password("correct horse battery", "not a hash"));
        assert_ne!(
            h,
            hash_password("correct horse battery").expect("hash"),
            "salted"
        );
    }

    #[test]
    fn user_names_are_checked() {
        assert!(check_username("priya.shah@hartlepool").is_ok());
        assert!(check_username("Priya").is_err());
        assert!(check_username("a").is_err());
        assert!(check_username("x y").is_err());
    }
}
