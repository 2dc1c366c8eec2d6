//! The Python runtimes (`py-serial`, `py-threads`, `py-processes`, `py-asyncio`) run every
//! workload through the same harness contract as the Rust runtimes: every task accounted for
//! on one clock with the pid and thread that ran it, errors by the same kinds, the interpreter
//! in the record, bad interpreters refused with exit 2, and a signal reaping every process.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use serde_json::Value;

use crate::common::{self, Server, assert_accounted, asyncstudy, times, worker};

/// The four Python runtimes, written out here so one the crate drops or renames fails.
pub const PYTHON: [&str; 4] = ["py-serial", "py-threads", "py-processes", "py-asyncio"];

/// The interpreter the tests use: `ASYNCSTUDY_TEST_PYTHON` (`.ci/run` sets it to a venv with
/// aiohttp) or `python3` on `PATH`.
pub(crate) fn python() -> String {
    static RESOLVED: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    RESOLVED
        .get_or_init(|| {
            let given =
                std::env::var("ASYNCSTUDY_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
            // The interpreter itself rather than a wrapper such as pyenv's shim, which costs
            // a shell and a lookup on every start.
            std::process::Command::new(&given)
                .args(["-c", "import sys; print(sys.executable)"])
                .output()
                .ok()
                .filter(|o| o.status.success())
                .and_then(|o| String::from_utf8(o.stdout).ok())
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .unwrap_or(given)
        })
        .clone()
}

/// Whether the tests' interpreter imports aiohttp, which py-asyncio downloads need. Without it
/// those tests are skipped with a message, except under CI (`CI` set), where `.ci/run`
/// installs it and its absence fails them: a test that cannot fail is no test.
pub(crate) fn aiohttp() -> bool {
    let found = std::process::Command::new(python())
        .args(["-c", "import aiohttp"])
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "{} cannot import aiohttp, which .ci/run installs for the py-asyncio download tests",
            python()
        );
        eprintln!(
            "SKIPPED: py-asyncio downloads: {} cannot import aiohttp (python3 -m pip install aiohttp)",
            python()
        );
    }
    found
}

/// Runs `asyncstudy args… --python P --format json`, expects exit 0 and returns the record.
fn run(args: &[&str]) -> Value {
    let py = python();
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--python", &py, "--format", "json"]);
    common::run_json(&all)
}

/// What every record of a Python run must hold: every task ok and on the run's timeline, run
/// by the interpreter's processes (never this harness), by at most `workers` of them.
fn check(r: &Value, rt: &str, tasks: u64) {
    let what = format!("{rt} {}", r["workload"]["name"]);
    assert_eq!(r["runtime"], rt, "{what}");
    assert_eq!(r["tasks"]["ok"], tasks, "{what}: {}", r["tasks"]);
    assert_accounted(r);
    assert!(
        r["python"]["version"].as_str().unwrap().starts_with('3'),
        "{what}: {}",
        r["python"]
    );
    let timeline = r["timeline"].as_array().unwrap();
    assert_eq!(timeline.len() as u64, tasks, "{what}");
    let mut pids = std::collections::HashSet::new();
    let mut threads = std::collections::HashSet::new();
    for t in timeline {
        let (submit, start, end) = times(t);
        assert!(
            0.0 <= submit && submit <= start && start <= end,
            "{what}: {t}"
        );
        let (pid, tid) = worker(t["worker"].as_str().unwrap());
        pids.insert(pid);
        threads.insert((pid, tid));
    }
    let (max_pids, max_threads) = match rt {
        "py-processes" => (2, 2),
        "py-threads" => (1, 2),
        _ => (1, 1),
    };
    assert!(pids.len() <= max_pids, "{what}: {pids:?}");
    // This process and the interpreter, and a pool's forked workers, all started up front.
    let processes = match rt {
        "py-processes" => 2 + r["workers"].as_u64().unwrap(),
        _ => 2,
    };
    assert_eq!(r["processes"]["peak"], processes, "{what}");
    // The interpreter's threads count too: at least its main thread beside this process's.
    let peak = r["threads"]["peak"].as_u64().unwrap();
    assert!(peak >= 3, "{what}: {peak} threads");
    assert!(threads.len() <= max_threads, "{what}: {threads:?}");
    assert!(
        r["memory"]["children_peak_rss_bytes"].as_u64().unwrap() > 0,
        "{what}"
    );
}

