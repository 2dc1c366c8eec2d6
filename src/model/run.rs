//! The record of one run, `asyncstudy.run/1`: the contract documented in `docs/records.md`
//! and, as a JSON Schema generated from these types, in `docs/schema/run.json`. Fields may be
//! added; the contract's names are never renamed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::histogram::Summary;

/// The schema tag of a run record.
pub const RUN_SCHEMA: &str = "asyncstudy.run/1";

/// A complete run: the `asyncstudy.run/1` contract of `docs/records.md`, plus fields added since.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RunRecord {
    /// Always [`RUN_SCHEMA`].
    pub schema: String,
    /// The asyncstudy version that measured it.
    pub tool_version: String,
    /// Where it was measured.
    pub machine: Machine,
    /// When the first measured repeat started (RFC 3339, UTC).
    pub started_at: String,
    /// What every task did.
    pub workload: WorkloadInfo,
    /// The runtime name (`--runtime`).
    pub runtime: String,
    /// `--workers` as requested.
    pub workers: usize,
    /// Threads or processes that actually do the work for this runtime (1 for serial, tokio-ct).
    pub effective_workers: usize,
    /// Task outcomes over all measured repeats.
    pub tasks: TaskCounts,
    /// Median wall time of the measured repeats, runtime start-up and shutdown included.
    pub wall_s: f64,
    /// Seconds from just before the runtime was built until every one of its workers ran and
    /// the first task could be submitted (median over repeats): start-up, inside `wall_s` and
    /// before every task's queue wait. Runtimes that create a thread or process per task have
    /// no workers to start; their creation is in each task's queue wait. Absent in records
    /// made before it was measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub startup_s: Option<f64>,
    /// Tasks per run divided by `wall_s`.
    pub throughput_per_s: f64,
    /// Bytes downloaded per run (mean over repeats), for IO work.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_per_run: Option<u64>,
    /// End minus submit, over the tasks of all measured repeats that succeeded: a failed or
    /// never-started task has no latency worth ranking, so it is counted in `tasks.errors`
    /// instead and `count` says how many tasks the percentiles stand on.
    pub latency_ms: Summary,
    /// Start minus submit, over the same tasks.
    pub queue_ms: Summary,
    /// End minus start, over the same tasks.
    pub service_ms: Summary,
    /// CPU time per run (mean over repeats), this process plus its children.
    pub cpu: CpuUsage,
    /// Peak resident memory.
    pub memory: Memory,
    /// Context switches per run (mean over repeats), this process plus its children.
    pub context_switches: ContextSwitches,
    /// Most threads alive at once in the measuring process, plus, for a Python runtime, the
    /// most the interpreter had (its main thread and a thread pool's, by
    /// `threading.active_count()`).
    pub threads: Peak,
    /// Most processes running the run's tasks at once: this one, its worker processes or
    /// Python interpreter, and a Python pool's workers; the embedded server is not counted
    /// (its cost is `server`).
    pub processes: Peak,
    /// Distinct OS threads that ran tasks (largest over repeats).
    pub distinct_workers: usize,
    /// The measuring process's main thread, to tell pool threads from the caller.
    pub main_worker: String,
    /// The most a runtime could speed this work up, per workload kind. CPU work (`cpu`):
    /// min(effective workers, logical cores, tasks), since a loop needs a core. Work that
    /// waits (`io`, `sleep`, `mixed`): the tasks in flight at once, min(in-flight limit,
    /// tasks), where the limit is `--concurrency` on async runtimes and the workers on the
    /// others, since a waiting task needs no core.
    pub ideal_parallelism: usize,
    /// Serial wall time over this wall time, when a serial baseline is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speedup: Option<f64>,
    /// `speedup / ideal_parallelism`, when a serial baseline is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub efficiency: Option<f64>,
    /// `mean_tasks_running / ideal_parallelism`. Above 1 means more tasks were between start
    /// and end at once than the ideal parallelism: they took turns on the cores or waited,
    /// not that the workers were busier than possible.
    pub utilization: f64,
    /// Sum of the tasks' service times (end − start) over wall time: how many tasks were
    /// between their start and their end at an average instant. A task counts while it is
    /// descheduled or waiting, so this is tasks in progress, not cores in use (`cpu.cores_used`
    /// says that).
    #[serde(default)]
    pub mean_tasks_running: f64,
    /// Seconds from the first task's submission to the last task's start (median over
    /// repeats), tasks that never started left out. With every task in flight at once it is
    /// the time to get them all running: thread or process creation (for the runtimes that
    /// create one per task; the others start their workers before the first submission), or
    /// spawning and first polls; with fewer in flight it also holds the wait for a free worker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spawn_s: Option<f64>,
    /// Most tasks running at once, between their start and end (largest over repeats),
    /// counted from the task records: the units the peak memory was held for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_flight_peak: Option<usize>,
    /// Warm-up and measured repeats.
    pub repeat: Repeats,
    /// Every task of the median repeat, in task order (capped, see `timeline_truncated`).
    pub timeline: Vec<TimelineEntry>,
    /// Whether `timeline` was cut at [`TIMELINE_CAP`] entries.
    pub timeline_truncated: bool,
    /// The latency, queue and service histograms over all measured repeats, encoded as
    /// HdrHistogram interval logs carry them (`report --hdr` writes those logs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub histograms: Option<super::histogram::EncodedHistograms>,
    /// What tokio itself saw (tokio runtimes only), from tokio-metrics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokio: Option<TokioMetrics>,
    /// The IO and the CPU tasks of a mixed run, apart: the IO tasks' latency is the headline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mixed: Option<MixedLatency>,
    /// The schedule of an open-loop run (`--rate`); see [`OpenLoop`] for its two latencies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_loop: Option<OpenLoop>,
    /// Things a reader must know about this run (e.g. a discontinued runtime).
    #[serde(default)]
    pub notes: Vec<String>,
    /// The signal (`SIGINT`, `SIGTERM`) that stopped the run early, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interrupted: Option<String>,
    /// The server a download run fetched from (not for `--urls`): where, whether over TLS,
    /// and what serving cost its process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<super::server::ServerSide>,
    /// The CPUs the measuring process was pinned to (`--client-cpus`); absent when it was not
    /// pinned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_cpus: Option<Vec<usize>>,
    /// The comparison round (1-based) this run was measured in, set by `compare`: a verdict
    /// pairs runs of the same round. Absent for a run of its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub round: Option<usize>,
    /// The interpreter that ran the tasks of a Python runtime (`py-serial`, `py-threads`,
    /// `py-processes`, `py-asyncio`); absent for the Rust runtimes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub python: Option<PythonInfo>,
}

