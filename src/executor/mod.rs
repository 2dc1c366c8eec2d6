//! The runtimes that execute tasks, behind one trait.
//!
//! Every runtime gets the same job and task count and returns one [`TaskRecord`] per task; it
//! builds its runtime inside `run` and tears it down before returning (unless a signal cut the
//! run short: see below), so start-up and shutdown are part of what a run measures, as they are
//! in the seed notebooks' `with Pool(...)` blocks.
//! Adding a runtime is one file here and one [`Runtime`] variant.
//!
//! # Start-up before the first submission
//!
//! Every `run` first starts all of its runtime's workers (threads, executor threads, worker
//! processes) and waits until each one runs, then starts the arrival clock ([`Job::arrivals`])
//! and submits. The clock's start is the run's ready time ([`RunOutput::ready_ns`]), so a task's
//! queue wait is queueing only, and start-up is a figure of its own. `thread-per-task` and
//! `process-per-task` have no workers to start: their unit is created per task, inside that
//! task's queue wait.
//!
//! # A worker that cannot be started
//!
//! A runtime that starts its workers up front (every pool and executor, `serial`'s and the
//! current-thread runtimes' one thread, the proxy threads and workers of `process-pool`, the
//! proxy threads of `process-per-task`) returns an error naming the worker it could not start,
//! e.g. `could not start pool thread 413 of 1000: Resource temporarily unavailable (os error
//! 11)`, after stopping the ones it did start; the run then ends with that one line and exit
//! code 1. A runtime that creates its unit per task (`thread-per-task`, `process-per-task`)
//! records a unit it cannot create as that task's failure (`spawn`) and goes on. A runtime
//! library that panics when the OS refuses it a thread (tokio, async-std, async-io) is caught,
//! its panic is not printed, and its error is the same one line.
//!
//! # Stopping on a signal
//!
//! No in-process runtime waits for its tasks by joining their threads: every task leaves its
//! record in the run's [`Ledger`], and `run` waits on the ledger ([`Ledger::wait`]) until every
//! task has one, or, after Ctrl-C or SIGTERM, until the grace period is over
//! ([`crate::interrupt`]). Tasks still running then are cut short: async tasks are cancelled
//! (tokio's abort, dropping a smol task, async-std's cancel), and threads still busy are
//! abandoned: detached, never joined, and ended by the process's exit once the record is
//! written. This is also why `serial` and `tokio-ct` run their tasks on a thread of their own
//! rather than the caller's: a caller stuck in an endless task could write no record. The
//! process runtimes need no grace period: they kill their workers at once ([`process`]).

mod async_std;
pub mod process;
mod rayon;
mod serial;
mod smol;
mod threads;
mod tokio;

pub use self::async_std::THREAD_COUNT_VAR as ASYNC_STD_THREAD_COUNT_VAR;

use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, Once, OnceLock};
use std::time::Duration;

use crate::clock::now_ns;
use crate::interrupt;
use crate::model::task::{OsThread, TaskRecord};
use crate::protocol::{Fault, Setup};
use crate::workload::{Download, MixedIo, Sleep, TaskError, TaskResult, Work};

/// The work of a run's tasks: a function any thread can call with a task index and, when the
/// work can be described to another process, the [`Setup`] a worker process needs. Cloning is
/// cheap; every thread of a run holds one.
#[derive(Clone)]
pub struct Job {
    call: Arc<dyn Fn(usize) -> TaskResult + Send + Sync>,
    setup: Option<Arc<Setup>>,
    rate: Option<f64>,
}

impl Job {
    /// A job of `work`, runnable in this process and in worker processes.
    pub fn new(work: Work) -> Job {
        let runs = work.clone();
        Job {
            call: Arc::new(move |task| runs.run(task)),
            setup: Some(Arc::new(Setup {
                work,
                faults: Vec::new(),
            })),
            rate: None,
        }
    }

    /// A job that only runs in this process: any function of the task index.
    pub fn from_fn(f: impl Fn(usize) -> TaskResult + Send + Sync + 'static) -> Job {
        Job {
            call: Arc::new(f),
            setup: None,
            rate: None,
        }
    }

    /// The same job submitted open loop: task `i` is due `i / per_s` seconds after the run's
    /// first submission, whatever happened to the tasks before it.
    pub fn with_rate(mut self, per_s: Option<f64>) -> Job {
        self.rate = per_s.filter(|r| r.is_finite() && *r > 0.0);
        self
    }

    /// Whether tasks are submitted on a schedule (`--rate`) rather than all at once.
    pub fn is_paced(&self) -> bool {
        self.rate.is_some()
    }

