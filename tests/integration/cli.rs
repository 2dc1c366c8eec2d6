//! The command line's contract: help, listings, and bad input rejected before any work.

use crate::common;

use common::{asyncstudy, run_json};
use predicates::prelude::*;

/// Runs `args`, expects exit 2, one line on stderr that contains `want`, nothing on stdout.
fn rejects(args: &[&str], want: &str) {
    let out = asyncstudy().args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(
        out.stdout.is_empty(),
        "{args:?} printed {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(
        stderr.lines().count(),
        1,
        "{args:?}: not one line: {stderr}"
    );
    assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
    assert!(stderr.contains(want), "{args:?}: {stderr:?} lacks {want:?}");
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let cases: [(&str, &str); 16] = [
        (
            "cpu -r threads --workers 0",
            "'--workers <N>': must be at least 1",
        ),
        (
            "cpu -r threads --tasks 0",
            "'--tasks <N>': must be at least 1",
        ),
        (
            "cpu -r threads --iters lots",
            "'lots' for '--iters <N>': not a whole number",
        ),
        (
            "cpu -r fibers",
            "invalid value 'fibers' for '--runtime <RUNTIME>'",
        ),
        (
            "cpu -r threads --workload fib",
            "'fib' for '--workload <WORKLOAD>'",
        ),
        (
            "cpu -r threads --format xml",
            "'xml' for '--format <FORMAT>'",
        ),
        (
            "cpu -r threads --output /no/such/dir/run.json",
            "--output /no/such/dir/run.json: directory /no/such/dir does not exist",
        ),
        (
            "cpu -r threads --baseline /no/such/serial.json",
            "--baseline /no/such/serial.json:",
        ),
        ("cpu -r threads --bogus", "unexpected argument '--bogus'"),
        ("dance", "unrecognized subcommand 'dance'"),
        (
            "cpu -r process-pool --inject-fault nap@1",
            "'nap@1' for '--inject-fault <KIND@TASK>': unknown fault \"nap\"",
        ),
        (
            "cpu -r process-pool --workers 2 --workers 3",
            "'--workers <N>' cannot be used multiple times",
        ),
        (
            "io -r smol --connections new,reuse",
            "--connections new,reuse: a run connects one way; `compare io` compares both",
        ),
        (
            "compare sleep --runtimes smol --connections reuse,new",
            "--connections reuse,new: a run connects one way; `compare io` compares both",
        ),
        (
            "compare io --runtimes smol --connections new,new",
            "'new,new' for '--connections <HOW>': new is listed twice",
        ),
        (
            "compare io --runtimes smol --connections new,kept",
            "'new,kept' for '--connections <HOW>': \"kept\" is not new or reuse",
        ),
    ];
    for (args, want) in cases {
        rejects(&args.split(' ').collect::<Vec<_>>(), want);
    }
}

#[test]
fn a_bare_command_shows_its_usage_and_subcommands_on_stderr_exit_2() {
    for (args, subcommands) in [
        (
            &[][..],
            &["cpu", "io", "mixed", "compare", "report", "runtimes"][..],
        ),
        (&["compare"][..], &["cpu", "io", "sleep", "mixed"][..]),
    ] {
        let out = asyncstudy().args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?} printed on stdout");
        assert!(!stderr.starts_with("error:"), "{args:?}: {stderr}");
        let usage = format!("Usage: asyncstudy {}", args.join(" "));
        assert!(stderr.contains(usage.trim_end()), "{args:?}: {stderr}");
        let commands = stderr
            .split("Commands:")
            .nth(1)
            .unwrap_or_else(|| panic!("{args:?}: no list of commands in {stderr}"));
        for name in subcommands {
            assert!(
                commands.lines().any(|l| l.trim_start().starts_with(name)),
                "{args:?}: {name} not listed in {stderr}"
            );
        }
    }
}

#[test]
fn a_missing_argument_is_named_with_how_to_see_its_choices() {
    rejects(
        &["cpu"],
        "asyncstudy cpu needs --runtime <RUNTIME>; see `asyncstudy runtimes` for the choices",
    );
    rejects(
        &["compare", "io", "--runtimes"],
        "a value is required for '--runtimes <LIST>' but none was supplied",
    );
    rejects(
        &["completions"],
        "asyncstudy completions needs <SHELL>; the choices: bash, zsh, fish",
    );
}