#[test]
fn every_python_runtime_runs_the_cpu_loops_sleeps_and_mixes() {
    for rt in PYTHON {
        for workload in ["spin", "comp", "cos", "noop"] {
            let r = run(&[
                "cpu",
                "--runtime",
                rt,
                "--workers",
                "2",
                "--tasks",
                "3",
                "--workload",
                workload,
                "--iters",
                "2000",
            ]);
            check(&r, rt, 3);
        }
        let r = run(&[
            "io",
            "--runtime",
            rt,
            "--workers",
            "2",
            "--workload",
            "sleep",
            "--tasks",
            "3",
            "--sleep",
            "20ms",
        ]);
        check(&r, rt, 3);
        // Each sleep took its 20 ms.
        for t in r["timeline"].as_array().unwrap() {
            let (_, start, end) = times(t);
            assert!(end - start >= 19.0, "{rt}: {t}");
        }
        let r = run(&[
            "mixed",
            "--runtime",
            rt,
            "--workers",
            "2",
            "--tasks",
            "4",
            "--cpu-tasks",
            "2",
            "--cpu-iters",
            "2000",
            "--sleep",
            "10ms",
        ]);
        check(&r, rt, 6);
        assert_eq!(r["mixed"]["io_tasks"], 4, "{rt}");
    }
}

#[test]
fn every_python_runtime_downloads_and_rewrites_pages_with_urllib_or_aiohttp() {
    let with_aiohttp = aiohttp();
    let server = Server::start(&["--latency", "5ms", "--page-size", "3KiB"]);
    let urls = tempfile::NamedTempFile::new().unwrap();
    let list: String = (0..4)
        .map(|i| format!("{}/page/{i}\n", server.url))
        .collect();
    std::fs::write(urls.path(), list).unwrap();
    for rt in PYTHON {
        if rt == "py-asyncio" && !with_aiohttp {
            continue;
        }
        let out = tempfile::tempdir().unwrap();
        let r = run(&[
            "io",
            "--runtime",
            rt,
            "--workers",
            "2",
            "--tasks",
            "4",
            "--writes",
            "3",
            "--urls",
            urls.path().to_str().unwrap(),
            "--out-dir",
            out.path().to_str().unwrap(),
        ]);
        check(&r, rt, 4);
        assert_eq!(r["bytes_per_run"], 4 * 3 * 1024, "{rt}");
        if rt == "py-threads" {
            // Every task waits 5 ms on the server, so the pool starts both its threads.
            let threads = r["threads"]["peak"].as_u64().unwrap();
            assert!(threads >= 1 + 1 + 2, "{rt}: {threads} threads");
        }
        let pages: Vec<_> = std::fs::read_dir(out.path()).unwrap().flatten().collect();
        assert_eq!(pages.len(), 4, "{rt}");
        for p in pages {
            assert_eq!(
                p.metadata().unwrap().len(),
                3 * 1024,
                "{rt}: {:?}",
                p.path()
            );
        }
        if rt == "py-asyncio" {
            assert!(r["python"]["aiohttp"].is_string(), "{}", r["python"]);
        }
    }
}

