//! `serial`: every task on the calling thread, one after another (the seeds' baseline).

use super::{Executor, Job, RunOutput, run_task};

/// Runs tasks in a plain loop on the caller's thread.
pub struct Serial;

impl Executor for Serial {
    fn run(&self, job: &Job, tasks: usize) -> anyhow::Result<RunOutput> {
        // Nothing to start: the caller is the worker, so the run is ready at once. Closed loop
        // the whole batch is submitted at once, as to every other runtime, so a serial task's
        // queue time is the time it waited behind the tasks before it; open loop it is the time
        // from its slot.
        let arrivals = job.arrivals();
        let records = (0..tasks)
            .map(|i| run_task(job, i, arrivals.submit_batch(i)))
            .collect();
        Ok(RunOutput::new(records, arrivals.t0_ns()))
    }
}