#[test]
fn bad_input_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.json");
    asyncstudy()
        .args(["cpu", "--runtime", "threads", "--workers", "0", "--output"])
        .arg(&path)
        .assert()
        .code(2);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn a_baseline_must_be_a_matching_serial_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rayon.json");
    asyncstudy()
        .args([
            "cpu",
            "--runtime",
            "rayon",
            "--tasks",
            "2",
            "--iters",
            "1000",
            "--output",
        ])
        .arg(&path)
        .assert()
        .success();
    let p = path.to_str().unwrap();
    rejects(
        &[
            "cpu",
            "--runtime",
            "threads",
            "--tasks",
            "2",
            "--iters",
            "1000",
            "--baseline",
            p,
        ],
        "runtime is rayon, expected a serial run",
    );

    let serial = dir.path().join("serial.json");
    asyncstudy()
        .args([
            "cpu",
            "--runtime",
            "serial",
            "--tasks",
            "2",
            "--iters",
            "1000",
            "--output",
        ])
        .arg(&serial)
        .assert()
        .success();
    let s = serial.to_str().unwrap();
    rejects(
        &[
            "cpu",
            "--runtime",
            "threads",
            "--tasks",
            "3",
            "--iters",
            "1000",
            "--baseline",
            s,
        ],
        "tasks differs: the baseline ran 2, this run 3",
    );

    let junk = dir.path().join("junk.json");
    std::fs::write(&junk, "{\"schema\": 1}").unwrap();
    rejects(
        &[
            "cpu",
            "--runtime",
            "threads",
            "--baseline",
            junk.to_str().unwrap(),
        ],
        "not a run record",
    );
}

#[test]
fn async_std_thread_count_variable_must_agree_with_workers() {
    let out = asyncstudy()
        .env("ASYNC_STD_THREAD_COUNT", "3")
        .args(["cpu", "--runtime", "async-std", "--workers", "2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: ASYNC_STD_THREAD_COUNT=3 conflicts with --workers 2: unset it or make them equal\n"
    );
}

#[test]
fn help_shows_examples_and_exits_0() {
    asyncstudy()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("asyncstudy cpu --runtime rayon"));
    asyncstudy()
        .args(["cpu", "--help"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("--baseline serial.json")
                .and(predicate::str::contains("serial, threads, thread-per-task"))
                .and(predicate::str::contains("process-per-task"))
                // The test-only fault hook stays out of the user's way.
                .and(predicate::str::contains("inject-fault").not()),
        );
    asyncstudy()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("  worker ").not());
    asyncstudy()
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::starts_with("asyncstudy "));
}

#[test]
fn runtimes_lists_all_sixteen_in_every_format() {
    let list = run_json(&["runtimes", "--format", "json"]);
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["runtime"].as_str().unwrap())
        .collect();
    let all: Vec<&str> = common::RUNTIMES
        .iter()
        .chain(&crate::python::PYTHON)
        .copied()
        .collect();
    assert_eq!(names, all);
    for r in list.as_array().unwrap() {
        assert!(!r["runs_tasks_on"].as_str().unwrap().is_empty());
        assert!(!r["workers_n_means"].as_str().unwrap().is_empty());
    }
    asyncstudy()
        .args(["runtimes", "--format", "csv"])
        .assert()
        .success()
        .stdout(predicate::function(|s: &str| {
            s.lines().count() == all.len() + 1
        }));
    asyncstudy()
        .args(["runtimes", "--format", "markdown"])
        .assert()
        .success()
        .stdout(predicate::str::contains("| `tokio-blocking`"));
    asyncstudy()
        .arg("runtimes")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "note: async-std: async-std is discontinued upstream",
        ));
}

#[test]
fn output_to_a_device_writes_through_it_and_leaves_it_a_device() {
    use std::os::unix::fs::FileTypeExt;
    let out = asyncstudy()
        .args([
            "cpu",
            "--runtime",
            "threads",
            "--workload",
            "noop",
            "--tasks",
            "2",
        ])
        .args(["--format", "json", "--output", "/dev/null"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta = std::fs::symlink_metadata("/dev/null").unwrap();
    assert!(meta.file_type().is_char_device(), "{meta:?}");
}

#[test]
fn a_second_run_writing_the_same_output_is_refused_while_the_first_runs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results.json");
    let lock = dir.path().join(".results.json.asyncstudy-lock");
    let mut first = std::process::Command::new(env!("CARGO_BIN_EXE_asyncstudy"))
        .args([
            "io",
            "--runtime",
            "serial",
            "--workload",
            "sleep",
            "--sleep",
            "5s",
        ])
        .args(["--tasks", "1", "--warmup", "0", "--repeat", "1", "--output"])
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The lock is taken before any work; wait for it (generously: the machine may be busy).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !lock.exists() {
        assert!(std::time::Instant::now() < deadline, "no lock appeared");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let second = asyncstudy()
        .args([
            "cpu",
            "--runtime",
            "threads",
            "--workload",
            "noop",
            "--output",
        ])
        .arg(&out)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "results.json: another asyncstudy is writing it (pid {}: ",
            first.id()
        )),
        "{err}"
    );
    assert!(first.wait().unwrap().success());
    // The first run's results are whole, and the lock is gone with it.
    let rec: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(rec["runtime"], "serial");
    assert!(!lock.exists());
}
