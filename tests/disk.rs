//! A disk that fills up and an out-dir that goes away in the middle of a run: each write that
//! fails is a `write` failure of its task with the operating system's reason, every other task
//! still completes, and the run ends normally (exit 0, or 1 with `--strict`).
//!
//! A full disk is the kernel's own ENOSPC: some pages' files are symlinks to `/dev/full`,
//! which needs no privileges, unlike mounting a small file system.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use asyncstudy::workload::download::file_name;
use common::{Server, assert_accounted, asyncstudy};
use serde_json::Value;

/// A urls file of `n` pages of `server`, and their URLs.
fn urls(server: &Server, dir: &Path, n: usize) -> (std::path::PathBuf, Vec<String>) {
    let list: Vec<String> = (0..n).map(|i| format!("{}/page/{i}", server.url)).collect();
    let path = dir.join("urls.txt");
    std::fs::write(&path, list.join("\n")).unwrap();
    (path, list)
}

#[test]
fn a_full_disk_fails_only_the_writes_it_stops() {
    let server = Server::start(&["--latency", "1ms", "--page-size", "2KiB"]);
    for rt in ["threads", "tokio-mt", "smol", "async-std", "process-pool"] {
        let dir = tempfile::tempdir().unwrap();
        let (list, urls) = urls(&server, dir.path(), 10);
        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        // Pages 6 to 9 land on a device that is always full.
        for u in &urls[6..] {
            std::os::unix::fs::symlink("/dev/full", out.join(file_name(u))).unwrap();
        }
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
            "3",
            "--format",
            "json",
        ];
        let run = asyncstudy().args(args).output().unwrap();
        assert_eq!(run.status.code(), Some(0), "{rt}");
        let r: Value = serde_json::from_slice(&run.stdout).unwrap();
        assert_accounted(&r);
        assert_eq!(r["tasks"]["ok"], 6, "{rt}: {}", r["tasks"]);
        assert_eq!(r["tasks"]["errors"]["write"], 4, "{rt}: {}", r["tasks"]);
        for f in r["tasks"]["failures"].as_array().unwrap() {
            assert!(f["task"].as_u64().unwrap() >= 6, "{rt}: {f}");
            let msg = f["message"].as_str().unwrap();
            assert!(msg.contains("No space left on device"), "{rt}: {msg}");
        }
        // --strict: the same run, reported, then exit 1.
        let strict = asyncstudy().args(args).arg("--strict").output().unwrap();
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
