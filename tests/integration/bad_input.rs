//! The bad-input matrix: inputs across every subcommand, each rejected before any work with
//! exit 2, one line on stderr that names the input, nothing on stdout and no file written. The
//! README's troubleshooting table lists the same inputs; a test keeps the two in step.

use crate::common;

use std::collections::BTreeSet;
use std::path::Path;

use common::asyncstudy;

/// (arguments, what the one line must contain). Run in a directory holding the fixtures of
/// [`fixtures`].
const MATRIX: &[(&str, &str)] = &[
    (
        "cpu",
        "asyncstudy cpu needs --runtime <RUNTIME>; see `asyncstudy runtimes` for the choices",
    ),
    ("cpu --runtime goroutines", "'goroutines' for '--runtime"),
    (
        "cpu --runtime py-threads --python /nonexistent/python3",
        "--python /nonexistent/python3: cannot run it: No such file or directory",
    ),
    (
        "cpu --runtime py-threads --python true",
        "--python true: not a Python 3 interpreter the harness can use",
    ),
    ("cpu --runtime threads --workers 0", "'0' for '--workers"),
    ("cpu --runtime threads --tasks -3", "'-3' for '--tasks"),
    ("cpu --runtime threads --iters 1e9", "'1e9' for '--iters"),
    (
        "cpu --runtime threads --workload fib",
        "'fib' for '--workload",
    ),
    ("cpu --runtime threads --rate 0", "'0' for '--rate"),
    (
        "cpu --runtime threads --format yaml",
        "'yaml' for '--format",
    ),
    (
        "cpu --runtime threads --output no/such/out.json",
        "--output no/such/out.json: directory no/such does not exist",
    ),
    (
        "cpu --runtime threads --output afile/out.json",
        "--output afile/out.json: afile is not a directory",
    ),
    (
        "cpu --runtime threads --output out.json --baseline notours.json",
        "--baseline notours.json: not a run record",
    ),
    (
        "io --runtime threads --workload sleep --sleep 300ms --tasks 2 --baseline sleep-10ms.json",
        "--baseline sleep-10ms.json: sleep differs: the baseline ran 10ms, this run 300ms",
    ),
    (
        "io --runtime serial --workload sleep --sleep 10ms --tasks 2 --baseline sleep-10ms.json --output sleep-10ms.json",
        "--output sleep-10ms.json: is the --baseline file; the run would replace the baseline",
    ),
    (
        "cpu --runtime threads --output link.json",
        "--output link.json: is a symlink; give the path it points to",
    ),
    (
        "cpu --runtime threads --output sock",
        "--output sock: is a socket",
    ),
    (
        "cpu --runtime threads --output /proc/out.json",
        "--output /proc/out.json: cannot write in /proc",
    ),
    (
        "cpu --runtime threads --workers 20000",
        "--workers 20000: threads would start 20000 workers, over --max-threads 12000",
    ),
    (
        "cpu --runtime threads --workload noop --tasks 10000000000",
        "--tasks 10000000000: their records would need about",
    ),
    (
        "cpu --runtime threads --workload noop --tasks 10 --rate 0.000001",
        "--rate 0.000001: submitting 10 tasks would take 104 days, over the limit of 7 days",
    ),
    (
        "io --runtime smol --urls /dev/zero",
        "--urls /dev/zero: longer than the limit of 4 MiB",
    ),
    (
        "io --runtime smol --page-size 100GiB",
        "--page-size 100 GiB: over the limit of 1 GiB",
    ),
    (
        "io --runtime smol --max-page-size 100000GiB",
        "--max-page-size 100000 GiB: more than half this machine's available memory",
    ),
    (
        "io --runtime threads --timeout 18446744073709551615s",
        "'18446744073709551615s' for '--timeout <DURATION>': over the limit of 7 days",
    ),
    (
        "io --runtime smol --urls missing.txt",
        "--urls missing.txt: No such file",
    ),
    (
        "io --runtime smol --urls empty-urls.txt",
        "--urls empty-urls.txt: no URLs in it",
    ),
    (
        "io --runtime smol --urls bad-urls.txt",
        "bad-urls.txt:2: not a URL: \"htp:/x\"",
    ),
    (
        "io --runtime smol --urls creds-urls.txt",
        "creds-urls.txt:2: a URL with credentials (user:password@) is refused: \"http://***@example.com/private\"",
    ),
    (
        "io --runtime smol --urls binary-urls.txt",
        "--urls binary-urls.txt: not UTF-8",
    ),
    ("io --runtime smol --writes 0", "'0' for '--writes"),
    (
        "io --runtime smol --connections foo",
        "'foo' for '--connections",
    ),
    (
        "io --runtime smol --server ftp://x",
        "'ftp://x' for '--server <URL>': not an http(s) URL with a host",
    ),
    (
        "io --runtime smol --client-cpus 99",
        "'99' for '--client-cpus <LIST>': CPU 99 is not one this process may run on",
    ),
    (
        "io --runtime smol --tls --urls bad-urls.txt",
        "'--tls' cannot be used with '--urls <FILE>'",
    ),
    (
        "io --runtime smol --server http://127.0.0.1:9 --server-cert afile",
        "--server-cert afile: only for an https --server",
    ),
    (
        "io --runtime smol --out-dir afile",
        "--out-dir afile: cannot be created",
    ),
    (
        "io --runtime smol --page-size 12XB",
        "'12XB' for '--page-size",
    ),
    ("io --runtime smol --latency soon", "'soon' for '--latency"),
    ("io --runtime smol --timeout 0.5", "'0.5' for '--timeout"),
    (
        "io --runtime smol --error-rate 1.5",
        "'1.5' for '--error-rate",
    ),
    (
        "io --runtime smol --error-rate 0.6 --reset-rate 0.6",
        "--error-rate + --reset-rate + --stall-rate is 1.2",
    ),
    (
        "io --runtime thread-per-task --workers 50000 --tasks 50000",
        "--workers 50000: thread-per-task would run 50000 tasks at once, over --max-threads",
    ),
    ("mixed --runtime smol --io disk", "'disk' for '--io"),
    ("mixed --runtime smol --cpu-tasks 0", "'0' for '--cpu-tasks"),
    ("serve --bind localhost", "'localhost' for '--bind"),
    ("serve --latency-dist gamma", "'gamma' for '--latency-dist"),
    (
        "compare cpu --runtimes threads,threads",
        "--runtimes: threads is listed twice",
    ),
    ("compare cpu --workers 1,x", "'1,x' for '--workers"),
    ("compare cpu --tasks 4,-2", "'4,-2' for '--tasks"),
    (
        "compare sleep --scale --runtimes threads",
        "--runtimes: threads cannot run one unit per task with --scale",
    ),
    (
        "compare io --plots afile",
        "--plots afile: exists and is not a directory",
    ),
    (
        "compare cpu --rate inf --output out.json",
        "'inf' for '--rate",
    ),
    (
        "report",
        "asyncstudy report needs <FILE>; see `asyncstudy report --help`",
    ),
    ("report missing.json", "missing.json: cannot read"),
    (
        "report notours.json",
        "notours.json: not an asyncstudy record",
    ),
    ("report cut.json", "cut.json: not valid JSON"),
    (
        "report contradicts.json",
        "contradicts.json: contradicts itself: tasks.ok 3 + tasks.failed 0 is not tasks.total 2",
    ),
    (
        "report notours.json --output notours.json",
        "--output notours.json: is the record being reported",
    ),
    (
        "report incomplete.json",
        "incomplete.json: not a complete asyncstudy.run/1 record",
    ),
    (
        "study --out afile",
        "--out afile: exists and is not a directory",
    ),
    ("completions powershell", "'powershell' for '<SHELL>'"),
];

