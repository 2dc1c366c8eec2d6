//! Turning measured repeats into a run record: a pure function of the readings, so a whole
//! record can be built and tested from made-up repeats without running anything.
//!
//! [`summarize`] puts the record together from the parts below it, one per concern: the tasks'
//! outcomes and latency, the resources used, how parallel the run was, the timeline, and the
//! notes a reader needs beside the figures.
//!
//! Why one file over 500 lines: every figure of the run record is derived here, each in a
//! small function, so the record's derivation reads in one place.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use super::rusage::{Peaks, UsagePair};
use crate::analysis::stats::median;
use crate::clock::ms_since;
use crate::executor::{Runtime, TokioInternals};
use crate::model::histogram::{DurationHistogram, TaskHistograms};
use crate::model::run::{
    ContextSwitches, CpuUsage, FAILURE_CAP, Failure, Machine, Memory, MixedLatency, OpenLoop, Peak,
    RUN_SCHEMA, Repeats, RunRecord, TIMELINE_CAP, TaskCounts, TimelineEntry, TokioMetrics,
    WorkloadInfo,
};
use crate::model::task::{OsThread, TaskRecord};
use crate::workload::TaskError;

/// What one measured repeat produced.
#[derive(Clone, Debug)]
pub struct MeasuredRun {
    /// CLOCK_MONOTONIC ns just before the runtime was built.
    pub t0_ns: u64,
    /// When every worker ran and the first task could be submitted.
    pub ready_ns: u64,
    /// CLOCK_MONOTONIC ns just after it was torn down.
    pub t1_ns: u64,
    /// One record per task.
    pub tasks: Vec<TaskRecord>,
    /// Resources used during the repeat.
    pub usage: UsagePair,
    /// Peak thread count and thread names during the repeat.
    pub peaks: Peaks,
    /// Most processes running the repeat's tasks at once: this one, its worker processes or
    /// interpreter, and what that interpreter started (a Python pool's workers); not the
    /// embedded server, whose cost the record shows apart.
    pub processes: u64,
    /// What a tokio runtime saw, for tokio runs.
    pub internals: Option<TokioInternals>,
    /// Worker processes whose peak RSS could not be read (they died first).
    pub children_unmeasured: u64,
}

impl MeasuredRun {
    /// The repeat's wall time, runtime start-up and shutdown included, in seconds.
    pub fn wall_s(&self) -> f64 {
        self.t1_ns.saturating_sub(self.t0_ns) as f64 / 1e9
    }
}

/// The facts about a run that do not come from measuring it.
#[derive(Clone, Debug)]
pub struct RunMeta {
    /// The runtime.
    pub runtime: Runtime,
    /// `--workers`.
    pub workers: usize,
    /// Tasks per repeat.
    pub tasks: usize,
    /// The workload, as the record names it.
    pub workload: WorkloadInfo,
    /// Whether tasks wait on IO: their ideal parallelism is tasks in flight, not cores.
    pub io: bool,
    /// Most tasks in flight, when the run limits them below workers.
    pub in_flight: Option<usize>,
    /// Warm-up runs done before measuring.
    pub warmup: usize,
    /// Median wall time of a serial run of the same work, if known.
    pub baseline_wall_s: Option<f64>,
    /// The thread that drove the runtime.
    pub caller: OsThread,
    /// When measuring began (RFC 3339).
    pub started_at: String,
    /// The machine.
    pub machine: Machine,
    /// The signal that stopped the run early, if one did.
    pub interrupted: Option<i32>,
    /// Measured repeats asked for (fewer ran if interrupted).
    pub repeats_planned: usize,
    /// For a mixed run, how many of its tasks are IO tasks (see [`crate::workload::mixed`]).
    pub mixed_io_tasks: Option<usize>,
    /// Tasks submitted per second, for an open-loop run.
    pub rate: Option<f64>,
}

