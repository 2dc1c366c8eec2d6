//! Helpers shared by the integration tests: the built binary and its JSON output.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};

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

/// Runs `asyncstudy compare` with `args`, `--quiet` and `--output out`; expects success and
/// returns what it printed on stdout (the table) with the file it wrote, parsed.
pub fn compare_into(out: &std::path::Path, args: &str) -> (String, Value) {
    let run = asyncstudy()
        .arg("compare")
        .args(args.split_whitespace())
        .args(["--quiet", "--output"])
        .arg(out)
        .output()
        .expect("the binary runs");
    assert!(
        run.status.success(),
        "compare {args}: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let stdout = String::from_utf8(run.stdout).expect("the table is UTF-8");
    (stdout, read_json(out))
}

/// A JSON file written by the tool, parsed.
pub fn read_json(path: &std::path::Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: not JSON: {e}", path.display()))
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

/// Whether a process with this pid exists (in any state, zombies included).
pub fn exists(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// Live children of every thread of process `pid`.
pub fn children_of(pid: u32) -> Vec<u32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("children")).ok())
        .flat_map(|c| {
            c.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect()
}

/// Every process whose environment has `TMPDIR` set to `tmp`: a run started with that
/// `TMPDIR` and everything it started, even once they have outlived it and been reparented.
pub fn processes_with_tmpdir(tmp: &std::path::Path) -> Vec<u32> {
    let mut wanted = b"TMPDIR=".to_vec();
    wanted.extend_from_slice(tmp.as_os_str().as_encoded_bytes());
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    procs
        .flatten()
        .filter_map(|p| p.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|env| env.split(|&b| b == 0).any(|var| var == wanted))
        })
        .collect()
}

/// Every task is counted once: ok + failed = total, and failed = the sum over error kinds.
pub fn assert_accounted(r: &Value) {
    let t = &r["tasks"];
    assert_eq!(
        t["ok"].as_u64().unwrap() + t["failed"].as_u64().unwrap(),
        t["total"].as_u64().unwrap(),
        "ok + failed = total: {t}"
    );
    let by_kind: u64 = t["errors"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(by_kind, t["failed"].as_u64().unwrap(), "{t}");
}

/// Checks what every line of a comparison's verdict must say whatever the machine's speed: it
/// names each of `runtimes` exactly once (as the winner, tied, the runner-up or left out), its
/// sentence names the winner, and the winner's figure is no worse than the runner-up's, whose
/// ratio to it is the one stated. Who wins, and by how much, is the machine's to say.
pub fn assert_verdict_is_consistent(c: &Value, runtimes: &[&str]) {
    let mut want: Vec<&str> = runtimes.to_vec();
    want.sort_unstable();
    let verdict = c["verdict"].as_array().expect("a verdict");
    assert!(!verdict.is_empty(), "{c}");
    for v in verdict {
        let winner = v["winner"].as_str().expect("a winner");
        let mut named = vec![winner];
        named.extend(
            v["tied"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap()),
        );
        named.extend(v["runner_up"].as_str());
        // Runtimes neither tied nor beaten, and those beaten beyond the runner-up.
        let also = |key: &str| -> Vec<&str> {
            v.get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect()
        };
        named.extend(also("undecided"));
        let beaten_further: Vec<&str> = v["comparisons"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["outcome"] == "win" && c["runtime"] != v["runner_up"])
            .filter_map(|c| c["runtime"].as_str())
            .collect();
        named.extend(beaten_further);
        let left_out = v.get("left_out").and_then(Value::as_array);
        named.extend(
            left_out
                .into_iter()
                .flatten()
                .map(|l| l["runtime"].as_str().unwrap()),
        );
        named.sort_unstable();
        assert_eq!(named, want, "every runtime once: {v}");
        assert!(v["sentence"].as_str().unwrap().contains(winner), "{v}");
        let value = v["value"].as_f64().unwrap();
        assert!(value.is_finite() && value >= 0.0, "{v}");
        if let Some(next) = v["runner_up_value"].as_f64() {
            assert!(value <= next, "the winner's figure is the lower: {v}");
            if let Some(ratio) = v["ratio"].as_f64() {
                assert!((ratio - next / value).abs() <= 1e-9 * ratio, "{v}");
            }
        }
    }
}

/// An `asyncstudy serve` on a free loopback port, stopped (stdin closed, reaped) on drop.
pub struct Server {
    /// The server process.
    pub child: Child,
    /// `http://127.0.0.1:PORT` (`https://` with `--tls`).
    pub url: String,
    /// The certificate it printed the path of, with `--tls`.
    pub cert: Option<std::path::PathBuf>,
}

impl Server {
    /// Starts the server with `args` and reads its address (and with `--tls`, its certificate's
    /// path).
    pub fn start(args: &[&str]) -> Server {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("asyncstudy"))
            .arg("serve")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("first line {line:?}"))
            .to_string();
        let tls = args.contains(&"--tls");
        let scheme = if tls { "https" } else { "http" };
        assert!(url.starts_with(&format!("{scheme}://127.0.0.1:")), "{url}");
        let cert = tls.then(|| {
            let mut line = String::new();
            out.read_line(&mut line).unwrap();
            let path = line.trim().strip_prefix("certificate ");
            path.unwrap_or_else(|| panic!("second line {line:?}"))
                .into()
        });
        Server { child, url, cert }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}
