//! The runtimes that execute tasks, behind one trait.
//!
//! Every runtime gets the same job and task count and returns one [`TaskRecord`] per task; it
//! builds its runtime inside `run` and tears it down before returning (unless a signal cut the
//! run short: see below), so start-up and shutdown are part of what a run measures, as they are
//! in the seed notebooks' `with Pool(...)` blocks.
//! Adding a runtime is one file here (with its arm in [`Runtime::executor_with`]), one
//! [`Runtime`] variant and one row of the runtime table in [`crate::model::runtime`].
//!
//! # Files
//!
//! One file per runtime family (`serial`, `threads`, `rayon`, `tokio`, `smol`, `async_std`,
//! `process`, and `python` for the seeds' own Python models, with its script in
//! `python/harness.py`), and what they share: the job and its schedule (`job`), starting workers before
//! the clock (`start`), the ledger tasks leave their records in (`ledger`) and the one way a
//! task's record is made (`task`).
//!
//! # Start-up before the first submission
//!
//! Every `run` first starts all of its runtime's workers (threads, executor threads, worker
//! processes) and waits until each one runs, then starts the arrival clock ([`Job::arrivals`])
//! and submits. The clock's start is the run's ready time ([`RunOutput::ready_ns`]), so a task's
//! queue wait is queueing only, and start-up is a figure of its own. `thread-per-task` and
//! `process-per-task` have no workers to start: their unit is created per task, inside that
//! task's queue wait.
//!
//! # A worker that cannot be started
//!
//! A runtime that starts its workers up front (every pool and executor, `serial`'s and the
//! current-thread runtimes' one thread, the proxy threads and workers of `process-pool`, the
//! proxy threads of `process-per-task`) returns an error naming the worker it could not start,
//! e.g. `could not start pool thread 413 of 1000: Resource temporarily unavailable (os error
//! 11)`, after stopping the ones it did start; the run then ends with that one line and exit
//! code 1. A runtime that creates its unit per task (`thread-per-task`, `process-per-task`)
//! records a unit it cannot create as that task's failure (`spawn`) and goes on. A runtime
//! library that panics when the OS refuses it a thread (tokio, async-std, async-io) is caught,
//! its panic is not printed, and its error is the same one line.
//!
//! # Stopping on a signal
//!
//! No in-process runtime waits for its tasks by joining their threads: every task leaves its
//! record in the run's `Ledger`, and `run` waits on the ledger (`Ledger::wait`) until every
//! task has one, or, after Ctrl-C or SIGTERM, until the grace period is over
//! ([`crate::interrupt`]). Tasks still running then are cut short: async tasks are cancelled
//! (tokio's abort, dropping a smol task, async-std's cancel), and threads still busy are
//! abandoned: detached, never joined, and ended by the process's exit once the record is
//! written. This is also why `serial` and `tokio-ct` run their tasks on a thread of their own
//! rather than the caller's: a caller stuck in an endless task could write no record. The
//! process runtimes need no grace period: they kill their workers at once ([`process`]).

mod async_std;
mod job;
mod ledger;
pub mod process;
pub mod python;
mod rayon;
mod serial;
mod smol;
mod start;
mod task;
mod threads;
mod tokio;

pub use self::async_std::THREAD_COUNT_VAR as ASYNC_STD_THREAD_COUNT_VAR;

use crate::model::task::TaskRecord;

pub use job::{Arrivals, Job, TaskKind};
pub(crate) use ledger::Ledger;
use start::*;
use task::*;
pub use task::{run_task, run_task_async, unstarted_task};

/// Everything one [`Executor::run`] produced, by value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunOutput {
    /// One record per task, in task order.
    pub tasks: Vec<TaskRecord>,
    /// CLOCK_MONOTONIC ns when every worker ran and the arrival clock started: no task was
    /// submitted before it.
    pub ready_ns: u64,
    /// What the runtime itself saw, for runtimes that expose it (tokio, through tokio-metrics).
    pub internals: Option<TokioInternals>,
    /// The largest peak RSS a worker process reported, for runtimes that have them.
    pub children_peak_rss: Option<u64>,
    /// Worker processes that died or were killed before their peak RSS could be read: the
    /// peak above leaves them out.
    pub children_unmeasured: u64,
    /// Most processes alive at once that this process's children started themselves (a
    /// Python pool's workers), which only the child can count.
    pub grandchildren_peak: u64,
    /// Most threads alive at once in the child that runs the tasks (the Python interpreter),
    /// which only it can count; 0 for the Rust runtimes, whose threads are this process's.
    pub child_threads_peak: u64,
}

