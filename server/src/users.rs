//! Dashboard users: argon2id password hashes, creation with checks, and
//! sign-in. Sessions are random tokens stored only as SHA-256 hashes.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use crate::admin::{hash_secret, random_bytes};
use crate::error::{Error, Result};
use crate::model::{Area, AuditEntry, Role, User};
use crate::storage::Storage;
use crate::throttle::{PER_ADDRESS, PER_USER};

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
    check_password(password, &[username, area_name])?;
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

/// Passwords: at least [`MIN_PASSWORD`] characters and not easy to guess
/// (zxcvbn's estimate: score 3 of 4 or better, the user's own name and
/// area counted as known words).
pub fn check_password(password: &str, known: &[&str]) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(Error::Invalid(format!(
            "a password is at least {MIN_PASSWORD} characters"
        )));
    }
    let estimate = zxcvbn::zxcvbn(password, known);
    if estimate.score() < zxcvbn::Score::Three {
        let why = estimate
            .feedback()
            .and_then(|f| f.warning())
            .map(|w| format!(" ({w})"))
            .unwrap_or_default();
        return Err(Error::Invalid(format!(
            "this password is too easy to guess{why}: use a longer passphrase of unrelated words"
        )));
    }
    Ok(())
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

/// How a sign-in ended.
#[derive(Debug)]
pub enum SignIn {
    /// Signed in: the user, their area and a new session token.
    Ok(User, Area, String),
    /// Wrong user name or password (indistinguishable).
    Wrong,
    /// Too many failures for this name or address: try again in this many
    /// minutes.
    Locked(i64),
}

/// Appends to an area's audit log.
fn audit(
    storage: &dyn Storage,
    area_id: &str,
    actor: &str,
    action: &str,
    detail: String,
    now: i64,
) -> Result<()> {
    storage.audit(&AuditEntry {
        seq: 0,
        at: now,
        area_id: area_id.to_owned(),
        actor: actor.to_owned(),
        action: action.to_owned(),
        detail,
    })
}

/// Signs in from `address`, throttled per user name and per address (see
/// `throttle.rs`). Every failure and every lockout of a known user name is
/// recorded in its area's audit log with the address; failures for
/// unknown names go to the server log.
pub fn sign_in(
    storage: &dyn Storage,
    username: &str,
    password: &str,
    address: &str,
    now: i64,
) -> Result<SignIn> {
    let user_key = format!("user:{}", username.trim().to_lowercase());
    let addr_key = format!("addr:{address}");
    let by_user = storage.sign_in_failures(&user_key)?;
    let by_addr = storage.sign_in_failures(&addr_key)?;
    let locked = PER_USER
        .locked_for(by_user.as_ref(), now)
        .max(PER_ADDRESS.locked_for(by_addr.as_ref(), now));
    if let Some(minutes) = locked {
        return Ok(SignIn::Locked(minutes));
    }
    let user = storage.user_by_name(username)?;
    let hash = user
        .as_ref()
        .map_or_else(|| decoy_hash(), |u| u.password_hash.as_str());
    let verified = verify_password(password, hash);
    match user {
        Some(user) if verified => {
            storage.set_sign_in_failures(&user_key, None)?;
            let area = storage
                .area(&user.area_id)?
                .ok_or_else(|| Error::NotFound("area".into()))?;
            let token = hex::encode(random_bytes::<32>());
            storage.create_session(&hash_secret(&token), &user.id, now + SESSION_MS)?;
            audit(
                storage,
                &area.id,
                &user.username,
                "session.start",
                address.to_owned(),
                now,
            )?;
            Ok(SignIn::Ok(user, area, token))
        }
        user => {
            let (f, user_locked) = PER_USER.fail(by_user, now);
            storage.set_sign_in_failures(&user_key, Some(&f))?;
            let (f, addr_locked) = PER_ADDRESS.fail(by_addr, now);
            storage.set_sign_in_failures(&addr_key, Some(&f))?;
            match &user {
                Some(u) => {
                    audit(
                        storage,
                        &u.area_id,
                        &u.username,
                        "session.failed",
                        address.to_owned(),
                        now,
                    )?;
                    if user_locked || addr_locked {
                        audit(
                            storage,
                            &u.area_id,
                            &u.username,
                            "session.locked",
                            format!("{address}: too many failed sign-ins"),
                            now,
                        )?;
                    }
                }
                None => tracing::warn!(%address, "sign-in with an unknown user name"),
            }
            if user_locked || addr_locked {
                tracing::warn!(%address, "sign-ins locked for 15 minutes");
            }
            Ok(SignIn::Wrong)
        }
    }
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
    fn weak_passwords_are_refused_with_a_reason() {
        for weak in [
            "password1234",
            "qwertyuiop123",
            "hartlepool2026",
            "priyapriya12",
        ] {
            let err = check_password(weak, &["priya", "hartlepool"]).expect_err(weak);
            assert!(
                err.to_string().contains("too easy to guess"),
                "{weak}: {err}"
            );
        }
        assert!(check_password("short", &[]).is_err());
        assert!(check_password("violet tractor lemonade ninety", &["priya"]).is_ok());
        assert!(
            check_password(&generate_password(), &[]).is_ok(),
            "generated ones pass"
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
