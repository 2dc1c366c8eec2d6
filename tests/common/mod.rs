//! Helpers shared by the integration tests: the built binary and its JSON output.

#![allow(dead_code)]

use assert_cmd::Command;
use serde_json::Value;

/// Every runtime, written out here rather than taken from the crate, so a runtime the crate
/// drops or renames fails the tests; the in-process ones first.
pub const RUNTIMES: [&str; 12] = [
    "serial",
    "threads",
    "thread-per-task",
    "tokio-mt",
    "tokio-ct",
    "tokio-blocking",
    "tokio+rayon",
    "async-std",
    "smol",
    "rayon",
    "process-pool",
    "process-per-task",
];

/// The runtimes that run tasks in the measuring process.
pub const IN_PROCESS: &[&str] = RUNTIMES.split_at(10).0;

/// The `asyncstudy` binary built by cargo for this test run.
pub fn asyncstudy() -> Command {
    let mut cmd = Command::cargo_bin("asyncstudy").expect("the binary is built");
    // A user's async-std setting must not change what the tests measure.
    cmd.env_remove("ASYNC_STD_THREAD_COUNT");
    cmd
}

/// Runs `asyncstudy` with `args`, expects success and returns its stdout parsed as JSON.
pub fn run_json(args: &[&str]) -> Value {
    let out = asyncstudy().args(args).output().expect("the binary runs");
    assert!(
        out.status.success(),
        "{args:?} exited {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?} printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// A timeline entry's submit, start and end, in ms from the run's start.
pub fn times(t: &Value) -> (f64, f64, f64) {
    let ms = |k: &str| {
        t[k].as_f64()
            .unwrap_or_else(|| panic!("timeline entry without {k}: {t}"))
    };
    (ms("submit_ms"), ms("start_ms"), ms("end_ms"))
}

/// `"pid:tid"` as two numbers.
pub fn worker(s: &str) -> (u32, u32) {
    let (pid, tid) = s
        .split_once(':')
        .unwrap_or_else(|| panic!("worker {s:?} is not pid:tid"));
    (pid.parse().unwrap(), tid.parse().unwrap())
}

/// A `cpu` run of 6 `spin` tasks on 2 workers with `iters` steps each, JSON on stdout, then
/// `extra` arguments.
pub fn cpu_args<'a>(runtime: &'a str, iters: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "cpu",
        "--runtime",
        runtime,
        "--workers",
        "2",
        "--tasks",
        "6",
        "--workload",
        "spin",
        "--iters",
        iters,
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    args
}