    /// The submission schedule of one run, starting now. Call it once per run, once every
    /// worker of the runtime runs and just before the first task is submitted: its start is the
    /// run's ready time.
    pub fn arrivals(&self) -> Arrivals {
        Arrivals {
            t0_ns: now_ns(),
            interval_ns: self.rate.map(|r| 1e9 / r),
        }
    }

    /// The same job with faults staged in its worker processes (see [`Fault`]).
    pub fn with_faults(mut self, faults: Vec<Fault>) -> Job {
        if let Some(setup) = &mut self.setup {
            Arc::make_mut(setup).faults = faults;
        }
        self
    }

    /// How long tasks of this job that are running when a signal arrives are still waited
    /// for: [`interrupt::grace`] of its download's `--timeout`, if it has one.
    pub fn grace(&self) -> Duration {
        interrupt::grace(self.work().and_then(Work::download).map(|d| d.timeout))
    }

    /// Runs task `task` on the calling thread.
    pub fn call(&self, task: usize) -> TaskResult {
        (self.call)(task)
    }

    /// What a worker process is told before its first task; `None` for in-process-only jobs.
    pub fn setup(&self) -> Option<&Setup> {
        self.setup.as_deref()
    }

    /// The work, when the job was built from one.
    pub fn work(&self) -> Option<&Work> {
        self.setup.as_deref().map(|s| &s.work)
    }

    /// How async runtimes run task `task`: IO as a future, everything else as a call.
    pub fn kind(&self, task: usize) -> TaskKind<'_> {
        match self.work() {
            Some(Work::Download(d)) => TaskKind::Download(d, task),
            Some(Work::Sleep(s)) => TaskKind::Sleep(s),
            Some(Work::Mixed(m)) => match (m.io_index(task), &m.io) {
                (Some(page), MixedIo::Download(d)) => TaskKind::Download(d, page),
                (Some(_), MixedIo::Sleep(s)) => TaskKind::Sleep(s),
                (None, _) => TaskKind::Inline,
            },
            Some(Work::Cpu(_)) | None => TaskKind::Inline,
        }
    }
}

/// How one task runs on an async runtime.
#[derive(Clone, Copy, Debug)]
pub enum TaskKind<'a> {
    /// A plain call of [`Job::call`]: CPU work, run inline in an async task (or wherever the
    /// runtime places blocking work).
    Inline,
    /// Download page number `.1` of the download as a future.
    Download(&'a Download, usize),
    /// Wait, on the runtime's timer unless the sleep is blocking.
    Sleep(&'a Sleep),
}

/// When each task of one run is submitted: all at once (closed loop: the default), or on a
/// fixed schedule (`--rate`, open loop).
///
/// Open loop, a task's submit time is its scheduled time even when the submitter is late (a
/// full in-flight gate, a busy serial loop, a coarse timer), so the wait counts against the
/// task's latency instead of silently vanishing: the coordinated-omission correction.
#[derive(Clone, Copy, Debug)]
pub struct Arrivals {
    t0_ns: u64,
    interval_ns: Option<f64>,
}

impl Arrivals {
    /// When the run's first task was due.
    pub fn t0_ns(&self) -> u64 {
        self.t0_ns
    }

    /// Task `task`'s scheduled submit time, open loop; `None` closed loop.
    pub fn due_ns(&self, task: usize) -> Option<u64> {
        self.interval_ns
            .map(|iv| self.t0_ns + (task as f64 * iv).round() as u64)
    }

    /// Waits on the calling thread until task `task` is due and returns its submit time: the
    /// schedule open loop, now closed loop.
    pub fn submit(&self, task: usize) -> u64 {
        self.submit_or(task, now_ns())
    }

    /// [`Arrivals::submit`] for runtimes that take a closed-loop batch at once: closed loop
    /// every task's submit time is the batch's start, so its queue time is the time it waited
    /// behind the tasks before it.
    pub fn submit_batch(&self, task: usize) -> u64 {
        self.submit_or(task, self.t0_ns)
    }

    fn submit_or(&self, task: usize, closed: u64) -> u64 {
        let (wait, due) = self.delay(task);
        if !wait.is_zero() {
            // A signal ends the wait: the rest of the schedule is only recorded as cut short.
            interrupt::sleep(wait);
        }
        due.unwrap_or(closed)
    }

    /// How long a submitter must still wait for task `task`, and its submit time once it has
    /// (`None`: closed loop, submit now). The wait is zero when the task is late, closed loop,
    /// and after Ctrl-C, when the rest of the schedule is not waited for: its tasks are only
    /// recorded as cut short.
    pub fn delay(&self, task: usize) -> (std::time::Duration, Option<u64>) {
        let due = self.due_ns(task);
        let wait = match due {
            Some(due) if crate::interrupt::requested().is_none() => due.saturating_sub(now_ns()),
            _ => 0,
        };
        (std::time::Duration::from_nanos(wait), due)
    }
}

/// Everything one [`Executor::run`] produced, by value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunOutput {
    /// One record per task, in task order.
    pub tasks: Vec<TaskRecord>,
    /// CLOCK_MONOTONIC ns when every worker ran and the arrival clock started: no task was
    /// submitted before it.
    pub ready_ns: u64,
    /// What the runtime itself saw, for runtimes that expose it (tokio, through tokio-metrics).
    pub internals: Option<TokioInternals>,
    /// The largest peak RSS a worker process reported, for runtimes that have them.
    pub children_peak_rss: Option<u64>,
    /// Worker processes that died or were killed before their peak RSS could be read: the
    /// peak above leaves them out.
    pub children_unmeasured: u64,
}

