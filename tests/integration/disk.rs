//! A disk that fills up and an out-dir that goes away in the middle of a run: each write that
//! fails is a `write` failure of its task with the operating system's reason, every other task
//! still completes, and the run ends normally (exit 0, or 1 with `--strict`).
//!
//! A full disk is the kernel's own ENOSPC from a real file system: a tmpfs of a few pages,
//! mounted as the out-dir inside a user and mount namespace (`unshare`), which needs no
//! privileges where the kernel allows unprivileged user namespaces. (Symlinking page files to
//! `/dev/full` would be simpler, but page files are never written through a symlink nor into
//! a device, which `tests/pages.rs` checks.) Where namespaces are not allowed the full-disk
//! test says so on stderr and skips.

use crate::common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{Server, assert_accounted};
use serde_json::Value;

/// A urls file of `n` pages of `server`, and their URLs.
fn urls(server: &Server, dir: &Path, n: usize) -> (std::path::PathBuf, Vec<String>) {
    let list: Vec<String> = (0..n).map(|i| format!("{}/page/{i}", server.url)).collect();
    let path = dir.join("urls.txt");
    std::fs::write(&path, list.join("\n")).unwrap();
    (path, list)
}

/// Memory pages in the test's tmpfs: room for this many page files, as each page (2 KiB)
/// takes one.
const ROOM: usize = 6;

/// A command that mounts a tmpfs of [`ROOM`] memory pages on `out` in a new user and mount
/// namespace, then runs `program` there with `args`; the mount goes with the namespace.
fn on_small_tmpfs(out: &Path, program: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new("unshare");
    cmd.args(["--user", "--map-root-user", "--mount", "--", "sh", "-c"])
        .arg(format!(
            "mount -t tmpfs -o nr_blocks={ROOM} asyncstudy-full \"$0\" && exec \"$@\""
        ))
        .arg(out)
        .arg(program)
        .args(args)
        .env_remove("ASYNC_STD_THREAD_COUNT");
    cmd
}

#[test]
fn a_full_disk_fails_only_the_writes_it_stops() {
    let probe_dir = tempfile::tempdir().unwrap();
    let probe = on_small_tmpfs(probe_dir.path(), Path::new("true"), &[]).output();
    if !probe.as_ref().is_ok_and(|o| o.status.success()) {
        eprintln!(
            "SKIPPED a_full_disk_fails_only_the_writes_it_stops: no unprivileged tmpfs mount \
             here (unshare --user --mount: {probe:?})"
        );
        return;
    }
    let server = Server::start(&["--latency", "1ms", "--page-size", "2KiB"]);
    let program = assert_cmd::cargo::cargo_bin("asyncstudy");
    for rt in ["threads", "tokio-mt", "smol", "async-std", "process-pool"] {
        let dir = tempfile::tempdir().unwrap();
        let (list, _) = urls(&server, dir.path(), 10);
        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        // One write per page: a rewrite would truncate its page and free the memory page for
        // another task, which makes which tasks fail (and how many) a race.
        let args = [
            "io",
            "--runtime",
            rt,
            "--workers",
            "2",
            "--tasks",
            "10",
            "--urls",
            list.to_str().unwrap(),
            "--out-dir",
            out.to_str().unwrap(),
            "--writes",
            "1",
            "--format",
            "json",
        ];
        let run = on_small_tmpfs(&out, &program, &args).output().unwrap();
        assert_eq!(
            run.status.code(),
            Some(0),
            "{rt}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        let r: Value = serde_json::from_slice(&run.stdout).unwrap();
        assert_accounted(&r);
        assert_eq!(r["tasks"]["ok"], ROOM, "{rt}: {}", r["tasks"]);
        assert_eq!(
            r["tasks"]["errors"]["write"],
            10 - ROOM,
            "{rt}: {}",
            r["tasks"]
        );
        for f in r["tasks"]["failures"].as_array().unwrap() {
            let msg = f["message"].as_str().unwrap();
            assert!(msg.contains("No space left on device"), "{rt}: {msg}");
        }
        // --strict: the same run, reported, then exit 1.
        let strict = on_small_tmpfs(&out, &program, &args)
            .arg("--strict")
            .output()
            .unwrap();
        assert_eq!(strict.status.code(), Some(1), "{rt}");
    }
}

#[test]
fn an_out_dir_removed_mid_run_fails_the_writes_after_it() {
    let server = Server::start(&["--latency", "100ms", "--page-size", "1KiB"]);
    for rt in ["threads", "tokio-mt", "smol"] {
        let dir = tempfile::tempdir().unwrap();
        let (list, _) = urls(&server, dir.path(), 24);
        let out = dir.path().join("out");
        let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("asyncstudy"))
            .args([
                "io",
                "--runtime",
                rt,
                "--workers",
                "2",
                "--concurrency",
                "2",
                "--tasks",
                "24",
                "--urls",
                list.to_str().unwrap(),
                "--out-dir",
                out.to_str().unwrap(),
                "--writes",
                "1",
                "--format",
                "json",
            ])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Once the first page is written, the directory goes away under the run.
        let deadline = Instant::now() + Duration::from_secs(20);
        while !std::fs::read_dir(&out).is_ok_and(|mut d| d.next().is_some()) {
            assert!(Instant::now() < deadline, "{rt}: no page written");
            std::thread::sleep(Duration::from_millis(5));
        }
        // A page written between remove_dir_all's listing and its rmdir leaves the directory
        // not empty: the run is still writing, which is the point, so try again.
        while let Err(e) = std::fs::remove_dir_all(&out) {
            assert_eq!(e.kind(), std::io::ErrorKind::DirectoryNotEmpty, "{rt}: {e}");
            assert!(Instant::now() < deadline, "{rt}: {e}");
        }
        let run = child.wait_with_output().unwrap();
        assert_eq!(run.status.code(), Some(0), "{rt}");
        let r: Value = serde_json::from_slice(&run.stdout).unwrap();
        assert_accounted(&r);
        assert_eq!(r["tasks"]["total"], 24);
        let written = r["tasks"]["ok"].as_u64().unwrap();
        let lost = r["tasks"]["errors"]["write"].as_u64().unwrap_or(0);
        assert!(written >= 1 && lost >= 1, "{rt}: {}", r["tasks"]);
        assert_eq!(
            written + lost,
            24,
            "{rt}: only write errors: {}",
            r["tasks"]
        );
    }
}
