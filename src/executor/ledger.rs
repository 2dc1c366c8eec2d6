//! Where one run's tasks leave their records, so a run can stop waiting for them after a
//! signal (see "Stopping on a signal" in the module doc of [`super`]).

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use super::task::*;
use super::{Arrivals, Job};
use crate::clock::now_ns;
use crate::interrupt;
use crate::model::task::{OsThread, TaskRecord};
use crate::workload::{TaskError, TaskResult};

/// Where one run's tasks leave their records, and what the run knows of the tasks that have
/// none yet, so it can stop waiting for them after a signal (see the module's doc).
///
/// Every in-process runtime runs its tasks through [`Ledger::run`] or [`Ledger::run_async`] (or
/// leaves a record made elsewhere with [`Ledger::put`]), waits in [`Ledger::wait`], and takes
/// the records with [`Ledger::records`], which gives every task that has none a record that
/// says it was cut short. It holds the run's job too, so a task that must own what it uses (a
/// detached thread, a spawned future) clones one `Arc` for both.
pub(crate) struct Ledger {
    job: Job,
    entries: Box<[Entry]>,
    /// Tasks without a record; the one that brings it to zero rings the bell.
    left: AtomicUsize,
    grace: Duration,
    /// Set when the run stops waiting for its tasks: records that come later are dropped.
    closed: AtomicBool,
}

/// One task's place in a [`Ledger`].
#[derive(Default)]
pub(super) struct Entry {
    /// When the task started (CLOCK_MONOTONIC ns); 0 while it has not.
    start_ns: AtomicU64,
    /// The thread it started on.
    tid: AtomicU32,
    /// Its record: set once, by the task, or by the run when it stops waiting for it.
    record: OnceLock<TaskRecord>,
}

impl Ledger {
    /// A ledger for tasks `0..tasks` of `job`.
    pub(crate) fn new(job: &Job, tasks: usize) -> Arc<Ledger> {
        Arc::new(Ledger {
            job: job.clone(),
            entries: (0..tasks).map(|_| Entry::default()).collect(),
            left: AtomicUsize::new(tasks),
            grace: job.grace(),
            closed: AtomicBool::new(false),
        })
    }

    /// The run's job.
    pub(crate) fn job(&self) -> &Job {
        &self.job
    }

    /// Runs task `task` of the job on the calling thread, as [`run_task`] does, and leaves its
    /// record.
    pub(crate) fn run(&self, task: usize, submit_ns: u64) {
        let record = run_noting(&self.job, task, submit_ns, |w, at| {
            self.started(task, w, at)
        });
        self.put(record);
    }

    /// Runs an async task, as [`run_task_async`] does, and leaves its record.
    pub(crate) async fn run_async(
        &self,
        task: usize,
        submit_ns: u64,
        work: impl std::future::Future<Output = TaskResult>,
    ) {
        let noted = |w, at| self.started(task, w, at);
        let record = run_async_noting(task, submit_ns, work, noted).await;
        self.put(record);
    }

    pub(super) fn started(&self, task: usize, worker: OsThread, at: u64) {
        let entry = &self.entries[task];
        entry.tid.store(worker.tid, Ordering::Relaxed);
        entry.start_ns.store(at, Ordering::Release);
    }

    /// Leaves a record made elsewhere: a task the runtime could not start, or one it skipped.
    /// A record that comes after the run stopped waiting is dropped: the one the run gives the
    /// task says it was cut short. (Cancelling a run's tasks can make one of them fail, a write
    /// whose blocking half was cancelled, say; that failure is the cut, not the task's.)
    pub(crate) fn put(&self, record: TaskRecord) {
        if self.closed.load(Ordering::SeqCst) {
            return;
        }
        let task = record.task;
        if self.entries[task].record.set(record).is_ok()
            && self.left.fetch_sub(1, Ordering::AcqRel) == 1
        {
            interrupt::ring();
        }
    }

    /// Records task `task`, submitted at `submit_ns`, as cut short without starting it: the
    /// run stopped before it could.
    pub(crate) fn skip(&self, task: usize, submit_ns: u64) {
        self.put(not_run(
            task,
            OsThread::current(),
            submit_ns,
            TaskError::Interrupted,
        ));
    }

    /// Waits until every task has a record (`true`), or, after a signal, until the grace
    /// period is over (`false`: the tasks still running are cut short, and the runtime must
    /// cancel or abandon them, not wait for them).
    pub(crate) fn wait(&self) -> bool {
        let complete =
            interrupt::wait_or_cut(|| self.left.load(Ordering::Acquire) == 0, self.grace);
        if !complete {
            self.closed.store(true, Ordering::SeqCst);
        }
        complete
    }

