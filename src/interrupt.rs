//! Ctrl-C and SIGTERM as a flag that runs and sweeps poll, and a bounded wait after it.
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
//!
//! # The grace period
//!
//! Tasks already running when the first signal arrives get a grace period to finish: [`GRACE`]
//! (2 s), or a download's `--timeout` when that is shorter ([`grace`]). A run waits for them
//! with [`wait_or_cut`]; whatever has not finished when the grace period is over is cut short
//! (recorded as `interrupted`): an async task is cancelled, a thread that is still busy (a CPU
//! loop, a blocking sleep, a file rewritten a billion times) is abandoned, never joined, and ends
//! with the process once the record is written. So a run stops within the grace period plus
//! its teardown whatever its tasks do.
//!
//! Waiting for "this, or a signal" needs no polling: the signal handler rings a bell (a futex
//! word, see [`ring`]) that every such wait ([`wait_until`]) sleeps on, so a waiting thread
//! wakes at once, and otherwise only when what it waits for rings the bell too.

use std::io;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use signal_hook::consts::{SIGINT, SIGTERM};

use crate::clock::now_ns;

/// The signal that asked the run to stop, 0 for none.
static SIGNAL: AtomicUsize = AtomicUsize::new(0);
/// When it arrived (CLOCK_MONOTONIC ns), 0 for not yet.
static FIRST_AT: AtomicU64 = AtomicU64::new(0);

/// Rung whenever something a thread may be waiting for in [`wait_until`] happens: the first
/// signal, and whatever the waiters' conditions watch (see [`ring`]).
static BELL: AtomicU32 = AtomicU32::new(0);

/// Signals this close after the first are the same request delivered twice, not a second one.
pub const SAME_REQUEST: Duration = Duration::from_millis(250);

/// How long tasks already running when the first signal arrives may still take to finish
/// before they are cut short. Long enough for a task that was about to end (a page being
/// written, a short sleep), short enough that Ctrl-C feels prompt and `timeout` does not have
/// to escalate to SIGKILL, which would lose the record.
pub const GRACE: Duration = Duration::from_secs(2);

/// The grace period of a run ([`GRACE`], or the download `--timeout` when that is shorter: a
/// download that cannot take longer than its timeout is not waited for longer either).
pub fn grace(download_timeout: Option<Duration>) -> Duration {
    download_timeout.map_or(GRACE, |t| t.min(GRACE))
}

/// What a signal handler does: the first signal is recorded and rings the bell; one
/// [`SAME_REQUEST`] or more after it exits at once. Only atomics, `clock_gettime`, a futex
/// wake and `_exit`: async-signal-safe.
fn on_signal(sig: i32) {
    // clock_gettime is async-signal-safe (POSIX).
    let now = now_ns().max(1);
    match FIRST_AT.compare_exchange(0, now, Ordering::SeqCst, Ordering::SeqCst) {
        Ok(_) => {
            SIGNAL.store(sig as usize, Ordering::SeqCst);
            ring();
        }
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

/// When the signal that asked the run to stop arrived (CLOCK_MONOTONIC ns), if one has.
pub fn requested_at() -> Option<u64> {
    requested()?;
    Some(FIRST_AT.load(Ordering::SeqCst))
}

/// Wakes every thread waiting in [`wait_until`], to look at its condition again. Whatever
/// can make a waiter's condition true must ring after it did; a spurious ring costs a waiter
/// one look. A bare atomic add and a futex wake, so the signal handler can ring too.
pub fn ring() {
    BELL.fetch_add(1, Ordering::SeqCst);
    // SAFETY: FUTEX_WAKE only reads the address, which is a live static u32; a futex wake
    // takes no lock, so it is safe in a signal handler.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            BELL.as_ptr(),
            libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
            i32::MAX,
        );
    }
}

/// Waits until `done()` holds (`true`) or the monotonic clock reaches `until()` (`false`),
/// whichever comes first; `until` is asked again after every ring, since a signal can bring a
/// deadline. The wait sleeps on the bell: anything that can make `done()` true must
/// [`ring`] after it did, or the waiter sleeps on until the next ring or its deadline.
pub fn wait_until(done: impl Fn() -> bool, until: impl Fn() -> Option<u64>) -> bool {
    loop {
        // Read before the condition: a ring between the two changes the word, so the futex
        // wait below returns at once instead of missing it.
        let seen = BELL.load(Ordering::SeqCst);
        if done() {
            return true;
        }
        let timeout = match until() {
            Some(end) => {
                let now = now_ns();
                if now >= end {
                    return false;
                }
                let left = end - now;
                Some(libc::timespec {
                    tv_sec: (left / 1_000_000_000) as libc::time_t,
                    tv_nsec: (left % 1_000_000_000) as libc::c_long,
                })
            }
            None => None,
        };
        let timeout_ptr = timeout
            .as_ref()
            .map_or(std::ptr::null(), |t| t as *const libc::timespec);
        // SAFETY: the address is a live static u32 and the timeout, if any, a valid timespec
        // that outlives the call. The futex sleeps only while the word still holds `seen`;
        // a timeout, a signal (EINTR) or a spurious wake-up returns early, and the loop looks
        // again.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                BELL.as_ptr(),
                libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
                seen,
                timeout_ptr,
            );
        }
    }
}

/// Waits until `done()` holds (`true`), or, once a signal asked the run to stop, until `grace`
/// after that signal (`false`: the run is cut). `done()` must be made true with a [`ring`].
pub fn wait_or_cut(done: impl Fn() -> bool, grace: Duration) -> bool {
    wait_until(done, || {
        requested_at().map(|at| at.saturating_add(grace.as_nanos() as u64))
    })
}

/// Sleeps for `d`, or less if a signal asks the run to stop meanwhile.
pub fn sleep(d: Duration) {
    let end = now_ns().saturating_add(d.as_nanos() as u64);
    wait_until(|| requested().is_some(), || Some(end));
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
    fn the_grace_period_is_two_seconds_or_a_shorter_download_timeout() {
        assert_eq!(grace(None), Duration::from_secs(2));
        assert_eq!(grace(Some(Duration::from_secs(30))), Duration::from_secs(2));
        assert_eq!(
            grace(Some(Duration::from_millis(500))),
            Duration::from_millis(500)
        );
    }

    #[test]
    fn a_wait_wakes_on_a_ring_and_ends_at_its_deadline() {
        use std::sync::Arc;
        use std::sync::atomic::AtomicBool;
        let flag = Arc::new(AtomicBool::new(false));
        let setter = {
            let flag = flag.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                flag.store(true, Ordering::SeqCst);
                ring();
            })
        };
        // No deadline: only the ring can end this wait.
        assert!(wait_until(|| flag.load(Ordering::SeqCst), || None));
        setter.join().unwrap();
        let end = now_ns() + 30_000_000;
        assert!(!wait_until(|| false, || Some(end)));
        assert!(now_ns() >= end);
    }

    #[test]
    fn signals_have_names() {
        assert_eq!(signal_name(9), "SIGKILL");
        assert_eq!(signal_name(2), "SIGINT");
    }
}
