//! Worker processes: `process-pool` (N long-lived workers, like Python's ProcessPoolExecutor)
//! and `process-per-task` (a fresh child for every task), plus the worker's side ([`serve`]).
//!
//! A worker is this same binary started with the hidden `worker` subcommand and spoken to over
//! its stdin and stdout in the frames of [`crate::protocol`]. The parent runs one proxy thread
//! per worker slot: it takes a task, writes it to its worker, and blocks on the answer, so a task
//! costs one write and one read, and a slot whose worker dies knows exactly which task died
//! with it. A dead or babbling worker fails only its task: the slot reaps it, records why, and
//! starts a new one for the next task. The worker measures its own start and end times on
//! CLOCK_MONOTONIC, so they land on the parent's timeline unchanged.
//!
//! A pool starts all its workers before the first submission: each slot spawns its worker,
//! sends it the setup and waits for its [`crate::protocol::Ready`] answer (exec'd, initialised, holding the
//! setup), and the run's clock starts once every slot has its answer or knows that its worker
//! could not start. A worker (or a proxy thread) the OS will not create before the run stops
//! it with an error, as a thread pool's thread would. A worker that was created but failed
//! before it was ready fails its slot's first task with the reason, and the slot tries again
//! for the next one, as after a worker dies. `process-per-task` has nothing to start up front
//! but its proxy threads: each task's worker is spawned, set up and waited for inside its queue
//! time, and one the OS will not create fails that task.
//!
//! Workers are spawned through [`crate::child`] (no shell, no `pre_exec`, which would force
//! a full fork instead of `posix_spawn`), in a process group of their own: Ctrl-C in a terminal
//! reaches only the parent, which then stops dispatching, kills every worker at once (no grace
//! period: a killed worker ends whatever it was doing) and reaps it. A worker exits when its
//! stdin closes, so even a parent killed with SIGKILL leaves none behind once the task in hand
//! ends.

//!
//! Here: the two executors and the parent's loop (`drive`); `slot.rs` holds a proxy thread's
//! side (a slot, its worker process, the set of live workers); `worker.rs` the worker's side.

mod slot;
mod worker;

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::thread;
use std::time::Duration;

use anyhow::Context;
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, bounded, unbounded};

use super::job::Arrivals;
use super::{Executor, Job, RunOutput, in_task_order};
use crate::clock::now_ns;
use crate::interrupt;
use crate::model::task::{OsThread, TaskRecord};
use crate::workload::TaskError;
use slot::{Children, Slot};
pub use worker::serve;

/// The hidden subcommand that turns the binary into a worker.
pub const WORKER_COMMAND: &str = "worker";

/// N long-lived worker processes, each running one task at a time.
pub struct ProcessPool {
    /// Worker processes.
    pub workers: usize,
    /// The asyncstudy binary to start workers from; `None` means the running one.
    pub program: Option<PathBuf>,
}

/// A new worker process for every task, at most `max_alive` at once.
pub struct ProcessPerTask {
    /// Most task processes alive at once.
    pub max_alive: usize,
    /// The asyncstudy binary to start workers from; `None` means the running one.
    pub program: Option<PathBuf>,
}

impl Executor for ProcessPool {
    fn run(&self, job: &Job, tasks: usize) -> anyhow::Result<RunOutput> {
        drive(job, tasks, self.workers, self.program.as_deref(), false)
    }
}

impl Executor for ProcessPerTask {
    fn run(&self, job: &Job, tasks: usize) -> anyhow::Result<RunOutput> {
        drive(job, tasks, self.max_alive, self.program.as_deref(), true)
    }
}

/// How often the parent looks for Ctrl-C while its slots work. Only the reaction time depends
/// on it: a finishing slot wakes the parent at once.
const WATCH_EVERY: Duration = Duration::from_millis(20);

