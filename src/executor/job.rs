//! The job of a run: what every task does ([`Job`]), how an async runtime runs one
//! ([`TaskKind`]), and when each is submitted ([`Arrivals`]).

use std::sync::Arc;
use std::time::Duration;

use crate::clock::now_ns;
use crate::interrupt;
use crate::protocol::{Fault, Setup};
use crate::workload::{Download, MixedIo, Sleep, TaskResult, Work};

/// The work of a run's tasks: a function any thread can call with a task index and, when the
/// work can be described to another process, the [`Setup`] a worker process needs. Cloning is
/// cheap; every thread of a run holds one.
#[derive(Clone)]
pub struct Job {
    call: Arc<dyn Fn(usize) -> TaskResult + Send + Sync>,
    setup: Option<Arc<Setup>>,
    rate: Option<f64>,
}

impl Job {
    /// A job of `work`, runnable in this process and in worker processes.
    pub fn new(work: Work) -> Job {
        let runs = work.clone();
        Job {
            call: Arc::new(move |task| runs.run(task)),
            setup: Some(Arc::new(Setup {
                work,
                faults: Vec::new(),
            })),
            rate: None,
        }
    }

    /// A job that only runs in this process: any function of the task index.
    pub fn from_fn(f: impl Fn(usize) -> TaskResult + Send + Sync + 'static) -> Job {
        Job {
            call: Arc::new(f),
            setup: None,
            rate: None,
        }
    }

    /// The same job submitted open loop: task `i` is due `i / per_s` seconds after the run's
    /// first submission, whatever happened to the tasks before it.
    pub fn with_rate(mut self, per_s: Option<f64>) -> Job {
        self.rate = per_s.filter(|r| r.is_finite() && *r > 0.0);
        self
    }

    /// Tasks submitted per second on a schedule (`--rate`); `None`: all at once.
    pub fn rate(&self) -> Option<f64> {
        self.rate
    }

    /// Whether tasks are submitted on a schedule (`--rate`) rather than all at once.
    pub fn is_paced(&self) -> bool {
        self.rate.is_some()
    }

    /// The submission schedule of one run, starting now. Call it once per run, once every
    /// worker of the runtime runs and just before the first task is submitted: its start is the
    /// run's ready time.
    pub fn arrivals(&self) -> Arrivals {
        Arrivals {
            t0_ns: now_ns(),
            interval_ns: self.rate.map(|r| 1e9 / r),
        }
    }

    /// The same job with faults staged in its worker processes (see [`Fault`]).
    pub fn with_faults(mut self, faults: Vec<Fault>) -> Job {
        if let Some(setup) = &mut self.setup {
            Arc::make_mut(setup).faults = faults;
        }
        self
    }

    /// How long tasks of this job that are running when a signal arrives are still waited
    /// for: [`interrupt::grace`] of its download's `--timeout`, if it has one.
    pub fn grace(&self) -> Duration {
        interrupt::grace(self.work().and_then(Work::download).map(|d| d.timeout))
    }

    /// Runs task `task` on the calling thread.
    pub fn call(&self, task: usize) -> TaskResult {
        (self.call)(task)
    }

    /// What a worker process is told before its first task; `None` for in-process-only jobs.
    pub fn setup(&self) -> Option<&Setup> {
        self.setup.as_deref()
    }

    /// The work, when the job was built from one.
    pub fn work(&self) -> Option<&Work> {
        self.setup.as_deref().map(|s| &s.work)
    }

    /// How async runtimes run task `task`: IO as a future, everything else as a call.
    pub fn kind(&self, task: usize) -> TaskKind<'_> {
        match self.work() {
            Some(Work::Download(d)) => TaskKind::Download(d, task),
            Some(Work::Sleep(s)) => TaskKind::Sleep(s),
            Some(Work::Mixed(m)) => match (m.io_index(task), &m.io) {
                (Some(page), MixedIo::Download(d)) => TaskKind::Download(d, page),
                (Some(_), MixedIo::Sleep(s)) => TaskKind::Sleep(s),
                (None, _) => TaskKind::Inline,
            },
            Some(Work::Cpu(_)) | None => TaskKind::Inline,
        }
    }
}

/// How one task runs on an async runtime.
#[derive(Clone, Copy, Debug)]
pub enum TaskKind<'a> {
    /// A plain call of [`Job::call`]: CPU work, run inline in an async task (or wherever the
    /// runtime places blocking work).
    Inline,
    /// Download page number `.1` of the download as a future.
    Download(&'a Download, usize),
    /// Wait, on the runtime's timer unless the sleep is blocking.
    Sleep(&'a Sleep),
}

/// When each task of one run is submitted: all at once (closed loop: the default), or on a
/// fixed schedule (`--rate`, open loop).
///
/// Open loop, a task's submit time is its scheduled time even when the submitter is late (a
/// full in-flight gate, a busy serial loop, a coarse timer), so the wait counts against the
/// task's latency instead of silently vanishing: the coordinated-omission correction.
#[derive(Clone, Copy, Debug)]
pub struct Arrivals {
    t0_ns: u64,
    interval_ns: Option<f64>,
}

impl Arrivals {
    /// When the run's first task was due.
    pub fn t0_ns(&self) -> u64 {
        self.t0_ns
    }

    /// Task `task`'s scheduled submit time, open loop; `None` closed loop.
    pub fn due_ns(&self, task: usize) -> Option<u64> {
        self.interval_ns
            .map(|iv| self.t0_ns + (task as f64 * iv).round() as u64)
    }

    /// Waits on the calling thread until task `task` is due and returns its submit time: the
    /// schedule open loop, now closed loop.
    pub fn submit(&self, task: usize) -> u64 {
        self.submit_or(task, now_ns())
    }

    /// [`Arrivals::submit`] for runtimes that take a closed-loop batch at once: closed loop
    /// every task's submit time is the batch's start, so its queue time is the time it waited
    /// behind the tasks before it.
    pub fn submit_batch(&self, task: usize) -> u64 {
        self.submit_or(task, self.t0_ns)
    }

    fn submit_or(&self, task: usize, closed: u64) -> u64 {
        let (wait, due) = self.delay(task);
        if !wait.is_zero() {
            // A signal ends the wait: the rest of the schedule is only recorded as cut short.
            interrupt::sleep(wait);
        }
        due.unwrap_or(closed)
    }

    /// How long a submitter must still wait for task `task`, and its submit time once it has
    /// (`None`: closed loop, submit now). The wait is zero when the task is late, closed loop,
    /// and after Ctrl-C, when the rest of the schedule is not waited for: its tasks are only
    /// recorded as cut short.
    pub fn delay(&self, task: usize) -> (std::time::Duration, Option<u64>) {
        let due = self.due_ns(task);
        let wait = match due {
            Some(due) if crate::interrupt::requested().is_none() => due.saturating_sub(now_ns()),
            _ => 0,
        };
        (std::time::Duration::from_nanos(wait), due)
    }
}
