//! Console sessions: a random id (32 bytes from the operating system's CSPRNG through
//! `rand`'s thread generator) in an HttpOnly, SameSite=Strict cookie scoped to `/console`, an
//! idle and an absolute expiry (wall-clock seconds), and the session's CSRF token
//! (synchronizer token). Kept in memory and, when given a store ([`Keep`]), also in the
//! daemon's store so that they survive a restart: under the SHA-256 of the id (the id itself
//! is never stored), in the `meta` tree (`console_session/` + hex digest), written at sign-in,
//! at most once a minute when used, deleted at sign-out; one read back after a restart must
//! still be live and its user still configured with the same role. Also the sign-in rate
//! limiter (failed attempts per user name and per client address in a sliding minute).
//!
//! This module owns session state; it must not render pages nor log ids or tokens.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use relance_daemon::Engine;
use relance_daemon::config::Role;
use relance_daemon::store::{Op, Store, Tree};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
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

/// How often a used session's last use is written to the store.
pub const TOUCH: u64 = 60;

/// Wall-clock seconds since the epoch.
fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A signed-in person.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    pub user: String,
    pub role: Role,
    /// The agenda assignees this person covers (empty: every entry).
    pub agenda: Vec<String>,
    pub csrf: String,
    /// Sign-in and last use, wall-clock seconds.
    created: u64,
    last_seen: u64,
    /// The last use written to the store.
    #[serde(skip)]
    stored_seen: u64,
}

/// Where sessions are kept across restarts, and who may still hold one: the (name, role)
/// pairs configured (console users and API tokens).
pub struct Keep {
    pub engine: Arc<Engine>,
    pub allowed: Vec<(String, Role)>,
}

impl Keep {
    fn store(&self) -> &dyn Store {
        self.engine.store()
    }
}

#[derive(Default)]
pub struct Sessions {
    live: Mutex<HashMap<String, Session>>,
    keep: Option<Keep>,
}

const PREFIX: &[u8] = b"console_session/";

/// The store key of session `id`: its SHA-256, hex.
fn key(id: &str) -> Vec<u8> {
    let digest = Sha256::digest(id.as_bytes());
    let mut k = PREFIX.to_vec();
    for b in digest {
        k.extend(format!("{b:02x}").bytes());
    }
    k
}

impl Sessions {
    /// Sessions kept in `keep`'s store too.
    pub fn kept(keep: Keep) -> Sessions {
        Sessions {
            live: Mutex::default(),
            keep: Some(keep),
        }
    }

    fn write(&self, id: &str, s: Option<&Session>) {
        let Some(k) = &self.keep else {
            return;
        };
        let op = match s.map(serde_json::to_vec) {
            Some(Ok(v)) => Op::Put(Tree::Meta, key(id), v),
            Some(Err(_)) => return,
            None => Op::Delete(Tree::Meta, key(id)),
        };
        if let Err(e) = k.store().commit(&[op]) {
            tracing::warn!(error = %e, "console session not stored");
        }
    }

    /// Drops the stored sessions that are over.
    fn prune(&self, now: u64) {
        let Some(k) = &self.keep else {
            return;
        };
        let Ok(rows) = k.store().prefix(Tree::Meta, PREFIX, usize::MAX) else {
            return;
        };
        let ops: Vec<Op> = rows
            .into_iter()
            .filter(|(_, v)| serde_json::from_slice::<Session>(v).map_or(true, |s| s.expired(now)))
            .map(|(key, _)| Op::Delete(Tree::Meta, key))
            .collect();
        if !ops.is_empty() {
            let _ = k.store().commit(&ops);
        }
    }

    /// A session read back from the store: live, and its user still configured so.
    fn restore(&self, id: &str, now: u64) -> Option<Session> {
        let k = self.keep.as_ref()?;
        let bytes = k.store().get(Tree::Meta, &key(id)).ok()??;
        let mut s: Session = serde_json::from_slice(&bytes).ok()?;
        let allowed = k.allowed.iter().any(|(n, r)| *n == s.user && *r == s.role);
        if s.expired(now) || !allowed {
            self.write(id, None);
            return None;
        }
        s.stored_seen = s.last_seen;
        Some(s)
    }