/// The files the matrix refers to.
fn fixtures(dir: &Path) {
    let files: [(&str, &[u8]); 8] = [
        ("bad-urls.txt", b"http://ok.example/\nhtp:/x\n"),
        (
            "creds-urls.txt",
            b"http://ok.example/\nhttp://alice:secret@example.com/private\n",
        ),
        ("empty-urls.txt", b"# nothing here\n\n"),
        ("binary-urls.txt", b"\xff\xfe"),
        ("notours.json", br#"{"schema":"other/1"}"#),
        ("cut.json", br#"{"schema":"asyncstudy.run/1","tool"#),
        ("incomplete.json", br#"{"schema":"asyncstudy.run/1"}"#),
        ("afile", b"x"),
    ];
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    // A real serial baseline, of other work than the run that names it.
    asyncstudy()
        .args(
            "io --runtime serial --workload sleep --sleep 10ms --tasks 2 --warmup 0 --repeat 1"
                .split_whitespace(),
        )
        .args(["--output", "sleep-10ms.json"])
        .current_dir(dir)
        .assert()
        .success();
    // The same record, made to say more tasks succeeded than ran.
    let mut r: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("sleep-10ms.json")).unwrap()).unwrap();
    r["tasks"]["ok"] = 3.into();
    std::fs::write(dir.join("contradicts.json"), r.to_string()).unwrap();
    std::os::unix::fs::symlink("afile", dir.join("link.json")).unwrap();
    drop(std::os::unix::net::UnixListener::bind(dir.join("sock")).unwrap());
}

fn listing(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn every_bad_input_is_one_line_naming_it_exit_2_and_nothing_written() {
    assert!(MATRIX.len() >= 20);
    let dir = tempfile::tempdir().unwrap();
    fixtures(dir.path());
    let before = listing(dir.path());
    for (args, names) in MATRIX {
        let out = asyncstudy()
            .args(args.split_whitespace())
            .current_dir(dir.path())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args}: {err}");
        assert!(out.stdout.is_empty(), "{args}: wrote to stdout");
        assert_eq!(err.lines().count(), 1, "{args}: {err}");
        assert!(err.starts_with("error: "), "{args}: {err}");
        assert!(
            err.contains(names),
            "{args}: {err:?} does not say {names:?}"
        );
        assert_eq!(listing(dir.path()), before, "{args}: wrote a file");
    }
}

#[test]
fn the_readme_lists_the_matrix() {
    let readme = include_str!("../../README.md");
    for (args, _) in MATRIX {
        assert!(
            readme.contains(&format!("`asyncstudy {args}`")),
            "README's troubleshooting table lacks `asyncstudy {args}`"
        );
    }
}