#[test]
fn failed_downloads_are_counted_by_the_rust_sides_kinds() {
    let with_aiohttp = aiohttp();
    for rt in PYTHON {
        if rt == "py-asyncio" && !with_aiohttp {
            continue;
        }
        for (flag, kind) in [("--error-rate", "http_5xx"), ("--reset-rate", "reset")] {
            let r = run(&[
                "io",
                "--runtime",
                rt,
                "--workers",
                "2",
                "--tasks",
                "3",
                "--latency",
                "1ms",
                flag,
                "1",
            ]);
            assert_eq!(r["tasks"]["failed"], 3, "{rt} {flag}: {}", r["tasks"]);
            assert_eq!(r["tasks"]["errors"][kind], 3, "{rt} {flag}: {}", r["tasks"]);
            assert_accounted(&r);
        }
        // Nothing listens on the port: a connect error, whatever the client.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        let urls = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(urls.path(), format!("http://127.0.0.1:{port}/x\n")).unwrap();
        let r = run(&[
            "io",
            "--runtime",
            rt,
            "--tasks",
            "2",
            "--urls",
            urls.path().to_str().unwrap(),
        ]);
        assert_eq!(r["tasks"]["errors"]["connect"], 2, "{rt}: {}", r["tasks"]);
    }
}

