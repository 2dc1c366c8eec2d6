//! tokio: `tokio-mt` (multi-thread runtime), `tokio-ct` (current-thread runtime) and
//! `tokio-blocking` (each task's work in `spawn_blocking`).

use std::sync::Arc;

use anyhow::Context;
use tokio::runtime::{Builder, Runtime};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

use super::{Executor, Job, run_task};
use crate::clock::now_ns;
use crate::measure::record::TaskRecord;

/// tokio's multi-thread runtime with `workers` worker threads; tasks run inline in async tasks.
pub struct TokioMultiThread {
    /// `worker_threads(N)`.
    pub workers: usize,
}

/// tokio's current-thread runtime on the calling thread, at most `max_in_flight` tasks started.
pub struct TokioCurrentThread {
    /// Tasks allowed past the gate at once (CPU tasks never yield, so this rarely matters).
    pub max_in_flight: usize,
}

/// A current-thread runtime whose tasks do their work in `spawn_blocking`, on at most `workers`
/// blocking threads. The async side runs on the calling thread and only awaits.
pub struct TokioBlocking {
    /// `max_blocking_threads(N)`.
    pub workers: usize,
}

impl Executor for TokioMultiThread {
    fn run(&self, job: &Job, tasks: usize) -> anyhow::Result<Vec<TaskRecord>> {
        let rt = Builder::new_multi_thread()
            .worker_threads(self.workers)
            .thread_name("asyncstudy-tokio")
            .build()
            .context("could not build the tokio multi-thread runtime")?;
        run_spawned(&rt, tasks, |i| {
            let job = job.clone();
            let submit = now_ns();
            rt.spawn(async move { run_task(&job, i, submit) })
        })
    }
}

impl Executor for TokioCurrentThread {
    fn run(&self, job: &Job, tasks: usize) -> anyhow::Result<Vec<TaskRecord>> {
        let rt = Builder::new_current_thread()
            .build()
            .context("could not build the tokio current-thread runtime")?;
        let gate = Arc::new(Semaphore::new(self.max_in_flight));
        run_spawned(&rt, tasks, |i| {
            let (job, gate) = (job.clone(), Arc::clone(&gate));
            let submit = now_ns();
            rt.spawn(async move {
                // The semaphore is never closed, so acquiring can only wait, not fail.
                let _permit = gate
                    .acquire_owned()
                    .await
                    .expect("the gate is never closed");
                run_task(&job, i, submit)
            })
        })
    }
}

impl Executor for TokioBlocking {
    fn run(&self, job: &Job, tasks: usize) -> anyhow::Result<Vec<TaskRecord>> {
        let rt = Builder::new_current_thread()
            .max_blocking_threads(self.workers)
            .thread_name("asyncstudy-tokio-blocking")
            .build()
            .context("could not build the tokio runtime")?;
        run_spawned(&rt, tasks, |i| {
            let job = job.clone();
            let submit = now_ns();
            rt.spawn_blocking(move || run_task(&job, i, submit))
        })
    }
}

/// Spawns every task with `spawn`, then awaits them in order on the runtime.
fn run_spawned(
    rt: &Runtime,
    tasks: usize,
    mut spawn: impl FnMut(usize) -> JoinHandle<TaskRecord>,
) -> anyhow::Result<Vec<TaskRecord>> {
    // Spawning happens inside block_on so a current-thread runtime has its context; the
    // handles are awaited in task order, which also returns the records in task order.
    rt.block_on(async {
        let handles: Vec<_> = (0..tasks).map(&mut spawn).collect();
        let mut records = Vec::with_capacity(tasks);
        for handle in handles {
            records.push(handle.await.context("a tokio task was cancelled")?);
        }
        Ok(records)
    })
}