/// Runs `tasks` tasks on `slots` worker slots; `one_task_each` retires a worker after one task
/// (and so starts none before the first submission).
fn drive(
    job: &Job,
    tasks: usize,
    slots: usize,
    program: Option<&Path>,
    one_task_each: bool,
) -> anyhow::Result<RunOutput> {
    let setup = job
        .setup()
        .context("this job cannot be described to a worker process")?;
    let program = match program {
        Some(p) => p.to_path_buf(),
        None => std::env::current_exe().context("could not find the asyncstudy binary")?,
    };
    interrupt::watch().context("could not take over Ctrl-C and SIGTERM")?;
    let children = Children::default();
    let slot = Slot {
        setup,
        program: &program,
        children: &children,
        one_task_each,
    };
    let (queue, inbox) = unbounded::<(usize, u64)>();
    let (finished, slot_records) = bounded::<Vec<TaskRecord>>(slots);
    // Each slot says once that it is ready for tasks: its worker answered ready, or failed
    // before it was (or it has none to start, one task each); or that the OS would not create
    // its worker's process, which stops the run.
    let (up, ups) = unbounded::<Option<(usize, String)>>();
    thread::scope(|scope| {
        let mut open = 0;
        for k in 0..slots {
            let (inbox, finished, up) = (inbox.clone(), finished.clone(), up.clone());
            let started = thread::Builder::new()
                .name(format!("asyncstudy-proxy-{k}"))
                .spawn_scoped(scope, move || slot.proxy(k, &inbox, &finished, &up));
            if let Err(e) = started {
                // Closing the queue and killing the workers ends the slots already started;
                // the scope waits for them.
                drop(queue);
                children.stop_all();
                anyhow::bail!("could not start proxy thread {} of {slots}: {e}", k + 1);
            }
            open += 1;
        }
        drop((finished, up));
        // A pool starts its workers up front, as a thread pool its threads: one the OS would
        // not create fails the run. (A worker that fails once created fails its slot's first
        // task instead, as one that dies later fails its task.)
        if let Some((k, why)) = await_ready(&ups, open, &children) {
            drop(queue);
            children.stop_all();
            anyhow::bail!("could not start worker process {} of {slots}: {why}", k + 1);
        }
        let arrivals = job.arrivals();
        let queued = submit(&queue, &arrivals, tasks);
        drop(queue);
        if interrupt::requested().is_some() {
            children.stop_all();
        }
        let mut records = collect(&slot_records, open, &children);
        // Tasks no slot took, or an interrupt kept from being queued.
        let unqueued = (queued..tasks).map(|i| (i, arrivals.due_ns(i).unwrap_or_else(now_ns)));
        records.extend(inbox.try_iter().chain(unqueued).map(|(task, submit)| {
            let when = (submit, submit, submit);
            TaskRecord::new(task, OsThread::current(), when, Err(TaskError::Interrupted))
        }));
        Ok(RunOutput {
            tasks: in_task_order(records),
            ready_ns: arrivals.t0_ns(),
            internals: None,
            children_peak_rss: Some(children.peak_rss.load(Ordering::Relaxed)),
            children_unmeasured: children.unmeasured.load(Ordering::Relaxed),
            grandchildren_peak: 0,
            child_threads_peak: 0,
        })
    })
}

/// Waits until each of the `open` slots says it is ready; the first slot whose worker the OS
/// would not create, with why. A signal meanwhile kills the workers, which ends their wait.
fn await_ready(
    ups: &Receiver<Option<(usize, String)>>,
    open: usize,
    children: &Children,
) -> Option<(usize, String)> {
    let mut ready = 0;
    let mut refused: Option<(usize, String)> = None;
    while ready < open {
        match ups.recv_timeout(WATCH_EVERY) {
            Ok(why) => {
                ready += 1;
                if let Some((k, why)) = why {
                    if refused.as_ref().is_none_or(|(first, _)| k < *first) {
                        refused = Some((k, why));
                    }
                }
            }
            Err(RecvTimeoutError::Timeout) => {
                if interrupt::requested().is_some() {
                    children.stop_all();
                }
            }
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    refused
}

/// Queues the tasks on the arrival schedule until all are queued or a signal stops it; how
/// many were queued.
fn submit(queue: &Sender<(usize, u64)>, arrivals: &Arrivals, tasks: usize) -> usize {
    let mut queued = 0;
    while queued < tasks && interrupt::requested().is_none() {
        // Wait for the slot in short steps, so Ctrl-C is seen while the schedule is sparse.
        let (wait, due) = arrivals.delay(queued);
        if !wait.is_zero() {
            thread::sleep(wait.min(WATCH_EVERY));
            continue;
        }
        // Closed loop the whole batch is submitted at the ready time.
        let submit = due.unwrap_or(arrivals.t0_ns());
        // The inbox is held by the caller, so a send cannot fail.
        queue.send((queued, submit)).expect("the inbox is alive");
        queued += 1;
    }
    queued
}

/// Gathers the records of the `open` slots as they end; a signal meanwhile kills the workers.
fn collect(
    slot_records: &Receiver<Vec<TaskRecord>>,
    mut open: usize,
    children: &Children,
) -> Vec<TaskRecord> {
    let mut records = Vec::new();
    while open > 0 {
        match slot_records.recv_timeout(WATCH_EVERY) {
            Ok(done) => {
                records.extend(done);
                open -= 1;
            }
            Err(RecvTimeoutError::Timeout) => {
                if interrupt::requested().is_some() {
                    children.stop_all();
                }
            }
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    records
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::{CpuKind, CpuWork, Work};

    fn noop() -> Job {
        Job::new(Work::Cpu(CpuWork {
            kind: CpuKind::Noop,
            iters: 0,
        }))
    }

    #[test]
    fn a_worker_that_cannot_be_created_fails_a_pool_and_each_task_of_a_per_task_run() {
        let missing = PathBuf::from("/nonexistent/asyncstudy");
        // A pool starts its workers up front: one it cannot create stops the run.
        let pool = ProcessPool {
            workers: 2,
            program: Some(missing.clone()),
        };
        let err = pool.run(&noop(), 5).unwrap_err().to_string();
        assert!(
            err.starts_with("could not start worker process 1 of 2: No such file or directory"),
            "{err}"
        );
        // A run creating one per task fails each task that has none.
        let per_task = ProcessPerTask {
            max_alive: 2,
            program: Some(missing),
        };
        let records = per_task.run(&noop(), 5).unwrap().tasks;
        assert_eq!(records.len(), 5);
        for (i, r) in records.iter().enumerate() {
            assert_eq!(r.task, i);
            match &r.error {
                Some(TaskError::Spawn(why)) => assert!(
                    why.starts_with("could not start worker /nonexistent/asyncstudy: "),
                    "{why}"
                ),
                other => panic!("task {i}: {other:?}"),
            }
            assert!(r.submit_ns <= r.start_ns && r.start_ns <= r.end_ns);
        }
    }
}
