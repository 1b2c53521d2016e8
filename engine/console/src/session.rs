//! Console sessions, kept in memory by the daemon: a random id (32 bytes from the operating
//! system's CSPRNG through `rand`'s thread generator) in an HttpOnly, SameSite=Strict cookie
//! scoped to `/console`, an idle and an absolute expiry, and the session's CSRF token
//! (synchronizer token). Also the sign-in rate limiter (failed attempts per user name and per
//! client address in a sliding minute).
//!
//! This module owns session state; it must not render pages nor log ids or tokens.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use relance_daemon::config::Role;
use subtle::ConstantTimeEq;

/// The session cookie's name.
pub const COOKIE: &str = "relance_session";
/// The cookie holding the sign-in form's CSRF token before a session exists.
pub const PRE_COOKIE: &str = "relance_signin";
/// A session unused this long is over.
pub const IDLE: Duration = Duration::from_secs(30 * 60);
/// A session is over this long after sign-in, used or not.
pub const ABSOLUTE: Duration = Duration::from_secs(8 * 60 * 60);
/// Failed sign-ins allowed per user name and per address in [`WINDOW`].
pub const MAX_FAILURES: usize = 5;
pub const WINDOW: Duration = Duration::from_secs(60);

/// A random token: 32 bytes from a CSPRNG, URL-safe base64.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Constant-time equality of two tokens.
pub fn same(a: &str, b: &str) -> bool {
    !a.is_empty() && a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// A signed-in person.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: String,
    pub role: Role,
    /// The agenda assignees this person covers (empty: every entry).
    pub agenda: Vec<String>,
    pub csrf: String,
    created: Instant,
    last_seen: Instant,
}

#[derive(Default)]
pub struct Sessions {
    live: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    /// Opens a session; answers its id.
    pub fn open(&self, user: String, role: Role, agenda: Vec<String>) -> String {
        let id = random_token();
        let now = Instant::now();
        let s = Session {
            user,
            role,
            agenda,
            csrf: random_token(),
            created: now,
            last_seen: now,
        };
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        live.retain(|_, s| !s.expired(now));
        live.insert(id.clone(), s);
        id
    }

    /// The live session `id`, touched; an expired one is removed.
    pub fn get(&self, id: &str) -> Option<Session> {
        let now = Instant::now();
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        let s = live.get_mut(id)?;
        if s.expired(now) {
            live.remove(id);
            return None;
        }
        s.last_seen = now;
        Some(s.clone())
    }

    pub fn close(&self, id: &str) {
        self.live
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }
}

impl Session {
    fn expired(&self, now: Instant) -> bool {
        now.duration_since(self.last_seen) > IDLE || now.duration_since(self.created) > ABSOLUTE
    }
}

/// Failed sign-ins by user name and by client address.
#[derive(Default)]
pub struct Limiter {
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

impl Limiter {
    fn keys(user: &str, addr: Option<IpAddr>) -> Vec<String> {
        let mut k = vec![format!("user:{user}")];
        if let Some(a) = addr {
            k.push(format!("addr:{a}"));
        }
        k
    }

    /// Whether another attempt is refused (too many failures in the last minute).
    pub fn blocked(&self, user: &str, addr: Option<IpAddr>) -> bool {
        let now = Instant::now();
        let mut f = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        Self::keys(user, addr).iter().any(|k| {
            let Some(list) = f.get_mut(k) else {
                return false;
            };
            list.retain(|t| now.duration_since(*t) < WINDOW);
            let blocked = list.len() >= MAX_FAILURES;
            if list.is_empty() {
                f.remove(k);
            }
            blocked
        })
    }

    pub fn failed(&self, user: &str, addr: Option<IpAddr>) {
        let now = Instant::now();
        let mut f = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        // Names tried once and never again must not pile up: forget failures out of the window.
        f.retain(|_, list| {
            list.retain(|t| now.duration_since(*t) < WINDOW);
            !list.is_empty()
        });
        for k in Self::keys(user, addr) {
            f.entry(k).or_default().push(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_compared_whole() {
        let (a, b) = (random_token(), random_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(same(&a, &a.clone()));
        assert!(!same(&a, &b));
        assert!(!same(&a, &a[..42]));
        assert!(!same("", ""));
    }

    #[test]
    fn the_sixth_failure_in_a_minute_is_blocked_per_user_and_per_address() {
        let l = Limiter::default();
        let addr: Option<IpAddr> = "127.0.0.1".parse().ok();
        for _ in 0..MAX_FAILURES {
            assert!(!l.blocked("ana", addr));
            l.failed("ana", addr);
        }
        assert!(l.blocked("ana", addr));
        // Another user from the same address: blocked by the address.
        assert!(l.blocked("bob", addr));
        // Another user from elsewhere: free.
        assert!(!l.blocked("bob", "127.0.0.2".parse().ok()));
        // Asking about names never tried keeps nothing.
        for i in 0..100 {
            assert!(!l.blocked(&format!("probe{i}"), None));
        }
        assert_eq!(l.failures.lock().unwrap().len(), 2);
    }

    #[test]
    fn a_closed_session_is_gone() {
        let s = Sessions::default();
        let id = s.open("ana".into(), Role::Sales, vec![]);
        assert_eq!(s.get(&id).map(|x| x.user), Some("ana".to_string()));
        s.close(&id);
        assert!(s.get(&id).is_none());
        assert!(s.get("made-up").is_none());
    }
}