impl RunOutput {
    /// The output of a runtime with nothing to report beyond its tasks and ready time.
    pub fn new(tasks: Vec<TaskRecord>, ready_ns: u64) -> RunOutput {
        RunOutput {
            tasks,
            ready_ns,
            internals: None,
            children_peak_rss: None,
            children_unmeasured: 0,
        }
    }
}

/// Runs a batch of tasks on one runtime.
pub trait Executor {
    /// Starts the runtime and every one of its workers, then runs tasks `0..tasks` of `job` and
    /// returns their records in task order, with the ready time and what the runtime saw.
    ///
    /// A failing task is a record with an error, not an `Err`; `Err` means the runtime itself
    /// could not be built or broke down.
    fn run(&self, job: &Job, tasks: usize) -> anyhow::Result<RunOutput>;
}

/// The longest a run waits for its workers to report in. Only a runtime that silently failed to
/// start a worker ever reaches it; the run then goes on with the workers it has.
const START_LIMIT: Duration = Duration::from_secs(10);

thread_local! {
    // When this thread first reported in as a runtime's worker, for the tests' check that every
    // task ran on a worker that was up before the run's ready time. The first time: async-std's
    // executor threads serve every run of a process, and a later run's start-up (another test's)
    // does not make a thread any less up for a run under way.
    static UP_SINCE: Cell<Option<u64>> = const { Cell::new(None) };
}

/// Marks the calling thread as a runtime worker that runs now, unless it already was one.
fn mark_up() {
    UP_SINCE.with(|c| {
        if c.get().is_none() {
            c.set(Some(now_ns()));
        }
    });
}

/// When the calling thread first reported in as a worker; `None` if it never did.
#[cfg(test)]
fn up_since() -> Option<u64> {
    UP_SINCE.with(Cell::get)
}

/// Where a run's workers report that they run, so `run` starts the arrival clock only after
/// all of them do.
struct StartGate {
    report: crossbeam_channel::Sender<()>,
    reports: crossbeam_channel::Receiver<()>,
}

/// One worker's way to report in; dropping it unreported (a thread that could not be spawned)
/// tells the gate not to wait for it.
#[derive(Clone)]
struct Reporter(crossbeam_channel::Sender<()>);

impl Reporter {
    /// Reports the calling thread as a worker that runs.
    fn up(&self) {
        mark_up();
        // The gate stops listening once the run is ready; later reports (a tokio blocking
        // thread started mid-run) are not waited for.
        let _ = self.0.send(());
    }
}

impl StartGate {
    fn new() -> StartGate {
        let (report, reports) = crossbeam_channel::unbounded();
        StartGate { report, reports }
    }

    /// A handle for one or more workers to report through.
    fn reporter(&self) -> Reporter {
        Reporter(self.report.clone())
    }

