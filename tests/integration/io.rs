//! `asyncstudy io` and `asyncstudy serve` end to end, on loopback only: every runtime downloads
//! from the embedded server with its own client, faults are counted by kind, files stay in the
//! out-dir, and the server is gone after the run.

use crate::common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use asyncstudy::server::page_body;
use asyncstudy::workload::download::file_name;
use common::{RUNTIMES, Server, asyncstudy, run_json};
use serde_json::Value;

fn exists(pid: u64) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
fn every_runtime_downloads_every_page_with_the_right_bytes() {
    for rt in RUNTIMES {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("pages");
        let r = run_json(&[
            "io",
            "--runtime",
            rt,
            "--workers",
            "2",
            "--tasks",
            "6",
            "--writes",
            "3",
            "--latency",
            "5ms",
            "--page-size",
            "5000",
            "--out-dir",
            out.to_str().unwrap(),
            "--format",
            "json",
        ]);
        assert_eq!(r["workload"]["kind"], "io", "{rt}");
        assert_eq!(r["workload"]["name"], "download");
        assert_eq!(r["tasks"]["ok"], 6, "{rt}: {}", r["tasks"]);
        assert_eq!(r["bytes_per_run"], 6 * 5000, "{rt}");
        let base = r["workload"]["params"]["server_url"].as_str().unwrap();
        for i in 0..6u64 {
            let path = out.join(file_name(&format!("{base}/page/{i}")));
            let bytes = std::fs::read(&path)
                .unwrap_or_else(|e| panic!("{rt}: {} missing: {e}", path.display()));
            assert_eq!(bytes, page_body(i, 5000), "{rt}: page {i}");
        }
        assert_eq!(
            std::fs::read_dir(&out).unwrap().count(),
            6,
            "{rt}: one file per page"
        );
        for t in r["timeline"].as_array().unwrap() {
            let (submit, start, end) = common::times(t);
            assert!(end >= start && start >= submit, "{rt}: {t}");
            // Every task waited for the server's 5 ms at least.
            assert!(end - start >= 5.0, "{rt}: {t}");
        }
        // Each family uses its own client: no tokio thread outside the tokio runtimes. (That
        // the sampler does see tokio's threads where they are is checked below, on a run long
        // enough for it to look whatever the load.)
        let names = r["threads"]["names"].to_string();
        if !rt.starts_with("tokio") {
            assert!(
                !names.contains("\"tokio"),
                "{rt}: a tokio thread in {names}"
            );
        }
        let pid = r["workload"]["params"]["server_pid"].as_u64().unwrap();
        assert!(!exists(pid), "{rt}: the server {pid} outlived the run");
        // The embedded server is not one of the runtime's processes: its cost is shown apart.
        let processes = match rt {
            "process-pool" | "process-per-task" => 1..=3,
            _ => 1..=1,
        };
        let peak = r["processes"]["peak"].as_u64().unwrap();
        assert!(processes.contains(&peak), "{rt}: {peak} processes");
    }
}

#[test]
fn the_sampler_sees_the_tokio_threads_of_a_tokio_download() {
    // tokio-mt's workers live the whole run: two waits of 300 ms, over a hundred of the
    // sampler's 5 ms periods, so even a sampler starved on a loaded machine looks in time.
    let r = run_json(&[
        "io",
        "--runtime",
        "tokio-mt",
        "--workers",
        "2",
        "--tasks",
        "2",
        "--writes",
        "1",
        "--latency",
        "300ms",
        "--format",
        "json",
    ]);
    assert_eq!(r["tasks"]["ok"], 2, "{}", r["tasks"]);
    let names = r["threads"]["names"].to_string();
    assert!(names.contains("\"tokio-mt"), "threads {names}");
}

