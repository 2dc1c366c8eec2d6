//! The seeds' own Python models, measured by this harness: `py-serial`, `py-threads`
//! (`concurrent.futures.ThreadPoolExecutor`), `py-processes` (`ProcessPoolExecutor`) and
//! `py-asyncio`.
//!
//! A run starts one interpreter with `std::process::Command` (no shell) through
//! [`crate::child`], in a process group of its own, running the script shipped in the binary
//! (`python/harness.py`, passed with `-c`). The plan goes to its stdin as one JSON line; it
//! starts its pool, waits until every worker runs, prints a ready line whose time starts the
//! arrival clock (so the interpreter's and the pool's start-up are the run's `startup_s`, as
//! for `process-pool`), then one JSON line per task with its submit, start and end times from
//! `time.monotonic_ns()` (CLOCK_MONOTONIC on Linux, this harness's clock), the pid and native
//! thread id that ran it and how it went. This side makes every record with
//! [`TaskRecord::new`], so histograms, timelines and verdicts treat them like any other.
//!
//! The interpreter and its pool workers are descendants of the tool: once the interpreter has
//! shut its pool down (reaping its workers) and exited, and this side has reaped it, their CPU
//! time and context switches are in `RUSAGE_CHILDREN`. Their peak RSS is each one's `VmHWM`,
//! read by the harness before it shuts the pool down; the record's children peak is their sum,
//! because the workers are grandchildren that this process's sampler does not count.
//!
//! Ctrl-C and SIGTERM kill the interpreter's whole process group at once (no grace period, as
//! for the process runtimes) and reap the interpreter; its tasks without a line are recorded as
//! `interrupted`. The harness and its workers also die with their parent (`PR_SET_PDEATHSIG`),
//! so an asyncstudy killed outright leaves no Python running.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::Duration;

use anyhow::{Context, bail};
use crossbeam_channel::{RecvTimeoutError, unbounded};
use serde_json::{Value, json};

use super::{Executor, Job, RunOutput, in_task_order};
use crate::child::Child;
use crate::clock::now_ns;
use crate::interrupt;
use crate::model::task::{IoKind, OsThread, TaskRecord};
use crate::workload::download::policy::REQUEST_HEADERS;
use crate::workload::{Download, MixedIo, Outcome, Sleep, TaskError, Work};

/// The harness script, shipped inside the binary.
pub const HARNESS: &str = include_str!("python/harness.py");

/// Which of Python's concurrency models runs the tasks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Model {
    /// One task after another on the interpreter's main thread.
    Serial,
    /// `concurrent.futures.ThreadPoolExecutor(max_workers=N)`.
    Threads,
    /// `concurrent.futures.ProcessPoolExecutor(max_workers=N)`, forked workers.
    Processes,
    /// `asyncio` coroutines on one event loop; IO awaits, CPU work runs inline.
    Asyncio,
}

impl Model {
    /// The harness's name for it.
    pub fn name(self) -> &'static str {
        match self {
            Model::Serial => "serial",
            Model::Threads => "threads",
            Model::Processes => "processes",
            Model::Asyncio => "asyncio",
        }
    }
}

/// A Python runtime: the model, its workers and the interpreter.
pub struct Python {
    /// The model.
    pub model: Model,
    /// Pool workers (threads or processes); ignored by serial and asyncio.
    pub workers: usize,
    /// Most tasks in flight on asyncio; `None`: every task.
    pub in_flight: Option<usize>,
    /// The interpreter to start (`python3` is looked up on `PATH`).
    pub interpreter: PathBuf,
}

/// The interpreter when `--python` is not given.
pub const DEFAULT_INTERPRETER: &str = "python3";

/// How often the run looks for Ctrl-C while the interpreter works.
const WATCH_EVERY: Duration = Duration::from_millis(20);

