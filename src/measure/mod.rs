//! The measurement engine: runs a plan on its runtime and turns what happened into a record.
//!
//! [`measure`] does the running (warm-up, repeats, resource readings around each repeat);
//! [`summarize`] is a pure function from those readings to a [`RunRecord`], so the whole
//! record can be built and tested from made-up readings without running anything.

pub mod machine;
pub mod rusage;

use std::collections::{BTreeMap, HashSet};
use std::time::SystemTime;

use crate::analysis::stats::median;
use crate::clock::{ms_since, now_ns};
use crate::executor::{Executor, Job, Runtime, TokioInternals};
use crate::interrupt;
use crate::model::histogram::{DurationHistogram, TaskHistograms};
use crate::model::run::{
    ContextSwitches, CpuUsage, FAILURE_CAP, Failure, Machine, Memory, MixedLatency, OpenLoop, Peak,
    RUN_SCHEMA, Repeats, RunRecord, TIMELINE_CAP, TaskCounts, TimelineEntry, TokioMetrics,
    WorkloadInfo,
};
use crate::model::task::{OsThread, TaskRecord};
use crate::plan::RunPlan;
use crate::workload::{TaskError, Work};
use rusage::{Peaks, Sampler, UsagePair};

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
    /// Peak thread and process counts during the repeat.
    pub peaks: Peaks,
    /// What a tokio runtime saw, for tokio runs.
    pub internals: Option<TokioInternals>,
    /// Worker processes whose peak RSS could not be read (they died first).
    pub children_unmeasured: u64,
}