/// The label of a workload `kind` `name` with `params`, as [`RunRecord::workload_label`] gives
/// it: what a comparison groups its cells by.
pub fn workload_label(
    kind: &str,
    name: &str,
    params: &BTreeMap<String, serde_json::Value>,
) -> String {
    let label = if kind == name {
        name.to_string()
    } else {
        format!("{kind} {name}")
    };
    if reuses_connections(params) {
        format!("{label} (reuse)")
    } else {
        label
    }
}

/// Whether a workload with `params` keeps its connections (`--connections reuse`).
pub fn reuses_connections(params: &BTreeMap<String, serde_json::Value>) -> bool {
    params.get("connections").and_then(|c| c.as_str()) == Some("reuse")
}

impl RunRecord {
    /// The workload label cells are grouped by: `cpu comp`, `io download`, `sleep`; downloads
    /// over kept connections are `io download (reuse)`, so a comparison of both ways judges
    /// each way's runtimes among themselves.
    pub fn workload_label(&self) -> String {
        let w = &self.workload;
        workload_label(&w.kind, &w.name, &w.params)
    }

    /// The first way this record contradicts itself (counts that do not add up, times that are
    /// negative or not numbers, a timeline past its cap), for records read from elsewhere;
    /// `None` for a consistent one.
    pub fn contradiction(&self) -> Option<String> {
        let t = &self.tasks;
        if t.ok.checked_add(t.failed) != Some(t.total) {
            return Some(format!(
                "tasks.ok {} + tasks.failed {} is not tasks.total {}",
                t.ok, t.failed, t.total
            ));
        }
        let by_kind: u64 = t.errors.values().fold(0u64, |a, n| a.saturating_add(*n));
        if by_kind != t.failed {
            return Some(format!(
                "tasks.errors count {by_kind} failures, tasks.failed {}",
                t.failed
            ));
        }
        let bad = |x: f64| !x.is_finite() || x < 0.0;
        for (name, x) in [
            ("wall_s", self.wall_s),
            ("throughput_per_s", self.throughput_per_s),
            ("cpu.user_s", self.cpu.user_s),
            ("cpu.sys_s", self.cpu.sys_s),
            ("cpu.cores_used", self.cpu.cores_used),
        ] {
            if bad(x) {
                return Some(format!("{name} is {x}"));
            }
        }
        for (name, s) in [
            ("latency_ms", &self.latency_ms),
            ("queue_ms", &self.queue_ms),
            ("service_ms", &self.service_ms),
        ] {
            let values = [s.mean, s.p50, s.p90, s.p99, s.p999, s.max];
            if let Some(x) = values.into_iter().find(|x| bad(*x)) {
                return Some(format!("{name} holds {x}"));
            }
            if s.count > t.total {
                return Some(format!(
                    "{name}.count {} is more than tasks.total {}",
                    s.count, t.total
                ));
            }
        }
        if self.repeat.count != self.repeat.wall_s.len() {
            return Some(format!(
                "repeat.count {} but {} repeat wall times",
                self.repeat.count,
                self.repeat.wall_s.len()
            ));
        }
        if let Some(x) = self.repeat.wall_s.iter().find(|x| bad(**x)) {
            return Some(format!("repeat.wall_s holds {x}"));
        }
        if self.timeline.len() > TIMELINE_CAP {
            return Some(format!(
                "its timeline has {} entries, past the cap of {TIMELINE_CAP}",
                self.timeline.len()
            ));
        }
        for e in &self.timeline {
            if bad(e.start_ms) || bad(e.end_ms) || e.end_ms < e.start_ms || !e.submit_ms.is_finite()
            {
                return Some(format!(
                    "timeline task {} runs from {} to {} ms",
                    e.task, e.start_ms, e.end_ms
                ));
            }
        }
        None
    }
}

