//! The runtimes, and the one table of what each one is.
//!
//! Every question about a runtime's kind — is it the serial baseline, does it hold a thread or
//! a process per task, can it put every task in flight at once, how many tasks run at once,
//! what does `--workers N` mean — is answered by its row in [`KINDS`] and nowhere else, so
//! adding a runtime is one [`Runtime`] variant, one row here, and one executor file.
//!
//! The file is over 500 lines because it is that one table — sixteen rows, the Rust runtimes
//! and the seeds' own Python models — with the questions asked of it; split, the answers would
//! drift from the rows they read.

use serde::{Deserialize, Serialize};

/// The value of `--runtime`: every concurrency model the tool measures.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Runtime {
    /// One thread, one task after another.
    Serial,
    /// A fixed pool of N OS threads fed by a channel.
    Threads,
    /// A new OS thread for every task, at most N alive at once.
    ThreadPerTask,
    /// tokio's multi-thread runtime with N workers; tasks run inline in async tasks.
    TokioMt,
    /// tokio's current-thread runtime; N bounds the tasks in flight.
    TokioCt,
    /// A tokio runtime whose tasks run in `spawn_blocking` on at most N blocking threads.
    TokioBlocking,
    /// tokio's multi-thread runtime for IO beside a rayon pool for CPU work.
    #[serde(rename = "tokio+rayon")]
    TokioRayon,
    /// async-std's global executor with N threads.
    AsyncStd,
    /// An `async_executor::Executor` driven by N threads.
    Smol,
    /// A rayon `ThreadPool` of N threads.
    Rayon,
    /// N long-lived worker processes (this binary's hidden `worker` subcommand).
    ProcessPool,
    /// A new worker process for every task, at most N alive at once.
    ProcessPerTask,
    /// The seeds' Python baseline: one task after another in a Python interpreter.
    PySerial,
    /// Python's `concurrent.futures.ThreadPoolExecutor` of N threads, under the GIL.
    PyThreads,
    /// Python's `concurrent.futures.ProcessPoolExecutor` of N forked processes.
    PyProcesses,
    /// Python's `asyncio`: coroutines on one event loop.
    PyAsyncio,
}

/// The environment variable async-std reads for its thread count at first use; a run refuses
/// one that disagrees with `--workers`.
pub const ASYNC_STD_THREAD_COUNT_VAR: &str = "ASYNC_STD_THREAD_COUNT";

/// What holds a running task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// An OS thread of the measuring process.
    Thread,
    /// A worker process.
    Process,
}

/// How a runtime's workers come to exist.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workers {
    /// None: the caller's thread runs every task (the serial baseline).
    Caller,
    /// One thread, the caller's, runs an executor; N only bounds the tasks in flight.
    OneThread,
    /// N units started before the first task and kept: a pool or an executor's threads. The
    /// number is how many units N workers start (tokio+rayon starts N tokio and N rayon).
    Pool(usize),
    /// A new unit for every task, at most N alive at once.
    PerTask,
}

/// How many tasks a runtime has in flight at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InFlight {
    /// One at a time.
    One,
    /// As many as it has workers: each task holds its worker.
    Workers,
    /// `--concurrency` (every task when not given): tasks are futures and wait without a
    /// thread.
    Concurrency,
}

/// Which way of running concurrent work a runtime stands for, as the study's answer groups
/// them: async runtimes, OS threads, worker processes. `serial` is none of them: it is the
/// seeds' baseline, one task after another, and is compared with each family but counted in
/// none, so a family's best is always a concurrent runtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// Tasks are futures polled by an executor (tokio, smol, async-std), including an async
    /// runtime that hands its blocking or CPU work to a pool beside it.
    Async,
    /// Tasks hold OS threads of the measuring process (a pool, a thread per task, rayon).
    Threads,
    /// Tasks run in worker processes.
    Processes,
    /// The serial baseline.
    Serial,
}

