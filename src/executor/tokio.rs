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
//! thread for 10 s) until the tasks come. tokio+rayon's rayon pool runs a broadcast. Dropping
//! the runtime joins tokio's threads; the rayon pool is joined after it.
//!
//! Every spawned task is instrumented with its own tokio-metrics `TaskMonitor` (first-poll
//! delay, time scheduled but not running, time polled), and the runtime's workers' busy time
//! comes from tokio's stable runtime metrics, so a record can show scheduling delay beside the
//! harness's queue wait.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::runtime::{Builder, Runtime};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;
use tokio_metrics::{RuntimeMonitor, TaskMonitor};

use super::rayon::JoinedPool;
use super::{
    Executor, Job, Meet, RunOutput, StartGate, TaskKind, no_panic, run_task, run_task_async,
};
use crate::clock::now_ns;
use crate::model::task::TaskRecord;
use crate::workload::download::reqwest_client;
use crate::workload::{Outcome, Work};

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
    /// Runs task `i`'s blocking part where this offload puts it and returns its record.
    async fn run(&self, job: Job, i: usize, submit: u64) -> TaskRecord {
        match self {
            Offload::Inline => run_task(&job, i, submit),
            Offload::SpawnBlocking => {
                tokio::task::spawn_blocking(move || run_task(&job, i, submit))
                    .await
                    .expect("run_task catches panics")
            }
            Offload::Rayon(pool) => {
                let (done, record) = tokio::sync::oneshot::channel();
                pool.spawn(move || {
                    // The receiver only goes away if the run is torn down, and then nobody
                    // reads the record.
                    let _ = done.send(run_task(&job, i, submit));
                });
                record
                    .await
                    .expect("run_task catches panics, so rayon sends a record")
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
        // Declared before the runtime, so that on every way out the runtime (and the tasks
        // holding the pool) drops first and the pool's threads can be joined.
        let rayon = match self.flavor {
            Flavor::Rayon => Some(JoinedPool::start(
                self.workers,
                "the rayon pool beside tokio",
            )?),
            _ => None,
        };
        let gate = StartGate::new();
        let multi_thread = matches!(self.flavor, Flavor::MultiThread | Flavor::Rayon);
        if multi_thread {
            let up = gate.reporter();
            // Also called for blocking threads started later; the gate no longer listens then.
            builder.on_thread_start(move || up.up());
        }
        // tokio panics when the OS refuses it a thread.
        let rt = no_panic(&format!("the {name} runtime"), || {
            builder.thread_name(name).enable_all().build()
        })?
        .with_context(|| format!("could not build the {name} runtime"))?;
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
        let (records, internals, ready_ns) = run_spawned(
            &rt,
            job,
            tasks,
            self.in_flight,
            &offload,
            self.per_task_metrics,
        )?;
        Ok(RunOutput {
            tasks: records,
            ready_ns,
            internals: Some(internals),
            children_peak_rss: None,
            children_unmeasured: 0,
        })
    }
}

/// Starts tokio-blocking's `n` blocking threads before the clock: tokio spawns one on demand
/// whenever blocking work finds no idle thread, so `n` pieces of work that each hold their
/// thread until all have arrived start `n` of them.
fn start_blocking_threads(rt: &Runtime, n: usize) -> anyhow::Result<()> {
    let meet = Arc::new(Meet::new(n));
    // tokio panics when it cannot spawn a first blocking thread.
    no_panic("tokio's blocking threads", || {
        let started: Vec<_> = (0..n)
            .map(|_| {
                let meet = meet.clone();
                rt.spawn_blocking(move || meet.arrive())
            })
            .collect();
        // Waiting for them to return leaves every thread idle in the pool, ready for a task.
        rt.block_on(async {
            for s in started {
                let _ = s.await;
            }
        });
    })
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
fn spawn_one<F>(monitor: Option<&TaskMonitor>, task: F) -> JoinHandle<TaskRecord>
where
    F: Future<Output = TaskRecord> + Send + 'static,
{
    match monitor {
        Some(m) => tokio::spawn(m.instrument(task)),
        None => tokio::spawn(task),
    }
}

/// Spawns every task on `rt` behind an optional in-flight gate and collects the records in
/// task order, with what tokio saw and the ready time. `offload` says where each task's
/// blocking part runs; every worker of `rt` must already run.
fn run_spawned(
    rt: &Runtime,
    job: &Job,
    tasks: usize,
    in_flight: Option<usize>,
    offload: &Offload,
    per_task_metrics: bool,
) -> anyhow::Result<(Vec<TaskRecord>, TokioInternals, u64)> {
    let client = match job.work().and_then(Work::download) {
        Some(d) => Some(reqwest_client(d.timeout)?),
        None => None,
    };
    let gate = in_flight.map(|n| Arc::new(Semaphore::new(n)));
    let runtime_monitor = RuntimeMonitor::new(rt.handle());
    let mut intervals = runtime_monitor.intervals();
    let blocking = matches!(offload, Offload::SpawnBlocking);
    // A CPU task on tokio-blocking is all blocking part: it goes straight to the blocking pool,
    // is not a future, and has no polls to monitor.
    let straight_to_blocking = |i: usize| blocking && matches!(job.kind(i), TaskKind::Inline);
    // One monitor per task, so each task's delays are its own and can go in a histogram.
    let monitors: Vec<Option<TaskMonitor>> = (0..tasks)
        .map(|i| (per_task_metrics && !straight_to_blocking(i)).then(TaskMonitor::new))
        .collect();
    // Everything the run needs is built: the clock starts now.
    let arrivals = job.arrivals();
    // Spawning happens inside block_on so a current-thread runtime has its context; the
    // handles are awaited in task order, which also returns the records in task order.
    let records = rt.block_on(async {
        let mut handles = Vec::with_capacity(tasks);
        for (i, monitor) in monitors.iter().enumerate() {
            // Open loop, wait for the task's slot on tokio's own timer: a blocking wait here
            // would stall a current-thread runtime's tasks.
            let (wait, due) = arrivals.delay(i);
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            let submit = due.unwrap_or_else(now_ns);
            let (job, gate, client) = (job.clone(), gate.clone(), client.clone());
            if straight_to_blocking(i) {
                handles.push(tokio::task::spawn_blocking(move || {
                    run_task(&job, i, submit)
                }));
                continue;
            }
            let monitor = monitor.as_ref();
            let offload = offload.clone();
            // Each kind of task is its own future: one async block for all kinds would be
            // as large as a reqwest download for every task, noop and sleep included.
            handles.push(match job.kind(i) {
                TaskKind::Download(_, _) => spawn_one(monitor, async move {
                    let _permit = admitted(gate).await;
                    let (TaskKind::Download(d, page), Some(client)) =
                        (job.kind(i), client.as_ref())
                    else {
                        unreachable!("a download task has its work and a client")
                    };
                    run_task_async(i, submit, d.run_tokio(client, page, blocking)).await
                }),
                TaskKind::Sleep(s) if s.blocking && !matches!(offload, Offload::Inline) => {
                    spawn_one(monitor, async move {
                        let _permit = admitted(gate).await;
                        offload.run(job, i, submit).await
                    })
                }
                TaskKind::Sleep(s) => {
                    let s = *s;
                    spawn_one(monitor, async move {
                        let _permit = admitted(gate).await;
                        run_task_async(i, submit, async move {
                            if s.blocking {
                                // On purpose: this holds the executor thread.
                                std::thread::sleep(s.duration);
                            } else {
                                tokio::time::sleep(s.duration).await;
                            }
                            Ok(Outcome::NONE)
                        })
                        .await
                    })
                }
                TaskKind::Inline => spawn_one(monitor, async move {
                    let _permit = admitted(gate).await;
                    offload.run(job, i, submit).await
                }),
            });
        }
        let mut records = Vec::with_capacity(tasks);
        for handle in handles {
            records.push(handle.await.context("a tokio task was cancelled")?);
        }
        anyhow::Ok(records)
    })?;
    let runtime = intervals.next().unwrap_or_default();
    let internals = TokioInternals {
        tasks: monitors
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
    };
    Ok((records, internals, arrivals.t0_ns()))
}
