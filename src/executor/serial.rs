//! `serial`: every task on one thread, one after another (the seeds' baseline).
//!
//! The thread is one of its own, not the caller's: a caller stuck in a task that never ends
//! could not stop waiting for it after a signal, nor write the run's record (see "Stopping on a
//! signal" in [`super`]).

use super::{Arrivals, Executor, Job, Ledger, RunOutput, StartGate};

/// Runs tasks in a plain loop on one thread.
pub struct Serial;

impl Executor for Serial {
    fn run(&self, job: &Job, tasks: usize) -> anyhow::Result<RunOutput> {
        let ledger = Ledger::new(job, tasks);
        let gate = StartGate::new();
        let (start, started) = crossbeam_channel::bounded::<Arrivals>(1);
        let thread = {
            let (ledger, up) = (ledger.clone(), gate.reporter());
            std::thread::Builder::new()
                .name("asyncstudy-serial".into())
                .spawn(move || {
                    up.up();
                    // The caller sends the arrivals once this thread runs.
                    let Ok(arrivals) = started.recv() else {
                        return;
                    };
                    // Closed loop the whole batch is submitted at once, as to every other
                    // runtime, so a serial task's queue time is the time it waited behind the
                    // tasks before it; open loop it is the time from its slot.
                    for i in 0..tasks {
                        ledger.run(i, arrivals.submit_batch(i));
                    }
                })
                .map_err(|e| anyhow::anyhow!("could not start the serial thread: {e}"))?
        };
        gate.wait(1);
        let arrivals = job.arrivals();
        // The thread waits for this on the other end.
        let _ = start.send(arrivals);
        if ledger.wait() {
            let _ = thread.join();
        }
        // Otherwise the thread is still in a task: it is left to end with the process.
        Ok(RunOutput::new(ledger.records(&arrivals), arrivals.t0_ns()))
    }
}