impl Family {
    /// The three families a study answers for, in the order its table shows them.
    pub const COMPARED: [Family; 3] = [Family::Async, Family::Threads, Family::Processes];

    /// `async`, `threads`, `processes`, `serial`.
    pub fn name(self) -> &'static str {
        match self {
            Family::Async => "async",
            Family::Threads => "threads",
            Family::Processes => "processes",
            Family::Serial => "serial",
        }
    }
}

/// The language a runtime's tasks run in: Rust in this tool, or Python in an interpreter the
/// tool starts (the seeds' own models, measured by the same harness).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// Rust: the tool's own runtimes.
    Rust,
    /// Python: the harness script in a Python interpreter (`--python`).
    Python,
}

/// One row of the runtime table.
#[derive(Clone, Copy, Debug)]
pub struct Kind {
    /// The runtime the row is for.
    pub runtime: Runtime,
    /// The command-line and record name.
    pub name: &'static str,
    /// The family it stands for in the study's answer.
    pub family: Family,
    /// The language its tasks run in.
    pub language: Language,
    /// What holds a running task.
    pub unit: Unit,
    /// How its workers come to exist.
    pub workers: Workers,
    /// How many tasks it has in flight at once.
    pub in_flight: InFlight,
    /// What runs the tasks, for listings.
    pub runs_tasks_on: &'static str,
    /// What `--workers N` sets, for listings.
    pub workers_mean: &'static str,
    /// Where a mixed run's CPU work runs, relative to its IO tasks.
    pub cpu_placement: &'static str,
    /// A caveat its output must carry, if any.
    pub note: Option<&'static str>,
}

/// The caveat every Python runtime carries.
const PY_NOTE: &str = "Python: the seeds' own model, in the --python interpreter; start-up includes the interpreter's";

/// Where inline async runtimes put a mixed run's CPU work.
const INLINE: &str = "inline in async tasks, on the threads that poll the IO";

