//! Starting a runtime's workers before the arrival clock: the gate workers report in at, the
//! meeting that makes a blocking pool start its threads, and turning a runtime library's panic
//! over a thread the OS refused into one error.

use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::Ordering;
use std::sync::{Condvar, Mutex, Once};
use std::time::Duration;

use super::task::panic_message;
use crate::clock::now_ns;

/// The longest a run waits for its workers to report in. Only a runtime that silently failed to
/// start a worker ever reaches it; the run then goes on with the workers it has.
pub(super) const START_LIMIT: Duration = Duration::from_secs(10);

thread_local! {
    // When this thread first reported in as a runtime's worker, for the tests' check that every
    // task ran on a worker that was up before the run's ready time. The first time: async-std's
    // executor threads serve every run of a process, and a later run's start-up (another test's)
    // does not make a thread any less up for a run under way.
    static UP_SINCE: Cell<Option<u64>> = const { Cell::new(None) };
}

/// Marks the calling thread as a runtime worker that runs now, unless it already was one.
pub(super) fn mark_up() {
    UP_SINCE.with(|c| {
        if c.get().is_none() {
            c.set(Some(now_ns()));
        }
    });
}

/// When the calling thread first reported in as a worker; `None` if it never did.
#[cfg(test)]
pub(super) fn up_since() -> Option<u64> {
    UP_SINCE.with(Cell::get)
}

/// Where a run's workers report that they run, so `run` starts the arrival clock only after
/// all of them do.
pub(super) struct StartGate {
    report: crossbeam_channel::Sender<()>,
    reports: crossbeam_channel::Receiver<()>,
}

/// One worker's way to report in; dropping it unreported (a thread that could not be spawned)
/// tells the gate not to wait for it.
#[derive(Clone)]
pub(super) struct Reporter(crossbeam_channel::Sender<()>);

impl Reporter {
    /// Reports the calling thread as a worker that runs.
    pub(super) fn up(&self) {
        mark_up();
        // The gate stops listening once the run is ready; later reports (a tokio blocking
        // thread started mid-run) are not waited for.
        let _ = self.0.send(());
    }
}

impl StartGate {
    pub(super) fn new() -> StartGate {
        let (report, reports) = crossbeam_channel::unbounded();
        StartGate { report, reports }
    }

    /// A handle for one or more workers to report through.
    pub(super) fn reporter(&self) -> Reporter {
        Reporter(self.report.clone())
    }

    /// Waits until `workers` reports came, every reporter is gone, or [`START_LIMIT`] passed,
    /// and returns the reports that came.
    pub(super) fn wait(self, workers: usize) -> usize {
        let StartGate { report, reports } = self;
        drop(report);
        let deadline = std::time::Instant::now() + START_LIMIT;
        (0..workers)
            .take_while(|_| reports.recv_deadline(deadline).is_ok())
            .count()
    }
}

/// A meeting of `n` pieces of blocking work, for runtimes that pick or create a thread per
/// piece of blocking work (tokio's blocking pool, async-std's executor): each piece holds its
/// thread until all `n` have arrived, so `n` distinct threads are up. The run waits for that in
/// [`Meet::wait`], which lets every piece go after [`START_LIMIT`] at the latest, so a runtime
/// that could not start `n` threads never hangs a run.
pub(super) struct Meet {
    /// Pieces arrived, and whether they have been let go.
    state: Mutex<(usize, bool)>,
    changed: Condvar,
    n: usize,
}