/// Scheduling figures over every tokio-instrumented task of every repeat, if the runtime was
/// tokio.
fn tokio_metrics(runs: &[MeasuredRun]) -> Option<TokioMetrics> {
    let all: Vec<&TokioInternals> = runs.iter().filter_map(|r| r.internals.as_ref()).collect();
    if all.is_empty() {
        return None;
    }
    let (mut first, mut scheduled, mut polled) = (
        DurationHistogram::default(),
        DurationHistogram::default(),
        DurationHistogram::default(),
    );
    let mut polls = 0u64;
    for t in all.iter().flat_map(|i| i.tasks.iter().flatten()) {
        first.record(t.first_poll_delay.as_nanos() as u64);
        scheduled.record(t.scheduled.as_nanos() as u64);
        polled.record(t.polled.as_nanos() as u64);
        polls += t.polls;
    }
    let busy: f64 = all.iter().map(|i| i.busy.as_secs_f64()).sum();
    let capacity: f64 = all
        .iter()
        .map(|i| i.elapsed.as_secs_f64() * i.workers as f64)
        .sum();
    Some(TokioMetrics {
        first_poll_delay_ms: first.summary(),
        scheduled_ms: scheduled.summary(),
        polled_ms: polled.summary(),
        mean_polls_per_task: if first.is_empty() {
            0.0
        } else {
            polls as f64 / first.len() as f64
        },
        workers: all.iter().map(|i| i.workers).max().unwrap_or(0),
        busy_ratio: (capacity > 0.0).then(|| busy / capacity),
    })
}

