//! Ctrl-C and SIGTERM as a flag that runs and sweeps poll.
//!
//! Until [`watch`] is called a signal kills the tool at once. Every measured run and every
//! comparison calls it first; from then on SIGINT and SIGTERM only set a flag, so the run can
//! stop starting tasks (queued ones are recorded as cut short), kill and reap its worker
//! processes and the embedded server, remove its temporary out-dir, and still print what
//! finished. A second signal exits at once with 128 + the signal number, for a user who does
//! not want to wait, but only if it comes [`SAME_REQUEST`] or more after the first: a
//! terminal's Ctrl-C and `timeout` signal the whole process group, so one request can arrive
//! twice within microseconds (GNU `timeout` signals the command and then its group), and
//! counting that as two would exit without a record.

use std::io;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use signal_hook::consts::{SIGINT, SIGTERM};

/// The signal that asked the run to stop, 0 for none.
static SIGNAL: AtomicUsize = AtomicUsize::new(0);
/// When it arrived (CLOCK_MONOTONIC ns), 0 for not yet.
static FIRST_AT: AtomicU64 = AtomicU64::new(0);

/// Signals this close after the first are the same request delivered twice, not a second one.
pub const SAME_REQUEST: Duration = Duration::from_millis(250);

/// What a signal handler does: the first signal is recorded; one [`SAME_REQUEST`] or more
/// after it exits at once. Only atomics, `clock_gettime` and `_exit`: async-signal-safe.
fn on_signal(sig: i32) {
    // clock_gettime is async-signal-safe (POSIX).
    let now = crate::clock::now_ns().max(1);
    match FIRST_AT.compare_exchange(0, now, Ordering::SeqCst, Ordering::SeqCst) {
        Ok(_) => SIGNAL.store(sig as usize, Ordering::SeqCst),
        Err(first) if now.saturating_sub(first) >= SAME_REQUEST.as_nanos() as u64 => {
            signal_hook::low_level::exit(128 + sig)
        }
        Err(_) => {}
    }
}

/// Turns SIGINT and SIGTERM into a flag for the rest of the process's life. Idempotent.
pub fn watch() -> io::Result<()> {
    static INSTALLED: OnceLock<io::Result<()>> = OnceLock::new();
    let installed = INSTALLED.get_or_init(|| {
        for sig in [SIGINT, SIGTERM] {
            // SAFETY: the action only touches atomics, reads the monotonic clock and calls
            // _exit, all async-signal-safe (see `on_signal`).
            unsafe { signal_hook::low_level::register(sig, move || on_signal(sig)) }?;
        }
        Ok(())
    });
    match installed {
        Ok(()) => Ok(()),
        Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
    }
}

/// The signal that asked the run to stop, if one has arrived since [`watch`].
pub fn requested() -> Option<i32> {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        sig => Some(sig as i32),
    }
}

/// The conventional name of a signal number, e.g. `SIGKILL`.
pub fn signal_name(sig: i32) -> String {
    signal_hook::low_level::signal_name(sig)
        .map(str::to_string)
        .unwrap_or_else(|| format!("signal {sig}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Raising a signal here would set the flag for every other test in this binary; the
    // integration tests signal a real run instead.

    #[test]
    fn signals_have_names() {
        assert_eq!(signal_name(9), "SIGKILL");
        assert_eq!(signal_name(2), "SIGINT");
    }
}
