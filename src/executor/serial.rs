//! `serial`: every task on the calling thread, one after another (the seeds' baseline).

use super::{Executor, Job, run_task};
use crate::measure::record::TaskRecord;

/// Runs tasks in a plain loop on the caller's thread.
pub struct Serial;

impl Executor for Serial {
    fn run(&self, job: &Job, tasks: usize) -> anyhow::Result<Vec<TaskRecord>> {
        // Closed loop the whole batch is submitted at once, as to every other runtime, so a
        // serial task's queue time is the time it waited behind the tasks before it; open loop
        // it is the time from its slot.
        let arrivals = job.arrivals();
        Ok((0..tasks)
            .map(|i| run_task(job, i, arrivals.submit_batch(i)))
            .collect())
    }
}
