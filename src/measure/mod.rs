//! The measurement engine: runs a plan on its runtime and turns what happened into a record.
//!
//! [`measure`] does the running (warm-up, repeats, resource readings around each repeat);
//! [`summarize`] is a pure function from those readings to a [`RunRecord`], so the whole
//! record can be built and tested from made-up readings without running anything.

pub mod machine;
pub mod rusage;
mod summarize;

pub use summarize::{MeasuredRun, RunMeta, summarize};

use std::time::SystemTime;

use crate::child::RunChildren;
use crate::clock::now_ns;
use crate::executor::{Executor, Job};
use crate::interrupt;
use crate::model::run::{RunRecord, WorkloadInfo};
use crate::model::task::OsThread;
use crate::plan::RunPlan;
use crate::workload::Work;
use rusage::{Peaks, Sampler, UsagePair};

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
    let executor = if plan.runtime.is_python() {
        plan.runtime
            .python_executor(plan.workers, plan.in_flight(), plan.python_path.as_deref())
    } else {
        plan.runtime
            .executor_with(plan.workers, plan.in_flight(), plan.tokio_metrics)
    };
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
    record.python = plan.python.clone();
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
    let children = RunChildren::start();
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
        peaks: Peaks {
            // The interpreter's peak added to this process's: its threads are the run's too,
            // and this process's stay the same while it runs (main and its listener).
            threads: sampled.peaks.threads + out.child_threads_peak,
            ..sampled.peaks
        },
        processes: 1 + children.peak() + out.grandchildren_peak,
        internals: out.internals,
        children_unmeasured: out.children_unmeasured,
    })
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
    use crate::executor::Runtime;
    use crate::measure::rusage::{Peaks, Usage};
    use crate::model::run::Machine;
    use crate::model::task::TaskRecord;
    use crate::workload::TaskError;

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
                thread_names: Default::default(),
            },
            processes: 1,
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