/// Every runtime's row, in [`Runtime`] order (a test keeps the two in step).
pub const KINDS: [Kind; 16] = [
    Kind {
        runtime: Runtime::Serial,
        name: "serial",
        language: Language::Rust,
        family: Family::Serial,
        unit: Unit::Thread,
        workers: Workers::Caller,
        in_flight: InFlight::One,
        runs_tasks_on: "one thread, one task after another (the seeds' baseline)",
        workers_mean: "ignored (1)",
        cpu_placement: "on the one thread that also waits for the IO",
        note: None,
    },
    Kind {
        runtime: Runtime::Threads,
        name: "threads",
        language: Language::Rust,
        family: Family::Threads,
        unit: Unit::Thread,
        workers: Workers::Pool(1),
        in_flight: InFlight::Workers,
        runs_tasks_on: "a fixed pool of N OS threads fed by a channel (like Python's ThreadPool)",
        workers_mean: "N threads",
        cpu_placement: "on OS threads, as the IO tasks, each task holding its thread",
        note: None,
    },
    Kind {
        runtime: Runtime::ThreadPerTask,
        name: "thread-per-task",
        language: Language::Rust,
        family: Family::Threads,
        unit: Unit::Thread,
        workers: Workers::PerTask,
        in_flight: InFlight::Workers,
        runs_tasks_on: "a new OS thread for every task",
        workers_mean: "at most N alive at once",
        cpu_placement: "on OS threads, as the IO tasks, each task holding its thread",
        note: None,
    },
    Kind {
        runtime: Runtime::TokioMt,
        name: "tokio-mt",
        language: Language::Rust,
        family: Family::Async,
        unit: Unit::Thread,
        workers: Workers::Pool(1),
        in_flight: InFlight::Concurrency,
        runs_tasks_on: "tokio multi-thread runtime; tasks run inline in async tasks",
        workers_mean: "worker_threads(N)",
        cpu_placement: INLINE,
        note: None,
    },
    Kind {
        runtime: Runtime::TokioCt,
        name: "tokio-ct",
        language: Language::Rust,
        family: Family::Async,
        unit: Unit::Thread,
        workers: Workers::OneThread,
        in_flight: InFlight::Concurrency,
        runs_tasks_on: "tokio current-thread runtime on one thread",
        workers_mean: "1 thread by definition; N = max tasks in flight",
        cpu_placement: INLINE,
        note: None,
    },
    Kind {
        runtime: Runtime::TokioBlocking,
        name: "tokio-blocking",
        language: Language::Rust,
        family: Family::Async,
        unit: Unit::Thread,
        workers: Workers::Pool(1),
        in_flight: InFlight::Concurrency,
        runs_tasks_on: "tokio current-thread runtime, each task's work in spawn_blocking",
        workers_mean: "max_blocking_threads(N)",
        cpu_placement: "in spawn_blocking, off the thread that polls the IO",
        note: None,
    },
    Kind {
        runtime: Runtime::TokioRayon,
        name: "tokio+rayon",
        language: Language::Rust,
        family: Family::Async,
        unit: Unit::Thread,
        workers: Workers::Pool(2),
        in_flight: InFlight::Concurrency,
        runs_tasks_on: "tokio multi-thread runtime for IO; CPU work on a rayon pool beside it",
        workers_mean: "worker_threads(N) for IO and a rayon pool of N for CPU work",
        cpu_placement: "on a rayon pool beside the async runtime",
        note: None,
    },
    Kind {
        runtime: Runtime::AsyncStd,
        name: "async-std",
        language: Language::Rust,
        family: Family::Async,
        unit: Unit::Thread,
        workers: Workers::Pool(1),
        in_flight: InFlight::Concurrency,
        runs_tasks_on: "async-std global executor",
        workers_mean: "its thread count (min = max = N)",
        cpu_placement: INLINE,
        note: Some(
            "async-std is discontinued upstream (its authors point to smol); measured for comparison only",
        ),
    },
    Kind {
        runtime: Runtime::Smol,
        name: "smol",
        language: Language::Rust,
        family: Family::Async,
        unit: Unit::Thread,
        workers: Workers::Pool(1),
        in_flight: InFlight::Concurrency,
        runs_tasks_on: "an async_executor::Executor driven by N threads (not smol's 1-thread default)",
        workers_mean: "N threads running the executor",
        cpu_placement: INLINE,
        note: None,
    },
    Kind {
        runtime: Runtime::Rayon,
        name: "rayon",
        language: Language::Rust,
        family: Family::Threads,
        unit: Unit::Thread,
        workers: Workers::Pool(1),
        in_flight: InFlight::Workers,
        runs_tasks_on: "a rayon ThreadPool, tasks as a parallel iterator (open loop: spawned one by one)",
        workers_mean: "num_threads(N)",
        cpu_placement: "on OS threads, as the IO tasks, each task holding its thread",
        note: None,
    },
    Kind {
        runtime: Runtime::ProcessPool,
        name: "process-pool",
        language: Language::Rust,
        family: Family::Processes,
        unit: Unit::Process,
        workers: Workers::Pool(1),
        in_flight: InFlight::Workers,
        runs_tasks_on: "N long-lived worker processes fed over pipes (like Python's ProcessPoolExecutor)",
        workers_mean: "N processes",
        cpu_placement: "in worker processes, as the IO tasks, each task holding its process",
        note: None,
    },
    Kind {
        runtime: Runtime::ProcessPerTask,
        name: "process-per-task",
        language: Language::Rust,
        family: Family::Processes,
        unit: Unit::Process,
        workers: Workers::PerTask,
        in_flight: InFlight::Workers,
        runs_tasks_on: "a new child process for every task",
        workers_mean: "at most N alive at once",
        cpu_placement: "in worker processes, as the IO tasks, each task holding its process",
        note: None,
    },
    Kind {
        runtime: Runtime::PySerial,
        name: "py-serial",
        language: Language::Python,
        family: Family::Serial,
        unit: Unit::Thread,
        workers: Workers::Caller,
        in_flight: InFlight::One,
        runs_tasks_on: "Python: a loop on the interpreter's main thread (the seeds' baseline)",
        workers_mean: "ignored (1)",
        cpu_placement: "on the interpreter's one thread that also waits for the IO",
        note: Some(PY_NOTE),
    },
    Kind {
        runtime: Runtime::PyThreads,
        name: "py-threads",
        language: Language::Python,
        family: Family::Threads,
        unit: Unit::Thread,
        workers: Workers::Pool(1),
        in_flight: InFlight::Workers,
        runs_tasks_on: "Python: concurrent.futures.ThreadPoolExecutor, one GIL for all threads",
        workers_mean: "max_workers=N threads",
        cpu_placement: "on the pool's threads, as the IO tasks, taking turns on the GIL",
        note: Some(PY_NOTE),
    },
    Kind {
        runtime: Runtime::PyProcesses,
        name: "py-processes",
        language: Language::Python,
        family: Family::Processes,
        unit: Unit::Process,
        workers: Workers::Pool(1),
        in_flight: InFlight::Workers,
        runs_tasks_on: "Python: concurrent.futures.ProcessPoolExecutor, forked workers",
        workers_mean: "max_workers=N processes",
        cpu_placement: "in the pool's processes, as the IO tasks, each task holding its process",
        note: Some(PY_NOTE),
    },
    Kind {
        runtime: Runtime::PyAsyncio,
        name: "py-asyncio",
        language: Language::Python,
        family: Family::Async,
        unit: Unit::Thread,
        workers: Workers::OneThread,
        in_flight: InFlight::Concurrency,
        runs_tasks_on: "Python: asyncio coroutines on one event loop (downloads with aiohttp)",
        workers_mean: "1 thread by definition; --concurrency = max tasks in flight",
        cpu_placement: "inline in coroutines, on the event loop's one thread",
        note: Some(PY_NOTE),
    },
];