    /// Opens a session; answers its id.
    pub fn open(&self, user: String, role: Role, agenda: Vec<String>) -> String {
        let id = random_token();
        let now = now_secs();
        let s = Session {
            user,
            role,
            agenda,
            csrf: random_token(),
            created: now,
            last_seen: now,
            stored_seen: now,
        };
        self.write(&id, Some(&s));
        self.prune(now);
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        live.retain(|_, s| !s.expired(now));
        live.insert(id.clone(), s);
        id
    }

    /// The live session `id`, touched; an expired one is removed.
    pub fn get(&self, id: &str) -> Option<Session> {
        let now = now_secs();
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        if !live.contains_key(id) {
            let s = self.restore(id, now)?;
            live.insert(id.to_string(), s);
        }
        let s = live.get_mut(id)?;
        if s.expired(now) {
            live.remove(id);
            drop(live);
            self.write(id, None);
            return None;
        }
        s.last_seen = now;
        let out = s.clone();
        if now >= s.stored_seen + TOUCH {
            s.stored_seen = now;
            drop(live);
            self.write(id, Some(&out));
        }
        Some(out)
    }

    pub fn close(&self, id: &str) {
        self.live
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
        self.write(id, None);
    }
}

impl Session {
    fn expired(&self, now: u64) -> bool {
        now.saturating_sub(self.last_seen) > IDLE.as_secs()
            || now.saturating_sub(self.created) > ABSOLUTE.as_secs()
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

    fn kept(allowed: Vec<(String, Role)>, engine: Arc<Engine>) -> Sessions {
        Sessions::kept(Keep { engine, allowed })
    }

    #[test]
    fn a_kept_session_survives_a_restart_unless_closed_expired_or_unconfigured() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> =
            Arc::new(relance_daemon::store::SledStore::open(dir.path()).unwrap());
        let day = chrono::NaiveDate::from_ymd_opt(2026, 4, 1).unwrap();
        let clock = Arc::new(relance_daemon::clock::VirtualClock::new(day));
        let engine = Arc::new(Engine::open(store.clone(), clock).unwrap());
        let ana = || vec![("ana".to_string(), Role::Sales)];
        let before = kept(ana(), engine.clone());
        let id = before.open("ana".into(), Role::Sales, vec!["sales".into()]);
        let closed = before.open("ana".into(), Role::Sales, vec![]);
        before.close(&closed);
        let csrf = before.get(&id).unwrap().csrf;
        // The id is not in the store, only its digest.
        let rows = store.prefix(Tree::Meta, PREFIX, usize::MAX).unwrap();
        assert_eq!(rows.len(), 1);
        assert!(!String::from_utf8_lossy(&rows[0].1).contains(&id));
        assert!(!String::from_utf8_lossy(&rows[0].0).contains(&id));
        drop(before);

        // (who is configured, the session's last use moved back by, still signed in)
        type Row = (Vec<(String, Role)>, u64, bool);
        let rows: &[Row] = &[
            (ana(), 0, true),
            (vec![("ana".to_string(), Role::Admin)], 0, false),
            (vec![], 0, false),
            (ana(), IDLE.as_secs() + 1, false),
        ];
        for (n, (allowed, ago, live)) in rows.iter().enumerate() {
            let mut stored: Session =
                serde_json::from_slice(&store.get(Tree::Meta, &key(&id)).unwrap().unwrap())
                    .unwrap();
            stored.last_seen = now_secs() - ago;
            store
                .commit(&[Op::Put(
                    Tree::Meta,
                    key(&id),
                    serde_json::to_vec(&stored).unwrap(),
                )])
                .unwrap();
            let after = kept(allowed.clone(), engine.clone());
            let got = after.get(&id);
            assert_eq!(got.is_some(), *live, "row {n}");
            if let Some(s) = got {
                assert_eq!(
                    (s.user, s.csrf, s.agenda),
                    ("ana".into(), csrf.clone(), vec!["sales".to_string()])
                );
            } else {
                // A refused session is deleted from the store: put it back for the next row.
                assert!(
                    store.get(Tree::Meta, &key(&id)).unwrap().is_none(),
                    "row {n}"
                );
                store
                    .commit(&[Op::Put(
                        Tree::Meta,
                        key(&id),
                        serde_json::to_vec(&stored).unwrap(),
                    )])
                    .unwrap();
            }
            assert!(after.get(&closed).is_none(), "row {n}: signed out");
        }
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
