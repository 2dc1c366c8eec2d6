//! `rayon`: a rayon `ThreadPool` of N threads, the tasks as a parallel iterator.

use anyhow::Context;
use rayon::prelude::*;

use super::{Executor, Job, run_task};
use crate::clock::now_ns;
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
        // A parallel iterator is submitted as one batch; rayon splits it among its threads.
        let submit = now_ns();
        // `install` runs the closure on a pool thread; the caller only waits.
        Ok(pool.install(|| {
            (0..tasks)
                .into_par_iter()
                .map(|i| run_task(job, i, submit))
                .collect()
        }))
    }
}
