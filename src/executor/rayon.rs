//! `rayon`: a rayon `ThreadPool` of N threads, the tasks as a parallel iterator.

use anyhow::Context;
use rayon::prelude::*;

use super::{Executor, Job, in_task_order, run_task};
use crate::measure::record::TaskRecord;

/// A dedicated rayon pool of `workers` threads (not the global pool, whose size is fixed).
pub struct Rayon {
    /// `num_threads(N)`.
    pub workers: usize,
}

impl Executor for Rayon {
    fn run(&self, job: &Job, tasks: usize) -> anyhow::Result<Vec<TaskRecord>> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(self.workers)
            .thread_name(|k| format!("asyncstudy-rayon-{k}"))
            .build()
            .context("could not build the rayon pool")?;
        let arrivals = job.arrivals();
        if job.is_paced() {
            // Open loop, tasks must enter one at a time on their schedule, which a parallel
            // iterator cannot do. The caller waits for each slot and injects the task into the
            // pool; `ThreadPool::scope` would run this loop on a pool thread and take it from
            // the tasks.
            let (done, records) = crossbeam_channel::unbounded();
            for i in 0..tasks {
                let submit = arrivals.submit(i);
                let (done, job) = (done.clone(), job.clone());
                pool.spawn(move || {
                    // The receiver is read below until every task has sent.
                    let _ = done.send(run_task(&job, i, submit));
                });
            }
            drop(done);
            // run_task catches panics, so every spawned task sends one record.
            return Ok(in_task_order(records.iter().take(tasks).collect()));
        }
        // A parallel iterator is submitted as one batch; rayon splits it among its threads.
        let submit = arrivals.t0_ns();
        // `install` runs the closure on a pool thread; the caller only waits.
        Ok(pool.install(|| {
            (0..tasks)
                .into_par_iter()
                .map(|i| run_task(job, i, submit))
                .collect()
        }))
    }
}
