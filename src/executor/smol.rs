//! `smol`: an `async_executor::Executor` driven by N threads.
//!
//! smol's own `spawn` runs on a global executor with a single thread by default; the fair
//! comparison gives the executor N threads, as smol's documentation shows for multi-threaded use.

use std::thread;

use anyhow::Context;
use async_executor::Executor as AsyncExecutor;

use super::{Executor, Job, run_task};
use crate::clock::now_ns;
use crate::measure::record::TaskRecord;

/// An `async_executor::Executor` run by `workers` threads.
pub struct Smol {
    /// Threads running the executor.
    pub workers: usize,
}

impl Executor for Smol {
    fn run(&self, job: &Job, tasks: usize) -> anyhow::Result<Vec<TaskRecord>> {
        let ex = AsyncExecutor::new();
        // Closing this channel ends `ex.run` on every driver thread.
        let (stop, stopped) = smol::channel::bounded::<()>(1);
        thread::scope(|scope| {
            let mut drivers = Vec::with_capacity(self.workers);
            for k in 0..self.workers {
                let (ex, stopped) = (&ex, stopped.clone());
                let driver = thread::Builder::new()
                    .name(format!("asyncstudy-smol-{k}"))
                    .spawn_scoped(scope, move || smol::block_on(ex.run(stopped.recv())));
                match driver {
                    Ok(d) => drivers.push(d),
                    Err(e) => {
                        drop(stop);
                        return Err(e).context("could not start an executor thread");
                    }
                }
            }
            let handles: Vec<_> = (0..tasks)
                .map(|i| {
                    let submit = now_ns();
                    ex.spawn(async move { run_task(job, i, submit) })
                })
                .collect();
            // The calling thread only awaits the handles; it never runs executor tasks.
            let records = smol::block_on(async {
                let mut records = Vec::with_capacity(tasks);
                for handle in handles {
                    records.push(handle.await);
                }
                records
            });
            drop(stop);
            for d in drivers {
                let _ = d.join();
            }
            Ok(records)
        })
    }
}
