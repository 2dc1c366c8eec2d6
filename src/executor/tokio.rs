//! tokio: `tokio-mt` (multi-thread runtime), `tokio-ct` (current-thread runtime),
//! `tokio-blocking` (each task's blocking part in `spawn_blocking`) and `tokio+rayon` (the
//! multi-thread runtime with a rayon pool beside it for the blocking part).
//!
//! CPU tasks run inline in async tasks (or, for tokio-blocking, in `spawn_blocking`, and for
//! tokio+rayon on the rayon pool, awaited through a oneshot channel). IO tasks
//! are futures with tokio's own pieces: reqwest for HTTP, `tokio::fs` for files,
//! `tokio::time` for sleeps.
//!
//! Before the first submission every worker runs: the multi-thread runtime's worker threads
//! report in from tokio's `on_thread_start` hook, which runs on each of them as it begins its
//! work loop. A task per worker would not show that (one worker can run all of them before the
//! others wake), nor would `block_on` (it runs on the caller). tokio-blocking's blocking threads
//! are spawned on demand, so it starts all N with N pieces of blocking work that hold their
//! thread until every one has arrived; they then idle in the pool (tokio keeps an idle blocking
//! thread for 10 s) until the tasks come. tokio+rayon's rayon pool runs a broadcast.
//!
//! The multi-thread runtimes are driven from the caller, which spawns the tasks from outside
//! the runtime and waits for their records. A current-thread runtime runs only while a thread
//! is inside its `block_on`, so tokio-ct and tokio-blocking run theirs on a thread of their own,
//! named after the runtime, and the caller waits beside it. At the end of a complete run
//! dropping the runtime joins tokio's threads (and the rayon pool is joined after it). A run
//! cut short by a signal aborts its tasks and shuts the runtime down in the background instead:
//! a task busy in a CPU loop or a blocking call cannot be aborted, and its thread is left to
//! end with the process.
//!
//! tokio panics when the OS refuses it a worker thread, and then, unwinding, waits for the
//! workers it did start, which would wait for work forever. So every new tokio thread waits at
//! its start until the runtime is built ([`Launch`]), and is ended if it could not be; the
//! panic becomes one error. A blocking thread tokio cannot spawn while it has others is not an
//! error to tokio (the work waits for a busy thread), so tokio-blocking checks that all N of
//! its threads came up.
//!
//! Every spawned task is instrumented with its own tokio-metrics `TaskMonitor` (first-poll
//! delay, time scheduled but not running, time polled), and the runtime's workers' busy time
//! comes from tokio's stable runtime metrics, so a record can show scheduling delay beside the
//! harness's queue wait.
//!
//! Why one file over 500 lines: the four tokio flavours share one spawner, one launch and the
//! two ways of driving the runtime (from outside, or on a thread of its own); apart, each
//! would repeat them.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use anyhow::Context;
use tokio::runtime::{Builder, Runtime};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;
use tokio_metrics::{RuntimeMonitor, TaskMonitor};

use super::rayon::JoinedPool;
use super::{
    Arrivals, Executor, Job, Ledger, Meet, RunOutput, START_LIMIT, StartGate, TaskKind, no_panic,
    spawn_reason,
};
use crate::clock::now_ns;
use crate::interrupt;
use crate::workload::Work;

/// Which tokio runtime a [`Tokio`] executor builds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// The multi-thread runtime with `workers` worker threads; tasks run inline in async tasks.
    MultiThread,
    /// The current-thread runtime on the calling thread.
    CurrentThread,
    /// A current-thread runtime whose tasks do their blocking part in `spawn_blocking`, on at
    /// most `workers` blocking threads: a CPU task's work, a download's file writes, a blocking
    /// sleep. The async side runs on the calling thread.
    Blocking,
    /// The multi-thread runtime with `workers` worker threads for IO, and a rayon pool of
    /// `workers` threads beside it for the blocking part (CPU work, a blocking sleep): the
    /// tokio+rayon pattern for CPU work in async programs.
    Rayon,
}

/// Where a tokio run puts a task's blocking part.
#[derive(Clone)]
enum Offload {
    /// On the async worker that polls the task.
    Inline,
    /// In `spawn_blocking`.
    SpawnBlocking,
    /// On this rayon pool, awaited through a oneshot channel.
    Rayon(Arc<rayon::ThreadPool>),
}

