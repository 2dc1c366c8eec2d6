//! The signal suite: SIGINT and SIGTERM in the middle of `io` runs (in-process and process
//! runtimes) and of a `compare io` sweep. Each must exit 130 or 143 with valid partial output
//! that accounts for every task, leave no child process (workers, the embedded server, compare's
//! child runs) and no temporary directory behind. Runs whose tasks never end (an hour's sleep, a
//! CPU loop of minutes, a page rewritten a billion times) must do the same within the grace
//! period and their teardown, on every runtime.

use crate::common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{RUNTIMES, assert_accounted, children_of, exists, processes_with_tmpdir};
use serde_json::Value;

/// Starts `asyncstudy args` with its temporary directories in `tmp`.
fn start(args: &[&str], tmp: &Path) -> Child {
    Command::new(assert_cmd::cargo::cargo_bin("asyncstudy"))
        .args(args)
        .env("TMPDIR", tmp)
        .env_remove("ASYNC_STD_THREAD_COUNT")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until some page has been written under `tmp` (the run is under way), up to 20 s.
fn wait_for_a_page(tmp: &Path) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let written = std::fs::read_dir(tmp)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|d| d.path().is_dir())
            .any(|d| {
                // Pages, not the run's owner marker (a dot file).
                std::fs::read_dir(d.path()).is_ok_and(|mut f| {
                    f.any(|e| e.is_ok_and(|e| !e.file_name().to_string_lossy().starts_with('.')))
                })
            });
        if written {
            return;
        }
        assert!(Instant::now() < deadline, "no page was ever written");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Every process below `pid`, children and their children.
fn descendants(pid: u32) -> Vec<u32> {
    let mut all = Vec::new();
    let mut next = vec![pid];
    while let Some(p) = next.pop() {
        for c in children_of(p) {
            all.push(c);
            next.push(c);
        }
    }
    all
}

fn signal(pid: u32, sig: i32) {
    // SAFETY: kill has no memory effects; the pid is our own child.
    assert_eq!(unsafe { libc::kill(pid as i32, sig) }, 0);
}

/// Waits for `child` with a deadline, so a run that ignores the signal fails the test instead
/// of hanging it.
fn finish(mut child: Child) -> (Option<i32>, Vec<u8>, String) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("the run did not stop within 30 s of the signal");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn assert_gone(pids: &[u32], what: &str) {
    let deadline = Instant::now() + Duration::from_secs(2);
    while pids.iter().any(|&p| exists(p)) {
        assert!(Instant::now() < deadline, "{what}: {pids:?} left running");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn assert_empty(tmp: &Path, what: &str) {
    let left: Vec<_> = std::fs::read_dir(tmp)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(left.is_empty(), "{what}: left behind {left:?}");
}

#[test]
fn a_signal_mid_io_run_reports_what_finished_and_leaves_nothing_behind() {
    for (rt, sig, code, name) in [
        ("tokio-mt", libc::SIGINT, 130, "SIGINT"),
        ("smol", libc::SIGTERM, 143, "SIGTERM"),
        ("async-std", libc::SIGINT, 130, "SIGINT"),
        ("tokio-ct", libc::SIGTERM, 143, "SIGTERM"),
        ("tokio+rayon", libc::SIGINT, 130, "SIGINT"),
        ("threads", libc::SIGINT, 130, "SIGINT"),
        ("thread-per-task", libc::SIGTERM, 143, "SIGTERM"),
        ("serial", libc::SIGINT, 130, "SIGINT"),
        ("process-pool", libc::SIGTERM, 143, "SIGTERM"),
        ("process-per-task", libc::SIGINT, 130, "SIGINT"),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let child = start(
            &[
                "io",
                "--runtime",
                rt,
                "--tasks",
                "40",
                "--workers",
                "4",
                "--concurrency",
                "4",
                "--latency",
                "200ms",
                "--writes",
                "1",
                "--format",
                "json",
            ],
            tmp.path(),
        );
        let pid = child.id();
        wait_for_a_page(tmp.path());
        let below = descendants(pid);
        assert!(!below.is_empty(), "{rt}: the embedded server is a child");
        signal(pid, sig);
        let (status, stdout, stderr) = finish(child);
        assert_eq!(status, Some(code), "{rt}: {stderr}");
        let r: Value = serde_json::from_slice(&stdout)
            .unwrap_or_else(|e| panic!("{rt}: no valid JSON ({e}); stderr: {stderr}"));
        assert_eq!(r["interrupted"], name, "{rt}");
        assert_eq!(r["tasks"]["total"], 40, "{rt}");
        assert_accounted(&r);
        assert!(
            r["tasks"]["ok"].as_u64().unwrap() > 0,
            "{rt}: some pages were done"
        );
        assert!(
            r["tasks"]["errors"]["interrupted"].as_u64().unwrap() > 0,
            "{rt}: {}",
            r["tasks"]
        );
        assert_gone(&below, rt);
        assert_empty(tmp.path(), rt);
    }
}

#[test]
fn keep_survives_a_signal_and_says_where_the_pages_are() {
    let tmp = tempfile::tempdir().unwrap();
    let child = start(
        &[
            "io",
            "--runtime",
            "smol",
            "--tasks",
            "30",
            "--concurrency",
            "3",
            "--latency",
            "200ms",
            "--writes",
            "1",
            "--keep",
            "--format",
            "json",
        ],
        tmp.path(),
    );
    wait_for_a_page(tmp.path());
    signal(child.id(), libc::SIGINT);
    let (status, stdout, stderr) = finish(child);
    assert_eq!(status, Some(130), "{stderr}");
    let r: Value = serde_json::from_slice(&stdout).unwrap();
    let kept = r["workload"]["params"]["out_dir"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(stderr.contains(&kept), "{stderr}");
    let pages = std::fs::read_dir(&kept).unwrap().count() as u64;
    assert_eq!(pages, r["tasks"]["ok"].as_u64().unwrap());
}

#[test]
fn sigterm_mid_comparison_keeps_a_valid_partial_file_and_reaps_everything() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("cmp.json");
    let scratch = tmp.path().join("scratch");
    std::fs::create_dir(&scratch).unwrap();
    let child = start(
        &[
            "compare",
            "io",
            "--runtimes",
            "tokio-mt,threads",
            "--workers",
            "2",
            "--tasks",
            "12",
            "--latency",
            "150ms",
            "--writes",
            "1",
            "--repeat",
            "3",
            "--quiet",
            "--output",
            out.to_str().unwrap(),
        ],
        &scratch,
    );
    let pid = child.id();
    // Wait for the first finished run to reach the file.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !std::fs::read(&out).is_ok_and(|b| {
        serde_json::from_slice::<Value>(&b).is_ok_and(|v| !v["runs"].as_array().unwrap().is_empty())
    }) {
        assert!(Instant::now() < deadline, "no run finished");
        std::thread::sleep(Duration::from_millis(20));
    }
    let below = descendants(pid);
    signal(pid, libc::SIGTERM);
    let (status, _, stderr) = finish(child);
    assert_eq!(status, Some(143), "{stderr}");
    let partial: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(partial["complete"], false);
    assert_eq!(partial["interrupted"], "SIGTERM");
    for run in partial["runs"].as_array().unwrap() {
        assert_accounted(run);
    }
    assert_gone(&below, "compare");
    assert_empty(&scratch, "compare");
}

