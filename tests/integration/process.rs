//! The process runtimes end to end: tasks run in worker processes, a worker that dies fails
//! only its task, a signal to the parent stops the run cleanly, and no process is left behind.

use crate::common;

use std::collections::HashSet;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{assert_accounted, asyncstudy, children_of, cpu_args, exists, run_json, worker};
use serde_json::Value;

const WORKERS: usize = 2;
const TASKS: usize = 6;

/// Every worker pid a record names: in its timeline and its failures.
fn worker_pids(r: &Value) -> HashSet<u32> {
    let main = worker(r["main_worker"].as_str().unwrap()).0;
    let timeline = r["timeline"].as_array().unwrap().iter();
    let failures = r["tasks"]["failures"].as_array().into_iter().flatten();
    timeline
        .chain(failures)
        .map(|t| worker(t["worker"].as_str().unwrap()).0)
        .filter(|&pid| pid != main)
        .collect()
}

/// Asserts that none of `pids` is left, allowing a moment for the kernel to clear them.
fn assert_all_gone(pids: &HashSet<u32>, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let left: Vec<u32> = pids.iter().copied().filter(|&p| exists(p)).collect();
        if left.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: workers {left:?} are left"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until process `pid` has `n` children and returns them.
fn wait_for_children(pid: u32, n: usize) -> Vec<u32> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let kids = children_of(pid);
        if kids.len() >= n {
            return kids;
        }
        assert!(
            Instant::now() < deadline,
            "pid {pid} never had {n} children"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON on stdout ({e}); stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// A long CPU run in the background, for tests that act on it while it runs.
fn start_long_run(runtime: &str) -> Child {
    // Seconds per task even in a release build: the test acts long before one ends.
    Command::new(assert_cmd::cargo::cargo_bin("asyncstudy"))
        .args(cpu_args(runtime, "20000000000", &[]))
        .env_remove("ASYNC_STD_THREAD_COUNT")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn both_runtimes_run_every_task_in_worker_processes() {
    for rt in ["process-pool", "process-per-task"] {
        let r = run_json(&cpu_args(rt, "1000000", &[]));
        assert_eq!(r["runtime"], rt);
        assert_eq!(r["tasks"]["ok"], TASKS, "{rt}: {}", r["tasks"]);
        let main = worker(r["main_worker"].as_str().unwrap());
        let timeline = r["timeline"].as_array().unwrap();
        assert_eq!(timeline.len(), TASKS);
        let mut pids = HashSet::new();
        for t in timeline {
            let (submit, start, end) = common::times(t);
            assert!(end >= start && start >= submit, "{rt}: {t}");
            let (pid, tid) = worker(t["worker"].as_str().unwrap());
            assert_ne!(pid, main.0, "{rt}: a task ran in the parent");
            assert_eq!(pid, tid, "{rt}: a worker runs tasks on its main thread");
            pids.insert(pid);
        }
        match rt {
            "process-pool" => assert!(pids.len() <= WORKERS, "{rt}: {pids:?}"),
            _ => assert_eq!(pids.len(), TASKS, "{rt}: one process per task"),
        }
        assert_eq!(r["distinct_workers"], pids.len());
        let procs = r["processes"]["peak"].as_u64().unwrap();
        match rt {
            // Every worker starts before the clock.
            "process-pool" => assert_eq!(procs, 1 + WORKERS as u64, "{rt}"),
            _ => assert!(
                (2..=1 + WORKERS as u64).contains(&procs),
                "{rt}: {procs} processes at peak"
            ),
        }
        // The workers' CPU time is counted (getrusage(RUSAGE_CHILDREN)), and their memory,
        // in bytes: a worker is this whole binary, which does not fit in 1 MiB.
        let child_rss = r["memory"]["children_peak_rss_bytes"].as_u64().unwrap();
        assert!(child_rss > 1 << 20, "{rt}: {child_rss}");
        assert!(r["cpu"]["user_s"].as_f64().unwrap() > 0.0);
        assert_all_gone(&pids, rt);
    }
}

#[test]
fn a_worker_that_breaks_fails_only_its_task() {
    let cases = [
        ("process-pool", "kill@2", "killed by signal 9 (SIGKILL)"),
        ("process-pool", "exit@2", "exited with code 3"),
        ("process-pool", "close@2", "closed its stdout"),
        (
            "process-pool",
            "garbage@2",
            "broke the protocol: a frame of 1936287860 bytes",
        ),
        ("process-per-task", "kill@2", "killed by signal 9 (SIGKILL)"),
        ("process-per-task", "garbage@2", "broke the protocol"),
    ];
    for (rt, fault, reason) in cases {
        let args = cpu_args(rt, "1000000", &["--inject-fault", fault, "--repeat", "2"]);
        let out = asyncstudy().args(&args).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{rt} {fault}: a failed task is a measured outcome"
        );
        let r = json_of(&out);
        assert_accounted(&r);
        // Task 2 breaks in each of the two repeats; the other tasks all finish.
        assert_eq!(r["tasks"]["total"], 2 * TASKS, "{rt} {fault}");
        assert_eq!(r["tasks"]["failed"], 2, "{rt} {fault}: {}", r["tasks"]);
        assert_eq!(r["tasks"]["errors"]["worker"], 2, "{rt} {fault}");
        // The broken workers' memory could not be read, and the record says so.
        assert_eq!(r["memory"]["children_unmeasured"], 2, "{rt} {fault}");
        let failures = r["tasks"]["failures"].as_array().unwrap();
        for f in failures {
            assert_eq!(f["task"], 2);
            let msg = f["message"].as_str().unwrap();
            assert!(
                msg.starts_with("worker pid ") && msg.contains(reason),
                "{rt} {fault}: {msg}"
            );
        }
        let timeline = r["timeline"].as_array().unwrap();
        assert_eq!(timeline[2]["ok"], false);
        if rt == "process-pool" {
            // The broken worker was replaced: more pids than slots over the run.
            let pids = worker_pids(&r);
            assert!(pids.len() > WORKERS, "{rt} {fault}: {pids:?}");
        }
        assert_all_gone(&worker_pids(&r), fault);
    }
}

#[test]
fn a_worker_killed_from_outside_fails_its_task_and_the_run_goes_on() {
    let child = start_long_run("process-pool");
    let parent = child.id();
    let workers = wait_for_children(parent, WORKERS);
    // SAFETY: kill has no memory effects; the pid is a live child of our child.
    assert_eq!(unsafe { libc::kill(workers[0] as i32, libc::SIGKILL) }, 0);
    // Then stop the rest of the run: the test needs the failure, not hours of spinning.
    let replaced = wait_for_new_child(parent, &workers);
    // SAFETY: as above.
    assert_eq!(unsafe { libc::kill(parent as i32, libc::SIGINT) }, 0);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    let r = json_of(&out);
    assert_accounted(&r);
    assert_eq!(r["tasks"]["total"], TASKS);
    let failures = r["tasks"]["failures"].as_array().unwrap();
    // A worker killed before it got its task also says what the parent could not send it.
    let killed = format!("worker pid {} killed by signal 9 (SIGKILL)", workers[0]);
    assert!(
        failures
            .iter()
            .any(|f| f["message"].as_str().unwrap().starts_with(&killed)),
        "{failures:#?}"
    );
    let mut seen: HashSet<u32> = workers.into_iter().collect();
    seen.insert(replaced);
    seen.extend(worker_pids(&r));
    assert_all_gone(&seen, "after SIGKILL");
}

/// Waits for a child of `parent` that is not in `old` (a replacement worker).
fn wait_for_new_child(parent: u32, old: &[u32]) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(&new) = children_of(parent).iter().find(|p| !old.contains(p)) {
            return new;
        }
        assert!(Instant::now() < deadline, "no replacement worker started");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn sigint_and_sigterm_stop_the_run_reap_every_worker_and_print_what_finished() {
    for (rt, sig, code, name) in [
        ("process-pool", libc::SIGINT, 130, "SIGINT"),
        ("process-per-task", libc::SIGTERM, 143, "SIGTERM"),
    ] {
        let child = start_long_run(rt);
        let parent = child.id();
        let workers = wait_for_children(parent, WORKERS);
        // SAFETY: kill has no memory effects; the pid is our child.
        assert_eq!(unsafe { libc::kill(parent as i32, sig) }, 0);
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(code), "{rt} {name}");
        let r = json_of(&out);
        assert_eq!(r["interrupted"], name, "{rt}");
        assert_accounted(&r);
        assert_eq!(
            r["tasks"]["total"], TASKS,
            "{rt}: every task is accounted for"
        );
        assert_eq!(
            r["tasks"]["errors"]["interrupted"], TASKS,
            "{rt}: no task had finished: {}",
            r["tasks"]
        );
        assert!(
            r["notes"]
                .to_string()
                .contains(&format!("interrupted by {name}"))
        );
        let mut seen: HashSet<u32> = workers.into_iter().collect();
        seen.extend(worker_pids(&r));
        assert_all_gone(&seen, rt);
    }
}

#[test]
fn a_worker_exits_when_its_stdin_closes() {
    // The frames a worker wrote, as JSON.
    let frames = |mut out: &[u8]| {
        let mut frames = Vec::new();
        while !out.is_empty() {
            let len = u32::from_le_bytes(out[..4].try_into().unwrap()) as usize;
            frames.push(serde_json::from_slice::<Value>(&out[4..4 + len]).unwrap());
            out = &out[4 + len..];
        }
        frames
    };
    // Nothing at all ends cleanly and says nothing.
    asyncstudy()
        .arg("worker")
        .write_stdin("")
        .assert()
        .success()
        .stdout("");
    // A setup and nothing more: the worker says it is ready, then ends cleanly.
    let mut setup = Vec::new();
    let body = br#"{"setup":{"work":{"cpu":{"kind":"noop","iters":0}}}}"#;
    setup.extend_from_slice(&(body.len() as u32).to_le_bytes());
    setup.extend_from_slice(body);
    let out = asyncstudy()
        .arg("worker")
        .write_stdin(setup.clone())
        .output()
        .unwrap();
    assert!(out.status.success());
    let ready = frames(&out.stdout);
    assert_eq!(ready.len(), 1, "exactly one frame: {ready:?}");
    assert!(ready[0]["pid"].as_u64().unwrap() > 0, "{ready:?}");

    // A task gets an answer frame on stdout, after the ready one.
    let run = br#"{"run":{"task":4}}"#;
    let mut input = setup.clone();
    input.extend_from_slice(&(run.len() as u32).to_le_bytes());
    input.extend_from_slice(run);
    let out = asyncstudy()
        .arg("worker")
        .write_stdin(input)
        .output()
        .unwrap();
    assert!(out.status.success());
    let answers = frames(&out.stdout);
    assert_eq!(answers.len(), 2, "ready, then one answer: {answers:?}");
    assert!(answers[0]["pid"].is_u64(), "{answers:?}");
    let done = &answers[1];
    assert_eq!(done["task"], 4);
    assert_eq!(done["error"], Value::Null);
    assert_eq!(done["worker"]["pid"], answers[0]["pid"]);
}

#[test]
fn a_parent_that_dies_leaves_no_worker_behind() {
    // Tasks of a fraction of a second: a worker notices its parent is gone when its task ends.
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("asyncstudy"))
        .args([
            "cpu",
            "--runtime",
            "process-pool",
            "--workers",
            "2",
            "--tasks",
            "1000",
            "--workload",
            "spin",
            "--iters",
            "50000000",
        ])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let workers = wait_for_children(child.id(), WORKERS);
    child.kill().unwrap();
    child.wait().unwrap();
    // Orphans are reaped by init, which may take its time in a container: a zombie has exited.
    let deadline = Instant::now() + Duration::from_secs(60);
    while workers.iter().any(|&p| running(p)) {
        assert!(
            Instant::now() < deadline,
            "workers {workers:?} outlived their parent"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether `pid` exists and has not exited (a zombie has).
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .map(|(_, rest)| rest.trim_start().to_string())
        })
        .is_some_and(|rest| !rest.starts_with('Z'))
}

#[test]
fn garbage_from_the_parent_is_an_error_on_stderr() {
    let mut stdin_bytes = Vec::new();
    stdin_bytes.extend_from_slice(b"not a frame at all");
    let out = asyncstudy()
        .arg("worker")
        .write_stdin(stdin_bytes)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("worker: message from the parent: a frame of"),
        "{err}"
    );
}

#[test]
fn faults_are_only_for_process_runtimes() {
    asyncstudy()
        .args(["cpu", "--runtime", "threads", "--inject-fault", "kill@1"])
        .assert()
        .code(2)
        .stderr(
            "error: --inject-fault kill@1: only process-pool and process-per-task run tasks in worker processes\n",
        );
}

#[test]
fn strict_makes_a_failed_task_exit_1() {
    let args = cpu_args("process-pool", "1000", &["--inject-fault", "exit@1"]);
    asyncstudy().args(&args).assert().code(0);
    asyncstudy().args(&args).arg("--strict").assert().code(1);
}
