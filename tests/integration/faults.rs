//! The fault suite: every runtime against the embedded server answering 10% of requests with
//! 503, resetting 5% and stalling 2% past the client's timeout. Every run completes, every
//! task is accounted for and counted by kind, exit 0; `--strict` turns failed tasks into
//! exit 1. The server draws each request's fate from one seeded generator, so every runtime
//! meets the same number of faults of each kind: any runtime that counted differently would
//! be retrying, or misfiling an error.
//!
//! That holds only if nothing but a stall can time out. A stall never ends, so it exceeds any
//! timeout; a page answers after 2 ms, and a timeout of 3 s (1,500 times that, and 10 times
//! the 300 ms a client starved on a loaded machine could outlast) leaves speed no say in the
//! counts. Stalled tasks then hold their worker for 3 s, so the runtimes run side by side.

use crate::common;

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{RUNTIMES, asyncstudy};
use serde_json::Value;

const TASKS: u64 = 100;

/// Runtimes run at once: the stalls' waits overlap, and the machine is not swamped.
const AT_ONCE: usize = 6;

/// 100 downloads from a server that fails some on purpose, with or without stalls.
fn faulty_args(runtime: &str, stalls: bool) -> Vec<&str> {
    vec![
        "io",
        "--runtime",
        runtime,
        "--tasks",
        "100",
        "--workers",
        "8",
        "--writes",
        "1",
        "--page-size",
        "1KiB",
        "--latency",
        "2ms",
        "--error-rate",
        "0.10",
        "--reset-rate",
        "0.05",
        "--stall-rate",
        if stalls { "0.02" } else { "0" },
        "--timeout",
        "3s",
        "--seed",
        "11",
        "--format",
        "json",
    ]
}

#[test]
fn every_runtime_accounts_for_every_task_under_faults_and_counts_them_alike() {
    // AT_ONCE threads take the runtimes in turn, so serial's two 3 s stalls in a row overlap
    // the other runtimes' runs.
    let next = AtomicUsize::new(0);
    let outputs = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..AT_ONCE {
            s.spawn(|| {
                while let Some(&rt) = RUNTIMES.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let out = asyncstudy().args(faulty_args(rt, true)).output();
                    outputs.lock().unwrap().push((rt, out));
                }
            });
        }
    });
    let mut outputs = outputs.into_inner().unwrap();
    outputs.sort_by_key(|(rt, _)| RUNTIMES.iter().position(|r| r == rt));
    let mut seen: Vec<(&str, BTreeMap<String, u64>)> = Vec::new();
    for (rt, out) in outputs {
        let out = out.unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{rt}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let r: Value = serde_json::from_slice(&out.stdout).unwrap();
        let t = &r["tasks"];
        let (ok, failed, total) = (
            t["ok"].as_u64().unwrap(),
            t["failed"].as_u64().unwrap(),
            t["total"].as_u64().unwrap(),
        );
        assert_eq!((ok + failed, total), (TASKS, TASKS), "{rt}: {t}");
        let errors: BTreeMap<String, u64> = t["errors"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
            .collect();
        assert_eq!(errors.values().sum::<u64>(), failed, "{rt}: {errors:?}");
        for kind in errors.keys() {
            assert!(
                ["http_5xx", "reset", "timeout"].contains(&kind.as_str()),
                "{rt}: unexpected kind {kind} in {errors:?}"
            );
        }
        for kind in ["http_5xx", "reset", "timeout"] {
            assert!(errors.contains_key(kind), "{rt}: no {kind} in {errors:?}");
        }
        // Each failure keeps its reason for the record.
        let failures = t["failures"].as_array().unwrap();
        assert_eq!(failures.len() as u64, failed, "{rt}");
        assert!(
            failures
                .iter()
                .all(|f| !f["message"].as_str().unwrap().is_empty())
        );
        seen.push((rt, errors));
    }
    let (first, want) = &seen[0];
    for (rt, errors) in &seen[1..] {
        assert_eq!(errors, want, "{rt} counted other faults than {first}");
    }
}

#[test]
fn strict_makes_failed_tasks_exit_1_after_reporting_them() {
    // 503s and resets are enough to fail tasks; without stalls no run waits out a timeout.
    for rt in ["tokio-mt", "smol", "threads", "process-pool"] {
        let mut args = faulty_args(rt, false);
        args.push("--strict");
        let out = asyncstudy().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{rt}");
        // The record is still written in full.
        let r: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(r["tasks"]["total"], TASKS, "{rt}");
        assert!(r["tasks"]["failed"].as_u64().unwrap() > 0, "{rt}");
    }
    // Without faults, --strict is exit 0.
    let out = asyncstudy()
        .args(["io", "--runtime", "smol", "--tasks", "4", "--writes", "1"])
        .args(["--latency", "1ms", "--strict", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}