impl Executor for Python {
    fn run(&self, job: &Job, tasks: usize) -> anyhow::Result<RunOutput> {
        let work = job
            .work()
            .context("this job cannot be described to the Python harness")?;
        let plan = json!({
            "model": self.model.name(),
            "workers": self.workers.max(1),
            "in_flight": self.in_flight,
            "tasks": tasks,
            "rate": job.rate(),
            "work": describe(work),
            "headers": REQUEST_HEADERS,
            "parent": std::process::id(),
        });
        interrupt::watch().context("could not take over Ctrl-C and SIGTERM")?;
        // The interpreter dies with the thread that started it (PR_SET_PDEATHSIG), so it is
        // started here, on the thread that waits for it, never on a helper thread.
        let child = Child::spawn_for_run(
            Command::new(&self.interpreter)
                .arg("-c")
                .arg(HARNESS)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit()),
        )
        .with_context(|| format!("could not start {}", self.interpreter.display()))?;
        let mut guard = GroupGuard(child);
        drive(&mut guard.0, &self.interpreter, &plan, tasks)
    }
}

/// Kills the interpreter's process group on every way out of a run.
struct GroupGuard(Child);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.0.kill_group();
    }
}

/// One line from the harness.
enum Line {
    Ready { t0_ns: u64 },
    Task(TaskRecord),
    End(End),
    Error(String),
    Garbage(String),
}

/// What the harness says last, once every worker has been shut down.
#[derive(Debug, Clone, Copy, PartialEq)]
struct End {
    /// The interpreter's peak RSS plus each pool worker's.
    peak_rss: u64,
    /// Processes whose peak RSS could not be read.
    unmeasured: u64,
    /// The interpreter and its pool's worker processes.
    processes: u64,
    /// The most threads the interpreter had alive at once, its main thread included.
    threads: u64,
}

impl End {
    /// What is known without the last line: one process, unmeasured, of unknown threads.
    fn unsaid() -> End {
        End {
            peak_rss: 0,
            unmeasured: 1,
            processes: 1,
            threads: 0,
        }
    }
}

/// Feeds the plan to the started interpreter, reads its lines until it ends, and returns the
/// run's records.
fn drive(
    child: &mut Child,
    interpreter: &Path,
    plan: &Value,
    tasks: usize,
) -> anyhow::Result<RunOutput> {
    let name = interpreter.display().to_string();
    let mut stdin = child.take_stdin().expect("stdin was piped");
    let stdout = child.take_stdout().expect("stdout was piped");
    // The plan is one line; closing stdin after it is the end of the harness's input.
    let sent = writeln!(stdin, "{plan}");
    drop(stdin);
    let (tx, lines) = unbounded::<Line>();
    let reader = thread::Builder::new()
        .name("asyncstudy-python-reader".into())
        .spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(parse(&line)).is_err() {
                    break;
                }
            }
        })
        .context("could not start the thread that reads the Python harness")?;
    let heard = listen(child, &lines, tasks);
    let _ = reader.join();
    let status = child.wait().ok();
    let Heard {
        ready_ns,
        mut records,
        end,
        broke,
    } = heard;
    let exited = || match status {
        Some(s) => format!("{name} ended ({s})"),
        None => format!("{name} ended"),
    };
    let Some(ready_ns) = ready_ns else {
        if interrupt::requested().is_some() {
            // Stopped before any task was submitted: every task is cut short now.
            let now = now_ns();
            let cut = (0..tasks).map(|i| cut_short(i, now)).collect();
            return Ok(RunOutput::new(cut, now));
        }
        if let Err(e) = sent {
            bail!("could not send the plan to {name}: {e}");
        }
        match broke {
            Some(why) => bail!("{why}"),
            None => bail!("{} before it was ready (its stderr is above)", exited()),
        }
    };
    // Tasks without a line: cut short by a signal, or lost with an interpreter that died.
    let mut seen = vec![false; tasks];
    records.retain(|r| r.task < tasks && !std::mem::replace(&mut seen[r.task], true));
    let now = now_ns().max(ready_ns);
    for (task, _) in seen.iter().enumerate().filter(|(_, s)| !**s) {
        records.push(if interrupt::requested().is_some() {
            cut_short(task, now)
        } else {
            let why = broke.clone().unwrap_or_else(exited);
            let when = (ready_ns, now, now);
            TaskRecord::new(task, OsThread::current(), when, Err(TaskError::Worker(why)))
        });
    }
    let end = end.unwrap_or_else(End::unsaid);
    Ok(RunOutput {
        tasks: in_task_order(records),
        ready_ns,
        internals: None,
        children_peak_rss: Some(end.peak_rss),
        children_unmeasured: end.unmeasured,
        // The interpreter itself is counted where it was started.
        grandchildren_peak: end.processes.saturating_sub(1),
        child_threads_peak: end.threads,
    })
}

