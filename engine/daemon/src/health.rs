//! Readiness for `/healthz`: the dispatcher's heartbeat (a monotonic instant its loop updates;
//! stopped when its task ends, panic included) and the verdict on it.
//!
//! The store's side (last commit or flush failed) is `Store::last_error`; this module owns
//! what "the dispatcher is alive" means; it must not touch the store.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What `/healthz` says of the dispatcher.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DispatcherState {
    /// Its loop ran within the limit.
    Alive,
    /// Its loop has not run for longer than the limit (stuck).
    Stalled,
    /// Its task ended (shutdown, or a panic).
    Stopped,
    /// This process runs no dispatcher (the API embedded without one, as in tests).
    NotRunning,
}

/// The dispatcher's heartbeat.
pub struct Heartbeat {
    origin: Instant,
    /// Milliseconds from `origin` to the last beat.
    last_ms: AtomicU64,
    stopped: AtomicBool,
    /// How long without a beat makes the dispatcher stalled.
    pub limit: Duration,
}

impl Heartbeat {
    /// A heartbeat beaten now; stalled after `limit` without a beat.
    pub fn new(limit: Duration) -> Heartbeat {
        Heartbeat {
            origin: Instant::now(),
            last_ms: AtomicU64::new(0),
            stopped: AtomicBool::new(false),
            limit,
        }
    }

    pub fn beat(&self) {
        let ms = u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    pub fn stop(&self) {
        self.stopped.store(true, Ordering::Relaxed);
    }

    /// The state at `now`.
    pub fn state_at(&self, now: Instant) -> DispatcherState {
        if self.stopped.load(Ordering::Relaxed) {
            return DispatcherState::Stopped;
        }
        let last = self.origin + Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
        if now.saturating_duration_since(last) > self.limit {
            DispatcherState::Stalled
        } else {
            DispatcherState::Alive
        }
    }

    pub fn state(&self) -> DispatcherState {
        self.state_at(Instant::now())
    }
}

/// Marks the heartbeat stopped when dropped: held by the dispatcher's task, so its end (a
/// return or a panic unwinding it) is seen.
pub struct StopOnDrop(pub Arc<Heartbeat>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_heartbeat_is_alive_then_stalled_then_stopped() {
        let hb = Arc::new(Heartbeat::new(Duration::from_secs(60)));
        hb.beat();
        let at = hb.origin + Duration::from_millis(hb.last_ms.load(Ordering::Relaxed));
        assert_eq!(
            hb.state_at(at + Duration::from_secs(59)),
            DispatcherState::Alive
        );
        assert_eq!(
            hb.state_at(at + Duration::from_secs(61)),
            DispatcherState::Stalled
        );
        drop(StopOnDrop(hb.clone()));
        assert_eq!(hb.state_at(at), DispatcherState::Stopped);
    }
}
