//! The one way a task's record is made: around a call or a future on any runtime, for a task
//! cut short by a signal, and for one that could not start.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use super::Job;
use crate::clock::now_ns;
use crate::model::task::{OsThread, TaskRecord};
use crate::workload::{TaskError, TaskResult};

/// Runs task `task` on the calling thread and records it. Every runtime calls this, or
/// `Ledger::run`, so the measuring code around the job is the same everywhere.
pub fn run_task(job: &Job, task: usize, submit_ns: u64) -> TaskRecord {
    run_noting(job, task, submit_ns, |_, _| {})
}

/// [`run_task`], telling `started` the thread and the time the task starts, if it does.
pub(super) fn run_noting(
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
pub(super) async fn run_async_noting(
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
pub(super) fn cut_short(task: usize, worker: OsThread, submit_ns: u64) -> Option<TaskRecord> {
    crate::interrupt::requested()?;
    Some(not_run(task, worker, submit_ns, TaskError::Interrupted))
}

/// A task's record from its timestamps and what running it returned or how it panicked.
pub(super) fn record(
    task: usize,
    worker: OsThread,
    submit_ns: u64,
    start_ns: u64,
    end_ns: u64,
    outcome: std::thread::Result<TaskResult>,
) -> TaskRecord {
    let result =
        outcome.unwrap_or_else(|panic| Err(TaskError::Panic(panic_message(panic.as_ref()))));
    TaskRecord::new(task, worker, (submit_ns, start_ns, end_ns), result)
}

/// Waits for a permit when a smol or async-std run limits the tasks in flight (tokio has its
/// own semaphore).
pub(super) async fn admitted(
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
pub(super) fn not_run(
    task: usize,
    worker: OsThread,
    submit_ns: u64,
    error: TaskError,
) -> TaskRecord {
    let now = now_ns().max(submit_ns);
    TaskRecord::new(task, worker, (submit_ns, now, now), Err(error))
}

pub(super) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".into())
}

/// Puts records into task order; runtimes that finish out of order call this before returning.
pub(super) fn in_task_order(mut records: Vec<TaskRecord>) -> Vec<TaskRecord> {
    records.sort_by_key(|r| r.task);
    records
}
