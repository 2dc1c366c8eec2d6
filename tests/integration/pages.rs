//! Page files never hit anything else: a page's file name is predictable, so something planted
//! under it in the out-dir (a symlink to a file outside, a FIFO, a directory) must fail only
//! that task, with a `write` error that says why, on every runtime; the thing planted and
//! whatever it points at stay as they were, no task hangs, and every other page is written.

use crate::common;

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

use asyncstudy::workload::download::file_name;
use common::{RUNTIMES, Server, assert_accounted, asyncstudy};
use serde_json::Value;

/// Makes a FIFO at `path`.
fn mkfifo(path: &Path) {
    let c = CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path; mkfifo touches nothing else.
    let rc = unsafe { libc::mkfifo(c.as_ptr(), 0o644) };
    assert_eq!(rc, 0, "mkfifo {}", path.display());
}

#[test]
fn a_symlink_fifo_or_directory_in_a_pages_place_fails_only_that_task_on_every_runtime() {
    let server = Server::start(&["--latency", "1ms", "--page-size", "1KiB"]);
    for rt in RUNTIMES {
        let dir = tempfile::tempdir().unwrap();
        let urls: Vec<String> = (0..6).map(|i| format!("{}/page/{i}", server.url)).collect();
        let list = dir.path().join("urls.txt");
        std::fs::write(&list, urls.join("\n")).unwrap();
        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        let page = |i: usize| out.join(file_name(&urls[i]));

        // Page 1: a symlink to a file outside the out-dir; page 5: a dangling one, which
        // following would create outside.
        let victim = dir.path().join("victim.txt");
        std::fs::write(&victim, "not a page").unwrap();
        std::os::unix::fs::symlink(&victim, page(1)).unwrap();
        let dangling = dir.path().join("created-outside.txt");
        std::os::unix::fs::symlink(&dangling, page(5)).unwrap();
        // Page 2: a FIFO nobody reads, which a plain open for writing would wait on forever.
        mkfifo(&page(2));
        // Page 3: a FIFO with a reader (held here), which an open for writing gets through.
        mkfifo(&page(3));
        let _reader = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(page(3))
            .unwrap();
        // Page 4: a directory.
        std::fs::create_dir(page(4)).unwrap();

        let run = asyncstudy()
            .args(["io", "--runtime", rt, "--workers", "2", "--tasks", "6"])
            .args(["--urls", list.to_str().unwrap()])
            .args(["--out-dir", out.to_str().unwrap(), "--keep"])
            .args(["--writes", "3", "--timeout", "20s", "--format", "json"])
            .timeout(std::time::Duration::from_secs(120))
            .output()
            .unwrap();
        assert_eq!(
            run.status.code(),
            Some(0),
            "{rt}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        let r: Value = serde_json::from_slice(&run.stdout).unwrap();
        assert_accounted(&r);
        assert_eq!(r["tasks"]["ok"], 1, "{rt}: {}", r["tasks"]);
        assert_eq!(r["tasks"]["errors"]["write"], 5, "{rt}: {}", r["tasks"]);
        let mut failed: Vec<(u64, String)> = r["tasks"]["failures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                assert_eq!(f["kind"], "write", "{rt}: {f}");
                (
                    f["task"].as_u64().unwrap(),
                    f["message"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        failed.sort();
        let tasks: Vec<u64> = failed.iter().map(|(t, _)| *t).collect();
        assert_eq!(tasks, [1, 2, 3, 4, 5], "{rt}");
        for (task, msg) in &failed {
            let why = match task {
                1 | 5 => "is a symlink",
                2..=4 => "not a regular file",
                _ => unreachable!(),
            };
            assert!(msg.contains(why), "{rt}: task {task}: {msg}");
            assert!(
                msg.contains(&file_name(&urls[*task as usize])),
                "{rt}: {msg}"
            );
        }
        assert!(failed[2].1.contains("(a FIFO)"), "{rt}: {}", failed[2].1);
        assert!(
            failed[3].1.contains("(a directory)"),
            "{rt}: {}",
            failed[3].1
        );

        // Nothing outside the out-dir changed, and what was planted is still there.
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "not a page");
        assert!(!dangling.exists(), "{rt}: wrote through a dangling symlink");
        assert_eq!(std::fs::read_link(page(1)).unwrap(), victim, "{rt}");
        for i in [2, 3] {
            let t = std::fs::symlink_metadata(page(i)).unwrap().file_type();
            assert!(t.is_fifo(), "{rt}: page {i} is no longer a FIFO");
        }
        assert_eq!(std::fs::read_dir(page(4)).unwrap().count(), 0, "{rt}");
        // The page with nothing in its way is written in full.
        assert_eq!(std::fs::read(page(0)).unwrap().len(), 1024, "{rt}");
    }
}