impl Offload {
    /// Runs task `i`'s blocking part where this offload puts it and leaves its record in
    /// `ledger`.
    async fn run(&self, ledger: Arc<Ledger>, i: usize, submit: u64) {
        match self {
            Offload::Inline => ledger.run(i, submit),
            Offload::SpawnBlocking => {
                // The record is in the ledger; the join only keeps the task (and its in-flight
                // permit) until the work is done. It fails only if the runtime is torn down.
                let _ = tokio::task::spawn_blocking(move || ledger.run(i, submit)).await;
            }
            Offload::Rayon(pool) => {
                let (done, finished) = tokio::sync::oneshot::channel();
                pool.spawn(move || {
                    ledger.run(i, submit);
                    // The receiver only goes away if the run is torn down.
                    let _ = done.send(());
                });
                let _ = finished.await;
            }
        }
    }
}

/// `tokio-mt`, `tokio-ct`, `tokio-blocking` or `tokio+rayon`, by [`Flavor`].
pub struct Tokio {
    /// Which runtime.
    pub flavor: Flavor,
    /// `worker_threads(N)` for the multi-thread runtime (and tokio+rayon's rayon pool),
    /// `max_blocking_threads(N)` for tokio-blocking; unused by the current-thread runtime.
    pub workers: usize,
    /// Most tasks in flight; `None` for all of them.
    pub in_flight: Option<usize>,
    /// Whether each task gets its own tokio-metrics `TaskMonitor` (about 330 bytes and a few
    /// atomic adds per poll; `--no-tokio-metrics` turns it off for scale runs).
    pub per_task_metrics: bool,
}

/// One spawned task as its `TaskMonitor` saw it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TaskPolls {
    /// From spawn to the first poll: how long the scheduler took to start it.
    pub first_poll_delay: Duration,
    /// Time it was ready to run but waiting for a worker, first poll included.
    pub scheduled: Duration,
    /// Time spent inside its polls.
    pub polled: Duration,
    /// How many times it was polled.
    pub polls: u64,
}

/// What a tokio runtime saw during one run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TokioInternals {
    /// Per task, in task order; `None` for tasks run straight in `spawn_blocking`, which are
    /// not futures and have no polls.
    pub tasks: Vec<Option<TaskPolls>>,
    /// The runtime's worker threads.
    pub workers: usize,
    /// Their busy time, summed.
    pub busy: Duration,
    /// The time over which `busy` was measured.
    pub elapsed: Duration,
}

impl Executor for Tokio {
    fn run(&self, job: &Job, tasks: usize) -> anyhow::Result<RunOutput> {
        // Declared before the runtime, so that on every way out the runtime (and the tasks
        // holding the pool) drops first and the pool's threads can be joined.
        let rayon = match self.flavor {
            Flavor::Rayon => Some(JoinedPool::start(self.workers, "rayon thread")?),
            _ => None,
        };
        let multi_thread = matches!(self.flavor, Flavor::MultiThread | Flavor::Rayon);
        let gate = StartGate::new();
        let (rt, name) = self.build(multi_thread.then(|| gate.reporter()))?;
        if multi_thread {
            gate.wait(self.workers);
        } else {
            drop(gate);
        }
        if self.flavor == Flavor::Blocking {
            start_blocking_threads(&rt, self.workers)?;
        }
        let offload = match (&rayon, self.flavor) {
            (_, Flavor::Blocking) => Offload::SpawnBlocking,
            (Some(pool), _) => Offload::Rayon(pool.pool().clone()),
            _ => Offload::Inline,
        };
        let spawner = Spawner::new(job, tasks, self.in_flight, offload, self.per_task_metrics)?;
        let runtime_monitor = RuntimeMonitor::new(rt.handle());
        let mut intervals = runtime_monitor.intervals();
        let (complete, arrivals) = if multi_thread {
            drive_from_outside(rt, &spawner, tasks)
        } else {
            drive_on_own_thread(rt, &spawner, tasks, name)?
        };
        if !complete {
            if let Some(pool) = rayon {
                pool.abandon();
            }
        }
        let internals = internals(&spawner, intervals.next().unwrap_or_default());
        let Spawner { ledger, .. } = spawner;
        Ok(RunOutput {
            tasks: ledger.records(&arrivals),
            ready_ns: arrivals.t0_ns(),
            internals: Some(internals),
            children_peak_rss: None,
            children_unmeasured: 0,
            grandchildren_peak: 0,
            child_threads_peak: 0,
        })
    }
}