impl Runtime {
    /// Every runtime, in the order listings show them: the in-process ones, then processes.
    pub const ALL: [Runtime; 16] = {
        let mut all = [Runtime::Serial; 16];
        let mut i = 0;
        while i < KINDS.len() {
            all[i] = KINDS[i].runtime;
            i += 1;
        }
        all
    };

    /// The runtimes that run tasks in the measuring process itself, in [`Runtime::ALL`] order.
    pub const IN_PROCESS: [Runtime; 10] = {
        let mut out = [Runtime::Serial; 10];
        let (mut i, mut n) = (0, 0);
        while i < KINDS.len() {
            if matches!(KINDS[i].unit, Unit::Thread) && matches!(KINDS[i].language, Language::Rust)
            {
                out[n] = KINDS[i].runtime;
                n += 1;
            }
            i += 1;
        }
        assert!(
            n == out.len(),
            "IN_PROCESS must list every in-process runtime"
        );
        out
    };

    /// This runtime's row of [`KINDS`].
    pub fn kind(self) -> &'static Kind {
        &KINDS[self as usize]
    }

    /// The command-line and record name.
    pub fn name(self) -> &'static str {
        self.kind().name
    }

    /// Looks a runtime up by name.
    pub fn from_name(name: &str) -> Option<Runtime> {
        KINDS.iter().find(|k| k.name == name).map(|k| k.runtime)
    }

    /// Whether this is the serial baseline: every task on the caller's thread, one at a time.
    /// It ignores `--workers`, so a comparison runs it once per task count and judges it
    /// beside every worker count.
    pub fn is_baseline(self) -> bool {
        self.kind().workers == Workers::Caller
    }

    /// Whether tasks run in worker processes rather than in the measuring process.
    pub fn uses_processes(self) -> bool {
        self.kind().unit == Unit::Process
    }

    /// The language its tasks run in.
    pub fn language(self) -> Language {
        self.kind().language
    }

    /// Whether it is one of the seeds' Python models, run in a Python interpreter.
    pub fn is_python(self) -> bool {
        self.language() == Language::Python
    }

    /// The Rust runtimes, in [`Runtime::ALL`] order: what `--runtimes all` means.
    pub fn rust() -> impl Iterator<Item = Runtime> {
        Runtime::ALL.into_iter().filter(|rt| !rt.is_python())
    }

    /// The Python runtimes, in [`Runtime::ALL`] order: what `--runtimes python` means.
    pub fn python() -> impl Iterator<Item = Runtime> {
        Runtime::ALL.into_iter().filter(|rt| rt.is_python())
    }

    /// Whether the runtime creates a thread or a process for every task: it has no workers to
    /// start before the first task, and with `--workers` = tasks every task holds its own unit.
    pub fn creates_unit_per_task(self) -> bool {
        self.kind().workers == Workers::PerTask
    }

    /// Whether it can have every task in flight at once, each its own unit (`--scale`): the
    /// async runtimes, whose in-flight limit is `--concurrency`, and the per-task runtimes.
    /// Fixed pools run `--workers` tasks at a time whatever the task count.
    pub fn scales(self) -> bool {
        self.kind().in_flight == InFlight::Concurrency || self.creates_unit_per_task()
    }

    /// Whether its in-flight limit is `--concurrency` rather than its workers.
    pub fn in_flight_is_concurrency(self) -> bool {
        self.kind().in_flight == InFlight::Concurrency
    }

    /// Most tasks in flight for `--workers n` and `--concurrency` (`None`: every task).
    pub fn in_flight(self, n: usize, concurrency: Option<usize>) -> Option<usize> {
        match self.kind().in_flight {
            InFlight::One => Some(1),
            InFlight::Workers => Some(n),
            InFlight::Concurrency => concurrency,
        }
    }

    /// Threads or processes that do the work for `--workers n`: 1 for the runtimes that have
    /// only the caller's thread.
    pub fn effective_workers(self, n: usize) -> usize {
        match self.kind().workers {
            Workers::Caller | Workers::OneThread => 1,
            _ => n,
        }
    }

    /// Units (threads or processes) it holds at once with `workers` workers and `tasks` tasks,
    /// beyond the caller's thread, and what they are; the limits are checked against it.
    pub fn units_held(self, workers: usize, tasks: usize) -> (usize, Unit) {
        let kind = self.kind();
        let n = match kind.workers {
            Workers::Caller | Workers::OneThread => 0,
            Workers::Pool(per_worker) => per_worker.saturating_mul(workers),
            Workers::PerTask => workers.min(tasks),
        };
        (n, kind.unit)
    }

    /// The family it stands for: async, threads, processes, or the serial baseline.
    pub fn family(self) -> Family {
        self.kind().family
    }

    /// What runs the tasks.
    pub fn runs_tasks_on(self) -> &'static str {
        self.kind().runs_tasks_on
    }

    /// What `--workers N` sets.
    pub fn workers_mean(self) -> &'static str {
        self.kind().workers_mean
    }

    /// Where a mixed run's CPU work runs, relative to its IO tasks.
    pub fn cpu_placement(self) -> &'static str {
        self.kind().cpu_placement
    }

    /// A caveat the output must carry, if any.
    pub fn note(self) -> Option<&'static str> {
        self.kind().note
    }
}

