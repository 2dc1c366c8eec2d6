//! `asyncstudy cpu` end to end: every runtime runs every task, on the threads it promises.

use crate::common;

use std::collections::HashSet;

use common::{IN_PROCESS, RUNTIMES, asyncstudy, cpu_args, run_json, times, worker};
use serde_json::Value;

const WORKERS: usize = 2;
const TASKS: usize = 6;

/// A small run that lasts long enough (tens of ms even in a debug build) for the thread
/// sampler to see the pool.
fn small_run(runtime: &str) -> Value {
    run_json(&cpu_args(runtime, "1000000", &[]))
}

#[test]
fn every_runtime_runs_every_task_on_the_threads_it_promises() {
    for &rt in IN_PROCESS {
        let r = small_run(rt);
        assert_eq!(r["schema"], "asyncstudy.run/1", "{rt}");
        assert_eq!(r["runtime"], rt);
        assert_eq!(r["workers"], WORKERS);
        assert_eq!(r["tasks"]["total"], TASKS, "{rt}");
        assert_eq!(
            r["tasks"]["ok"], r["tasks"]["total"],
            "{rt}: {}",
            r["tasks"]
        );
        assert_eq!(r["tasks"]["failed"], 0, "{rt}");
        assert_eq!(r["latency_ms"]["count"], TASKS, "{rt}");

        let timeline = r["timeline"].as_array().unwrap();
        assert_eq!(timeline.len(), TASKS, "{rt}");
        let mut seen_tasks = HashSet::new();
        for t in timeline {
            let (submit, start, end) = common::times(t);
            assert!(end >= start && start >= submit, "{rt}: {t}");
            assert_eq!(t["ok"], true);
            seen_tasks.insert(t["task"].as_u64().unwrap());
        }
        assert_eq!(seen_tasks.len(), TASKS, "{rt}: every task exactly once");

        let main = worker(r["main_worker"].as_str().unwrap());
        assert_eq!(
            main.0, main.1,
            "{rt}: the caller is the process's main thread"
        );
        let workers: HashSet<(u32, u32)> = timeline
            .iter()
            .map(|t| worker(t["worker"].as_str().unwrap()))
            .collect();
        assert!(
            workers.iter().all(|w| w.0 == main.0),
            "{rt}: every task ran in this process"
        );
        assert_eq!(r["distinct_workers"], workers.len(), "{rt}");
        match rt {
            // One thread of their own, not the main one, which must stay free to stop waiting
            // for them after a signal.
            "serial" | "tokio-ct" => {
                assert_eq!(workers.len(), 1, "{rt}: exactly one thread: {workers:?}");
                assert!(!workers.contains(&main), "{rt}");
            }
            "thread-per-task" => {
                assert_eq!(workers.len(), TASKS, "{rt}: a thread for every task");
                assert!(!workers.contains(&main), "{rt}");
            }
            _ => {
                assert!(workers.len() <= WORKERS, "{rt}: {workers:?}");
                assert!(
                    !workers.contains(&main),
                    "{rt}: a pool ran a task on the main thread"
                );
            }
        }
        // The sampler saw the main thread plus every thread that ran tasks.
        let threads = r["threads"]["peak"].as_u64().unwrap() as usize;
        let least = if workers.contains(&main) {
            1
        } else {
            1 + workers.len().min(WORKERS)
        };
        assert!(
            threads >= least,
            "{rt}: peak {threads} threads, expected at least {least}"
        );
        assert_eq!(r["processes"]["peak"], 1, "{rt}");
        // The loops used CPU, and no more than every core over the run: CPU time counted
        // twice or in the wrong unit would not fit. The slack is the sampler's start and
        // stop, which the measured window holds and the wall time does not.
        let cpu = &r["cpu"];
        let cores = r["machine"]["logical_cores"].as_f64().unwrap();
        assert!(cpu["user_s"].as_f64().unwrap() > 0.0, "{rt}: {cpu}");
        let used = cpu["cores_used"].as_f64().unwrap();
        assert!(used <= cores + 0.25, "{rt}: {used} of {cores} cores");
        // Bytes, not kilobytes: no Rust process with a runtime in it fits in 1 MiB.
        let rss = r["memory"]["peak_rss_bytes"].as_u64().unwrap();
        assert!(rss > 1 << 20, "{rt}: {rss}");
        let notes = r["notes"].to_string();
        assert_eq!(
            notes.contains("discontinued"),
            rt == "async-std",
            "{rt}: {notes}"
        );
    }
}

#[test]
fn every_workload_passes_its_check() {
    for (workload, runtime) in ["spin", "comp", "cos", "noop"]
        .into_iter()
        .flat_map(|w| [(w, "threads"), (w, "process-pool"), (w, "process-per-task")])
    {
        let r = run_json(&[
            "cpu",
            "--runtime",
            runtime,
            "--tasks",
            "3",
            "--workload",
            workload,
            "--iters",
            "1000",
            "--format",
            "json",
        ]);
        assert_eq!(r["workload"]["name"], workload);
        assert_eq!(r["workload"]["kind"], "cpu");
        assert_eq!(r["tasks"]["ok"], 3, "{workload} on {runtime}");
    }
}

