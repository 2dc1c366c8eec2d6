//! `compare`, `report` and `completions` through the built binary: the comparison schema with
//! every cell, re-rendering into every format, plots and interval logs, Ctrl-C mid-sweep, and
//! bad input.

use crate::common;

use std::collections::HashSet;
use std::process::{Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

use common::{asyncstudy, compare_into, read_json, run_json, worker};
use serde_json::Value;

#[test]
fn a_small_comparison_has_every_cell_in_fresh_processes_and_renders_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results.json");
    let (table, c) = compare_into(
        &out,
        "cpu --runtimes threads,smol --workers 1,2 --repeat 2 --tasks 4 --workload spin --iters 100000",
    );
    assert!(table.contains("verdict:"), "{table}");
    assert!(table.contains("startup ms"), "{table}");
    assert!(table.contains("queue wait starts after it"), "{table}");
    assert_eq!(c["schema"], "asyncstudy.compare/1");
    assert_eq!(c["complete"], true);
    let runs = c["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 8);
    let mut cells = HashSet::new();
    let mut pids = HashSet::new();
    for r in runs {
        assert_eq!(r["schema"], "asyncstudy.run/1");
        assert_eq!(r["tasks"]["ok"], 4);
        cells.insert((
            r["runtime"].as_str().unwrap().to_string(),
            r["workers"].as_u64().unwrap(),
        ));
        pids.insert(worker(r["main_worker"].as_str().unwrap()).0);
        assert!(r["histograms"]["latency"].is_string());
    }
    assert_eq!(cells.len(), 4);
    assert_eq!(pids.len(), 8, "every run is its own process");
    let summary = c["summary"].as_array().unwrap();
    assert_eq!(summary.len(), 4);
    for s in summary {
        assert_eq!(s["runs"], 2);
        assert!(s["wall_s"]["min"].as_f64() <= s["wall_s"]["median"].as_f64());
        assert!(s["wall_s"]["median"].as_f64() <= s["wall_s"]["max"].as_f64());
        // Start-up is part of the wall time of every run it is the median of.
        let startup = s["startup_s"].as_f64().unwrap();
        assert!(
            startup > 0.0 && startup <= s["wall_s"]["max"].as_f64().unwrap(),
            "{s}"
        );
        // No serial cell: speed-up is against the runtime at 1 worker.
        if s["workers"] == 2 {
            assert!(s["speedup_vs"].as_str().unwrap().ends_with("at 1 workers"));
        }
    }
    let verdict = c["verdict"].as_array().unwrap();
    assert_eq!(verdict.len(), 6, "wall, p99 and memory at 1 and 2 workers");
    common::assert_verdict_is_consistent(&c, &["threads", "smol"]);

    // report round-trips the comparison into every format.
    let report = |fmt: &str| {
        let o = asyncstudy()
            .args(["report", "--format", fmt])
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{fmt}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    };
    let json: Value = serde_json::from_str(&report("json")).unwrap();
    assert_eq!(json["summary"], c["summary"]);
    assert_eq!(json["verdict"], c["verdict"]);
    let csv = report("csv");
    assert_eq!(csv.lines().count(), 5, "{csv}");
    assert!(csv.starts_with(
        "workload,runtime,workers,tasks,runs,wall_median_s,wall_min_s,wall_max_s,startup_median_s,"
    ));
    let md = report("markdown");
    assert!(md.contains("| workload | runtime |"), "{md}");
    assert!(md.contains("**Verdict**"));
    assert!(report("table").contains("cpu spin"));

    // Plots and interval logs.
    let plots = dir.path().join("plots");
    let hdr = dir.path().join("hdr");
    let o = asyncstudy()
        .arg("report")
        .arg(&out)
        .arg("--plots")
        .arg(&plots)
        .arg("--hdr")
        .arg(&hdr)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let names: Vec<String> = std::fs::read_dir(&plots)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    for prefix in [
        "wall-cpu-spin-t4",
        "spectrum-cpu-spin-t4-w1",
        "spectrum-cpu-spin-t4-w2",
        "timeline-cpu-spin-threads-w2",
    ] {
        assert!(
            names.iter().any(|n| n.starts_with(prefix)),
            "{prefix} missing in {names:?}"
        );
    }
    for n in &names {
        let svg = std::fs::read_to_string(plots.join(n)).unwrap();
        assert!(svg.trim_start().starts_with("<svg"), "{n}");
        assert!(svg.trim_end().ends_with("</svg>"), "{n}");
    }
    let logs: Vec<_> = std::fs::read_dir(&hdr).unwrap().collect();
    assert_eq!(logs.len(), 4);
    for l in logs {
        let text = std::fs::read_to_string(l.unwrap().path()).unwrap();
        assert_eq!(text.matches("Tag=latency").count(), 2, "{text}");
    }
}

#[test]
fn repeat_auto_runs_three_rounds_then_only_undecided_groups_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("auto.json");
    let run = asyncstudy()
        .args([
            "compare",
            "cpu",
            "--runtimes",
            "serial,threads,smol",
            "--workers",
            "1,2",
            "--tasks",
            "4",
            "--workload",
            "noop",
            "--max-repeat",
            "5",
            "--budget",
            "60s",
            "--quiet",
            "--output",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let table = String::from_utf8(run.stdout).unwrap();
    assert!(table.contains("rounds per cell (--repeat auto)"), "{table}");
    assert!(table.contains("rounds:\n"), "{table}");
    let c = read_json(&out);
    let a = &c["adaptive"];
    assert_eq!(
        (a["min_rounds"].as_u64(), a["max_rounds"].as_u64()),
        (Some(3), Some(5))
    );
    let stopped = a["stopped"].as_str().unwrap();
    assert!(
        ["decided", "max_repeat", "budget"].contains(&stopped),
        "{a}"
    );
    // Every run knows its round, every cell ran the first three, none more than five.
    let mut rounds: Vec<(String, u64, u64)> = c["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["runtime"].as_str().unwrap().to_string(),
                r["workers"].as_u64().unwrap(),
                r["round"].as_u64().unwrap(),
            )
        })
        .collect();
    rounds.sort();
    for s in c["summary"].as_array().unwrap() {
        let mine: Vec<u64> = rounds
            .iter()
            .filter(|r| r.0 == s["runtime"] && r.1 == s["workers"])
            .map(|r| r.2)
            .collect();
        assert!(mine.len() >= 3 && mine.len() <= 5, "{s}: {mine:?}");
        assert_eq!(&mine[..3], [1, 2, 3]);
        assert_eq!(s["rounds"].as_array().unwrap().len(), mine.len());
    }
    // Each group says how many rounds it ran, and a group that ran a fourth had an undecided
    // verdict after the third.
    let groups = a["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2, "{a}");
    for g in groups {
        let n = g["rounds"].as_u64().unwrap();
        assert!((3..=5).contains(&n), "{g}");
        let undecided = c["verdict"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["workers"] == g["workers"] && v["outcome"] == "undecided");
        assert_eq!(g["decided"], !undecided, "{g}");
    }
    for v in c["verdict"].as_array().unwrap() {
        for cmp in v["comparisons"].as_array().unwrap() {
            let (low, ratio, high) = (
                cmp["low"].as_f64().unwrap(),
                cmp["ratio"].as_f64().unwrap(),
                cmp["high"].as_f64().unwrap(),
            );
            assert!(low <= ratio && ratio <= high, "{cmp}");
        }
    }
    common::assert_verdict_is_consistent(&c, &["serial", "threads", "smol"]);
}

#[test]
fn io_cells_share_one_embedded_server_which_is_gone_afterwards() {
    let c: Value = run_json(&[
        "compare",
        "io",
        "--runtimes",
        "serial,smol",
        "--workers",
        "2",
        "--tasks",
        "3",
        "--writes",
        "1",
        "--repeat",
        "1",
        "--latency",
        "1ms",
        "--quiet",
        "--format",
        "json",
    ]);
    let runs = c["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    let urls: HashSet<&str> = runs
        .iter()
        .map(|r| r["workload"]["params"]["server_url"].as_str().unwrap())
        .collect();
    assert_eq!(urls.len(), 1, "{urls:?}");
    for r in runs {
        assert_eq!(r["tasks"]["ok"], 3);
    }
    let addr = urls.iter().next().unwrap().trim_start_matches("http://");
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "the server still answers"
    );
}

/// Live children of process `pid`.
fn children_of(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

#[test]
fn ctrl_c_mid_sweep_keeps_a_valid_partial_file_and_reaps_the_child() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("partial.json");
    let child = StdCommand::new(env!("CARGO_BIN_EXE_asyncstudy"))
        .args([
            "compare",
            "sleep",
            "--runtimes",
            "tokio-mt,threads",
            "--workers",
            "1",
            "--tasks",
            "2",
            "--sleep",
            "300ms",
            "--repeat",
            "20",
            "--quiet",
            "--output",
        ])
        .arg(&out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let deadline = Instant::now() + Duration::from_secs(30);
    // Wait for a finished run in the file and a cell running now.
    let running = loop {
        assert!(Instant::now() < deadline, "no run finished");
        let kids = children_of(pid);
        if out.exists() && !kids.is_empty() {
            break kids;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    // SAFETY: kill has no memory effects; the pid is our child.
    assert_eq!(unsafe { libc::kill(pid as i32, libc::SIGINT) }, 0);
    let done = child.wait_with_output().unwrap();
    assert_eq!(
        done.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let c = read_json(&out);
    assert_eq!(c["complete"], false);
    assert_eq!(c["interrupted"], "SIGINT");
    let runs = c["runs"].as_array().unwrap().len();
    assert!((1..40).contains(&runs), "{runs}");
    assert_eq!(
        c["summary"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["runs"].as_u64().unwrap())
            .sum::<u64>(),
        runs as u64
    );
    for kid in running {
        assert!(
            !std::path::Path::new(&format!("/proc/{kid}")).exists(),
            "child {kid} left"
        );
    }
    // What finished is also printed.
    assert!(String::from_utf8_lossy(&done.stdout).contains("stopped by SIGINT"));
}

#[test]
fn bad_input_is_one_line_and_exit_2_before_any_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("other.json"), r#"{"name": "not ours"}"#).unwrap();
    std::fs::write(
        d.join("cut.json"),
        r#"{"schema": "asyncstudy.run/1", "runtime": "#,
    )
    .unwrap();
    std::fs::write(d.join("half.json"), r#"{"schema": "asyncstudy.compare/1"}"#).unwrap();
    std::fs::write(d.join("file"), "x").unwrap();
    let p = |name: &str| d.join(name).display().to_string();
    let cases: Vec<(Vec<String>, String)> = vec![
        (
            vec![
                "compare".into(),
                "cpu".into(),
                "--runtimes".into(),
                "threads,green".into(),
            ],
            "--runtimes: unknown runtime \"green\"".into(),
        ),
        (
            vec![
                "compare".into(),
                "cpu".into(),
                "--runtimes".into(),
                "smol,smol".into(),
            ],
            "--runtimes: smol is listed twice".into(),
        ),
        (
            vec![
                "compare".into(),
                "cpu".into(),
                "--workers".into(),
                "1,0".into(),
            ],
            "invalid value '1,0' for '--workers <LIST>'".into(),
        ),
        (
            vec![
                "compare".into(),
                "cpu".into(),
                "--workers".into(),
                "2,2".into(),
            ],
            "invalid value '2,2' for '--workers <LIST>': 2 is listed twice".into(),
        ),
        (
            vec![
                "compare".into(),
                "sleep".into(),
                "--tasks".into(),
                "1,x".into(),
            ],
            "invalid value '1,x' for '--tasks <LIST>'".into(),
        ),
        (
            vec!["compare".into(), "io".into(), "--writes".into(), "0".into()],
            "invalid value '0' for '--writes <N>'".into(),
        ),
        (
            vec![
                "compare".into(),
                "cpu".into(),
                "--repeat".into(),
                "often".into(),
            ],
            "invalid value 'often' for '--repeat <auto|N>': not a whole number (expected auto or a count such as 5)".into(),
        ),
        (
            vec![
                "compare".into(),
                "cpu".into(),
                "--min-effect".into(),
                "0%".into(),
            ],
            "invalid value '0%' for '--min-effect <E>': expected a relative difference above 0 and below 1".into(),
        ),
        (
            vec!["compare".into(), "cpu".into(), "--plots".into(), p("file")],
            format!("--plots {}: exists and is not a directory", p("file")),
        ),
        (
            vec!["report".into(), p("missing.json")],
            format!("{}: cannot read", p("missing.json")),
        ),
        (
            vec!["report".into(), p("other.json")],
            format!(
                "{}: not an asyncstudy record (no \"schema\" field)",
                p("other.json")
            ),
        ),
        (
            vec!["report".into(), p("cut.json")],
            format!("{}: not valid JSON: EOF while parsing", p("cut.json")),
        ),
        (
            vec!["report".into(), p("half.json")],
            format!(
                "{}: not a complete asyncstudy.compare/1 record",
                p("half.json")
            ),
        ),
        (
            vec!["completions".into(), "powershell".into()],
            "invalid value 'powershell' for '<SHELL>'".into(),
        ),
    ];
    for (args, want) in cases {
        let o = asyncstudy().args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.starts_with(&format!("error: {want}")),
            "{args:?}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(o.stdout.is_empty(), "{args:?}");
    }
    let mut names: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names.len(), 4, "nothing was written: {names:?}");
}

#[test]
fn completions_cover_every_subcommand() {
    for shell in ["bash", "zsh", "fish"] {
        let o = asyncstudy().args(["completions", shell]).output().unwrap();
        assert!(o.status.success());
        let text = String::from_utf8(o.stdout).unwrap();
        for sub in ["compare", "report", "study", "completions", "plots"] {
            assert!(text.contains(sub), "{shell}: {sub}");
        }
    }
}

#[test]
fn every_subcommand_help_shows_examples() {
    for sub in [
        &["cpu"][..],
        &["io"],
        &["serve"],
        &["runtimes"],
        &["compare"],
        &["compare", "cpu"],
        &["compare", "io"],
        &["compare", "sleep"],
        &["report"],
        &["study"],
        &["completions"],
    ] {
        let o = asyncstudy().args(sub).arg("--help").output().unwrap();
        assert!(o.status.success(), "{sub:?}");
        let text = String::from_utf8(o.stdout).unwrap();
        assert!(
            text.contains("\nExamples:\n  asyncstudy "),
            "{sub:?} help has no examples"
        );
    }
}

#[test]
fn report_rejudges_a_saved_comparison_with_the_current_rules() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("old.json");
    let (_, mut old) = compare_into(
        &out,
        "cpu --runtimes serial,threads --workers 2 --tasks 2 --workload noop --repeat 1",
    );
    // A file written by an older version: its summary and verdict say other things.
    for v in old["verdict"].as_array_mut().unwrap() {
        v["sentence"] = "stale".into();
        v.as_object_mut().unwrap().remove("reason");
    }
    for s in old["summary"].as_array_mut().unwrap() {
        s["p50_ms"] = (-1.0).into();
    }
    std::fs::write(&out, old.to_string()).unwrap();
    let o = asyncstudy()
        .args(["report", "--format", "json"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let new: Value = serde_json::from_slice(&o.stdout).unwrap();
    let verdict = new["verdict"].as_array().unwrap();
    assert_eq!(verdict.len(), 3, "wall, tail latency and memory");
    for v in verdict {
        assert_ne!(v["sentence"], "stale", "{v}");
        assert!(v.get("reason").is_some(), "{v}");
    }
    for s in new["summary"].as_array().unwrap() {
        assert!(s["p50_ms"].as_f64().unwrap() >= 0.0, "{s}");
    }
    assert_eq!(
        new["runs"], old["runs"],
        "the runs themselves are kept as they were"
    );
}