/// The machine facts every run record carries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Machine {
    /// CPUs this process may run on (affinity and cgroup limits applied).
    pub logical_cores: usize,
    /// `model name` from `/proc/cpuinfo`, or "unknown".
    pub cpu_model: String,
    /// Distribution name from `/etc/os-release`, or the OS family.
    pub os: String,
    /// Kernel release from `uname`.
    pub kernel: String,
}

/// A tokio run's scheduling, per instrumented task (tasks run straight in `spawn_blocking` have
/// no polls and are not counted) and for the runtime's workers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TokioMetrics {
    /// Spawn to first poll: how long tokio's scheduler took to start each task. Unlike
    /// `queue_ms` it excludes waiting for an in-flight permit, which happens after the first
    /// poll.
    pub first_poll_delay_ms: Summary,
    /// Per task, total time ready to run but not running (first poll delay included).
    pub scheduled_ms: Summary,
    /// Per task, total time inside its polls.
    pub polled_ms: Summary,
    /// Polls per task, on average.
    pub mean_polls_per_task: f64,
    /// The runtime's worker threads (1 for a current-thread runtime).
    pub workers: usize,
    /// The workers' busy time over their capacity (workers x time the runtime was watched).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub busy_ratio: Option<f64>,
}

/// A mixed run's two kinds of task, summarized apart.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MixedLatency {
    /// IO tasks per run.
    pub io_tasks: usize,
    /// CPU tasks per run.
    pub cpu_tasks: usize,
    /// The IO tasks' latency (end - submit): what CPU work in the same runtime does to IO.
    pub io_latency_ms: Summary,
    /// The IO tasks' queue wait (start - submit).
    pub io_queue_ms: Summary,
    /// The CPU tasks' latency.
    pub cpu_latency_ms: Summary,
    /// The CPU tasks' service time (end - start).
    pub cpu_service_ms: Summary,
}

/// An open-loop run (`--rate`): task `i` was due `i / rate_per_s` after the first.
///
/// Its `latency_ms` runs from that due time: the corrected latency, which keeps the time a task
/// waited because the runtime was behind. Its `service_ms` runs from when a worker or an
/// in-flight slot took the task: the raw latency, all that a closed-loop generator (one that
/// sends only when a connection is free) ever sees, which under overload omits the backlog
/// (coordinated omission). Reports show the two side by side under those names.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OpenLoop {
    /// Tasks submitted per second, as asked.
    pub rate_per_s: f64,
}