/// What the harness said over a run.
struct Heard {
    /// Its ready time, if it got that far.
    ready_ns: Option<u64>,
    /// The tasks it reported.
    records: Vec<TaskRecord>,
    /// Its last line.
    end: Option<End>,
    /// Why it could not run, or the first line it should not have said.
    broke: Option<String>,
}

/// Reads the harness's lines until its stdout closes, killing its process group at a signal.
fn listen(child: &mut Child, lines: &crossbeam_channel::Receiver<Line>, tasks: usize) -> Heard {
    let mut heard = Heard {
        ready_ns: None,
        records: Vec::with_capacity(tasks),
        end: None,
        broke: None,
    };
    loop {
        match lines.recv_timeout(WATCH_EVERY) {
            Ok(Line::Ready { t0_ns }) => heard.ready_ns = Some(t0_ns),
            Ok(Line::Task(r)) => heard.records.push(r),
            Ok(Line::End(end)) => heard.end = Some(end),
            Ok(Line::Error(e)) => heard.broke = Some(e),
            Ok(Line::Garbage(g)) => {
                let what = format!("the Python harness said something else: {g}");
                heard.broke.get_or_insert(what);
            }
            Err(RecvTimeoutError::Timeout) => {
                if interrupt::requested().is_some() {
                    child.kill_group();
                }
            }
            Err(RecvTimeoutError::Disconnected) => return heard,
        }
    }
}

fn cut_short(task: usize, now: u64) -> TaskRecord {
    TaskRecord::new(
        task,
        OsThread::current(),
        (now, now, now),
        Err(TaskError::Interrupted),
    )
}

/// Reads one line of the harness.
fn parse(line: &str) -> Line {
    let garbage = || Line::Garbage(line.chars().take(200).collect());
    let Ok(v) = serde_json::from_str::<Value>(line) else {
        return garbage();
    };
    if let Some(ready) = v.get("ready") {
        return match ready.get("t0_ns").and_then(Value::as_u64) {
            Some(t0_ns) => Line::Ready { t0_ns },
            None => garbage(),
        };
    }
    if let Some(end) = v.get("end") {
        let n = |k: &str| end.get(k).and_then(Value::as_u64).unwrap_or(0);
        return Line::End(End {
            peak_rss: n("peak_rss"),
            unmeasured: n("unmeasured"),
            processes: n("processes"),
            threads: n("threads"),
        });
    }
    if let Some(e) = v.get("error").and_then(Value::as_str) {
        return Line::Error(e.to_string());
    }
    task_line(&v).unwrap_or_else(garbage)
}

/// `[task, submit_ns, start_ns, end_ns, pid, tid, bytes, kind, message]`.
fn task_line(v: &Value) -> Option<Line> {
    let a = v.as_array().filter(|a| a.len() == 9)?;
    let n = |i: usize| a[i].as_u64();
    let (task, submit, start, end) = (n(0)? as usize, n(1)?, n(2)?, n(3)?);
    let worker = OsThread {
        pid: u32::try_from(n(4)?).ok()?,
        tid: u32::try_from(n(5)?).ok()?,
    };
    let result = match a[7].as_str() {
        None => Ok(Outcome { bytes: n(6)? }),
        Some(kind) => Err(task_error(kind, a[8].as_str().unwrap_or_default())),
    };
    // A task cannot start before it was submitted nor end before it started: the harness
    // reads one clock, so only a broken line says otherwise.
    let start = start.max(submit);
    Some(Line::Task(TaskRecord::new(
        task,
        worker,
        (submit, start, end.max(start)),
        result,
    )))
}

/// The harness's error kind as the Rust side's [`TaskError`]; the names are the same.
fn task_error(kind: &str, message: &str) -> TaskError {
    const IO: [IoKind; 11] = [
        IoKind::Timeout,
        IoKind::Connect,
        IoKind::Tls,
        IoKind::Http4xx,
        IoKind::Http5xx,
        IoKind::Reset,
        IoKind::Protocol,
        IoKind::Redirect,
        IoKind::TooLarge,
        IoKind::Write,
        IoKind::Request,
    ];
    let message = message.to_string();
    if let Some(&io) = IO.iter().find(|k| k.name() == kind) {
        return TaskError::Io { kind: io, message };
    }
    match kind {
        "check" => TaskError::Check(message),
        "worker" => TaskError::Worker(message),
        "interrupted" => TaskError::Interrupted,
        _ => TaskError::Panic(message),
    }
}