impl RunOutput {
    /// The output of a runtime with nothing to report beyond its tasks and ready time.
    pub fn new(tasks: Vec<TaskRecord>, ready_ns: u64) -> RunOutput {
        RunOutput {
            tasks,
            ready_ns,
            internals: None,
            children_peak_rss: None,
            children_unmeasured: 0,
            grandchildren_peak: 0,
            child_threads_peak: 0,
        }
    }
}

/// Runs a batch of tasks on one runtime.
pub trait Executor {
    /// Starts the runtime and every one of its workers, then runs tasks `0..tasks` of `job` and
    /// returns their records in task order, with the ready time and what the runtime saw.
    ///
    /// A failing task is a record with an error, not an `Err`; `Err` means the runtime itself
    /// could not be built or broke down.
    fn run(&self, job: &Job, tasks: usize) -> anyhow::Result<RunOutput>;
}

pub use self::tokio::{TaskPolls, TokioInternals};

pub use crate::model::Runtime;

/// How each runtime's executor is built: one arm per executor file.
impl Runtime {
    /// The executor for this runtime with `workers` workers (at least 1) and, for async
    /// runtimes, at most `in_flight` tasks in flight (`None`: tokio-ct allows `workers`, the
    /// others every task).
    pub fn executor(self, workers: usize, in_flight: Option<usize>) -> Box<dyn Executor> {
        self.executor_with(workers, in_flight, true)
    }

    /// [`Runtime::executor`], choosing whether tokio runtimes give every task its own
    /// tokio-metrics monitor.
    pub fn executor_with(
        self,
        workers: usize,
        in_flight: Option<usize>,
        per_task_metrics: bool,
    ) -> Box<dyn Executor> {
        let n = workers.max(1);
        match self {
            Runtime::Serial => Box::new(serial::Serial),
            Runtime::Threads => Box::new(threads::ThreadPool { workers: n }),
            Runtime::ThreadPerTask => Box::new(threads::ThreadPerTask { max_alive: n }),
            Runtime::TokioMt | Runtime::TokioCt | Runtime::TokioBlocking | Runtime::TokioRayon => {
                let (flavor, in_flight) = match self {
                    Runtime::TokioMt => (tokio::Flavor::MultiThread, in_flight),
                    Runtime::TokioCt => {
                        (tokio::Flavor::CurrentThread, Some(in_flight.unwrap_or(n)))
                    }
                    Runtime::TokioRayon => (tokio::Flavor::Rayon, in_flight),
                    _ => (tokio::Flavor::Blocking, in_flight),
                };
                Box::new(tokio::Tokio {
                    flavor,
                    workers: n,
                    in_flight,
                    per_task_metrics,
                })
            }
            Runtime::AsyncStd => Box::new(async_std::AsyncStd {
                workers: n,
                in_flight,
            }),
            Runtime::Smol => Box::new(smol::Smol {
                workers: n,
                in_flight,
            }),
            Runtime::Rayon => Box::new(rayon::Rayon { workers: n }),
            Runtime::ProcessPool => Box::new(process::ProcessPool {
                workers: n,
                program: None,
            }),
            Runtime::ProcessPerTask => Box::new(process::ProcessPerTask {
                max_alive: n,
                program: None,
            }),
            Runtime::PySerial | Runtime::PyThreads | Runtime::PyProcesses | Runtime::PyAsyncio => {
                self.python_executor(n, in_flight, None)
            }
        }
    }