impl Tokio {
    /// Builds the runtime of this flavor, and its name; `up` hears from each worker thread as
    /// it starts (multi-thread runtimes). A worker thread the OS will not create is an error
    /// naming it, after the threads tokio did start have ended (see [`Launch`]).
    fn build(
        &self,
        up: Option<super::start::Reporter>,
    ) -> anyhow::Result<(tokio::runtime::Runtime, &'static str)> {
        let (mut builder, name) = match self.flavor {
            Flavor::MultiThread | Flavor::Rayon => {
                let mut b = Builder::new_multi_thread();
                b.worker_threads(self.workers);
                (b, "tokio-mt")
            }
            Flavor::CurrentThread => (Builder::new_current_thread(), "tokio-ct"),
            Flavor::Blocking => {
                let mut b = Builder::new_current_thread();
                b.max_blocking_threads(self.workers);
                (b, "tokio-blocking")
            }
        };
        let launch = Arc::new(Launch::default());
        {
            let launch = launch.clone();
            // Also called for blocking threads started later; the gate no longer listens then,
            // and the launch is long decided.
            builder.on_thread_start(move || {
                if let Some(up) = &up {
                    up.up();
                }
                launch.hold();
            });
        }
        let failed = launch.clone();
        let built = no_panic(
            move || failed.decide(false),
            || builder.thread_name(name).enable_all().build(),
        );
        match built {
            Ok(Ok(rt)) => {
                launch.decide(true);
                Ok((rt, name))
            }
            Ok(Err(e)) => {
                launch.decide(false);
                Err(e).with_context(|| format!("could not build the {name} runtime"))
            }
            // Every thread tokio did spawn has passed the launch by now: the unwinding waited
            // for them.
            Err(panic) => anyhow::bail!(
                "could not start {name} worker thread {} of {}: {}",
                launch.held.load(Ordering::SeqCst) + 1,
                self.workers,
                spawn_reason(&panic)
            ),
        }
    }
}

/// What tokio's monitors saw: each task's polls and the runtime's busy time.
fn internals(spawner: &Spawner, runtime: tokio_metrics::RuntimeMetrics) -> TokioInternals {
    TokioInternals {
        tasks: spawner
            .monitors
            .iter()
            .map(|m| {
                m.as_ref().map(|m| {
                    let c = m.cumulative();
                    TaskPolls {
                        first_poll_delay: c.total_first_poll_delay,
                        scheduled: c.total_scheduled_duration,
                        polled: c.total_poll_duration,
                        polls: c.total_poll_count,
                    }
                })
            })
            .collect(),
        workers: runtime.workers_count,
        busy: runtime.total_busy_duration,
        elapsed: runtime.elapsed,
    }
}

/// Holds each new tokio thread at its start until the runtime is built, and ends the thread if
/// the runtime could not be built (see the module's doc).
#[derive(Default)]
struct Launch {
    /// `None` while the runtime is being built, then whether it was.
    built: Mutex<Option<bool>>,
    decided: Condvar,
    /// Threads that came to the launch.
    held: AtomicUsize,
}

/// What ends a tokio thread whose runtime could not be built.
struct NotBuilt;

impl Launch {
    /// Waits until the runtime is built; unwinds the calling thread, without a panic message,
    /// if it could not be.
    fn hold(&self) {
        self.held.fetch_add(1, Ordering::SeqCst);
        // A plain flag every step leaves consistent, so a poisoned lock still holds the truth.
        let built = self
            .built
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let built = self
            .decided
            .wait_while(built, |b| b.is_none())
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if *built == Some(false) {
            drop(built);
            // Unlike a panic, this runs no panic hook: nothing is printed.
            std::panic::resume_unwind(Box::new(NotBuilt));
        }
    }

    /// Lets the held threads go on (`true`) or end (`false`).
    fn decide(&self, built: bool) {
        *self
            .built
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(built);
        self.decided.notify_all();
    }
}