/// A stand-in interpreter that answers the probe as `answer` says.
fn fake_python(dir: &Path, answer: &str) -> String {
    let path = dir.join("python");
    std::fs::write(&path, format!("#!/bin/sh\necho '{answer}'\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.display().to_string()
}

/// Runs `args` and expects exit 2 with one line on stderr that contains `says`.
fn refused<S: AsRef<std::ffi::OsStr> + std::fmt::Debug>(args: &[S], says: &str) {
    let out = asyncstudy().args(args).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    assert!(err.contains(says), "{args:?}: {err}");
    assert!(out.stdout.is_empty(), "{args:?}");
}

#[test]
fn a_missing_old_or_aiohttp_less_interpreter_is_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let with = |p: &str| {
        [
            "cpu",
            "--runtime",
            "py-threads",
            "--tasks",
            "1",
            "--python",
            p,
        ]
        .map(String::from)
    };
    refused(
        &with("/nonexistent/python3"),
        "error: --python /nonexistent/python3: cannot run it: No such file or directory",
    );
    let old = fake_python(
        dir.path(),
        r#"{"version":"3.7.9","major":3,"minor":7,"implementation":"cpython","gil":true,"aiohttp":null}"#,
    );
    refused(
        &with(&old),
        "Python 3.7.9 is too old; the harness needs 3.8 or newer",
    );
    let new = fake_python(
        dir.path(),
        r#"{"version":"3.12.1","major":3,"minor":12,"implementation":"cpython","gil":true,"aiohttp":null}"#,
    );
    refused(
        &[
            "io",
            "--runtime",
            "py-asyncio",
            "--tasks",
            "1",
            "--python",
            &new,
        ],
        "its downloads need the aiohttp module",
    );
    // A comparison checks every cell's interpreter before the first cell runs.
    refused(
        &[
            "compare",
            "cpu",
            "--runtimes",
            "threads,py-threads",
            "--python",
            "/nonexistent/python3",
        ],
        "cannot run it",
    );
    // Sleeps need no aiohttp; a fault can only be staged in the Rust worker processes.
    refused(
        &[
            "cpu",
            "--runtime",
            "py-processes",
            "--inject-fault",
            "kill@1",
        ],
        "only process-pool and process-per-task",
    );
}

#[test]
fn a_signal_kills_and_reaps_the_interpreter_and_its_pool() {
    let tmp = tempfile::tempdir().unwrap();
    for rt in ["py-processes", "py-threads"] {
        let run = std::process::Command::new(assert_cmd::cargo::cargo_bin("asyncstudy"))
            .args([
                "io",
                "--runtime",
                rt,
                "--workers",
                "2",
                "--workload",
                "sleep",
            ])
            .args([
                "--tasks", "4", "--sleep", "1h", "--format", "json", "--python",
            ])
            .arg(python())
            .env("TMPDIR", tmp.path())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Wait until the pool is up: the harness's interpreter and, for processes, its two
        // workers (forks of it, with its command line). The probe before the run is another
        // interpreter, so the harness is told by its script.
        let want = if rt == "py-processes" { 3 } else { 1 };
        let harnesses = || {
            common::processes_with_tmpdir(tmp.path())
                .into_iter()
                .filter(|pid| {
                    std::fs::read(format!("/proc/{pid}/cmdline"))
                        .is_ok_and(|c| String::from_utf8_lossy(&c).contains("Python harness"))
                })
                .count()
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while harnesses() < want {
            assert!(
                std::time::Instant::now() < deadline,
                "{rt}: the pool never came up"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
        // SAFETY: kill has no memory effects; the pid is our unreaped child.
        unsafe { libc::kill(run.id() as libc::pid_t, libc::SIGTERM) };
        let out = run.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(143), "{rt}");
        let r: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            r["tasks"]["errors"]["interrupted"], 4,
            "{rt}: {}",
            r["tasks"]
        );
        assert_accounted(&r);
        // Every process of the run is gone: the interpreter reaped, its workers killed.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !common::processes_with_tmpdir(tmp.path()).is_empty() {
            assert!(
                std::time::Instant::now() < deadline,
                "{rt}: processes left behind"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

#[test]
fn compare_takes_python_runtimes_beside_rust_ones() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cmp.json");
    let py = python();
    let (_, c) = common::compare_into(
        &out,
        &format!(
            "cpu --runtimes serial,threads,py-serial,py-threads --workers 2 --tasks 2 --iters 2000 --repeat 1 --python {py}"
        ),
    );
    let runs = c["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 4);
    for r in runs {
        let python = r["runtime"].as_str().unwrap().starts_with("py-");
        assert_eq!(r["python"].is_object(), python, "{}", r["runtime"]);
    }
    // Each language's serial is its own runtimes' baseline.
    for cell in c["summary"].as_array().unwrap() {
        if cell["runtime"] == "py-threads" {
            assert_eq!(cell["speedup_vs"], "py-serial", "{cell}");
        }
        if cell["runtime"] == "threads" {
            assert_eq!(cell["speedup_vs"], "serial", "{cell}");
        }
    }
}

#[test]
fn python_clients_trust_the_runs_certificate_alone_and_open_a_connection_per_request() {
    let with_aiohttp = aiohttp();
    let served = Server::start(&["--tls", "--latency", "1ms", "--page-size", "2000"]);
    let other = Server::start(&["--tls"]);
    let url = served.url.as_str();
    let right = served.cert.as_ref().unwrap().to_str().unwrap();
    let wrong = other.cert.as_ref().unwrap().to_str().unwrap();
    for rt in ["py-threads", "py-processes", "py-asyncio"] {
        if rt == "py-asyncio" && !with_aiohttp {
            continue;
        }
        let args = |cert: &str| -> Vec<String> {
            [
                "io",
                "--runtime",
                rt,
                "--workers",
                "1",
                "--tasks",
                "2",
                "--writes",
                "1",
                "--server",
                url,
                "--server-cert",
                cert,
            ]
            .map(str::to_string)
            .to_vec()
        };
        let ok = args(right);
        let r = run(&ok.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(r["tasks"]["ok"], 2, "{rt}: {}", r["tasks"]);
        assert_eq!(r["bytes_per_run"], 2 * 2000, "{rt}");
        // urlopen and aiohttp (force_close) open a new connection for every request.
        assert_eq!(
            r["server"]["cost"]["tls_handshakes"], 2,
            "{rt}: {}",
            r["server"]
        );
        let bad = args(wrong);
        let r = run(&bad.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(r["tasks"]["errors"]["tls"], 2, "{rt}: {}", r["tasks"]);
        let why = r["tasks"]["failures"][0]["message"].as_str().unwrap();
        assert!(why.starts_with("the TLS handshake failed"), "{rt}: {why}");
    }
    refused(
        &[
            "io",
            "--runtime",
            "py-threads",
            "--connections",
            "reuse",
            "--python",
            &python(),
        ],
        "--connections reuse: py-threads opens a new connection per request",
    );
}