/// Ceilings on the units a run may hold at once as OS threads (`thread-per-task`) or processes
/// (`process-per-task`), so a large `--workers` stops with a message instead of exhausting the
/// machine.
///
/// The defaults were measured on a 2-core, 24 GiB VM with `vm.max_map_count` 65530, pid_max
/// 32768 and 20000 open files. Every Rust thread maps four regions (its stack and guard page,
/// its signal stack and guard page), so about 16,000 live threads exhaust the map count, and
/// the thread that fails to map its signal stack aborts the whole process; 15,000 sleeping
/// threads still ran. A process-per-task unit is a child process plus a proxy thread and two
/// pipe ends in the parent, so 20000 open files allow about 10,000; 5,000 sleeping workers used
/// 3.7 GiB of the machine's memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Limits {
    /// Most task threads alive at once (`--max-threads`).
    pub max_threads: usize,
    /// Most task processes alive at once (`--max-processes`).
    pub max_processes: usize,
}

impl Limits {
    /// `--max-threads` unless given: four-fifths of the threads that abort a process (see above).
    pub const DEFAULT_MAX_THREADS: usize = 12_000;
    /// `--max-processes` unless given: half the open-file limit's worth of units (see above).
    pub const DEFAULT_MAX_PROCESSES: usize = 5_000;