/// Builds the run record from the measured repeats (at least one).
pub fn summarize(meta: &RunMeta, runs: &[MeasuredRun]) -> RunRecord {
    let walls: Vec<f64> = runs.iter().map(MeasuredRun::wall_s).collect();
    let wall_s = median(&walls);
    let outcomes = tally(meta, runs);
    let resources = resources(runs);
    let shape = Parallelism::of(meta, runs, wall_s);
    let typical = typical(runs);
    let (timeline, timeline_truncated) = typical.map(timeline).unwrap_or_default();
    let interrupted = meta.interrupted.map(crate::interrupt::signal_name);
    let mixed = mixed(meta, &outcomes);
    let notes = notes(
        meta,
        runs.len(),
        &outcomes.counts,
        &shape,
        timeline_truncated,
    );
    RunRecord {
        schema: RUN_SCHEMA.to_string(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        machine: meta.machine.clone(),
        started_at: meta.started_at.clone(),
        workload: meta.workload.clone(),
        bytes_per_run: meta.io.then(|| bytes_per_run(runs)),
        runtime: meta.runtime.name().into(),
        workers: meta.workers,
        effective_workers: shape.effective_workers,
        tasks: outcomes.counts,
        wall_s,
        startup_s: shape.startup_s,
        throughput_per_s: if wall_s > 0.0 {
            meta.tasks as f64 / wall_s
        } else {
            0.0
        },
        latency_ms: outcomes.all.latency.summary(),
        queue_ms: outcomes.all.queue.summary(),
        service_ms: outcomes.all.service.summary(),
        cpu: resources.cpu,
        memory: resources.memory,
        context_switches: resources.context_switches,
        threads: thread_peak(runs),
        processes: Peak {
            peak: runs.iter().map(|r| r.processes).max().unwrap_or(0),
            names: Vec::new(),
        },
        distinct_workers: shape.distinct_workers,
        main_worker: meta.caller.to_string(),
        ideal_parallelism: shape.ideal,
        speedup: shape.speedup,
        efficiency: shape.efficiency,
        utilization: shape.utilization,
        mean_tasks_running: shape.mean_tasks_running,
        spawn_s: shape.spawn_s,
        in_flight_peak: shape.in_flight_peak,
        repeat: Repeats {
            warmup: meta.warmup,
            count: runs.len(),
            wall_s: walls,
        },
        timeline,
        timeline_truncated,
        // Encoding cannot fail for histograms this crate built; a record without them still
        // has every summary, so a failure only drops the re-analysis data.
        histograms: outcomes.all.encode().ok(),
        tokio: tokio_metrics(runs),
        mixed,
        open_loop: meta.rate.map(|rate_per_s| OpenLoop { rate_per_s }),
        notes,
        interrupted,
        round: None,
        python: None,
        server: None,
        client_cpus: None,
    }
}

/// The bytes the tasks of one repeat received, on average over the repeats.
fn bytes_per_run(runs: &[MeasuredRun]) -> u64 {
    let total: u64 = runs.iter().flat_map(|r| &r.tasks).map(|t| t.bytes).sum();
    total / runs.len().max(1) as u64
}

/// The most threads alive in any repeat, with the names they had.
fn thread_peak(runs: &[MeasuredRun]) -> Peak {
    Peak {
        peak: runs.iter().map(|r| r.peaks.threads).max().unwrap_or(0),
        names: runs
            .iter()
            .flat_map(|r| r.peaks.thread_names.iter().cloned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
    }
}

/// A mixed run's IO and CPU tasks apart.
fn mixed(meta: &RunMeta, outcomes: &Outcomes) -> Option<MixedLatency> {
    meta.mixed_io_tasks.map(|io_tasks| MixedLatency {
        io_tasks,
        cpu_tasks: meta.tasks - io_tasks.min(meta.tasks),
        io_latency_ms: outcomes.io.latency.summary(),
        io_queue_ms: outcomes.io.queue.summary(),
        cpu_latency_ms: outcomes.cpu.latency.summary(),
        cpu_service_ms: outcomes.cpu.service.summary(),
    })
}

/// Whether a task ran at all: one that never started carries the thread and the time at
/// which the runtime gave up on it, not a worker and a start.
fn started(t: &TaskRecord) -> bool {
    !matches!(t.error, Some(TaskError::Spawn(_) | TaskError::Interrupted))
}

/// The repeat whose wall time is the (lower) median: the one the timeline shows.
fn typical(runs: &[MeasuredRun]) -> Option<&MeasuredRun> {
    let mut by_wall: Vec<&MeasuredRun> = runs.iter().collect();
    by_wall.sort_by(|a, b| a.wall_s().total_cmp(&b.wall_s()));
    by_wall.get(runs.len().saturating_sub(1) / 2).copied()
}

/// What the tasks of every repeat did: latency histograms and outcome counts.
struct Outcomes {
    /// Every task that succeeded.
    all: TaskHistograms,
    /// A mixed run's IO tasks that succeeded.
    io: TaskHistograms,
    /// A mixed run's CPU tasks that succeeded.
    cpu: TaskHistograms,
    counts: TaskCounts,
}

/// Counts the tasks' outcomes and records the latency of those that succeeded.
fn tally(meta: &RunMeta, runs: &[MeasuredRun]) -> Outcomes {
    let mut o = Outcomes {
        all: TaskHistograms::default(),
        io: TaskHistograms::default(),
        cpu: TaskHistograms::default(),
        counts: TaskCounts::default(),
    };
    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
    for (repeat, run) in runs.iter().enumerate() {
        for task in &run.tasks {
            o.counts.total += 1;
            // Only tasks that succeeded enter the histograms: a task that never started has no
            // latency, and one that failed fast (a refused connection, a 503) would pass for a
            // quick answer. Failures are counted by kind instead.
            let Some(e) = &task.error else {
                o.counts.ok += 1;
                o.all.record(task.submit_ns, task.start_ns, task.end_ns);
                if let Some(io_tasks) = meta.mixed_io_tasks {
                    let side =
                        match crate::workload::mixed::io_index(task.task, io_tasks, meta.tasks) {
                            Some(_) => &mut o.io,
                            None => &mut o.cpu,
                        };
                    side.record(task.submit_ns, task.start_ns, task.end_ns);
                }
                continue;
            };
            o.counts.failed += 1;
            *errors.entry(e.kind().to_string()).or_default() += 1;
            if o.counts.failures.len() < FAILURE_CAP {
                o.counts.failures.push(Failure {
                    repeat,
                    task: task.task,
                    worker: task.worker.to_string(),
                    kind: e.kind().to_string(),
                    message: e.to_string(),
                });
            }
        }
    }
    o.counts.errors = errors;
    o
}

/// The CPU, memory and context switches of the runtime, its worker processes included.
struct Resources {
    cpu: CpuUsage,
    memory: Memory,
    context_switches: ContextSwitches,
}

/// CPU and context switches are per repeat (the mean), memory the peak of any repeat.
fn resources(runs: &[MeasuredRun]) -> Resources {
    let n = runs.len().max(1);
    let total_wall: f64 = runs.iter().map(MeasuredRun::wall_s).sum();
    let sum = |f: fn(&MeasuredRun) -> u64| runs.iter().map(f).sum::<u64>();
    let max = |f: fn(&MeasuredRun) -> u64| runs.iter().map(f).max().unwrap_or(0);
    let user_ns = sum(|r| r.usage.own.user_ns + r.usage.children.user_ns);
    let sys_ns = sum(|r| r.usage.own.sys_ns + r.usage.children.sys_ns);
    Resources {
        cpu: CpuUsage {
            user_s: user_ns as f64 / 1e9 / n as f64,
            sys_s: sys_ns as f64 / 1e9 / n as f64,
            cores_used: if total_wall > 0.0 {
                (user_ns + sys_ns) as f64 / 1e9 / total_wall
            } else {
                0.0
            },
        },
        memory: Memory {
            peak_rss_bytes: max(|r| r.usage.own.max_rss_bytes),
            children_peak_rss_bytes: max(|r| r.usage.children.max_rss_bytes),
            children_unmeasured: sum(|r| r.children_unmeasured),
        },
        context_switches: ContextSwitches {
            voluntary: sum(|r| r.usage.own.voluntary + r.usage.children.voluntary) / n as u64,
            involuntary: sum(|r| r.usage.own.involuntary + r.usage.children.involuntary) / n as u64,
        },
    }
}

/// How parallel the run was, and how parallel it could have been.
struct Parallelism {
    effective_workers: usize,
    /// How many tasks could run at once: cores for CPU work, tasks in flight for IO.
    ideal: usize,
    speedup: Option<f64>,
    efficiency: Option<f64>,
    mean_tasks_running: f64,
    utilization: f64,
    distinct_workers: usize,
    startup_s: Option<f64>,
    spawn_s: Option<f64>,
    in_flight_peak: Option<usize>,
}

impl Parallelism {
    fn of(meta: &RunMeta, runs: &[MeasuredRun], wall_s: f64) -> Parallelism {
        let effective_workers = meta.runtime.effective_workers(meta.workers);
        let ideal = if meta.io {
            // Waiting tasks need no core: the bound is how many wait at once.
            meta.runtime
                .in_flight(meta.workers, meta.in_flight)
                .unwrap_or(meta.tasks)
                .min(meta.tasks)
                .max(1)
        } else {
            effective_workers
                .min(meta.machine.logical_cores)
                .min(meta.tasks)
                .max(1)
        };
        let baseline = match meta.runtime {
            // A serial run (Rust's or Python's) is its own baseline.
            rt if rt.is_baseline() => Some(wall_s),
            _ => meta.baseline_wall_s,
        };
        let speedup = baseline.filter(|_| wall_s > 0.0).map(|b| b / wall_s);
        let total_wall: f64 = runs.iter().map(MeasuredRun::wall_s).sum();
        let service_s: f64 = runs
            .iter()
            .flat_map(|r| &r.tasks)
            .map(|t| t.end_ns.saturating_sub(t.start_ns) as f64 / 1e9)
            .sum();
        let mean_tasks_running = if total_wall > 0.0 {
            service_s / total_wall
        } else {
            0.0
        };
        let median_of = |xs: Vec<f64>| (!xs.is_empty()).then(|| median(&xs));
        Parallelism {
            effective_workers,
            ideal,
            speedup,
            efficiency: speedup.map(|s| s / ideal as f64),
            mean_tasks_running,
            utilization: mean_tasks_running / ideal as f64,
            distinct_workers: runs.iter().map(distinct_workers).max().unwrap_or(0),
            startup_s: median_of(
                runs.iter()
                    .map(|r| r.ready_ns.saturating_sub(r.t0_ns) as f64 / 1e9)
                    .collect(),
            ),
            spawn_s: median_of(runs.iter().filter_map(spawn_s).collect()),
            in_flight_peak: runs.iter().map(in_flight_peak).max(),
        }
    }
}

/// How many threads or processes ran the repeat's tasks.
fn distinct_workers(r: &MeasuredRun) -> usize {
    r.tasks
        .iter()
        .filter(|t| started(t))
        .map(|t| t.worker)
        .collect::<HashSet<_>>()
        .len()
}

/// From the first submit to the last task's start.
fn spawn_s(r: &MeasuredRun) -> Option<f64> {
    let first = r.tasks.iter().map(|t| t.submit_ns).min()?;
    let last = r
        .tasks
        .iter()
        .filter(|t| started(t))
        .map(|t| t.start_ns)
        .max()?;
    Some(last.saturating_sub(first) as f64 / 1e9)
}

/// The most tasks running at one instant.
fn in_flight_peak(r: &MeasuredRun) -> usize {
    // A task ending at the instant another starts does not overlap it: ends sort first.
    let mut edges: Vec<(u64, i64)> = r
        .tasks
        .iter()
        .filter(|t| started(t))
        .flat_map(|t| [(t.start_ns, 1), (t.end_ns, -1)])
        .collect();
    edges.sort_unstable();
    let (mut now, mut most) = (0i64, 0i64);
    for (_, step) in edges {
        now += step;
        most = most.max(now);
    }
    most as usize
}

/// The repeat's first [`TIMELINE_CAP`] tasks, and whether there were more.
fn timeline(run: &MeasuredRun) -> (Vec<TimelineEntry>, bool) {
    let entries = run
        .tasks
        .iter()
        .take(TIMELINE_CAP)
        .map(|t| TimelineEntry {
            task: t.task,
            worker: t.worker.to_string(),
            submit_ms: ms_since(run.t0_ns, t.submit_ns),
            start_ms: ms_since(run.t0_ns, t.start_ns),
            end_ms: ms_since(run.t0_ns, t.end_ns),
            ok: t.error.is_none(),
        })
        .collect();
    (entries, run.tasks.len() > TIMELINE_CAP)
}

/// What a reader needs beside the figures: the runtime's own note, oversubscription, a cut
/// timeline, the first failures' reasons and an interruption.
fn notes(
    meta: &RunMeta,
    repeats: usize,
    counts: &TaskCounts,
    shape: &Parallelism,
    timeline_truncated: bool,
) -> Vec<String> {
    let mut notes: Vec<String> = meta
        .runtime
        .note()
        .map(str::to_string)
        .into_iter()
        .collect();
    let cores = meta.machine.logical_cores;
    if shape.effective_workers > cores && !meta.io {
        notes.push(format!(
            "{} workers on {cores} logical cores: at most {cores} tasks run at the same instant",
            shape.effective_workers
        ));
    }
    if timeline_truncated {
        notes.push(format!(
            "timeline shows the first {TIMELINE_CAP} tasks of the median repeat"
        ));
    }
    // The first few reasons in the notes, so a table shows why tasks failed; JSON has more.
    const NOTED_FAILURES: usize = 3;
    let cut_short = counts.errors.get("interrupted").copied().unwrap_or(0);
    for f in counts
        .failures
        .iter()
        .filter(|f| f.kind != "interrupted")
        .take(NOTED_FAILURES)
    {
        notes.push(format!(
            "repeat {} task {} failed: {}",
            f.repeat + 1,
            f.task,
            f.message
        ));
    }
    let unnoted = (counts.failed - cut_short).saturating_sub(NOTED_FAILURES as u64);
    if unnoted > 0 {
        notes.push(format!(
            "{unnoted} more failed tasks: see tasks.failures in the JSON record"
        ));
    }
    if let Some(sig) = meta.interrupted.map(crate::interrupt::signal_name) {
        notes.push(match repeats {
            0 => format!("interrupted by {sig} during warm-up: nothing was measured"),
            n => format!(
                "interrupted by {sig} in repeat {n} of {}: {cut_short} tasks cut short",
                meta.repeats_planned
            ),
        });
    }
    notes
}
