//! `serial`: every task on the calling thread, one after another (the seeds' baseline).

use super::{Executor, Job, run_task};
use crate::clock::now_ns;
use crate::measure::record::TaskRecord;

/// Runs tasks in a plain loop on the caller's thread.
pub struct Serial;

impl Executor for Serial {
    fn run(&self, job: &Job, tasks: usize) -> anyhow::Result<Vec<TaskRecord>> {
        // The whole batch is submitted at once, as to every other runtime, so a serial task's
        // queue time is the time it waited behind the tasks before it.
        let submit = now_ns();
        Ok((0..tasks).map(|i| run_task(job, i, submit)).collect())
    }
}