#[test]
fn every_runtime_starts_its_workers_before_the_first_submit() {
    for rt in RUNTIMES {
        let r = run_json(&[
            "cpu",
            "--runtime",
            rt,
            "--workers",
            "2",
            "--workload",
            "noop",
            "--tasks",
            "4",
            "--format",
            "json",
        ]);
        assert_eq!(r["tasks"]["ok"], 4, "{rt}: {}", r["tasks"]);
        let startup_ms = r["startup_s"]
            .as_f64()
            .unwrap_or_else(|| panic!("{rt}: no startup_s"))
            * 1e3;
        // Runtimes with workers to start take some time to start them; serial and tokio-ct
        // have none beyond the caller, the per-task runtimes create theirs per task.
        if !["serial", "tokio-ct", "thread-per-task", "process-per-task"].contains(&rt) {
            assert!(startup_ms > 0.0, "{rt}: {startup_ms}");
        }
        assert!(startup_ms >= 0.0, "{rt}: {startup_ms}");
        assert!(startup_ms <= r["wall_s"].as_f64().unwrap() * 1e3, "{rt}");
        // One repeat: the timeline's origin is the same repeat's start as start-up's, and
        // no task is submitted before every worker runs (1 ns of float rounding allowed).
        let timeline = r["timeline"].as_array().unwrap();
        assert_eq!(timeline.len(), 4, "{rt}");
        for t in timeline {
            let (submit, start, end) = times(t);
            assert!(
                submit + 1e-6 >= startup_ms,
                "{rt}: {t} before {startup_ms} ms"
            );
            assert!(submit <= start && start <= end, "{rt}: {t}");
        }
    }
}

#[test]
fn repeats_merge_histograms_and_keep_one_timeline() {
    let r = run_json(&[
        "cpu",
        "--runtime",
        "rayon",
        "--tasks",
        "4",
        "--iters",
        "1000",
        "--warmup",
        "1",
        "--repeat",
        "3",
        "--format",
        "json",
    ]);
    assert_eq!(r["repeat"]["count"], 3);
    assert_eq!(r["repeat"]["warmup"], 1);
    assert_eq!(r["repeat"]["wall_s"].as_array().unwrap().len(), 3);
    assert_eq!(r["tasks"]["total"], 12);
    assert_eq!(r["service_ms"]["count"], 12);
    assert_eq!(r["timeline"].as_array().unwrap().len(), 4);
}

#[test]
fn a_serial_baseline_gives_speedup_and_efficiency() {
    let dir = tempfile::tempdir().unwrap();
    let serial = dir.path().join("serial.json");
    let args = ["--tasks", "4", "--iters", "20000", "--workload", "comp"];
    asyncstudy()
        .args([
            "cpu",
            "--runtime",
            "serial",
            "--output",
            serial.to_str().unwrap(),
        ])
        .args(args)
        .assert()
        .success();
    let r = run_json(
        &[
            &[
                "cpu",
                "--runtime",
                "threads",
                "--format",
                "json",
                "--baseline",
                serial.to_str().unwrap(),
            ][..],
            &args,
        ]
        .concat(),
    );
    let speedup = r["speedup"].as_f64().expect("speedup with a baseline");
    let efficiency = r["efficiency"]
        .as_f64()
        .expect("efficiency with a baseline");
    // Speed-up is the baseline file's wall time over this run's; efficiency divides it by
    // min(workers, cores, tasks), worked out here from the record's own facts.
    let baseline_wall = common::read_json(&serial)["wall_s"].as_f64().unwrap();
    let wall = r["wall_s"].as_f64().unwrap();
    assert!(
        (speedup - baseline_wall / wall).abs() <= 1e-12 * speedup,
        "{speedup}"
    );
    let ideal = [
        r["effective_workers"].as_u64().unwrap(),
        r["machine"]["logical_cores"].as_u64().unwrap(),
        4,
    ]
    .into_iter()
    .min()
    .unwrap();
    assert_eq!(r["ideal_parallelism"], ideal);
    assert!((efficiency - speedup / ideal as f64).abs() < 1e-9);

    // Without a baseline a parallel run cannot know its speed-up, and says nothing.
    let r = run_json(
        &[
            &["cpu", "--runtime", "threads", "--format", "json"][..],
            &args,
        ]
        .concat(),
    );
    assert!(r.get("speedup").is_none(), "{}", r["speedup"]);
}

#[test]
fn output_file_is_complete_json_and_stdout_stays_empty() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.json");
    asyncstudy()
        .args([
            "cpu",
            "--runtime",
            "smol",
            "--tasks",
            "2",
            "--iters",
            "1000",
            "--output",
        ])
        .arg(&path)
        .assert()
        .success()
        .stdout("")
        .stderr(predicates::str::contains("wrote"));
    let r: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(r["tasks"]["ok"], 2);
    let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(files.len(), 1, "no temporary file is left behind");
}

#[test]
fn table_markdown_and_csv_show_the_run() {
    let base = [
        "cpu",
        "--runtime",
        "tokio-mt",
        "--tasks",
        "2",
        "--iters",
        "1000",
        "--format",
    ];
    let out = |format: &str| {
        let o = asyncstudy().args(base).arg(format).output().unwrap();
        assert!(o.status.success());
        String::from_utf8(o.stdout).unwrap()
    };
    let table = out("table");
    assert!(
        table.starts_with("cpu comp (1,000 iters) on tokio-mt"),
        "{table}"
    );
    assert!(table.contains("│ service "), "{table}");
    let md = out("markdown");
    assert!(md.starts_with("### cpu comp"), "{md}");
    assert!(md.contains("|---"), "{md}");
    let csv = out("csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(lines[0].starts_with("runtime,workload_kind,workload,iters,workers"));
    assert!(lines[1].starts_with("tokio-mt,cpu,comp,1000,"));
}

#[test]
fn a_closed_stdout_is_not_an_error() {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("asyncstudy"))
        .args([
            "cpu",
            "--runtime",
            "threads",
            "--workload",
            "spin",
            "--iters",
            "1000000",
            "--tasks",
            "4",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The reader goes away while the run is still measuring, before anything is written.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