    /// Every task's record, in task order. A task without one is cut short now: recorded as
    /// interrupted, submitted on its schedule (`arrivals`), started when it did (on its thread)
    /// or, if it never did, now (on the calling thread), and ended now.
    pub(crate) fn records(self: Arc<Self>, arrivals: &Arrivals) -> Vec<TaskRecord> {
        let (now, me) = (now_ns(), OsThread::current());
        let cut = |task: usize, start_ns: u64, tid: u32| {
            let submit_ns = arrivals.due_ns(task).unwrap_or(arrivals.t0_ns());
            let (worker, start_ns) = match start_ns {
                0 => (me, now),
                at => (OsThread { pid: me.pid, tid }, at),
            };
            let start_ns = start_ns.max(submit_ns);
            let when = (submit_ns, start_ns, now.max(start_ns));
            TaskRecord::new(task, worker, when, Err(TaskError::Interrupted))
        };
        match Arc::try_unwrap(self) {
            // Nothing else holds the ledger: every record can be moved out.
            Ok(ledger) => ledger
                .entries
                .into_vec()
                .into_iter()
                .enumerate()
                .map(|(task, e)| {
                    let Entry {
                        start_ns,
                        tid,
                        record,
                    } = e;
                    record
                        .into_inner()
                        .unwrap_or_else(|| cut(task, start_ns.into_inner(), tid.into_inner()))
                })
                .collect(),
            // An abandoned thread or task still holds it, and may yet try to leave a record.
            Err(shared) => shared
                .entries
                .iter()
                .enumerate()
                .map(|(task, e)| {
                    e.record
                        .get_or_init(|| {
                            let start_ns = e.start_ns.load(Ordering::Acquire);
                            cut(task, start_ns, e.tid.load(Ordering::Relaxed))
                        })
                        .clone()
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;
    use std::time::Duration;

    use super::*;
    use crate::clock::now_ns;
    use crate::model::task::OsThread;
    use crate::workload::{Outcome, TaskError};

    fn job(f: impl Fn(usize) -> crate::workload::TaskResult + Send + Sync + 'static) -> Job {
        Job::from_fn(f)
    }

    #[test]
    fn a_ledger_cuts_short_the_tasks_without_a_record() {
        let job = job(|_| Ok(Outcome::NONE));
        let ledger = Ledger::new(&job, 3);
        let arrivals = job.arrivals();
        // Task 0 finished, task 1 started on another thread and never finished, task 2 never
        // started.
        ledger.run(0, arrivals.submit_batch(0));
        let busy = std::thread::spawn(OsThread::current).join().unwrap();
        let started = now_ns();
        ledger.started(1, busy, started);
        assert_eq!(ledger.left.load(Ordering::SeqCst), 2);
        // An abandoned thread still holds the ledger: the records are copied, not moved.
        let held = ledger.clone();
        let records = ledger.records(&arrivals);
        assert_eq!(records.len(), 3);
        assert_eq!(records[0].error, None);
        let (running, never) = (&records[1], &records[2]);
        for r in [running, never] {
            assert_eq!(r.error, Some(TaskError::Interrupted), "{r:?}");
            assert_eq!(r.submit_ns, arrivals.t0_ns(), "{r:?}");
            assert!(r.submit_ns <= r.start_ns && r.start_ns <= r.end_ns, "{r:?}");
        }
        assert_eq!((running.worker, running.start_ns), (busy, started));
        assert!(running.end_ns > started);
        assert_eq!(never.worker, OsThread::current());
        assert_eq!(never.start_ns, never.end_ns);
        // A record that comes after the cut is dropped: the run already gave the task one.
        held.put(not_run(1, busy, 0, TaskError::Check("late".into())));
        assert_eq!(
            held.entries[1].record.get().unwrap().error,
            Some(TaskError::Interrupted)
        );
        // Once a run is cut (as `wait` leaves it then), a task that fails because it was
        // cancelled leaves no record of its own.
        let cut = Ledger::new(&job, 1);
        cut.closed.store(true, Ordering::SeqCst);
        cut.put(not_run(0, busy, 0, TaskError::Check("cancelled".into())));
        assert!(cut.entries[0].record.get().is_none());
    }

    #[test]
    fn a_ledger_waits_for_the_last_record() {
        let job = job(|_| Ok(Outcome::NONE));
        let ledger = Ledger::new(&job, 2);
        let arrivals = job.arrivals();
        let late = {
            let ledger = ledger.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                ledger.run(1, arrivals.t0_ns());
            })
        };
        ledger.run(0, arrivals.t0_ns());
        assert!(ledger.wait(), "no signal here: the run is never cut");
        late.join().unwrap();
        let records = ledger.records(&arrivals);
        assert!(records.iter().all(|r| r.error.is_none()), "{records:?}");
    }
}
