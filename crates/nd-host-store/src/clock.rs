//! Time as the state services see it: the real clock, or a [`ManualClock`] that tests move
//! by hand, so that TTLs, schedules and retry backoffs are tested in virtual time instead of
//! by sleeping.

use std::fmt;
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;

/// Something to call when a clock jumps; kept weakly by the clock.
pub type Waker = dyn Fn() + Send + Sync;

/// A source of wall-clock time.
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The current time.
    fn now(&self) -> SystemTime;

    /// Asks to be told, through `waker`, every time this clock jumps. A clock that moves by
    /// itself never calls it: whoever waits on it must wait with a timeout instead. The clock
    /// keeps `waker` weakly, so dropping the `Arc` unsubscribes.
    fn subscribe(&self, waker: Weak<Waker>) {
        let _ = waker;
    }

    /// True if the clock moves only when told to ([`ManualClock`]); waiting with a real
    /// timeout on such a clock is pointless.
    fn is_manual(&self) -> bool {
        false
    }

    /// Milliseconds since the Unix epoch (0 before it).
    fn now_millis(&self) -> i64 {
        millis(self.now())
    }
}

/// Milliseconds since the Unix epoch of `t` (0 before it, saturating far in the future).
pub fn millis(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The time `ms` milliseconds after the Unix epoch (negative values clamp to the epoch).
pub fn from_millis(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

/// A shared clock, as services hold it.
pub type SharedClock = Arc<dyn Clock>;

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// The real clock as a [`SharedClock`].
pub fn system_clock() -> SharedClock {
    Arc::new(SystemClock)
}

/// A clock that stands still until [`ManualClock::advance`] or [`ManualClock::set`] moves it.
pub struct ManualClock {
    now: Mutex<SystemTime>,
    wakers: Mutex<Vec<Weak<Waker>>>,
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManualClock")
            .field("now", &*self.now.lock())
            .finish_non_exhaustive()
    }
}

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: SystemTime) -> Arc<Self> {
        Arc::new(Self {
            now: Mutex::new(start),
            wakers: Mutex::new(Vec::new()),
        })
    }

    /// A clock standing at 2026-01-01T00:00:00Z, a fixed point that keeps tests repeatable.
    pub fn at_fixed_start() -> Arc<Self> {
        Self::new(UNIX_EPOCH + Duration::from_secs(1_767_225_600))
    }

    /// Moves the clock forward by `by` and wakes every subscriber.
    pub fn advance(&self, by: Duration) {
        {
            let mut now = self.now.lock();
            *now += by;
        }
        self.wake();
    }

    /// Sets the clock to `to` (which may be in the past) and wakes every subscriber.
    pub fn set(&self, to: SystemTime) {
        *self.now.lock() = to;
        self.wake();
    }

    fn wake(&self) {
        let live: Vec<Arc<Waker>> = {
            let mut wakers = self.wakers.lock();
            wakers.retain(|w| w.strong_count() > 0);
            wakers.iter().filter_map(Weak::upgrade).collect()
        };
        for waker in live {
            waker();
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.now.lock()
    }

    fn subscribe(&self, waker: Weak<Waker>) {
        self.wakers.lock().push(waker);
    }

    fn is_manual(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn manual_clock_moves_only_when_told_and_wakes_live_subscribers() {
        let clock = ManualClock::at_fixed_start();
        let start = clock.now();
        assert_eq!(clock.now(), start);
        let hits = Arc::new(AtomicUsize::new(0));
        let h = Arc::clone(&hits);
        let waker: Arc<Waker> = Arc::new(move || {
            h.fetch_add(1, Ordering::SeqCst);
        });
        clock.subscribe(Arc::downgrade(&waker));
        clock.advance(Duration::from_secs(5));
        assert_eq!(clock.now(), start + Duration::from_secs(5));
        assert_eq!(hits.load(Ordering::SeqCst), 1);
        drop(waker);
        clock.advance(Duration::from_secs(5));
        assert_eq!(hits.load(Ordering::SeqCst), 1);
        assert_eq!(clock.now_millis(), millis(start) + 10_000);
    }

    #[test]
    fn millis_round_trip_and_clamp() {
        let t = from_millis(1_234_567);
        assert_eq!(millis(t), 1_234_567);
        assert_eq!(from_millis(-5), UNIX_EPOCH);
    }
}