/// A terminal's Ctrl-C and `timeout` signal the whole process group, so the run gets the same
/// signal twice in a row: that is one request, which must still end in a record, on in-process
/// and process runtimes alike.
#[test]
fn a_signal_sent_to_the_process_and_its_group_is_one_request() {
    for rt in ["threads", "tokio-mt", "process-pool"] {
        let tmp = tempfile::tempdir().unwrap();
        let child = {
            use std::os::unix::process::CommandExt;
            Command::new(assert_cmd::cargo::cargo_bin("asyncstudy"))
                .args(["io", "--runtime", rt, "--tasks", "40", "--workers", "4"])
                .args(["--concurrency", "4", "--latency", "200ms", "--writes", "1"])
                .args(["--format", "json"])
                .env("TMPDIR", tmp.path())
                .env_remove("ASYNC_STD_THREAD_COUNT")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                // Its own group, as `timeout` makes one, so the group can be signalled.
                .process_group(0)
                .spawn()
                .unwrap()
        };
        let pid = child.id();
        wait_for_a_page(tmp.path());
        // What GNU timeout does: the command, then its whole group. A moment apart, so the
        // first is delivered before the second (pending ones would merge into one).
        signal(pid, libc::SIGTERM);
        std::thread::sleep(Duration::from_millis(20));
        // SAFETY: kill has no memory effects; the group is our child's own.
        assert_eq!(unsafe { libc::kill(-(pid as i32), libc::SIGTERM) }, 0);
        let (status, stdout, stderr) = finish(child);
        assert_eq!(status, Some(143), "{rt}: {stderr}");
        let rec: Value = serde_json::from_slice(&stdout)
            .unwrap_or_else(|e| panic!("{rt}: no record ({e}): {stderr}"));
        assert_eq!(rec["interrupted"], "SIGTERM", "{rt}");
        assert_accounted(&rec);
    }
}