impl MeasuredRun {
    fn wall_s(&self) -> f64 {
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

/// Runs `plan` with `work` (the plan's work with its run-time resources, such as the embedded
/// server's URLs, filled in): warm-up runs, then measured repeats, and summarizes them.
///
/// A run whose runtime watches for Ctrl-C (see [`interrupt`]) stops after the repeat it
/// interrupted; the record then holds the repeats so far and says which signal stopped it.
///
/// With a `server` probe, the server's `/stats` is read just before the first measured repeat
/// and just after the last, and the record shows what serving them cost the server.
pub fn measure(
    plan: &RunPlan,
    work: Work,
    server: Option<&crate::server::stats::Probe>,
) -> anyhow::Result<RunRecord> {
    let executor = plan
        .runtime
        .executor_with(plan.workers, plan.in_flight(), plan.tokio_metrics);
    let workload = workload_info(plan);
    let io = work.is_io();
    let mixed_io_tasks = match &work {
        Work::Mixed(m) => Some(m.io_tasks),
        _ => None,
    };
    let job = Job::new(work)
        .with_faults(plan.faults.clone())
        .with_rate(plan.rate);
    for _ in 0..plan.warmup {
        forget_connections(&job);
        executor.run(&job, plan.tasks)?;
        if interrupt::requested().is_some() {
            break;
        }
    }
    let meta = RunMeta {
        runtime: plan.runtime,
        workers: plan.workers,
        tasks: plan.tasks,
        workload,
        io,
        in_flight: plan.in_flight(),
        warmup: plan.warmup,
        baseline_wall_s: plan.baseline.as_ref().map(|b| b.wall_s),
        caller: OsThread::current(),
        started_at: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        machine: machine::detect(),
        interrupted: None,
        repeats_planned: plan.repeat,
        mixed_io_tasks,
        rate: plan.rate,
    };
    let mut runs = Vec::with_capacity(plan.repeat);
    let before = server.map(|p| p.read());
    for _ in 0..plan.repeat {
        if interrupt::requested().is_some() {
            break;
        }
        forget_connections(&job);
        runs.push(measure_once(executor.as_ref(), &job, plan.tasks)?);
    }
    let after = server.map(|p| p.read());
    let meta = RunMeta {
        interrupted: interrupt::requested(),
        ..meta
    };
    let mut record = summarize(&meta, &runs);
    if let (Some(probe), Some(before), Some(after)) = (server, before, after) {
        let wall: f64 = runs.iter().map(MeasuredRun::wall_s).sum();
        let (side, note) = probe.side(&before, &after, runs.len(), wall);
        record.server = Some(side);
        record.notes.extend(note);
    }
    record.client_cpus = plan.client_cpus.clone();
    Ok(record)
}

/// Closes the connections a download's clients kept from the last repeat, so every repeat
/// starts cold (`--connections reuse`); nothing for other work.
fn forget_connections(job: &Job) {
    if let Some(d) = job.work().and_then(Work::download) {
        d.forget_connections();
    }
}

/// One measured repeat: resource readings around the executor's run.
pub fn measure_once(
    executor: &dyn Executor,
    job: &Job,
    tasks: usize,
) -> anyhow::Result<MeasuredRun> {
    let before = UsagePair::now();
    let sampler = Sampler::start();
    let t0_ns = now_ns();
    let out = executor.run(job, tasks)?;
    let t1_ns = now_ns();
    let sampled = sampler.stop();
    let mut usage = UsagePair::now().since(&before);
    // The sampler's CPU time and wake-ups are the harness's, not the runtime's. What stays in
    // is starting and joining it: about 0.1 ms of CPU and the join's one voluntary switch.
    usage.own = usage.own.without(&sampled.cost);
    usage.children.max_rss_bytes = out.children_peak_rss.unwrap_or(0);
    Ok(MeasuredRun {
        t0_ns,
        ready_ns: out.ready_ns,
        t1_ns,
        tasks: out.tasks,
        usage,
        peaks: sampled.peaks,
        internals: out.internals,
        children_unmeasured: out.children_unmeasured,
    })
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
    let n = runs.len().max(1);
    let mut by_wall: Vec<usize> = (0..runs.len()).collect();
    by_wall.sort_by(|&a, &b| runs[a].wall_s().total_cmp(&runs[b].wall_s()));
    let walls: Vec<f64> = runs.iter().map(MeasuredRun::wall_s).collect();
    let wall_s = median(&walls);
    // The timeline shows the repeat whose wall time is the (lower) median.
    let typical = runs.get(
        by_wall
            .get((runs.len().saturating_sub(1)) / 2)
            .copied()
            .unwrap_or(0),
    );

    let mut hist = TaskHistograms::default();
    // A mixed run's IO and CPU tasks, apart.
    let (mut io_hist, mut cpu_hist) = (TaskHistograms::default(), TaskHistograms::default());
    let mut counts = TaskCounts::default();
    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
    let mut failures = Vec::new();
    for (repeat, run) in runs.iter().enumerate() {
        for task in &run.tasks {
            // Only tasks that succeeded enter the histograms: a task that never started has no
            // latency, and one that failed fast (a refused connection, a 503) would pass for a
            // quick answer. Failures are counted by kind instead.
            if task.error.is_some() {
                // Counted below.
            } else if let Some(io_tasks) = meta.mixed_io_tasks {
                hist.record(task.submit_ns, task.start_ns, task.end_ns);
                let side = match crate::workload::mixed::io_index(task.task, io_tasks, meta.tasks) {
                    Some(_) => &mut io_hist,
                    None => &mut cpu_hist,
                };
                side.record(task.submit_ns, task.start_ns, task.end_ns);
            } else {
                hist.record(task.submit_ns, task.start_ns, task.end_ns);
            }
            counts.total += 1;
            match &task.error {
                None => counts.ok += 1,
                Some(e) => {
                    counts.failed += 1;
                    *errors.entry(e.kind().to_string()).or_default() += 1;
                    if failures.len() < FAILURE_CAP {
                        failures.push(Failure {
                            repeat,
                            task: task.task,
                            worker: task.worker.to_string(),
                            kind: e.kind().to_string(),
                            message: e.to_string(),
                        });
                    }
                }
            }
        }
    }
    counts.errors = errors;

    let total_wall: f64 = walls.iter().sum();
    let sum = |f: fn(&MeasuredRun) -> u64| runs.iter().map(f).sum::<u64>();
    let user_ns = sum(|r| r.usage.own.user_ns + r.usage.children.user_ns);
    let sys_ns = sum(|r| r.usage.own.sys_ns + r.usage.children.sys_ns);
    let cpu = CpuUsage {
        user_s: user_ns as f64 / 1e9 / n as f64,
        sys_s: sys_ns as f64 / 1e9 / n as f64,
        cores_used: if total_wall > 0.0 {
            (user_ns + sys_ns) as f64 / 1e9 / total_wall
        } else {
            0.0
        },
    };
    let max = |f: fn(&MeasuredRun) -> u64| runs.iter().map(f).max().unwrap_or(0);
    let memory = Memory {
        peak_rss_bytes: max(|r| r.usage.own.max_rss_bytes),
        children_peak_rss_bytes: max(|r| r.usage.children.max_rss_bytes),
        children_unmeasured: sum(|r| r.children_unmeasured),
    };
    let context_switches = ContextSwitches {
        voluntary: sum(|r| r.usage.own.voluntary + r.usage.children.voluntary) / n as u64,
        involuntary: sum(|r| r.usage.own.involuntary + r.usage.children.involuntary) / n as u64,
    };
    // Tasks that never started carry the thread that gave up on them, not a worker.
    let distinct_workers = runs
        .iter()
        .map(|r| {
            r.tasks
                .iter()
                .filter(|t| !matches!(t.error, Some(TaskError::Spawn(_) | TaskError::Interrupted)))
                .map(|t| t.worker)
                .collect::<HashSet<_>>()
                .len()
        })
        .max()
        .unwrap_or(0);

    let effective_workers = meta.runtime.effective_workers(meta.workers);
    let ideal_parallelism = if meta.io {
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
        // A serial run is its own baseline.
        Runtime::Serial => Some(wall_s),
        _ => meta.baseline_wall_s,
    };
    let speedup = baseline.filter(|_| wall_s > 0.0).map(|b| b / wall_s);
    let efficiency = speedup.map(|s| s / ideal_parallelism as f64);
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
    let utilization = mean_tasks_running / ideal_parallelism as f64;

    // Tasks that never started carry the time the runtime gave up on them, not a start.
    let started =
        |t: &&TaskRecord| !matches!(t.error, Some(TaskError::Spawn(_) | TaskError::Interrupted));
    let spawns: Vec<f64> = runs
        .iter()
        .filter_map(|r| {
            let first = r.tasks.iter().map(|t| t.submit_ns).min()?;
            let last = r.tasks.iter().filter(started).map(|t| t.start_ns).max()?;
            Some(last.saturating_sub(first) as f64 / 1e9)
        })
        .collect();
    let startups: Vec<f64> = runs
        .iter()
        .map(|r| r.ready_ns.saturating_sub(r.t0_ns) as f64 / 1e9)
        .collect();
    let in_flight_peak = runs
        .iter()
        .map(|r| {
            // A task ending at the instant another starts does not overlap it: ends sort first.
            let mut edges: Vec<(u64, i64)> = r
                .tasks
                .iter()
                .filter(started)
                .flat_map(|t| [(t.start_ns, 1), (t.end_ns, -1)])
                .collect();
            edges.sort_unstable();
            let (mut now, mut most) = (0i64, 0i64);
            for (_, step) in edges {
                now += step;
                most = most.max(now);
            }
            most as usize
        })
        .max();

    let (timeline, timeline_truncated) = match typical {
        Some(run) => (
            run.tasks
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
                .collect(),
            run.tasks.len() > TIMELINE_CAP,
        ),
        None => (Vec::new(), false),
    };

    let mut notes: Vec<String> = meta
        .runtime
        .note()
        .map(str::to_string)
        .into_iter()
        .collect();
    if effective_workers > meta.machine.logical_cores && !meta.io {
        notes.push(format!(
            "{effective_workers} workers on {} logical cores: at most {} tasks run at the same instant",
            meta.machine.logical_cores, meta.machine.logical_cores
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
    for f in failures
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
    let interrupted = meta.interrupted.map(crate::interrupt::signal_name);
    if let Some(sig) = &interrupted {
        notes.push(match runs.len() {
            0 => format!("interrupted by {sig} during warm-up: nothing was measured"),
            n => format!(
                "interrupted by {sig} in repeat {n} of {}: {cut_short} tasks cut short",
                meta.repeats_planned
            ),
        });
    }
    counts.failures = failures;

    RunRecord {
        schema: RUN_SCHEMA.to_string(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        machine: meta.machine.clone(),
        started_at: meta.started_at.clone(),
        workload: meta.workload.clone(),
        bytes_per_run: meta.io.then(|| {
            runs.iter()
                .flat_map(|r| &r.tasks)
                .map(|t| t.bytes)
                .sum::<u64>()
                / n as u64
        }),
        runtime: meta.runtime.name().into(),
        workers: meta.workers,
        effective_workers,
        tasks: counts,
        wall_s,
        startup_s: (!startups.is_empty()).then(|| median(&startups)),
        throughput_per_s: if wall_s > 0.0 {
            meta.tasks as f64 / wall_s
        } else {
            0.0
        },
        latency_ms: hist.latency.summary(),
        queue_ms: hist.queue.summary(),
        service_ms: hist.service.summary(),
        cpu,
        memory,
        context_switches,
        threads: Peak {
            peak: max(|r| r.peaks.threads),
            names: runs
                .iter()
                .flat_map(|r| r.peaks.thread_names.iter().cloned())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect(),
        },
        processes: Peak {
            peak: max(|r| r.peaks.processes),
            names: Vec::new(),
        },
        distinct_workers,
        main_worker: meta.caller.to_string(),
        ideal_parallelism,
        speedup,
        efficiency,
        utilization,
        mean_tasks_running,
        spawn_s: (!spawns.is_empty()).then(|| median(&spawns)),
        in_flight_peak,
        repeat: Repeats {
            warmup: meta.warmup,
            count: runs.len(),
            wall_s: walls,
        },
        timeline,
        timeline_truncated,
        // Encoding cannot fail for histograms this crate built; a record without them still
        // has every summary, so a failure only drops the re-analysis data.
        histograms: hist.encode().ok(),
        tokio: tokio_metrics(runs),
        mixed: meta.mixed_io_tasks.map(|io_tasks| MixedLatency {
            io_tasks,
            cpu_tasks: meta.tasks - io_tasks.min(meta.tasks),
            io_latency_ms: io_hist.latency.summary(),
            io_queue_ms: io_hist.queue.summary(),
            cpu_latency_ms: cpu_hist.latency.summary(),
            cpu_service_ms: cpu_hist.service.summary(),
        }),
        open_loop: meta.rate.map(|rate_per_s| OpenLoop { rate_per_s }),
        notes,
        interrupted,
        server: None,
        client_cpus: None,
    }
}

/// How the record names the plan's work, with its parameters: the same names a `--baseline`
/// is checked against.
fn workload_info(plan: &RunPlan) -> WorkloadInfo {
    WorkloadInfo {
        kind: plan.work.kind().into(),
        name: plan.work.name().into(),
        iters: plan.work.iters(),
        tasks_per_run: plan.tasks,
        params: plan.params.clone(),
    }
}

#[cfg(test)]
/// Made-up repeats and metadata, shared by the tests of other modules.
pub mod tests {
    use super::*;
    use crate::measure::rusage::Usage;

    /// A fixed machine, so records built in tests do not depend on where they run.
    pub fn test_machine() -> Machine {
        Machine {
            logical_cores: 2,
            cpu_model: "Test CPU @ 3.00GHz".into(),
            os: "Debian GNU/Linux 12 (bookworm)".into(),
            kernel: "6.1.0-test".into(),
        }
    }

    /// A made-up repeat: `tasks` tasks of `service_ms` each on two threads, one task failing
    /// its check when `fail` is set.
    pub fn fake_run(t0_ms: u64, tasks: usize, service_ms: u64, fail: bool) -> MeasuredRun {
        let ms = 1_000_000;
        let t0 = t0_ms * ms;
        let records: Vec<TaskRecord> = (0..tasks)
            .map(|i| {
                let lane = (i % 2) as u64;
                let slot = (i / 2) as u64;
                let start = t0 + ms + slot * service_ms * ms;
                TaskRecord {
                    task: i,
                    worker: OsThread {
                        pid: 100,
                        tid: 101 + lane as u32,
                    },
                    submit_ns: t0 + ms,
                    start_ns: start,
                    end_ns: start + service_ms * ms,
                    bytes: 0,
                    error: (fail && i == 1).then(|| TaskError::Check("long_comp gave NaN".into())),
                }
            })
            .collect();
        let end = records.iter().map(|r| r.end_ns).max().unwrap_or(t0) + ms;
        let usage = Usage {
            user_ns: (end - t0) * 19 / 10,
            sys_ns: (end - t0) / 20,
            max_rss_bytes: 4 << 20,
            voluntary: 12,
            involuntary: 3,
        };
        MeasuredRun {
            t0_ns: t0,
            // Closed loop, the batch is submitted at the ready time.
            ready_ns: t0 + ms,
            t1_ns: end,
            tasks: records,
            usage: UsagePair {
                own: usage,
                children: Usage::default(),
            },
            peaks: Peaks {
                threads: 3,
                processes: 1,
                thread_names: Default::default(),
            },
            internals: None,
            children_unmeasured: 0,
        }
    }

    /// The metadata of a made-up `comp` run on `runtime` with 2 workers and 8 tasks.
    pub fn fake_meta(runtime: Runtime) -> RunMeta {
        RunMeta {
            runtime,
            workers: 2,
            tasks: 8,
            workload: WorkloadInfo {
                kind: "cpu".into(),
                name: "comp".into(),
                iters: Some(5_000_000),
                tasks_per_run: 8,
                params: Default::default(),
            },
            io: false,
            in_flight: None,
            warmup: 1,
            baseline_wall_s: Some(0.2),
            caller: OsThread { pid: 100, tid: 100 },
            started_at: "2026-11-22T12:00:00Z".into(),
            machine: test_machine(),
            interrupted: None,
            repeats_planned: 1,
            mixed_io_tasks: None,
            rate: None,
        }
    }

    #[test]
    fn summary_counts_every_task_of_every_repeat() {
        let runs = [
            fake_run(0, 8, 25, true),
            fake_run(1000, 8, 20, false),
            fake_run(2000, 8, 30, false),
        ];
        let rec = summarize(&fake_meta(Runtime::Threads), &runs);
        assert_eq!(
            (rec.tasks.total, rec.tasks.ok, rec.tasks.failed),
            (24, 23, 1)
        );
        assert_eq!(rec.tasks.errors.get("check"), Some(&1));
        // The failed task is counted, not ranked among the latencies.
        assert_eq!(rec.latency_ms.count, 23);
        assert_eq!(rec.queue_ms.count, 23);
        assert_eq!(rec.service_ms.count, 23);
        assert_eq!(rec.repeat.count, 3);
        // Walls are 4 x service + 2 ms: 102, 82, 122 ms; the median is 102 ms.
        assert!((rec.wall_s - 0.102).abs() < 1e-9, "{}", rec.wall_s);
        assert!((rec.throughput_per_s - 8.0 / 0.102).abs() < 1e-6);
        // The timeline is the median repeat's: 25 ms tasks starting 1 ms in.
        assert_eq!(rec.timeline.len(), 8);
        assert_eq!(rec.timeline[0].start_ms, 1.0);
        assert_eq!(rec.timeline[0].end_ms, 26.0);
        assert!(!rec.timeline[1].ok);
        assert_eq!(rec.distinct_workers, 2);
        assert_eq!(rec.ideal_parallelism, 2);
        assert!((rec.speedup.unwrap() - 0.2 / 0.102).abs() < 1e-9);
        assert!((rec.efficiency.unwrap() - 0.2 / 0.102 / 2.0).abs() < 1e-9);
        assert!(
            (rec.cpu.cores_used - 1.95).abs() < 1e-6,
            "{}",
            rec.cpu.cores_used
        );
    }

    #[test]
    fn a_mix_summarizes_its_io_and_cpu_tasks_apart() {
        let meta = RunMeta {
            mixed_io_tasks: Some(2),
            ..fake_meta(Runtime::TokioMt)
        };
        let rec = summarize(&meta, &[fake_run(0, 8, 25, false)]);
        let m = rec.mixed.expect("a mixed run has its split");
        assert_eq!((m.io_tasks, m.cpu_tasks), (2, 6));
        // 2 of 8 spread evenly are tasks 3 and 7, in slots 1 and 3 of 25 ms each.
        assert_eq!(m.io_latency_ms.count, 2);
        assert_eq!(m.cpu_latency_ms.count, 6);
        assert!((m.io_latency_ms.max - 100.0).abs() < 0.5, "{m:?}");
        assert!((m.io_latency_ms.p50 - 50.0).abs() < 0.5, "{m:?}");
        assert_eq!(
            m.io_latency_ms.count + m.cpu_latency_ms.count,
            rec.latency_ms.count
        );
        assert!(rec.open_loop.is_none());
    }

    #[test]
    fn serial_is_its_own_baseline_and_notes_are_kept() {
        let mut meta = fake_meta(Runtime::Serial);
        meta.baseline_wall_s = None;
        let rec = summarize(&meta, &[fake_run(0, 4, 10, false)]);
        assert_eq!(rec.speedup, Some(1.0));
        assert_eq!(rec.efficiency, Some(1.0));
        assert_eq!(rec.effective_workers, 1);

        let rec = summarize(&fake_meta(Runtime::AsyncStd), &[fake_run(0, 4, 10, false)]);
        assert!(rec.notes[0].contains("discontinued"), "{:?}", rec.notes);
        let mut meta = fake_meta(Runtime::TokioMt);
        meta.workers = 8;
        meta.baseline_wall_s = None;
        let rec = summarize(&meta, &[fake_run(0, 4, 10, false)]);
        assert_eq!(rec.speedup, None);
        assert!(
            rec.notes
                .iter()
                .any(|n| n.contains("8 workers on 2 logical cores"))
        );
    }

    #[test]
    fn failures_keep_their_reasons_and_an_interrupt_is_said() {
        let mut meta = fake_meta(Runtime::ProcessPool);
        meta.interrupted = Some(2);
        meta.repeats_planned = 3;
        let mut run = fake_run(0, 8, 10, false);
        for (i, t) in run.tasks.iter_mut().enumerate() {
            t.error = match i {
                0..=4 => Some(TaskError::Worker(format!(
                    "worker pid {i} exited with code 3"
                ))),
                5 => Some(TaskError::Interrupted),
                _ => None,
            };
        }
        let rec = summarize(&meta, &[run]);
        assert_eq!((rec.tasks.ok, rec.tasks.failed), (2, 6));
        assert_eq!(rec.tasks.errors.get("worker"), Some(&5));
        assert_eq!(rec.tasks.errors.get("interrupted"), Some(&1));
        assert_eq!(rec.tasks.failures.len(), 6);
        assert_eq!(
            rec.tasks.failures[0].message,
            "worker pid 0 exited with code 3"
        );
        assert_eq!(rec.interrupted.as_deref(), Some("SIGINT"));
        let notes = rec.notes.join("\n");
        assert!(notes.contains("repeat 1 task 2 failed: worker pid 2 exited with code 3"));
        assert!(
            !notes.contains("task 3 failed"),
            "three reasons at most: {notes}"
        );
        assert!(notes.contains("2 more failed tasks"), "{notes}");
        assert!(
            notes.contains("interrupted by SIGINT in repeat 1 of 3: 1 tasks cut short"),
            "{notes}"
        );
    }

    #[test]
    fn startup_is_the_median_time_to_ready_and_old_records_still_load() {
        // Ready 300, 100 and 200 µs into each repeat, before its tasks' submission at 1 ms.
        let runs: Vec<MeasuredRun> = [300_000, 100_000, 200_000]
            .into_iter()
            .enumerate()
            .map(|(i, ready_ns)| {
                let mut run = fake_run(1000 * i as u64, 4, 10, false);
                run.ready_ns = run.t0_ns + ready_ns;
                run
            })
            .collect();
        let rec = summarize(&fake_meta(Runtime::ProcessPool), &runs);
        assert_eq!(rec.startup_s, Some(0.0002));
        assert!(
            rec.startup_s.unwrap() < rec.wall_s,
            "start-up is inside wall"
        );
        // A record written before start-up was measured has no such field.
        let mut json = serde_json::to_value(&rec).unwrap();
        json.as_object_mut().unwrap().remove("startup_s");
        let old: RunRecord = serde_json::from_value(json).unwrap();
        assert_eq!(old.startup_s, None);
        assert!(!serde_json::to_string(&old).unwrap().contains("startup_s"));
    }

    #[test]
    fn record_round_trips_through_json_with_the_contract_names() {
        let rec = summarize(&fake_meta(Runtime::Rayon), &[fake_run(0, 8, 25, false)]);
        let json = serde_json::to_value(&rec).unwrap();
        for key in [
            "schema",
            "tool_version",
            "machine",
            "started_at",
            "workload",
            "runtime",
            "workers",
            "tasks",
            "wall_s",
            "throughput_per_s",
            "latency_ms",
            "queue_ms",
            "service_ms",
            "cpu",
            "memory",
            "context_switches",
            "threads",
            "processes",
            "distinct_workers",
            "timeline",
        ] {
            assert!(json.get(key).is_some(), "missing {key}");
        }
        assert_eq!(json["schema"], "asyncstudy.run/1");
        assert_eq!(json["workload"]["kind"], "cpu");
        for key in ["logical_cores", "cpu_model", "os", "kernel"] {
            assert!(json["machine"].get(key).is_some(), "machine.{key}");
        }
        for key in ["count", "mean", "p50", "p90", "p99", "p999", "max"] {
            assert!(json["latency_ms"].get(key).is_some(), "latency_ms.{key}");
        }
        for key in ["task", "worker", "start_ms", "end_ms", "ok"] {
            assert!(json["timeline"][0].get(key).is_some(), "timeline.{key}");
        }
        assert_eq!(json["timeline"][0]["worker"], "100:101");
        let back: RunRecord = serde_json::from_value(json).unwrap();
        assert_eq!(back, rec);
    }
}
