//! OS threads by hand: `threads` (a fixed pool fed by a channel) and `thread-per-task`.
//!
//! Neither joins a thread that may still be running a task: a run cut short by a signal
//! abandons its busy threads (see "Stopping on a signal" in [`super`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use crossbeam_channel::unbounded;

use super::{Executor, Job, Ledger, RunOutput, StartGate, unstarted_task};
use crate::interrupt;

/// A fixed pool of `workers` threads taking tasks from one channel, like Python's ThreadPool.
pub struct ThreadPool {
    /// Pool size.
    pub workers: usize,
}

impl Executor for ThreadPool {
    fn run(&self, job: &Job, tasks: usize) -> anyhow::Result<RunOutput> {
        let (queue, inbox) = unbounded::<(usize, u64)>();
        let ledger = Ledger::new(job, tasks);
        let gate = StartGate::new();
        let mut pool = Vec::with_capacity(self.workers);
        for k in 0..self.workers {
            let (inbox, up) = (inbox.clone(), gate.reporter());
            let ledger = ledger.clone();
            let spawned = thread::Builder::new()
                .name(format!("asyncstudy-pool-{k}"))
                .spawn(move || {
                    up.up();
                    for (i, submit) in inbox.iter() {
                        ledger.run(i, submit);
                    }
                });
            match spawned {
                Ok(worker) => pool.push(worker),
                Err(e) => {
                    // Closing the queue ends the threads already started.
                    drop(queue);
                    for worker in pool {
                        let _ = worker.join();
                    }
                    anyhow::bail!(
                        "could not start pool thread {} of {}: {e}",
                        k + 1,
                        self.workers
                    );
                }
            }
        }
        // A spawned thread is not yet a running one: the clock starts once each runs.
        gate.wait(pool.len());
        let arrivals = job.arrivals();
        for i in 0..tasks {
            let submit = arrivals.submit(i);
            if interrupt::requested().is_some() {
                ledger.skip(i, submit);
                continue;
            }
            // The pool threads hold the inbox until the queue is closed below, and `inbox`
            // here too, so a send cannot fail.
            let _ = queue.send((i, submit));
        }
        drop(queue);
        if ledger.wait() {
            for worker in pool {
                let _ = worker.join();
            }
        }
        // Otherwise some threads are still in a task: they are left to end with the process.
        Ok(RunOutput::new(ledger.records(&arrivals), arrivals.t0_ns()))
    }
}

/// A new OS thread for every task, with at most `max_alive` running at once.
pub struct ThreadPerTask {
    /// Most task threads alive at once.
    pub max_alive: usize,
}

impl Executor for ThreadPerTask {
    fn run(&self, job: &Job, tasks: usize) -> anyhow::Result<RunOutput> {
        let ledger = Ledger::new(job, tasks);
        let max = self.max_alive;
        // Task threads alive. Handles are dropped at once (the threads detach), so glibc can
        // reuse a finished thread's stack instead of mapping a new one for every task; a thread
        // that frees a place when all were taken, or is the last, rings the bell for the waits
        // below.
        let alive = Arc::new(AtomicUsize::new(0));
        // There are no workers to start: each task's thread is created after its submission,
        // inside its queue time. Closed loop all tasks are submitted at once; waiting for a free
        // place is their queue time. Open loop a task is submitted at its slot, and a spawn late
        // for lack of a free place still counts from the slot.
        let arrivals = job.arrivals();
        for i in 0..tasks {
            let submit = arrivals.submit_batch(i);
            interrupt::wait_until(
                || alive.load(Ordering::SeqCst) < max || interrupt::requested().is_some(),
                || None,
            );
            if interrupt::requested().is_some() {
                ledger.skip(i, submit);
                continue;
            }
            alive.fetch_add(1, Ordering::SeqCst);
            let (in_ledger, still) = (ledger.clone(), alive.clone());
            let spawned = thread::Builder::new().spawn(move || {
                in_ledger.run(i, submit);
                let was = still.fetch_sub(1, Ordering::SeqCst);
                if was == max || was == 1 {
                    interrupt::ring();
                }
            });
            if let Err(e) = spawned {
                alive.fetch_sub(1, Ordering::SeqCst);
                ledger.put(unstarted_task(i, submit, e.to_string()));
            }
        }
        if ledger.wait() {
            // Every task has its record; its thread may still be ending. Wait for that, as a
            // join would, so ending them stays inside the run.
            interrupt::wait_or_cut(|| alive.load(Ordering::SeqCst) == 0, job.grace());
        }
        Ok(RunOutput::new(ledger.records(&arrivals), arrivals.t0_ns()))
    }
}