/// The Python interpreter a Python runtime ran on, as it described itself before the run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PythonInfo {
    /// `--python` as given, or `python3` (found on `PATH`).
    pub path: String,
    /// Its version, e.g. `3.11.7` (`platform.python_version()`).
    pub version: String,
    /// Its implementation, e.g. `cpython` (`sys.implementation.name`).
    pub implementation: String,
    /// Whether it has a global interpreter lock: `true` unless a free-threaded build runs with
    /// the GIL off (`sys._is_gil_enabled()`, Python 3.13+).
    pub gil: bool,
    /// The aiohttp version it imports, if any: `py-asyncio` downloads with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aiohttp: Option<String>,
}

/// Most timeline entries a record carries; histograms still count every task.
pub const TIMELINE_CAP: usize = 10_000;

/// The workload of a run and its parameters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct WorkloadInfo {
    /// `cpu`, `io`, `sleep` or `mixed`.
    pub kind: String,
    /// The workload's name within its kind (e.g. `comp`).
    pub name: String,
    /// Loop steps per task, for CPU workloads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iters: Option<u64>,
    /// Tasks per measured repeat.
    pub tasks_per_run: usize,
    /// The workload's other parameters (writes, latency, concurrency, ...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, serde_json::Value>,
}

/// Task outcomes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TaskCounts {
    /// Tasks run (over all measured repeats).
    pub total: u64,
    /// Tasks that succeeded.
    pub ok: u64,
    /// Tasks that failed.
    pub failed: u64,
    /// Failures by kind (`check`, `panic`, `spawn`, `worker`, `interrupted`).
    pub errors: BTreeMap<String, u64>,
    /// The first failures with their reasons (at most [`FAILURE_CAP`]); `errors` counts all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<Failure>,
}

/// Most failures a record lists one by one.
pub const FAILURE_CAP: usize = 100;

/// One failed task and why it failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Failure {
    /// The measured repeat, 0-based.
    pub repeat: usize,
    /// The task index.
    pub task: usize,
    /// The worker that ran (or was running) it, `pid:tid`.
    pub worker: String,
    /// The error kind, as in `errors`.
    pub kind: String,
    /// What happened.
    pub message: String,
}

/// CPU time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CpuUsage {
    /// User time in seconds.
    pub user_s: f64,
    /// System time in seconds.
    pub sys_s: f64,
    /// (user + sys) / wall: how many cores were busy on average.
    pub cores_used: f64,
}

/// Peak resident set sizes.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct Memory {
    /// This process.
    pub peak_rss_bytes: u64,
    /// The largest peak RSS among its worker processes, each read from `VmHWM` in
    /// `/proc/<pid>/status` just before the worker was retired. For a Python runtime, the
    /// interpreter's peak plus each of its pool workers' (grandchildren, which the process
    /// count does not see), read by the harness before it shuts its pool down.
    pub children_peak_rss_bytes: u64,
    /// Worker processes (over all measured repeats) that died or were killed before their peak
    /// could be read; `children_peak_rss_bytes` and every estimate built on it leave them out.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub children_unmeasured: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Context switches.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct ContextSwitches {
    /// The thread gave up the CPU (blocked, slept, yielded).
    pub voluntary: u64,
    /// The scheduler took the CPU away.
    pub involuntary: u64,
}

/// A peak count.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Peak {
    /// The largest count observed.
    pub peak: u64,
    /// For threads: the names seen (trailing numbers dropped), which tell the runtimes apart.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
}

/// How many times the run was repeated, and each measured repeat's wall time.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Repeats {
    /// Unmeasured runs before the measured ones.
    pub warmup: usize,
    /// Measured runs.
    pub count: usize,
    /// Wall time of each measured run, in order.
    pub wall_s: Vec<f64>,
}

/// One task on the timeline, in milliseconds from the start of its repeat.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TimelineEntry {
    /// Task index.
    pub task: usize,
    /// `pid:tid` of the thread that ran it.
    pub worker: String,
    /// When it was submitted.
    pub submit_ms: f64,
    /// When it started.
    pub start_ms: f64,
    /// When it ended.
    pub end_ms: f64,
    /// Whether it succeeded.
    pub ok: bool,
}
