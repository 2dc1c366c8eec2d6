//! A thread or process the OS will not create. Every runtime that starts its workers up front
//! stops with one `error:` line naming the one it could not start, and exit 1; the runtime that
//! creates a thread per task records each one it could not create as that task's failure; the
//! runtimes with one thread of their own run as usual. None panics, hangs, or leaves a process
//! or a temporary directory behind, in `cpu` runs and in `io` runs with the embedded server.
//!
//! The OS is made to refuse with RLIMIT_NPROC (`ulimit -u`), which counts a user's threads as
//! well as its processes; a low address-space limit would also fail small allocations, and the
//! allocator aborts on those. root is exempt from RLIMIT_NPROC, so as root each run is started
//! as the unprivileged user 65534 (nobody), whose threads are counted apart from everyone
//! else's, with a limit that leaves room for the run's main thread, its sampler and the embedded
//! server, but not for 1,000 workers. Not as root there is no user to switch to whose count is
//! known, and the test says it is skipped.

use crate::common;

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::{RUNTIMES, assert_accounted, processes_with_tmpdir};
use serde_json::Value;

/// The user the runs are started as.
const NOBODY: u32 = 65534;

/// Threads the limit allows beyond those the user already has: the run's main thread and
/// sampler, the embedded server's two, and a few workers, never the 1,000 asked for.
const ROOM: u64 = 16;

/// Threads of every process whose real user is `uid`.
fn threads_of(uid: u32) -> u64 {
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return 0;
    };
    procs
        .flatten()
        .filter_map(|p| std::fs::read_to_string(p.path().join("status")).ok())
        .filter(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().next())
                .is_some_and(|real| real == uid.to_string())
        })
        .filter_map(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("Threads:"))
                .and_then(|n| n.trim().parse::<u64>().ok())
        })
        .sum()
}

/// A copy of the built binary that [`NOBODY`] can run, in a directory of its own under /tmp: a
/// checkout in root's home is not searchable by other users.
fn runnable_copy() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::Builder::new()
        .prefix("spawn-test-bin")
        .tempdir_in("/tmp")
        .unwrap();
    std::fs::set_permissions(dir.path(), PermissionsExt::from_mode(0o755)).unwrap();
    let bin = dir.path().join("asyncstudy");
    std::fs::copy(assert_cmd::cargo::cargo_bin("asyncstudy"), &bin).unwrap();
    std::fs::set_permissions(&bin, PermissionsExt::from_mode(0o755)).unwrap();
    (dir, bin)
}

/// Runs `bin args` as [`NOBODY`] with its threads limited, its temporary directories in `tmp`.
fn run_limited(bin: &Path, args: &[&str], tmp: &Path) -> Output {
    let limit = threads_of(NOBODY) + ROOM;
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .env("TMPDIR", tmp)
        .env_remove("ASYNC_STD_THREAD_COUNT")
        .env_remove("RUST_BACKTRACE")
        .uid(NOBODY)
        .gid(NOBODY);
    // SAFETY: the closure only calls setrlimit, which is async-signal-safe, on a local value.
    unsafe {
        cmd.pre_exec(move || {
            let lim = libc::rlimit {
                rlim_cur: limit,
                rlim_max: limit,
            };
            if libc::setrlimit(libc::RLIMIT_NPROC, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.output()
        .unwrap_or_else(|e| panic!("could not start {args:?} as user {NOBODY}: {e}"))
}

/// Waits until no process started with `tmp` as its TMPDIR is left, and `tmp` is empty.
fn assert_nothing_left(tmp: &Path, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = processes_with_tmpdir(tmp);
        if left.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "{what}: {left:?} left running");
        std::thread::sleep(Duration::from_millis(20));
    }
    let files: Vec<_> = std::fs::read_dir(tmp)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(files.is_empty(), "{what}: left behind {files:?}");
}

#[test]
fn a_thread_or_process_the_os_refuses_is_one_error_and_leaves_nothing() {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!(
            "skipped: only root can start a run as another user, whose threads RLIMIT_NPROC can count apart"
        );
        return;
    }
    let (_bin_dir, bin) = runnable_copy();
    let cpu = ["cpu", "--workload", "noop", "--tasks", "2000"];
    let io = ["io", "--tasks", "20", "--latency", "1ms", "--writes", "1"];
    for rt in RUNTIMES {
        for work in [&cpu[..], &io[..]] {
            let what = format!("{rt} {}", work[0]);
            // The run, as nobody, creates its out-dir in here: under /tmp, which every user can
            // reach, where a TMPDIR may not be.
            let tmp = tempfile::tempdir_in("/tmp").unwrap();
            std::fs::set_permissions(tmp.path(), PermissionsExt::from_mode(0o777)).unwrap();
            let mut args = work.to_vec();
            args.extend(["--runtime", rt, "--workers", "1000", "--format", "json"]);
            let out = run_limited(&bin, &args, tmp.path());
            let stderr = String::from_utf8_lossy(&out.stderr);
            match rt {
                // One thread of their own, whatever --workers says: nothing to refuse.
                "serial" | "tokio-ct" => {
                    assert!(out.status.success(), "{what}: {stderr}");
                    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
                    assert_eq!(r["tasks"]["ok"], r["tasks"]["total"], "{what}");
                }
                // A thread per task: one it could not create is that task's failure.
                "thread-per-task" => {
                    assert!(out.status.success(), "{what}: {stderr}");
                    let r: Value = serde_json::from_slice(&out.stdout)
                        .unwrap_or_else(|e| panic!("{what}: no record ({e}): {stderr}"));
                    assert_accounted(&r);
                    assert!(
                        r["tasks"]["errors"]["spawn"].as_u64().unwrap_or(0) > 0,
                        "{what}: {}",
                        r["tasks"]
                    );
                }
                _ => {
                    assert_eq!(out.status.code(), Some(1), "{what}: {stderr}");
                    assert!(out.stdout.is_empty(), "{what}: printed a record");
                    let lines: Vec<&str> = stderr.lines().collect();
                    assert_eq!(lines.len(), 1, "{what}: {stderr}");
                    // e.g. "could not start pool thread 13 of 1000: Resource temporarily
                    // unavailable (os error 11)".
                    assert!(
                        lines[0].starts_with("error: could not start ")
                            && lines[0].contains("1000"),
                        "{what}: {stderr}"
                    );
                }
            }
            assert_nothing_left(tmp.path(), &what);
        }
    }
}
