//! Wall-clock call deadlines. Wasmer 7 has no epoch interruption, so ndp keeps one watchdog
//! thread per [`crate::Runtime`] that interrupts a store (Wasmer's `experimental-host-interrupt`,
//! a signal to the thread running it) once its deadline has passed.
//!
//! Arming a deadline is a mutex-protected insert into a slab and never wakes the watchdog,
//! except when it parked after [`LINGER`] with nothing armed. While calls are armed the
//! watchdog ticks every [`TICK`], so a deadline fires at most one tick late. An interrupt can be missed
//! (it is best effort when the guest is between wasm and host code), so an expired call is
//! interrupted again on every tick until its guard is dropped.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};
use wasmer::Interrupter;

/// Granularity of deadline checks while at least one call is armed.
pub(crate) const TICK: Duration = Duration::from_millis(5);

struct Entry {
    deadline: Instant,
    interrupter: Interrupter,
    fired: Arc<AtomicBool>,
}

#[derive(Default)]
struct Slots {
    entries: Vec<Option<Entry>>,
    free: Vec<usize>,
    armed: usize,
    /// The watchdog is blocked until woken (nothing armed for [`LINGER`]).
    parked: bool,
    shutdown: bool,
}

/// How long the watchdog keeps ticking with nothing armed before it parks, so that calls in
/// quick succession never pay for waking it.
const LINGER: Duration = Duration::from_millis(200);

#[derive(Default)]
struct Shared {
    slots: Mutex<Slots>,
    wake: Condvar,
}

/// Handle to the watchdog thread; dropping it stops the thread.
pub(crate) struct Watchdog {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Watchdog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watchdog").finish_non_exhaustive()
    }
}

/// An armed deadline; disarmed on drop. [`Armed::fired`] tells whether it expired.
pub(crate) struct Armed<'a> {
    shared: &'a Shared,
    slot: usize,
    fired: Arc<AtomicBool>,
}

impl Armed<'_> {
    pub(crate) fn fired(&self) -> bool {
        self.fired.load(Ordering::Acquire)
    }
}

impl Drop for Armed<'_> {
    fn drop(&mut self) {
        let mut slots = self.shared.slots.lock();
        if let Some(entry) = slots.entries.get_mut(self.slot) {
            *entry = None;
        }
        slots.free.push(self.slot);
        slots.armed -= 1;
    }
}

impl Watchdog {
    pub(crate) fn start() -> std::io::Result<Self> {
        let shared = Arc::new(Shared::default());
        let worker = Arc::clone(&shared);
        thread::Builder::new()
            .name("ndp-watchdog".into())
            .spawn(move || run(&worker))?;
        Ok(Self { shared })
    }

    /// Arms `deadline` for the store behind `interrupter` until the guard is dropped.
    pub(crate) fn arm(&self, deadline: Instant, interrupter: Interrupter) -> Armed<'_> {
        let fired = Arc::new(AtomicBool::new(false));
        let entry = Entry {
            deadline,
            interrupter,
            fired: Arc::clone(&fired),
        };
        let mut slots = self.shared.slots.lock();
        let slot = match slots.free.pop() {
            Some(slot) => {
                slots.entries[slot] = Some(entry);
                slot
            }
            None => {
                slots.entries.push(Some(entry));
                slots.entries.len() - 1
            }
        };
        slots.armed += 1;
        if slots.parked {
            self.shared.wake.notify_one();
        }
        Armed {
            shared: &self.shared,
            slot,
            fired,
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.shared.slots.lock().shutdown = true;
        self.shared.wake.notify_one();
    }
}

fn run(shared: &Shared) {
    let mut slots = shared.slots.lock();
    let mut idle_since = Instant::now();
    loop {
        if slots.shutdown {
            return;
        }
        if slots.armed == 0 {
            if idle_since.elapsed() < LINGER {
                shared.wake.wait_for(&mut slots, TICK);
            } else {
                slots.parked = true;
                shared.wake.wait(&mut slots);
                slots.parked = false;
                idle_since = Instant::now();
            }
            continue;
        }
        idle_since = Instant::now();
        let now = Instant::now();
        for entry in slots.entries.iter().flatten() {
            if entry.deadline <= now {
                entry.fired.store(true, Ordering::Release);
                entry.interrupter.interrupt();
            }
        }
        shared.wake.wait_for(&mut slots, TICK);
    }
}
