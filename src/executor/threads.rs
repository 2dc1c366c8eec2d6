//! OS threads by hand: `threads` (a fixed pool fed by a channel) and `thread-per-task`.

use std::thread;

use anyhow::Context;
use crossbeam_channel::unbounded;

use super::{Executor, Job, RunOutput, StartGate, in_task_order, run_task, unstarted_task};
use crate::model::task::TaskRecord;

/// A fixed pool of `workers` threads taking tasks from one channel, like Python's ThreadPool.
pub struct ThreadPool {
    /// Pool size.
    pub workers: usize,
}

impl Executor for ThreadPool {
    fn run(&self, job: &Job, tasks: usize) -> anyhow::Result<RunOutput> {
        let (queue, inbox) = unbounded::<(usize, u64)>();
        let gate = StartGate::new();
        thread::scope(|scope| {
            let mut pool = Vec::with_capacity(self.workers);
            for k in 0..self.workers {
                let (inbox, up) = (inbox.clone(), gate.reporter());
                let worker = thread::Builder::new()
                    .name(format!("asyncstudy-pool-{k}"))
                    .spawn_scoped(scope, move || {
                        up.up();
                        inbox
                            .iter()
                            .map(|(i, submit)| run_task(job, i, submit))
                            .collect::<Vec<_>>()
                    })
                    .context("could not start a pool thread")?;
                pool.push(worker);
            }
            // A spawned thread is not yet a running one: the clock starts once each runs.
            gate.wait(pool.len());
            let arrivals = job.arrivals();
            for i in 0..tasks {
                // The receivers live until the queue is closed below, so a send cannot fail.
                queue
                    .send((i, arrivals.submit(i)))
                    .expect("pool threads are alive");
            }
            drop(queue);
            let mut records = Vec::with_capacity(tasks);
            for worker in pool {
                records.extend(
                    worker
                        .join()
                        .map_err(|_| anyhow::anyhow!("a pool thread died"))?,
                );
            }
            Ok(RunOutput::new(in_task_order(records), arrivals.t0_ns()))
        })
    }
}

/// A new OS thread for every task, with at most `max_alive` running at once.
pub struct ThreadPerTask {
    /// Most task threads alive at once.
    pub max_alive: usize,
}

impl Executor for ThreadPerTask {
    fn run(&self, job: &Job, tasks: usize) -> anyhow::Result<RunOutput> {
        // A finishing thread sends its record here; receiving one frees its place. Handles are
        // dropped at once (the threads detach, the scope still waits for them), so glibc can
        // reuse a finished thread's stack instead of mapping a new one for every task.
        let (finished, records_in) = unbounded::<TaskRecord>();
        // There are no workers to start: each task's thread is created after its submission,
        // inside its queue time. Closed loop all tasks are submitted at once; waiting for a free
        // place is their queue time. Open loop a task is submitted at its slot, and a spawn late
        // for lack of a free place still counts from the slot.
        let arrivals = job.arrivals();
        thread::scope(|scope| {
            let mut records = Vec::with_capacity(tasks);
            let mut alive = 0;
            for i in 0..tasks {
                let submit = arrivals.submit_batch(i);
                if alive == self.max_alive {
                    records.push(records_in.recv().expect("a sender is held here"));
                    alive -= 1;
                }
                let finished = finished.clone();
                let spawned = thread::Builder::new().spawn_scoped(scope, move || {
                    let _ = finished.send(run_task(job, i, submit));
                });
                match spawned {
                    Ok(_detached) => alive += 1,
                    Err(e) => records.push(unstarted_task(i, submit, e.to_string())),
                }
            }
            drop(finished);
            // Every spawned thread sends exactly one record before it ends.
            records.extend(records_in.iter());
            Ok(RunOutput::new(in_task_order(records), arrivals.t0_ns()))
        })
    }
}