impl Meet {
    pub(super) fn new(n: usize) -> Meet {
        Meet {
            state: Mutex::new((0, false)),
            changed: Condvar::new(),
            n,
        }
    }

    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, (usize, bool)> {
        // The state is plain numbers every step leaves consistent, so a poisoned lock still
        // holds the truth.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Marks the calling thread up, then waits for the other pieces, or until the meeting is
    /// let go.
    pub(super) fn arrive(&self) {
        mark_up();
        let mut state = self.lock();
        state.0 += 1;
        if state.0 >= self.n {
            state.1 = true;
        }
        self.changed.notify_all();
        // Only a backstop: the run lets every piece go in `wait` or `release`. It is longer than
        // `wait`'s limit, so no piece leaves early and lets a piece still queued for its
        // thread arrive, as if that had been a thread of its own.
        let _ = self
            .changed
            .wait_timeout_while(state, 2 * START_LIMIT, |s| !s.1)
            .unwrap_or_else(std::sync::PoisonError::into_inner);
    }

    /// Waits until all `n` pieces arrived or [`START_LIMIT`] passed, lets every piece go (also
    /// those that arrive later, so none of them waits again), and returns how many arrived.
    pub(super) fn wait(&self) -> usize {
        let state = self.lock();
        let (mut state, _) = self
            .changed
            .wait_timeout_while(state, START_LIMIT, |s| s.0 < self.n)
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        state.1 = true;
        self.changed.notify_all();
        state.0
    }

    /// Lets every piece go now, also those that arrive later.
    pub(super) fn release(&self) {
        self.lock().1 = true;
        self.changed.notify_all();
    }
}

thread_local! {
    // What a panic on this thread does instead of being printed, while `no_panic` runs here.
    static ON_PANIC: RefCell<Option<Box<dyn Fn()>>> = const { RefCell::new(None) };
}

/// Runs `start`, which may panic where a runtime library cannot spawn its threads (tokio,
/// async-std), and turns such a panic into its message. The panic is not printed: the error
/// the caller makes of it is the one line the user sees. `on_panic` runs as soon as the panic
/// begins, before anything is unwound: tokio, unwinding, waits for the threads it did start,
/// which must be told to stop first.
pub(super) fn no_panic<T>(
    on_panic: impl Fn() + 'static,
    start: impl FnOnce() -> T,
) -> Result<T, String> {
    static HOOKED: Once = Once::new();
    HOOKED.call_once(|| {
        let print = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // A panic on another thread, or while this one's locals are torn down, has no
            // handler and is printed as usual.
            let handled = ON_PANIC
                .try_with(|h| match h.try_borrow().as_deref() {
                    Ok(Some(handle)) => {
                        handle();
                        true
                    }
                    _ => false,
                })
                .unwrap_or(false);
            if !handled {
                print(info);
            }
        }));
    });
    ON_PANIC.with(|h| *h.borrow_mut() = Some(Box::new(on_panic)));
    let outcome = catch_unwind(AssertUnwindSafe(start));
    ON_PANIC.with(|h| *h.borrow_mut() = None);
    outcome.map_err(|p| panic_message(p.as_ref()))
}

/// The OS's reason in the message of a library's panic over a thread it could not spawn:
/// `OS can't spawn worker thread: Resource temporarily unavailable (os error 11)` gives what
/// follows the colon, and an `io::Error` printed with `{:?}` (`Os { code: 11, .. }`) reads as
/// the error itself. Anything else is kept whole.
pub(super) fn spawn_reason(panic: &str) -> String {
    if let Some(at) = panic.find("Os { code: ") {
        let digits: String = panic[at + 11..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if let Ok(code) = digits.parse() {
            return std::io::Error::from_raw_os_error(code).to_string();
        }
    }
    match panic.split_once(": ") {
        Some((_, reason)) if !reason.is_empty() => reason.to_string(),
        _ => panic.to_string(),
    }
}

/// Starts async-io's reactor thread ("async-io"), which smol and async-std both drive their IO
/// and timers with, from the calling thread, once per process. async-io starts it on its first
/// use and panics if the OS refuses; the first use is otherwise inside an executor thread,
/// where that panic aborts the whole process. Started here first, a refusal is one error.
pub(super) fn start_async_io() -> anyhow::Result<()> {
    static UP: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if UP.load(Ordering::SeqCst) {
        return Ok(());
    }
    // Leaving a `block_on` wakes the reactor thread, which starts it if it is not running.
    no_panic(|| {}, || ::smol::block_on(async {})).map_err(|panic| {
        anyhow::anyhow!(
            "could not start async-io's reactor thread: {}",
            spawn_reason(&panic)
        )
    })?;
    UP.store(true, Ordering::SeqCst);
    Ok(())
}