/// Starts tokio-blocking's `n` blocking threads before the clock: tokio spawns one on demand
/// whenever blocking work finds no idle thread, so `n` pieces of work that each hold their
/// thread until all have arrived start `n` of them. Fewer than `n` arrived within
/// [`START_LIMIT`] means tokio could not spawn the rest (it does not say: while it has a thread,
/// the work waits for it), and is an error.
fn start_blocking_threads(rt: &Runtime, n: usize) -> anyhow::Result<()> {
    let meet = Arc::new(Meet::new(n));
    let mut started = Vec::with_capacity(n);
    // tokio panics when it cannot spawn a first blocking thread.
    let spawned = no_panic(
        || {},
        || {
            for _ in 0..n {
                let meet = meet.clone();
                started.push(rt.spawn_blocking(move || meet.arrive()));
            }
        },
    );
    let arrived = match &spawned {
        Ok(()) => meet.wait(),
        Err(_) => {
            meet.release();
            0
        }
    };
    // Waiting for the pieces to return leaves every thread idle in the pool, ready for a task.
    rt.block_on(async {
        for s in started {
            let _ = s.await;
        }
    });
    match spawned {
        Err(panic) => anyhow::bail!(
            "could not start blocking thread {} of {n}: {}",
            arrived + 1,
            spawn_reason(&panic)
        ),
        Ok(()) if arrived < n => anyhow::bail!(
            "could not start blocking thread {} of {n}: tokio started {arrived} and no more within {}",
            arrived + 1,
            humantime::format_duration(START_LIMIT)
        ),
        Ok(()) => Ok(()),
    }
}

/// Waits for a permit when the run limits the tasks in flight.
async fn admitted(gate: Option<Arc<Semaphore>>) -> Option<OwnedSemaphorePermit> {
    match gate {
        // The semaphore is never closed, so acquiring can only wait, not fail.
        Some(g) => Some(g.acquire_owned().await.expect("the gate is never closed")),
        None => None,
    }
}

/// Spawns `task`, through its tokio-metrics monitor when it has one.
fn spawn_one<F>(monitor: Option<&TaskMonitor>, task: F) -> JoinHandle<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    match monitor {
        Some(m) => tokio::spawn(m.instrument(task)),
        None => tokio::spawn(task),
    }
}

/// Everything a tokio run needs to spawn its tasks, built before the clock starts.
#[derive(Clone)]
struct Spawner {
    ledger: Arc<Ledger>,
    gate: Option<Arc<Semaphore>>,
    client: Option<reqwest::Client>,
    offload: Offload,
    /// One per task, so each task's delays are its own and can go in a histogram; `None` for
    /// tasks without one.
    monitors: Arc<[Option<TaskMonitor>]>,
}

impl Spawner {
    fn new(
        job: &Job,
        tasks: usize,
        in_flight: Option<usize>,
        offload: Offload,
        per_task_metrics: bool,
    ) -> anyhow::Result<Spawner> {
        let client = match job.work().and_then(Work::download) {
            Some(d) => Some(d.reqwest_client()?),
            None => None,
        };
        let mut spawner = Spawner {
            ledger: Ledger::new(job, tasks),
            gate: in_flight.map(|n| Arc::new(Semaphore::new(n))),
            client,
            offload,
            monitors: Arc::new([]),
        };
        spawner.monitors = (0..tasks)
            .map(|i| (per_task_metrics && !spawner.straight_to_blocking(i)).then(TaskMonitor::new))
            .collect();
        Ok(spawner)
    }

    /// Whether task `i` goes straight to the blocking pool: a CPU task on tokio-blocking is all
    /// blocking part, is not a future, and has no polls to monitor.
    fn straight_to_blocking(&self, i: usize) -> bool {
        matches!(self.offload, Offload::SpawnBlocking)
            && matches!(self.ledger.job().kind(i), TaskKind::Inline)
    }

    /// Spawns task `i`, submitted at `submit`, on the runtime the calling thread is in.
    fn spawn(&self, i: usize, submit: u64) -> JoinHandle<()> {
        let ledger = self.ledger.clone();
        if self.straight_to_blocking(i) {
            return tokio::task::spawn_blocking(move || ledger.run(i, submit));
        }
        let (gate, client) = (self.gate.clone(), self.client.clone());
        let monitor = self.monitors[i].as_ref();
        let offload = self.offload.clone();
        let blocking = matches!(offload, Offload::SpawnBlocking);
        // Each kind of task is its own future: one async block for all kinds would be as large
        // as a reqwest download for every task, noop and sleep included.
        match self.ledger.job().kind(i) {
            TaskKind::Download(_, _) => spawn_one(monitor, async move {
                let _permit = admitted(gate).await;
                let (TaskKind::Download(d, page), Some(client)) =
                    (ledger.job().kind(i), client.as_ref())
                else {
                    unreachable!("a download task has its work and a client")
                };
                let work = d.run_tokio(client, page, blocking);
                ledger.run_async(i, submit, work).await
            }),
            TaskKind::Sleep(s) if s.blocking && !matches!(offload, Offload::Inline) => {
                spawn_one(monitor, async move {
                    let _permit = admitted(gate).await;
                    offload.run(ledger, i, submit).await
                })
            }
            TaskKind::Sleep(s) => {
                let s = *s;
                spawn_one(monitor, async move {
                    let _permit = admitted(gate).await;
                    let work = s.run_async(tokio::time::sleep);
                    ledger.run_async(i, submit, work).await
                })
            }
            TaskKind::Inline => spawn_one(monitor, async move {
                let _permit = admitted(gate).await;
                offload.run(ledger, i, submit).await
            }),
        }
    }
}