#[test]
fn the_default_out_dir_is_removed_and_keep_keeps_it() {
    let r = run_json(&[
        "io",
        "-r",
        "smol",
        "-t",
        "2",
        "--latency",
        "1ms",
        "-f",
        "json",
    ]);
    assert_eq!(r["tasks"]["ok"], 2);
    assert!(r["workload"]["params"].get("out_dir").is_none());

    let out = asyncstudy()
        .args([
            "io",
            "-r",
            "threads",
            "-t",
            "2",
            "--latency",
            "1ms",
            "--keep",
            "-f",
            "json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let dir = r["workload"]["params"]["out_dir"]
        .as_str()
        .unwrap()
        .to_string();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("kept the pages in {dir}")),
        "{stderr}"
    );
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn injected_faults_are_counted_by_kind_and_every_task_is_accounted_for() {
    for rt in ["tokio-mt", "smol", "async-std", "threads", "process-pool"] {
        let r = run_json(&[
            "io",
            "--runtime",
            rt,
            "--tasks",
            "60",
            "--workers",
            "4",
            "--writes",
            "1",
            "--latency",
            "2ms",
            "--error-rate",
            "0.2",
            "--reset-rate",
            "0.2",
            "--stall-rate",
            "0.1",
            "--timeout",
            "500ms",
            "--seed",
            "7",
            "--format",
            "json",
        ]);
        let t = &r["tasks"];
        let (ok, failed, total) = (
            t["ok"].as_u64().unwrap(),
            t["failed"].as_u64().unwrap(),
            t["total"].as_u64().unwrap(),
        );
        assert_eq!(ok + failed, total, "{rt}: {t}");
        assert_eq!(total, 60);
        let errors = t["errors"].as_object().unwrap();
        for kind in ["http_5xx", "reset", "timeout"] {
            assert!(
                errors.get(kind).and_then(Value::as_u64).unwrap_or(0) > 0,
                "{rt}: no {kind} among {errors:?}"
            );
        }
        let by_kind: u64 = errors.values().map(|v| v.as_u64().unwrap()).sum();
        assert_eq!(by_kind, failed, "{rt}: {errors:?}");
        assert!(ok > 0, "{rt}: some pages got through");
    }
}

#[test]
fn a_urls_file_of_loopback_pages_works_and_names_stay_inside_the_out_dir() {
    let server = Server::start(&["--latency", "1ms", "--page-size", "300"]);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let urls = dir.path().join("urls.txt");
    let u = &server.url;
    let hostile = [
        format!("{u}/page/..%2F..%2F..%2Fescaped"),
        // Encoded slashes: a client may not normalize them away, the file name must.
        format!("{u}/page/%2e%2e%2f%2e%2e%2fescaped%00"),
        format!("{u}/page/{}", "x".repeat(400)),
        format!("{u}/page/3?file=../../escaped"),
    ];
    std::fs::write(
        &urls,
        format!(
            "# pages for the test\n\n{u}/page/1\n{}\n",
            hostile.join("\n")
        ),
    )
    .unwrap();
    let r = run_json(&[
        "io",
        "--runtime",
        "tokio-ct",
        "--urls",
        urls.to_str().unwrap(),
        "--tasks",
        "10",
        "--writes",
        "2",
        "--out-dir",
        out.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(r["tasks"]["ok"], 10, "{}", r["tasks"]);
    // Five URLs, cycled: five files, all directly in the out-dir, nothing anywhere else.
    let files: Vec<_> = std::fs::read_dir(&out).unwrap().flatten().collect();
    assert_eq!(files.len(), 5);
    for f in &files {
        assert!(f.file_type().unwrap().is_file());
        assert_eq!(std::fs::read(f.path()).unwrap().len(), 300);
    }
    let around: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
    assert_eq!(around.len(), 2, "only urls.txt and out/: {around:?}");
    assert!(!dir.path().join("escaped").exists());
}

#[test]
fn serve_prints_its_address_keeps_connections_alive_and_exits_when_stdin_closes() {
    let mut server = Server::start(&["--latency", "0ms", "--page-size", "100"]);
    let addr = server.url.strip_prefix("http://").unwrap().to_string();
    let mut conn = TcpStream::connect(&addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    // Two requests on one connection: keep-alive.
    for n in [1, 2] {
        write!(conn, "GET /page/{n} HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            conn.read_exact(&mut byte).unwrap();
            head.push(byte[0]);
        }
        let head = String::from_utf8(head).unwrap();
        assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
        assert!(
            head.to_lowercase().contains("content-length: 100"),
            "{head}"
        );
        let mut body = vec![0u8; 100];
        conn.read_exact(&mut body).unwrap();
        assert_eq!(body, page_body(n, 100));
    }
    write!(conn, "GET /elsewhere HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut status = [0u8; 12];
    conn.read_exact(&mut status).unwrap();
    assert_eq!(&status, b"HTTP/1.1 404");
    drop(server.child.stdin.take());
    let status = server.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

#[test]
fn sleep_tasks_wait_on_every_runtime() {
    for rt in [
        "tokio-mt",
        "tokio-ct",
        "tokio-blocking",
        "smol",
        "async-std",
        "threads",
    ] {
        let r = run_json(&[
            "io",
            "--runtime",
            rt,
            "--workload",
            "sleep",
            "--sleep",
            "20ms",
            "--tasks",
            "4",
            "--format",
            "json",
        ]);
        assert_eq!(r["workload"]["kind"], "sleep");
        assert_eq!(r["tasks"]["ok"], 4, "{rt}");
        assert!(r["service_ms"]["p50"].as_f64().unwrap() >= 20.0, "{rt}");
    }
    // Blocking sleeps on tokio-ct hold its one thread: tasks run one after another.
    let r = run_json(&[
        "io",
        "-r",
        "tokio-ct",
        "--workload",
        "sleep",
        "--sleep",
        "20ms",
        "-t",
        "4",
        "--blocking",
        "-f",
        "json",
    ]);
    let mut spans: Vec<(f64, f64)> = r["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["start_ms"].as_f64().unwrap(),
                t["end_ms"].as_f64().unwrap(),
            )
        })
        .collect();
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    for w in spans.windows(2) {
        assert!(w[1].0 >= w[0].1, "blocking sleeps overlapped: {spans:?}");
    }
}

#[test]
fn a_sleeping_serial_run_is_not_billed_for_the_sampler() {
    // The main thread blocks once per sleep; the 5 ms sampler wakes ~120 times in 600 ms.
    let r = run_json(&[
        "io",
        "--runtime",
        "serial",
        "--workload",
        "sleep",
        "--tasks",
        "4",
        "--sleep",
        "150ms",
        "--format",
        "json",
    ]);
    assert_eq!(r["tasks"]["ok"], 4);
    let switches = &r["context_switches"];
    let voluntary = switches["voluntary"].as_u64().unwrap();
    // 4 sleeps and the sampler's join make 5. A sleeping thread's switches do not depend on
    // the machine's speed or load, and the sampler's wake-ups would be 10 times the bound.
    assert!((4..=40).contains(&voluntary), "{switches}");
    // The run itself used well under 1 ms of CPU; the sampler's ~120 looks cost 4 to 18 ms.
    let cores = r["cpu"]["cores_used"].as_f64().unwrap();
    assert!(cores < 0.02, "{}", r["cpu"]);
}

#[test]
fn bad_io_input_is_one_line_and_exit_2_before_any_request() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, "# nothing\n\n").unwrap();
    let bad_url = dir.path().join("bad.txt");
    std::fs::write(&bad_url, "http://127.0.0.1:9/page/1\n\nhtp:/x\n").unwrap();
    let ftp = dir.path().join("ftp.txt");
    std::fs::write(&ftp, "ftp://example.com/file\n").unwrap();
    let binary = dir.path().join("binary.txt");
    std::fs::write(&binary, [0xff, 0xfe, 0x00]).unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let cases: Vec<(Vec<String>, String)> = vec![
        (
            vec!["--urls".into(), "/no/such/urls.txt".into()],
            "--urls /no/such/urls.txt: No such file".into(),
        ),
        (
            vec!["--urls".into(), empty.display().to_string()],
            format!("--urls {}: no URLs in it", empty.display()),
        ),
        (
            vec!["--urls".into(), bad_url.display().to_string()],
            format!("{}:3: not a URL: \"htp:/x\"", bad_url.display()),
        ),
        (
            vec!["--urls".into(), ftp.display().to_string()],
            format!("{}:1: not a URL: \"ftp://example.com/file\"", ftp.display()),
        ),
        (
            vec!["--urls".into(), binary.display().to_string()],
            "not UTF-8 text".into(),
        ),
        (
            vec!["--writes".into(), "0".into()],
            "'--writes <N>': must be at least 1".into(),
        ),
        (
            vec!["--out-dir".into(), file.join("sub").display().to_string()],
            "cannot be created".into(),
        ),
        (
            vec!["--timeout".into(), "soon".into()],
            "'soon' for '--timeout <DURATION>'".into(),
        ),
        (
            vec!["--page-size".into(), "12 parsecs".into()],
            "'12 parsecs' for '--page-size <SIZE>'".into(),
        ),
        (
            vec!["--error-rate".into(), "1.5".into()],
            "expected a number from 0 to 1".into(),
        ),
        (
            vec![
                "--error-rate".into(),
                "0.6".into(),
                "--reset-rate".into(),
                "0.6".into(),
            ],
            "more than 1".into(),
        ),
        (
            vec!["--latency-dist".into(), "normalish".into()],
            "'normalish' for '--latency-dist <DIST>'".into(),
        ),
    ];
    for (args, want) in cases {
        let out = asyncstudy()
            .args(["io", "--runtime", "threads"])
            .args(&args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(
            stderr.contains(&want),
            "{args:?}: {stderr:?} lacks {want:?}"
        );
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}
