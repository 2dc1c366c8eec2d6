//! `rayon`: a rayon `ThreadPool` of N threads, the tasks as a parallel iterator; and the pool
//! itself, which tokio+rayon uses too.

use std::sync::Arc;
use std::thread::JoinHandle;

use rayon::prelude::*;

use super::{Executor, Job, Ledger, RunOutput, mark_up};
use crate::interrupt;

/// A dedicated rayon pool of `workers` threads (not the global pool, whose size is fixed).
pub struct Rayon {
    /// `num_threads(N)`.
    pub workers: usize,
}

impl Executor for Rayon {
    fn run(&self, job: &Job, tasks: usize) -> anyhow::Result<RunOutput> {
        let started = JoinedPool::start(self.workers, "rayon thread")?;
        let pool = started.pool();
        let ledger = Ledger::new(job, tasks);
        let arrivals = job.arrivals();
        if job.is_paced() {
            // Open loop, tasks must enter one at a time on their schedule, which a parallel
            // iterator cannot do. The caller waits for each slot and injects the task into the
            // pool; `ThreadPool::scope` would run this loop on a pool thread and take it from
            // the tasks.
            for i in 0..tasks {
                let submit = arrivals.submit(i);
                if interrupt::requested().is_some() {
                    ledger.skip(i, submit);
                    continue;
                }
                let ledger = ledger.clone();
                pool.spawn(move || ledger.run(i, submit));
            }
        } else {
            // A parallel iterator is submitted as one batch; rayon splits it among its threads.
            let submit = arrivals.t0_ns();
            let ledger = ledger.clone();
            // The batch runs on a pool thread, as `install` would run it, while the caller
            // waits on the ledger, which it can stop waiting on.
            pool.spawn(move || {
                (0..tasks)
                    .into_par_iter()
                    .for_each(|i| ledger.run(i, submit))
            });
        }
        if ledger.wait() {
            // Joined before the records are taken: the pool's jobs hold the ledger until then.
            drop(started);
        } else {
            started.abandon();
        }
        Ok(RunOutput::new(ledger.records(&arrivals), arrivals.t0_ns()))
    }
}

/// A rayon pool whose threads this module spawns, handed out only once every one of them runs,
/// and whose threads are joined when it is dropped: dropping a rayon `ThreadPool` only tells its
/// threads to stop.
pub(super) struct JoinedPool {
    pool: Option<Arc<rayon::ThreadPool>>,
    threads: Vec<JoinHandle<()>>,
}

impl JoinedPool {
    /// Builds a pool of `n` threads and waits until each has run a job; `what` names a thread
    /// in errors (`could not start rayon thread 3 of 8: ...`).
    pub(super) fn start(n: usize, what: &str) -> anyhow::Result<JoinedPool> {
        let mut threads = Vec::with_capacity(n);
        // The OS's reason, kept here: rayon's own error repeats it.
        let mut refused = None;
        let built = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .thread_name(|k| format!("asyncstudy-rayon-{k}"))
            .spawn_handler(|thread| {
                let mut b = std::thread::Builder::new();
                if let Some(name) = thread.name() {
                    b = b.name(name.to_owned());
                }
                let index = thread.index();
                match b.spawn(move || thread.run()) {
                    Ok(t) => {
                        threads.push(t);
                        Ok(())
                    }
                    Err(e) => {
                        refused = Some((index + 1, e.to_string()));
                        Err(e)
                    }
                }
            })
            .build();
        match built {
            Ok(pool) => {
                // A broadcast runs on every thread of the pool and returns when all have run it:
                // each thread is then in rayon's work loop, not only spawned.
                pool.broadcast(|_| mark_up());
                Ok(JoinedPool {
                    pool: Some(Arc::new(pool)),
                    threads,
                })
            }
            Err(e) => {
                // rayon has told the threads it did start to stop.
                for t in threads {
                    let _ = t.join();
                }
                match refused {
                    Some((index, why)) => {
                        anyhow::bail!("could not start {what} {index} of {n}: {why}")
                    }
                    None => anyhow::bail!("could not build a pool of {n} {what}s: {e}"),
                }
            }
        }
    }

    /// The pool, shared: the last handle must be dropped before this for the threads to stop.
    pub(super) fn pool(&self) -> &Arc<rayon::ThreadPool> {
        self.pool.as_ref().expect("the pool lives until drop")
    }

    /// Tells the threads to stop once their work is done, without waiting for them: after a
    /// run was cut short, some may be busy in a task that never ends.
    pub(super) fn abandon(mut self) {
        // Dropped handles detach their threads; the drop below then has none to join.
        self.threads.clear();
    }
}

impl Drop for JoinedPool {
    fn drop(&mut self) {
        let Some(pool) = self.pool.take() else {
            return;
        };
        // Only the last handle stops the pool; with another still held elsewhere (never after
        // a complete run, whose tasks are done) joining would wait forever, so the threads are
        // left to stop when that handle goes.
        if let Ok(pool) = Arc::try_unwrap(pool) {
            drop(pool);
            for t in self.threads.drain(..) {
                let _ = t.join();
            }
        }
    }
}