/// Runs a multi-thread runtime's tasks from the calling thread, which is not one of the
/// runtime's: it spawns every task (waiting for its slot, open loop, on its own clock rather
/// than tokio's, which would need a `block_on`), waits for the records, and tears the runtime
/// down. Returns whether the run was complete (not cut short) and its arrivals.
fn drive_from_outside(rt: Runtime, spawner: &Spawner, tasks: usize) -> (bool, Arrivals) {
    let arrivals = spawner.ledger.job().arrivals();
    let mut handles = Vec::with_capacity(tasks);
    {
        let _inside = rt.enter();
        for i in 0..tasks {
            let submit = arrivals.submit(i);
            match interrupt::requested() {
                Some(_) => spawner.ledger.skip(i, submit),
                None => handles.push(spawner.spawn(i, submit)),
            }
        }
    }
    let complete = spawner.ledger.wait();
    if complete {
        drop(handles);
        // Joins tokio's threads.
        drop(rt);
    } else {
        for h in &handles {
            h.abort();
        }
        // Does not wait for a worker stuck in a task that cannot be aborted.
        rt.shutdown_background();
    }
    (complete, arrivals)
}

/// Runs a current-thread runtime's tasks on a thread of its own (see the module's doc), while
/// the calling thread waits for the records. Returns whether the run was complete and its
/// arrivals.
fn drive_on_own_thread(
    rt: Runtime,
    spawner: &Spawner,
    tasks: usize,
    name: &str,
) -> anyhow::Result<(bool, Arrivals)> {
    let gate = StartGate::new();
    let (start, started) = crossbeam_channel::bounded::<Arrivals>(1);
    // Told when the run stops waiting, so the thread aborts the tasks and leaves.
    let cut = Arc::new(Notify::new());
    let driver = {
        let (up, cut, spawner) = (gate.reporter(), cut.clone(), spawner.clone());
        std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || {
                up.up();
                // The caller sends the arrivals once this thread runs; none if it gave up.
                let Ok(arrivals) = started.recv() else {
                    return;
                };
                let was_cut = rt.block_on(async {
                    let mut handles = Vec::with_capacity(tasks);
                    for i in 0..tasks {
                        // Open loop, wait for the task's slot on tokio's own timer: a blocking
                        // wait here would stall the runtime's tasks.
                        let (wait, due) = arrivals.delay(i);
                        if !wait.is_zero() {
                            tokio::time::sleep(wait).await;
                        }
                        let submit = due.unwrap_or_else(now_ns);
                        match interrupt::requested() {
                            Some(_) => spawner.ledger.skip(i, submit),
                            None => handles.push(spawner.spawn(i, submit)),
                        }
                    }
                    let all = async {
                        for h in handles.iter_mut() {
                            let _ = h.await;
                        }
                        false
                    };
                    let was_cut = futures_lite::future::or(all, async {
                        cut.notified().await;
                        true
                    })
                    .await;
                    if was_cut {
                        for h in &handles {
                            h.abort();
                        }
                    }
                    was_cut
                });
                if was_cut {
                    // tokio-blocking's blocking threads may be busy in tasks that never end.
                    rt.shutdown_background();
                }
            })
            .map_err(|e| anyhow::anyhow!("could not start the {name} thread: {e}"))?
    };
    gate.wait(1);
    let arrivals = spawner.ledger.job().arrivals();
    // The thread waits for this on the other end.
    let _ = start.send(arrivals);
    let complete = spawner.ledger.wait();
    if complete {
        // Every task has its record: the thread is only tearing the runtime down.
        let _ = driver.join();
    } else {
        // A thread stuck in a task never sees this, and is left to end with the process.
        cut.notify_one();
    }
    Ok((complete, arrivals))
}