    /// Waits until `workers` reports came, every reporter is gone, or [`START_LIMIT`] passed,
    /// and returns the reports that came.
    fn wait(self, workers: usize) -> usize {
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
struct Meet {
    /// Pieces arrived, and whether they have been let go.
    state: Mutex<(usize, bool)>,
    changed: Condvar,
    n: usize,
}

impl Meet {
    fn new(n: usize) -> Meet {
        Meet {
            state: Mutex::new((0, false)),
            changed: Condvar::new(),
            n,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (usize, bool)> {
        // The state is plain numbers every step leaves consistent, so a poisoned lock still
        // holds the truth.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Marks the calling thread up, then waits for the other pieces, or until the meeting is
    /// let go.
    fn arrive(&self) {
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
    fn wait(&self) -> usize {
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
    fn release(&self) {
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
fn no_panic<T>(on_panic: impl Fn() + 'static, start: impl FnOnce() -> T) -> Result<T, String> {
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
fn spawn_reason(panic: &str) -> String {
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
fn start_async_io() -> anyhow::Result<()> {
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

/// Where one run's tasks leave their records, and what the run knows of the tasks that have
/// none yet, so it can stop waiting for them after a signal (see the module's doc).
///
/// Every in-process runtime runs its tasks through [`Ledger::run`] or [`Ledger::run_async`] (or
/// leaves a record made elsewhere with [`Ledger::put`]), waits in [`Ledger::wait`], and takes
/// the records with [`Ledger::records`], which gives every task that has none a record that
/// says it was cut short. It holds the run's job too, so a task that must own what it uses (a
/// detached thread, a spawned future) clones one `Arc` for both.
pub(crate) struct Ledger {
    job: Job,
    entries: Box<[Entry]>,
    /// Tasks without a record; the one that brings it to zero rings the bell.
    left: AtomicUsize,
    grace: Duration,
    /// Set when the run stops waiting for its tasks: records that come later are dropped.
    closed: AtomicBool,
}

/// One task's place in a [`Ledger`].
#[derive(Default)]
struct Entry {
    /// When the task started (CLOCK_MONOTONIC ns); 0 while it has not.
    start_ns: AtomicU64,
    /// The thread it started on.
    tid: AtomicU32,
    /// Its record: set once, by the task, or by the run when it stops waiting for it.
    record: OnceLock<TaskRecord>,
}

impl Ledger {
    /// A ledger for tasks `0..tasks` of `job`.
    pub(crate) fn new(job: &Job, tasks: usize) -> Arc<Ledger> {
        Arc::new(Ledger {
            job: job.clone(),
            entries: (0..tasks).map(|_| Entry::default()).collect(),
            left: AtomicUsize::new(tasks),
            grace: job.grace(),
            closed: AtomicBool::new(false),
        })
    }

    /// The run's job.
    pub(crate) fn job(&self) -> &Job {
        &self.job
    }

    /// Runs task `task` of the job on the calling thread, as [`run_task`] does, and leaves its
    /// record.
    pub(crate) fn run(&self, task: usize, submit_ns: u64) {
        let record = run_noting(&self.job, task, submit_ns, |w, at| {
            self.started(task, w, at)
        });
        self.put(record);
    }

    /// Runs an async task, as [`run_task_async`] does, and leaves its record.
    pub(crate) async fn run_async(
        &self,
        task: usize,
        submit_ns: u64,
        work: impl std::future::Future<Output = TaskResult>,
    ) {
        let noted = |w, at| self.started(task, w, at);
        let record = run_async_noting(task, submit_ns, work, noted).await;
        self.put(record);
    }

    fn started(&self, task: usize, worker: OsThread, at: u64) {
        let entry = &self.entries[task];
        entry.tid.store(worker.tid, Ordering::Relaxed);
        entry.start_ns.store(at, Ordering::Release);
    }

    /// Leaves a record made elsewhere: a task the runtime could not start, or one it skipped.
    /// A record that comes after the run stopped waiting is dropped: the one the run gives the
    /// task says it was cut short. (Cancelling a run's tasks can make one of them fail, a write
    /// whose blocking half was cancelled, say; that failure is the cut, not the task's.)
    pub(crate) fn put(&self, record: TaskRecord) {
        if self.closed.load(Ordering::SeqCst) {
            return;
        }
        let task = record.task;
        if self.entries[task].record.set(record).is_ok()
            && self.left.fetch_sub(1, Ordering::AcqRel) == 1
        {
            interrupt::ring();
        }
    }

    /// Records task `task`, submitted at `submit_ns`, as cut short without starting it: the
    /// run stopped before it could.
    pub(crate) fn skip(&self, task: usize, submit_ns: u64) {
        self.put(not_run(
            task,
            OsThread::current(),
            submit_ns,
            TaskError::Interrupted,
        ));
    }

    /// Waits until every task has a record (`true`), or, after a signal, until the grace
    /// period is over (`false`: the tasks still running are cut short, and the runtime must
    /// cancel or abandon them, not wait for them).
    pub(crate) fn wait(&self) -> bool {
        let complete =
            interrupt::wait_or_cut(|| self.left.load(Ordering::Acquire) == 0, self.grace);
        if !complete {
            self.closed.store(true, Ordering::SeqCst);
        }
        complete
    }

    /// Every task's record, in task order. A task without one is cut short now: recorded as
    /// interrupted, submitted on its schedule (`arrivals`), started when it did (on its thread)
    /// or, if it never did, now (on the calling thread), and ended now.
    pub(crate) fn records(self: Arc<Self>, arrivals: &Arrivals) -> Vec<TaskRecord> {
        let (now, me) = (now_ns(), OsThread::current());
        let cut = |task: usize, start_ns: u64, tid: u32| {
            let submit_ns = arrivals.due_ns(task).unwrap_or(arrivals.t0_ns());
            let (worker, start_ns) = match start_ns {
                0 => (me, now),
                at => (OsThread { pid: me.pid, tid }, at),
            };
            let start_ns = start_ns.max(submit_ns);
            TaskRecord {
                task,
                worker,
                submit_ns,
                start_ns,
                end_ns: now.max(start_ns),
                bytes: 0,
                error: Some(TaskError::Interrupted),
            }
        };
        match Arc::try_unwrap(self) {
            // Nothing else holds the ledger: every record can be moved out.
            Ok(ledger) => ledger
                .entries
                .into_vec()
                .into_iter()
                .enumerate()
                .map(|(task, e)| {
                    let Entry {
                        start_ns,
                        tid,
                        record,
                    } = e;
                    record
                        .into_inner()
                        .unwrap_or_else(|| cut(task, start_ns.into_inner(), tid.into_inner()))
                })
                .collect(),
            // An abandoned thread or task still holds it, and may yet try to leave a record.
            Err(shared) => shared
                .entries
                .iter()
                .enumerate()
                .map(|(task, e)| {
                    e.record
                        .get_or_init(|| {
                            let start_ns = e.start_ns.load(Ordering::Acquire);
                            cut(task, start_ns, e.tid.load(Ordering::Relaxed))
                        })
                        .clone()
                })
                .collect(),
        }
    }
}

pub use self::tokio::{TaskPolls, TokioInternals};

pub use crate::model::Runtime;

/// How each runtime's executor is built: one arm per executor file.
impl Runtime {
    /// The executor for this runtime with `workers` workers (at least 1) and, for async
    /// runtimes, at most `in_flight` tasks in flight (`None`: tokio-ct allows `workers`, the
    /// others every task).
    pub fn executor(self, workers: usize, in_flight: Option<usize>) -> Box<dyn Executor> {
        self.executor_with(workers, in_flight, true)
    }

    /// [`Runtime::executor`], choosing whether tokio runtimes give every task its own
    /// tokio-metrics monitor.
    pub fn executor_with(
        self,
        workers: usize,
        in_flight: Option<usize>,
        per_task_metrics: bool,
    ) -> Box<dyn Executor> {
        let n = workers.max(1);
        match self {
            Runtime::Serial => Box::new(serial::Serial),
            Runtime::Threads => Box::new(threads::ThreadPool { workers: n }),
            Runtime::ThreadPerTask => Box::new(threads::ThreadPerTask { max_alive: n }),
            Runtime::TokioMt | Runtime::TokioCt | Runtime::TokioBlocking | Runtime::TokioRayon => {
                let (flavor, in_flight) = match self {
                    Runtime::TokioMt => (tokio::Flavor::MultiThread, in_flight),
                    Runtime::TokioCt => {
                        (tokio::Flavor::CurrentThread, Some(in_flight.unwrap_or(n)))
                    }
                    Runtime::TokioRayon => (tokio::Flavor::Rayon, in_flight),
                    _ => (tokio::Flavor::Blocking, in_flight),
                };
                Box::new(tokio::Tokio {
                    flavor,
                    workers: n,
                    in_flight,
                    per_task_metrics,
                })
            }
            Runtime::AsyncStd => Box::new(async_std::AsyncStd {
                workers: n,
                in_flight,
            }),
            Runtime::Smol => Box::new(smol::Smol {
                workers: n,
                in_flight,
            }),
            Runtime::Rayon => Box::new(rayon::Rayon { workers: n }),
            Runtime::ProcessPool => Box::new(process::ProcessPool {
                workers: n,
                program: None,
            }),
            Runtime::ProcessPerTask => Box::new(process::ProcessPerTask {
                max_alive: n,
                program: None,
            }),
        }
    }
}

/// Runs task `task` on the calling thread and records it. Every runtime calls this, or
/// [`Ledger::run`], so the measuring code around the job is the same everywhere.
pub fn run_task(job: &Job, task: usize, submit_ns: u64) -> TaskRecord {
    run_noting(job, task, submit_ns, |_, _| {})
}

/// [`run_task`], telling `started` the thread and the time the task starts, if it does.
fn run_noting(
    job: &Job,
    task: usize,
    submit_ns: u64,
    started: impl FnOnce(OsThread, u64),
) -> TaskRecord {
    let worker = OsThread::current();
    if let Some(cut) = cut_short(task, worker, submit_ns) {
        return cut;
    }
    let start_ns = now_ns();
    started(worker, start_ns);
    let outcome = catch_unwind(AssertUnwindSafe(|| job.call(task)));
    let end_ns = now_ns();
    record(task, worker, submit_ns, start_ns, end_ns, outcome)
}

/// Runs an async task and records it like [`run_task`]: the worker is the thread that started
/// it (a multi-thread runtime may move it between threads at every await).
pub async fn run_task_async(
    task: usize,
    submit_ns: u64,
    work: impl std::future::Future<Output = TaskResult>,
) -> TaskRecord {
    run_async_noting(task, submit_ns, work, |_, _| {}).await
}

/// [`run_task_async`], telling `started` the thread and the time the task starts, if it does.
async fn run_async_noting(
    task: usize,
    submit_ns: u64,
    work: impl std::future::Future<Output = TaskResult>,
    started: impl FnOnce(OsThread, u64),
) -> TaskRecord {
    use futures_lite::FutureExt;
    let worker = OsThread::current();
    if let Some(cut) = cut_short(task, worker, submit_ns) {
        return cut;
    }
    let start_ns = now_ns();
    started(worker, start_ns);
    let outcome = AssertUnwindSafe(work).catch_unwind().await;
    let end_ns = now_ns();
    record(task, worker, submit_ns, start_ns, end_ns, outcome)
}

/// The record of a task that was not started because Ctrl-C or SIGTERM asked the run to stop
/// (see [`crate::interrupt`]); `None` when the run goes on. Every runtime starts its tasks
/// through [`run_task`], [`Ledger::run`] or their async forms, so after a signal the tasks
/// still queued drain at once and only those already running are waited for, within the grace
/// period.
fn cut_short(task: usize, worker: OsThread, submit_ns: u64) -> Option<TaskRecord> {
    crate::interrupt::requested()?;
    Some(not_run(task, worker, submit_ns, TaskError::Interrupted))
}

/// A task's record from its timestamps and what running it returned or how it panicked.
fn record(
    task: usize,
    worker: OsThread,
    submit_ns: u64,
    start_ns: u64,
    end_ns: u64,
    outcome: std::thread::Result<TaskResult>,
) -> TaskRecord {
    let (bytes, error) = match outcome {
        Ok(Ok(done)) => (done.bytes, None),
        Ok(Err(e)) => (0, Some(e)),
        Err(panic) => (0, Some(TaskError::Panic(panic_message(panic.as_ref())))),
    };
    TaskRecord {
        task,
        worker,
        submit_ns,
        start_ns,
        end_ns,
        bytes,
        error,
    }
}

/// Waits for a permit when a smol or async-std run limits the tasks in flight (tokio has its
/// own semaphore).
async fn admitted(
    gate: Option<Arc<async_lock::Semaphore>>,
) -> Option<async_lock::SemaphoreGuardArc> {
    match gate {
        Some(g) => Some(g.acquire_arc().await),
        None => None,
    }
}

/// The record of a task the runtime could not even start.
pub fn unstarted_task(task: usize, submit_ns: u64, why: String) -> TaskRecord {
    not_run(task, OsThread::current(), submit_ns, TaskError::Spawn(why))
}

/// The record of a task that failed before it ran: it starts and ends now, on `worker`.
fn not_run(task: usize, worker: OsThread, submit_ns: u64, error: TaskError) -> TaskRecord {
    let now = now_ns().max(submit_ns);
    TaskRecord {
        task,
        worker,
        submit_ns,
        start_ns: now,
        end_ns: now,
        bytes: 0,
        error: Some(error),
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".into())
}

/// Puts records into task order; runtimes that finish out of order call this before returning.
fn in_task_order(mut records: Vec<TaskRecord>) -> Vec<TaskRecord> {
    records.sort_by_key(|r| r.task);
    records
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::workload::Outcome;

    fn job(f: impl Fn(usize) -> TaskResult + Send + Sync + 'static) -> Job {
        Job::from_fn(f)
    }

    /// async-std's thread count is fixed at first use in a process, so every in-process test
    /// uses the same N.
    const N: usize = 2;

    #[test]
    fn every_runtime_runs_every_task_once_in_order() {
        for rt in Runtime::IN_PROCESS {
            let records = rt
                .executor(N, None)
                .run(&job(|_| Ok(Outcome::NONE)), 7)
                .unwrap()
                .tasks;
            let tasks: Vec<usize> = records.iter().map(|r| r.task).collect();
            assert_eq!(tasks, (0..7).collect::<Vec<_>>(), "{}", rt.name());
            for r in &records {
                assert!(
                    r.submit_ns <= r.start_ns && r.start_ns <= r.end_ns,
                    "{}: {r:?}",
                    rt.name()
                );
                assert!(r.error.is_none());
            }
        }
    }

    /// A task and when the thread that ran it reported in as a worker.
    type UpAt = (usize, Option<u64>);

    #[test]
    fn every_worker_runs_before_the_ready_time_and_no_task_is_submitted_before_it() {
        for rate in [None, Some(5_000.0)] {
            for rt in Runtime::IN_PROCESS {
                // Each task notes when the thread it runs on reported in as a worker.
                let seen: Arc<Mutex<Vec<UpAt>>> = Arc::default();
                let probe = {
                    let seen = seen.clone();
                    job(move |i| {
                        seen.lock().unwrap().push((i, up_since()));
                        Ok(Outcome::NONE)
                    })
                    .with_rate(rate)
                };
                let before = now_ns();
                let out = rt.executor(N, None).run(&probe, 12).unwrap();
                let name = format!("{} at rate {rate:?}", rt.name());
                assert!(before <= out.ready_ns, "{name}");
                assert_eq!(out.tasks.len(), 12, "{name}");
                for r in &out.tasks {
                    assert!(r.submit_ns >= out.ready_ns, "{name}: {r:?}");
                    assert!(r.error.is_none(), "{name}: {r:?}");
                }
                let seen = seen.lock().unwrap();
                assert_eq!(seen.len(), 12, "{name}");
                // A thread-per-task thread is created for its task: it is no worker started
                // before the run.
                if rt == Runtime::ThreadPerTask {
                    continue;
                }
                for (task, up) in seen.iter() {
                    let up = up.unwrap_or_else(|| {
                        panic!("{name}: task {task} ran on a thread that never reported in")
                    });
                    assert!(
                        up <= out.ready_ns,
                        "{name}: task {task} ran on a worker that came up after the ready time"
                    );
                }
            }
        }
    }

    #[test]
    fn the_start_gate_does_not_wait_for_workers_that_never_started() {
        let gate = StartGate::new();
        let up = gate.reporter();
        let spawned = std::thread::spawn(move || up.up());
        let lost = gate.reporter();
        // A worker whose thread could not be spawned drops its reporter unused.
        drop(lost);
        let waiting = std::time::Instant::now();
        assert_eq!(gate.wait(2), 1);
        assert!(waiting.elapsed() < START_LIMIT, "it waited out its limit");
        spawned.join().unwrap();
    }

    #[test]
    fn failures_and_panics_are_recorded_not_raised() {
        // Silence the default hook's message for the deliberate panics of this test only.
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        for rt in Runtime::IN_PROCESS {
            let failing = job(|i| match i % 3 {
                0 => Ok(Outcome::NONE),
                1 => Err(TaskError::Check(format!("task {i}"))),
                _ => panic!("task {i} blew up"),
            });
            let records = rt.executor(N, None).run(&failing, 9).unwrap().tasks;
            assert_eq!(records.len(), 9, "{}", rt.name());
            let kinds: Vec<Option<&str>> = records
                .iter()
                .map(|r| r.error.as_ref().map(TaskError::kind))
                .collect();
            for (i, kind) in kinds.iter().enumerate() {
                let want = [None, Some("check"), Some("panic")][i % 3];
                assert_eq!(*kind, want, "{} task {i}", rt.name());
            }
            assert_eq!(
                records[2].error,
                Some(TaskError::Panic("task 2 blew up".into())),
                "{}",
                rt.name()
            );
        }
        std::panic::set_hook(hook);
    }

    #[test]
    fn pools_never_use_more_than_n_threads_nor_the_caller() {
        let caller = OsThread::current();
        for rt in Runtime::IN_PROCESS {
            let records = rt
                .executor(N, None)
                .run(&job(|_| Ok(Outcome::NONE)), 40)
                .unwrap()
                .tasks;
            let workers: HashSet<OsThread> = records.iter().map(|r| r.worker).collect();
            assert!(
                !workers.contains(&caller),
                "{} ran a task on the caller",
                rt.name()
            );
            match rt {
                // One thread of their own, so the caller can stop waiting for it.
                Runtime::Serial | Runtime::TokioCt => {
                    assert_eq!(workers.len(), 1, "{}: {workers:?}", rt.name())
                }
                Runtime::ThreadPerTask => assert_eq!(workers.len(), 40, "{}", rt.name()),
                _ => assert!(workers.len() <= N, "{}: {workers:?}", rt.name()),
            }
        }
    }

    #[test]
    fn a_ledger_cuts_short_the_tasks_without_a_record() {
        let job = job(|_| Ok(Outcome::NONE));
        let ledger = Ledger::new(&job, 3);
        let arrivals = job.arrivals();
        // Task 0 finished, task 1 started on another thread and never finished, task 2 never
        // started.
        ledger.run(0, arrivals.submit_batch(0));
        let busy = std::thread::spawn(OsThread::current).join().unwrap();
        let started = now_ns();
        ledger.started(1, busy, started);
        assert_eq!(ledger.left.load(Ordering::SeqCst), 2);
        // An abandoned thread still holds the ledger: the records are copied, not moved.
        let held = ledger.clone();
        let records = ledger.records(&arrivals);
        assert_eq!(records.len(), 3);
        assert_eq!(records[0].error, None);
        let (running, never) = (&records[1], &records[2]);
        for r in [running, never] {
            assert_eq!(r.error, Some(TaskError::Interrupted), "{r:?}");
            assert_eq!(r.submit_ns, arrivals.t0_ns(), "{r:?}");
            assert!(r.submit_ns <= r.start_ns && r.start_ns <= r.end_ns, "{r:?}");
        }
        assert_eq!((running.worker, running.start_ns), (busy, started));
        assert!(running.end_ns > started);
        assert_eq!(never.worker, OsThread::current());
        assert_eq!(never.start_ns, never.end_ns);
        // A record that comes after the cut is dropped: the run already gave the task one.
        held.put(not_run(1, busy, 0, TaskError::Check("late".into())));
        assert_eq!(
            held.entries[1].record.get().unwrap().error,
            Some(TaskError::Interrupted)
        );
        // Once a run is cut (as `wait` leaves it then), a task that fails because it was
        // cancelled leaves no record of its own.
        let cut = Ledger::new(&job, 1);
        cut.closed.store(true, Ordering::SeqCst);
        cut.put(not_run(0, busy, 0, TaskError::Check("cancelled".into())));
        assert!(cut.entries[0].record.get().is_none());
    }

    #[test]
    fn a_ledger_waits_for_the_last_record() {
        let job = job(|_| Ok(Outcome::NONE));
        let ledger = Ledger::new(&job, 2);
        let arrivals = job.arrivals();
        let late = {
            let ledger = ledger.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                ledger.run(1, arrivals.t0_ns());
            })
        };
        ledger.run(0, arrivals.t0_ns());
        assert!(ledger.wait(), "no signal here: the run is never cut");
        late.join().unwrap();
        let records = ledger.records(&arrivals);
        assert!(records.iter().all(|r| r.error.is_none()), "{records:?}");
    }

    #[test]
    fn a_library_panic_over_a_thread_is_one_quiet_error() {
        let told = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let seen = told.clone();
        let caught = no_panic::<()>(
            move || seen.store(true, Ordering::SeqCst),
            || {
                panic!(
                    "cannot spawn executor threads: {:?}",
                    std::io::Error::from_raw_os_error(libc::EAGAIN)
                )
            },
        );
        let panic = caught.unwrap_err();
        assert!(
            told.load(Ordering::SeqCst),
            "on_panic runs before unwinding"
        );
        assert_eq!(
            spawn_reason(&panic),
            "Resource temporarily unavailable (os error 11)"
        );
        assert_eq!(
            spawn_reason(
                "OS can't spawn worker thread: Resource temporarily unavailable (os error 11)"
            ),
            "Resource temporarily unavailable (os error 11)"
        );
        assert_eq!(spawn_reason("no colon"), "no colon");
        assert_eq!(no_panic(|| {}, || 7), Ok(7));
    }

    #[test]
    fn a_meeting_let_go_keeps_no_piece_waiting() {
        let meet = Arc::new(Meet::new(3));
        let first = {
            let meet = meet.clone();
            std::thread::spawn(move || meet.arrive())
        };
        // Two of three never come: letting go releases the one that did, and one that comes
        // after does not wait.
        while meet.lock().0 < 1 {
            std::thread::yield_now();
        }
        meet.release();
        first.join().unwrap();
        let waiting = std::time::Instant::now();
        meet.arrive();
        assert!(waiting.elapsed() < START_LIMIT, "it waited out its limit");
        assert_eq!(meet.lock().0, 2);
    }

    #[test]
    fn process_runtimes_refuse_a_job_they_cannot_send() {
        for rt in [Runtime::ProcessPool, Runtime::ProcessPerTask] {
            let err = rt
                .executor(N, None)
                .run(&job(|_| Ok(Outcome::NONE)), 1)
                .unwrap_err();
            assert_eq!(
                err.to_string(),
                "this job cannot be described to a worker process"
            );
        }
        let described = Job::new(Work::Cpu(crate::workload::CpuWork {
            kind: crate::workload::CpuKind::Noop,
            iters: 0,
        }));
        assert!(described.setup().is_some());
        assert_eq!(described.call(3), Ok(Outcome::NONE));
    }

    #[test]
    fn names_round_trip() {
        for rt in Runtime::ALL {
            assert_eq!(Runtime::from_name(rt.name()), Some(rt));
        }
        assert_eq!(Runtime::from_name("goroutines"), None);
    }
}