    /// The executor of a Python runtime (`py-*`) on `interpreter` (`None`: `python3` on
    /// `PATH`); a Rust runtime's executor as [`Runtime::executor`] builds it.
    pub fn python_executor(
        self,
        workers: usize,
        in_flight: Option<usize>,
        interpreter: Option<&std::path::Path>,
    ) -> Box<dyn Executor> {
        let model = match self {
            Runtime::PySerial => python::Model::Serial,
            Runtime::PyThreads => python::Model::Threads,
            Runtime::PyProcesses => python::Model::Processes,
            Runtime::PyAsyncio => python::Model::Asyncio,
            _ => return self.executor(workers, in_flight),
        };
        Box::new(python::Python {
            model,
            workers: workers.max(1),
            in_flight,
            interpreter: interpreter
                .map(std::path::Path::to_path_buf)
                .unwrap_or_else(|| python::DEFAULT_INTERPRETER.into()),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::sync::atomic::Ordering;
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::clock::now_ns;
    use crate::model::task::OsThread;
    use crate::workload::Outcome;
    use crate::workload::{TaskError, TaskResult, Work};

    fn job(f: impl Fn(usize) -> TaskResult + Send + Sync + 'static) -> Job {
        Job::from_fn(f)
    }

    /// async-std's thread count is fixed at first use in a process, so every in-process test
    /// uses the same N.
    const N: usize = 2;

    #[test]
    fn every_runtime_runs_every_task_once_in_order() {
        for rt in Runtime::IN_PROCESS {
            let records = rt
                .executor(N, None)
                .run(&job(|_| Ok(Outcome::NONE)), 7)
                .unwrap()
                .tasks;
            let tasks: Vec<usize> = records.iter().map(|r| r.task).collect();
            assert_eq!(tasks, (0..7).collect::<Vec<_>>(), "{}", rt.name());
            for r in &records {
                assert!(
                    r.submit_ns <= r.start_ns && r.start_ns <= r.end_ns,
                    "{}: {r:?}",
                    rt.name()
                );
                assert!(r.error.is_none());
            }
        }
    }

    /// A task and when the thread that ran it reported in as a worker.
    type UpAt = (usize, Option<u64>);

    #[test]
    fn every_worker_runs_before_the_ready_time_and_no_task_is_submitted_before_it() {
        for rate in [None, Some(5_000.0)] {
            for rt in Runtime::IN_PROCESS {
                // Each task notes when the thread it runs on reported in as a worker.
                let seen: Arc<Mutex<Vec<UpAt>>> = Arc::default();
                let probe = {
                    let seen = seen.clone();
                    job(move |i| {
                        seen.lock().unwrap().push((i, up_since()));
                        Ok(Outcome::NONE)
                    })
                    .with_rate(rate)
                };
                let before = now_ns();
                let out = rt.executor(N, None).run(&probe, 12).unwrap();
                let name = format!("{} at rate {rate:?}", rt.name());
                assert!(before <= out.ready_ns, "{name}");
                assert_eq!(out.tasks.len(), 12, "{name}");
                for r in &out.tasks {
                    assert!(r.submit_ns >= out.ready_ns, "{name}: {r:?}");
                    assert!(r.error.is_none(), "{name}: {r:?}");
                }
                let seen = seen.lock().unwrap();
                assert_eq!(seen.len(), 12, "{name}");
                // A thread-per-task thread is created for its task: it is no worker started
                // before the run.
                if rt == Runtime::ThreadPerTask {
                    continue;
                }
                for (task, up) in seen.iter() {
                    let up = up.unwrap_or_else(|| {
                        panic!("{name}: task {task} ran on a thread that never reported in")
                    });
                    assert!(
                        up <= out.ready_ns,
                        "{name}: task {task} ran on a worker that came up after the ready time"
                    );
                }
            }
        }
    }

    #[test]
    fn the_start_gate_does_not_wait_for_workers_that_never_started() {
        let gate = StartGate::new();
        let up = gate.reporter();
        let spawned = std::thread::spawn(move || up.up());
        let lost = gate.reporter();
        // A worker whose thread could not be spawned drops its reporter unused.
        drop(lost);
        let waiting = std::time::Instant::now();
        assert_eq!(gate.wait(2), 1);
        assert!(waiting.elapsed() < START_LIMIT, "it waited out its limit");
        spawned.join().unwrap();
    }

    #[test]
    fn failures_and_panics_are_recorded_not_raised() {
        // Silence the default hook's message for the deliberate panics of this test only.
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        for rt in Runtime::IN_PROCESS {
            let failing = job(|i| match i % 3 {
                0 => Ok(Outcome::NONE),
                1 => Err(TaskError::Check(format!("task {i}"))),
                _ => panic!("task {i} blew up"),
            });
            let records = rt.executor(N, None).run(&failing, 9).unwrap().tasks;
            assert_eq!(records.len(), 9, "{}", rt.name());
            let kinds: Vec<Option<&str>> = records
                .iter()
                .map(|r| r.error.as_ref().map(TaskError::kind))
                .collect();
            for (i, kind) in kinds.iter().enumerate() {
                let want = [None, Some("check"), Some("panic")][i % 3];
                assert_eq!(*kind, want, "{} task {i}", rt.name());
            }
            assert_eq!(
                records[2].error,
                Some(TaskError::Panic("task 2 blew up".into())),
                "{}",
                rt.name()
            );
        }
        std::panic::set_hook(hook);
    }

    #[test]
    fn pools_never_use_more_than_n_threads_nor_the_caller() {
        let caller = OsThread::current();
        for rt in Runtime::IN_PROCESS {
            let records = rt
                .executor(N, None)
                .run(&job(|_| Ok(Outcome::NONE)), 40)
                .unwrap()
                .tasks;
            let workers: HashSet<OsThread> = records.iter().map(|r| r.worker).collect();
            assert!(
                !workers.contains(&caller),
                "{} ran a task on the caller",
                rt.name()
            );
            match rt {
                // One thread of their own, so the caller can stop waiting for it.
                Runtime::Serial | Runtime::TokioCt => {
                    assert_eq!(workers.len(), 1, "{}: {workers:?}", rt.name())
                }
                Runtime::ThreadPerTask => assert_eq!(workers.len(), 40, "{}", rt.name()),
                _ => assert!(workers.len() <= N, "{}: {workers:?}", rt.name()),
            }
        }
    }

    #[test]
    fn a_library_panic_over_a_thread_is_one_quiet_error() {
        let told = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let seen = told.clone();
        let caught = no_panic::<()>(
            move || seen.store(true, Ordering::SeqCst),
            || {
                panic!(
                    "cannot spawn executor threads: {:?}",
                    std::io::Error::from_raw_os_error(libc::EAGAIN)
                )
            },
        );
        let panic = caught.unwrap_err();
        assert!(
            told.load(Ordering::SeqCst),
            "on_panic runs before unwinding"
        );
        assert_eq!(
            spawn_reason(&panic),
            "Resource temporarily unavailable (os error 11)"
        );
        assert_eq!(
            spawn_reason(
                "OS can't spawn worker thread: Resource temporarily unavailable (os error 11)"
            ),
            "Resource temporarily unavailable (os error 11)"
        );
        assert_eq!(spawn_reason("no colon"), "no colon");
        assert_eq!(no_panic(|| {}, || 7), Ok(7));
    }

    #[test]
    fn a_meeting_let_go_keeps_no_piece_waiting() {
        let meet = Arc::new(Meet::new(3));
        let first = {
            let meet = meet.clone();
            std::thread::spawn(move || meet.arrive())
        };
        // Two of three never come: letting go releases the one that did, and one that comes
        // after does not wait.
        while meet.lock().0 < 1 {
            std::thread::yield_now();
        }
        meet.release();
        first.join().unwrap();
        let waiting = std::time::Instant::now();
        meet.arrive();
        assert!(waiting.elapsed() < START_LIMIT, "it waited out its limit");
        assert_eq!(meet.lock().0, 2);
    }

    #[test]
    fn process_runtimes_refuse_a_job_they_cannot_send() {
        for rt in [Runtime::ProcessPool, Runtime::ProcessPerTask] {
            let err = rt
                .executor(N, None)
                .run(&job(|_| Ok(Outcome::NONE)), 1)
                .unwrap_err();
            assert_eq!(
                err.to_string(),
                "this job cannot be described to a worker process"
            );
        }
        let described = Job::new(Work::Cpu(crate::workload::CpuWork {
            kind: crate::workload::CpuKind::Noop,
            iters: 0,
        }));
        assert!(described.setup().is_some());
        assert_eq!(described.call(3), Ok(Outcome::NONE));
    }

    #[test]
    fn names_round_trip() {
        for rt in Runtime::ALL {
            assert_eq!(Runtime::from_name(rt.name()), Some(rt));
        }
        assert_eq!(Runtime::from_name("goroutines"), None);
    }
}
