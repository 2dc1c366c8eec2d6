//! `compare --scale` through the built binary: every task in flight at once, a cell over
//! `--max-threads` skipped with a message and listed in the record, per-unit figures that agree
//! with each other, the scale plot, and limits refused as bad input.

use crate::common;

use common::{asyncstudy, read_json, run_json};
use serde_json::Value;

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("{v} is not a number"))
}

#[test]
fn a_small_scale_sweep_skips_the_cell_over_the_limit_and_costs_each_unit() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("scale.json");
    let plots = dir.path().join("img");
    let run = asyncstudy()
        .args([
            "compare",
            "sleep",
            "--scale",
            "--runtimes",
            "tokio-mt,thread-per-task",
            "--workers",
            "2",
            "--tasks",
            "10,40",
            "--sleep",
            "50ms",
            "--repeat",
            "2",
            "--max-threads",
            "20",
            "--no-tokio-metrics",
            "--quiet",
            "--output",
        ])
        .arg(&out)
        .arg("--plots")
        .arg(&plots)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    let skip_lines: Vec<&str> = stderr.lines().filter(|l| l.contains("skipping")).collect();
    assert_eq!(
        skip_lines,
        [
            "asyncstudy: skipping thread-per-task at 40 units: over --max-threads 20 (each unit holds an OS thread; raise the limit to try)"
        ],
        "{stderr}"
    );

    let c = read_json(&out);
    assert_eq!(c["scale"], true);
    assert_eq!(c["limits"]["max_threads"], 20);
    let skipped = c["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0]["runtime"], "thread-per-task");
    assert_eq!(
        (skipped[0]["workers"].as_u64(), skipped[0]["tasks"].as_u64()),
        (Some(40), Some(40))
    );
    assert!(
        skipped[0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("over --max-threads 20"),
        "{}",
        skipped[0]
    );
    let command: Vec<&str> = c["command"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(command.contains(&"--no-tokio-metrics"), "{command:?}");

    // Three cells ran twice each; every task was in flight at once.
    let runs = c["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 6);
    for r in runs {
        let tasks = r["workload"]["tasks_per_run"].as_u64().unwrap();
        assert_eq!(r["tasks"]["failed"], 0, "{}", r["runtime"]);
        match r["runtime"].as_str().unwrap() {
            "tokio-mt" => {
                assert_eq!(r["workers"], 2);
                assert_eq!(r["workload"]["params"]["concurrency"].as_u64(), Some(tasks));
                // No per-task monitors: tokio saw no first polls.
                assert_eq!(r["tokio"]["first_poll_delay_ms"]["count"], 0);
            }
            "thread-per-task" => assert_eq!(r["workers"].as_u64(), Some(tasks)),
            other => panic!("{other} was not asked for"),
        }
        // Every task started inside the run.
        assert!(f(&r["spawn_s"]) <= f(&r["wall_s"]), "{}", r["runtime"]);
        let peak = r["in_flight_peak"].as_u64().unwrap();
        assert!((1..=tasks).contains(&peak), "{peak} of {tasks}");
    }

    let summary = c["summary"].as_array().unwrap();
    assert_eq!(summary.len(), 3);
    for s in summary {
        // Nor does the summary make up a first-poll delay of zero.
        assert!(s["first_poll_p99_ms"].is_null(), "{s}");
        // Each per-unit figure, multiplied back, is a median of the cell's own runs' figure:
        // within the range those two runs span.
        let cell: Vec<&Value> = runs
            .iter()
            .filter(|r| {
                r["runtime"] == s["runtime"]
                    && r["workers"] == s["workers"]
                    && r["workload"]["tasks_per_run"] == s["tasks"]
            })
            .collect();
        assert_eq!(cell.len(), 2, "{s}");
        let of_runs = |value: f64, field: &dyn Fn(&Value) -> f64| {
            let (lo, hi) = cell
                .iter()
                .map(|r| field(r))
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                    (lo.min(v), hi.max(v))
                });
            assert!(
                value >= lo * (1.0 - 1e-9) && value <= hi * (1.0 + 1e-9),
                "{value} is outside the runs' {lo}..{hi}: {s}"
            );
        };
        let tasks = s["tasks"].as_u64().unwrap() as f64;
        let units = f(&s["units_in_flight"]);
        of_runs(units, &|r| f(&r["in_flight_peak"]));
        of_runs(f(&s["memory_per_unit_bytes"]) * units, &|r| {
            f(&r["memory"]["peak_rss_bytes"])
        });
        of_runs(f(&s["spawn_per_unit_us"]) * tasks / 1e6, &|r| {
            f(&r["spawn_s"])
        });
        // Sleeps of 50 ms, all in flight at once: one wave.
        assert!((f(&s["ideal_makespan_s"]) - 0.05).abs() < 1e-9, "{s}");
        of_runs(f(&s["makespan_vs_ideal"]) * 0.05, &|r| f(&r["wall_s"]));
        let above = &s["memory_per_unit_above_base_bytes"];
        if s["tasks"] == 10 {
            assert!(above.is_null(), "{s}");
        } else {
            assert_eq!(s["runtime"], "tokio-mt");
            assert!(above.is_f64(), "{s}");
        }
    }
    let scale_line = c["verdict"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["metric"] == "memory_per_unit")
        .expect("a verdict on memory per unit");
    assert_eq!(scale_line["tasks"], 40);
    let sentence = scale_line["sentence"].as_str().unwrap();
    assert!(
        sentence.starts_with("only tokio-mt ran 40 tasks"),
        "{sentence}"
    );
    assert!(
        sentence.ends_with(
            "Skipped at the limits: thread-per-task at 40 units (over --max-threads 20)."
        ),
        "{sentence}"
    );

    // The table and the CSV carry the per-unit columns; the notes say what was skipped.
    let table = String::from_utf8(run.stdout).unwrap();
    for want in [
        "KiB/unit",
        "spawn µs/unit",
        "makespan × ideal",
        "skipped thread-per-task at 40 units",
    ] {
        assert!(table.contains(want), "{want}: {table}");
    }
    let csv = asyncstudy()
        .args(["report", "--format", "csv"])
        .arg(&out)
        .output()
        .unwrap();
    let csv = String::from_utf8(csv.stdout).unwrap();
    let header = csv.lines().next().unwrap();
    assert!(header.ends_with(",units_in_flight,memory_per_unit_bytes,memory_per_unit_above_base_bytes,spawn_s,spawn_per_unit_us,makespan_vs_ideal"), "{header}");
    assert_eq!(csv.lines().count(), 4);
    for line in csv.lines() {
        assert_eq!(line.split(',').count(), header.split(',').count(), "{line}");
    }

    // The scale plot, from compare and again from report.
    let again = dir.path().join("again");
    let o = asyncstudy()
        .arg("report")
        .arg(&out)
        .arg("--plots")
        .arg(&again)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for d in [&plots, &again] {
        let svg = std::fs::read_to_string(d.join("scale-sleep.svg")).unwrap();
        assert!(svg.trim_start().starts_with("<svg"));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<text").count(), svg.matches("</text>").count());
        // plotters puts a text's content on a line of its own.
        let svg = svg.replace('\n', "");
        for want in [
            "tokio-mt",
            "thread-per-task",
            ">10<",
            ">40<",
            "memory per unit",
        ] {
            assert!(svg.contains(want), "{want} missing from the scale plot");
        }
    }
}

#[test]
fn a_sweep_without_scale_has_no_per_unit_columns() {
    let c: Value = run_json(&[
        "compare",
        "sleep",
        "--runtimes",
        "smol",
        "--workers",
        "1",
        "--tasks",
        "2",
        "--sleep",
        "10ms",
        "--repeat",
        "1",
        "--quiet",
        "--format",
        "json",
    ]);
    assert!(c.get("scale").is_none());
    assert!(c.get("skipped").is_none());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.json");
    std::fs::write(&path, c.to_string()).unwrap();
    let table = asyncstudy().arg("report").arg(&path).output().unwrap();
    let table = String::from_utf8(table.stdout).unwrap();
    assert!(table.contains("smol"), "{table}");
    assert!(!table.contains("KiB/unit"), "{table}");
}

#[test]
fn limits_and_scale_misuse_are_one_line_and_exit_2_before_any_run() {
    let cases: [(&[&str], &str); 7] = [
        (
            &["compare", "sleep", "--scale", "--max-threads", "0"],
            "invalid value '0' for '--max-threads <N>': must be at least 1",
        ),
        (
            &["compare", "io", "--scale", "--max-processes", "none"],
            "invalid value 'none' for '--max-processes <N>'",
        ),
        (
            &["compare", "sleep", "--scale", "--runtimes", "smol,rayon"],
            "--runtimes: rayon cannot run one unit per task with --scale",
        ),
        (
            &[
                "compare",
                "sleep",
                "--scale",
                "--runtimes",
                "thread-per-task",
                "--tasks",
                "30,40",
                "--max-threads",
                "20",
            ],
            "every cell is over a limit, the first thread-per-task at 30 units: over --max-threads 20",
        ),
        (
            &["compare", "sleep", "--scale", "--concurrency", "4"],
            "the argument '--scale' cannot be used with '--concurrency <N>'",
        ),
        (
            &[
                "io",
                "--workload",
                "sleep",
                "--runtime",
                "thread-per-task",
                "--workers",
                "50",
                "--tasks",
                "50",
                "--max-threads",
                "20",
            ],
            "--workers 50: thread-per-task would run 50 tasks at once, over --max-threads 20",
        ),
        (
            &[
                "io",
                "--workload",
                "sleep",
                "--runtime",
                "process-per-task",
                "--workers",
                "9",
                "--tasks",
                "30",
                "--max-processes",
                "8",
            ],
            "--workers 9: process-per-task would run 9 tasks at once, over --max-processes 8",
        ),
    ];
    for (args, want) in cases {
        let o = asyncstudy().args(args).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.starts_with(&format!("error: {want}")),
            "{args:?}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(o.stdout.is_empty(), "{args:?}");
    }
}