/// A run killed outright cannot remove its temporary out-dir; `clean` removes it, and only it:
/// the directory of a run still going, and one without an owner marker, stay.
#[test]
fn clean_removes_the_out_dir_of_a_killed_run_and_nothing_else() {
    let tmp = tempfile::tempdir().unwrap();
    let mut killed = start(
        &[
            "io",
            "--runtime",
            "threads",
            "--tasks",
            "40",
            "--workers",
            "2",
        ],
        tmp.path(),
    );
    wait_for_a_page(tmp.path());
    killed.kill().unwrap();
    killed.wait().unwrap();
    let foreign = tmp.path().join("asyncstudy-io-not-ours");
    std::fs::create_dir(&foreign).unwrap();
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p != &foreign)
        .collect();
    assert_eq!(left.len(), 1, "{left:?}");
    let out = Command::new(assert_cmd::cargo::cargo_bin("asyncstudy"))
        .arg("clean")
        .env("TMPDIR", tmp.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!(
            "removed {} (pid {} is gone)",
            left[0].display(),
            killed.id()
        )),
        "{text}"
    );
    assert!(
        text.contains("(it has no owner marker, so it may not be ours)"),
        "{text}"
    );
    assert!(!left[0].exists());
    assert!(foreign.exists());
}

/// How long a run whose tasks never end may take to exit after SIGTERM: the 2 s grace period,
/// the teardown, and a wide margin for a machine whose cores are all busy.
const PROMPT: Duration = Duration::from_secs(15);

/// Waits until a run has begun its measured repeat: its thread sampler, started just before
/// the runtime, exists. Then a moment more, so its tasks are under way.
fn wait_until_measuring(pid: u32, rt: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let sampling = || {
        std::fs::read_dir(format!("/proc/{pid}/task"))
            .into_iter()
            .flatten()
            .flatten()
            .any(|t| {
                std::fs::read_to_string(t.path().join("comm"))
                    .is_ok_and(|name| name.starts_with("asyncstudy-samp"))
            })
    };
    while !sampling() {
        assert!(
            Instant::now() < deadline,
            "{rt}: the run never began measuring"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(500));
}

/// Runs `args` on every runtime, SIGTERMs each run once it is under way, and checks that it
/// exits 143 within [`PROMPT`] with a record in which every task is accounted for and the
/// unfinished ones are interrupted, leaving no process and no directory behind.
fn every_runtime_stops_a_run_that_never_ends(args: &[&str]) {
    for rt in RUNTIMES {
        let tmp = tempfile::tempdir().unwrap();
        let mut all = args.to_vec();
        all.extend_from_slice(&["--runtime", rt, "--tasks", "4", "--workers", "2"]);
        all.extend_from_slice(&["--format", "json"]);
        let child = start(&all, tmp.path());
        let pid = child.id();
        wait_until_measuring(pid, rt);
        signal(pid, libc::SIGTERM);
        let signalled = Instant::now();
        let (status, stdout, stderr) = finish(child);
        let took = signalled.elapsed();
        assert!(took < PROMPT, "{rt} {args:?}: took {took:?} to stop");
        assert_eq!(status, Some(143), "{rt} {args:?}: {stderr}");
        let r: Value = serde_json::from_slice(&stdout)
            .unwrap_or_else(|e| panic!("{rt}: no valid JSON ({e}); stderr: {stderr}"));
        assert_eq!(r["interrupted"], "SIGTERM", "{rt}");
        assert_eq!(r["tasks"]["total"], 4, "{rt}");
        assert_accounted(&r);
        assert_eq!(
            r["tasks"]["errors"]["interrupted"], 4,
            "{rt} {args:?}: no task can finish: {}",
            r["tasks"]
        );
        for t in r["timeline"].as_array().unwrap() {
            let (submit, start, end) = common::times(t);
            assert!(submit <= start && start <= end, "{rt}: {t}");
        }
        // Workers, the embedded server: every process the run started is gone, and so is
        // everything it wrote.
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            let left = processes_with_tmpdir(tmp.path());
            if left.is_empty() {
                break;
            }
            assert!(Instant::now() < deadline, "{rt}: {left:?} left running");
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_empty(tmp.path(), rt);
    }
}

#[test]
fn sigterm_stops_an_hour_long_sleep_on_every_runtime() {
    every_runtime_stops_a_run_that_never_ends(&["io", "--workload", "sleep", "--sleep", "1h"]);
}

#[test]
fn sigterm_stops_a_cpu_loop_of_minutes_on_every_runtime() {
    every_runtime_stops_a_run_that_never_ends(&[
        "cpu",
        "--workload",
        "spin",
        "--iters",
        "100000000000",
    ]);
}

#[test]
fn sigterm_stops_a_page_rewritten_forever_on_every_runtime() {
    every_runtime_stops_a_run_that_never_ends(&[
        "io",
        "--writes",
        "1000000000",
        "--latency",
        "1ms",
    ]);
}