/// The work as the harness reads it.
fn describe(work: &Work) -> Value {
    match work {
        Work::Cpu(c) => json!({"kind": "cpu", "cpu": cpu(c)}),
        Work::Sleep(s) => sleep(s),
        Work::Download(d) => download(d),
        Work::Mixed(m) => json!({
            "kind": "mixed",
            "cpu": cpu(&m.cpu),
            "io": match &m.io {
                MixedIo::Download(d) => download(d),
                MixedIo::Sleep(s) => sleep(s),
            },
            "io_tasks": m.io_tasks,
            "tasks": m.tasks,
        }),
    }
}

fn cpu(c: &crate::workload::CpuWork) -> Value {
    json!({"kind": c.kind.name(), "iters": c.iters})
}

fn sleep(s: &Sleep) -> Value {
    json!({"kind": "sleep", "seconds": s.duration.as_secs_f64(), "blocking": s.blocking})
}

fn download(d: &Download) -> Value {
    // The file of each URL is named here, once, so both sides name pages alike.
    let pages: Vec<(String, String)> = (0..d.urls.len())
        .map(|i| (d.url(i).to_string(), d.path(i).display().to_string()))
        .collect();
    json!({
        "kind": "download",
        "pages": pages,
        "writes": d.writes,
        "max_page_size": d.max_page_size,
        "timeout": d.timeout.as_secs_f64(),
        // The one certificate https trusts (DER, in hex), or none: the interpreter's roots.
        "trust_der_hex": d.trust.only.as_ref().map(|der| {
            der.iter().map(|b| format!("{b:02x}")).collect::<String>()
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::{CpuKind, CpuWork};

    fn python(model: Model) -> Python {
        Python {
            model,
            workers: 2,
            in_flight: None,
            interpreter: DEFAULT_INTERPRETER.into(),
        }
    }

    #[test]
    fn every_model_runs_every_task_once_on_the_harness_clock() {
        let job = Job::new(Work::Cpu(CpuWork {
            kind: CpuKind::Comp,
            iters: 1000,
        }));
        for model in [
            Model::Serial,
            Model::Threads,
            Model::Processes,
            Model::Asyncio,
        ] {
            let before = now_ns();
            let out = python(model).run(&job, 5).unwrap();
            let after = now_ns();
            assert!(before < out.ready_ns && out.ready_ns < after, "{model:?}");
            let tasks: Vec<usize> = out.tasks.iter().map(|r| r.task).collect();
            assert_eq!(tasks, (0..5).collect::<Vec<_>>(), "{model:?}");
            for r in &out.tasks {
                assert_eq!(r.error, None, "{model:?}");
                assert!(
                    out.ready_ns <= r.submit_ns && r.end_ns <= after,
                    "{model:?}: {r:?}"
                );
                assert_ne!(r.worker.pid, std::process::id(), "{model:?}");
            }
            let pids: std::collections::HashSet<u32> =
                out.tasks.iter().map(|r| r.worker.pid).collect();
            let want = if model == Model::Processes { 2 } else { 1 };
            assert!(pids.len() <= want, "{model:?}: {pids:?}");
            assert!(out.children_peak_rss.unwrap() > 0, "{model:?}");
        }
    }

    #[test]
    fn harness_lines_read_as_records() {
        let Line::Task(r) = parse(r#"[3,10,12,20,7,8,0,"http_5xx","HTTP 503"]"#) else {
            panic!("not a task line");
        };
        assert_eq!((r.task, r.submit_ns, r.start_ns, r.end_ns), (3, 10, 12, 20));
        assert_eq!(r.error.as_ref().map(TaskError::kind), Some("http_5xx"));
        assert!(matches!(parse("[1,2]"), Line::Garbage(_)));
        assert!(matches!(parse(r#"{"error":"no"}"#), Line::Error(_)));
        assert_eq!(task_error("check", "x"), TaskError::Check("x".into()));
        assert_eq!(task_error("spawn?", "x"), TaskError::Panic("x".into()));
    }
}
