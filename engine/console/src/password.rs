//! Password hashing for the console's users: argon2id PHC strings (the `argon2` crate with
//! its default parameters), made by `relance console hash-password` and checked at sign-in.
//!
//! This module owns hashing and verification; it must not log, store or compare passwords
//! any other way.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// An argon2id PHC string of `password` with a fresh random salt.
pub fn hash(password: &str) -> Result<String, String> {
    // 16 bytes of salt from the thread CSPRNG (seeded by the operating system).
    let mut bytes = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    let salt = SaltString::encode_b64(&bytes).map_err(|e| e.to_string())?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Whether `password` matches the PHC string `phc` (false for an unreadable hash).
pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash of no one's password, checked when the user name is unknown so that an unknown
/// name takes as long as a wrong password.
pub fn decoy() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash("relance decoy password").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_hash_verifies_its_password_only() {
        let h = super::hash("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        let rows = [
            ("correct horse", true),
            ("correct hors", false),
            ("", false),
        ];
        for (pw, ok) in rows {
            assert_eq!(super::verify(pw, &h), ok, "{pw:?}");
        }
        assert!(!super::verify("correct horse", "not a hash"));
    }
}