    /// The defaults.
    pub const DEFAULT: Limits = Limits {
        max_threads: Limits::DEFAULT_MAX_THREADS,
        max_processes: Limits::DEFAULT_MAX_PROCESSES,
    };

    /// Units `runtime` holds at once as threads or processes with `workers` workers and `tasks`
    /// tasks, and why that is over a limit; `None` when it is within them. Per-task runtimes
    /// hold min(workers, tasks); pools and executors start all their workers whatever the
    /// tasks; a current-thread runtime and serial hold none beyond the caller.
    pub fn exceeded(
        &self,
        runtime: Runtime,
        workers: usize,
        tasks: usize,
    ) -> Option<(usize, String)> {
        let (units, unit) = runtime.units_held(workers, tasks);
        let (limit, flag, what) = match unit {
            Unit::Thread => (self.max_threads, "--max-threads", "an OS thread"),
            Unit::Process => (self.max_processes, "--max-processes", "a process"),
        };
        let holds = if runtime.creates_unit_per_task() {
            format!("each unit holds {what}")
        } else {
            format!("each worker is {what}")
        };
        (units > limit).then(|| {
            (
                units,
                format!("over {flag} {limit} ({holds}; raise the limit to try)"),
            )
        })
    }
}

impl std::fmt::Display for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_in_variant_order_and_names_round_trip() {
        for (i, k) in KINDS.iter().enumerate() {
            assert_eq!(k.runtime as usize, i, "{} is out of place", k.name);
            assert_eq!(Runtime::from_name(k.name), Some(k.runtime));
            // The record's name is serde's name.
            assert_eq!(serde_json::to_value(k.runtime).unwrap(), k.name);
        }
        assert_eq!(Runtime::from_name("goroutines"), None);
    }

    #[test]
    fn kinds_answer_what_each_runtime_is() {
        assert!(Runtime::Serial.is_baseline());
        assert!(!Runtime::TokioCt.is_baseline());
        assert!(Runtime::Smol.scales() && Runtime::ThreadPerTask.scales());
        assert!(!Runtime::Threads.scales() && !Runtime::Serial.scales());
        assert_eq!(Runtime::TokioCt.effective_workers(8), 1);
        assert_eq!(Runtime::TokioRayon.units_held(4, 100), (8, Unit::Thread));
        assert_eq!(
            Runtime::ProcessPerTask.units_held(50, 10),
            (10, Unit::Process)
        );
        assert_eq!(Runtime::Threads.in_flight(3, Some(100)), Some(3));
        assert_eq!(Runtime::Smol.in_flight(3, None), None);
        assert_eq!(Runtime::TokioRayon.family(), Family::Async);
        assert_eq!(Runtime::Rayon.family(), Family::Threads);
        assert_eq!(Runtime::ProcessPerTask.family(), Family::Processes);
        assert_eq!(Runtime::Serial.family(), Family::Serial);
    }
}
