//! `compare`'s runner: a sweep over runtimes, worker counts and task counts, one fresh child
//! `asyncstudy` process per cell and repeat, summarized per cell and judged by [`crate::verdict`].
//!
//! Every measured run is its own process because peak RSS only grows within a process,
//! async-std fixes its thread count at first use, and allocator state carries over. Repeats are
//! interleaved (round 1 runs every cell once, then round 2 ...), so a slow minute on a noisy
//! machine spreads over all cells instead of landing on one. The output file is rewritten
//! atomically after every child run, so a failure or Ctrl-C later loses nothing finished.
//!
//! A `--scale` sweep puts every task in flight at once, to show how a runtime's cost grows
//! with the units it holds. Cells that would hold more threads or processes than the
//! [`Limits`] allow are skipped, said on stderr and listed in the record.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::Context;

mod progress;

use progress::Progress;

use crate::child::{Ask, Child};
use crate::model::compare::{COMPARE_SCHEMA, CellFailure, CompareRecord, Skipped};
use crate::model::run::RunRecord;
use crate::plan::ComparePlan;
use crate::server::EmbeddedServer;

/// How a sweep ended.
pub struct SweepEnd {
    /// The comparison as written.
    pub record: CompareRecord,
    /// The signal that stopped it, if any.
    pub interrupted: Option<i32>,
}

/// Runs the sweep, rewriting `write` with the comparison after every child run.
pub fn run(
    plan: &ComparePlan,
    mut write: impl FnMut(&CompareRecord) -> anyhow::Result<()>,
) -> anyhow::Result<SweepEnd> {
    crate::interrupt::watch().context("could not take over Ctrl-C and SIGTERM")?;
    let exe = std::env::current_exe().context("could not find the asyncstudy binary")?;
    let server = plan
        .server()
        .as_ref()
        .map(|opts| EmbeddedServer::start(&exe, opts))
        .transpose()?;
    let shared = server.as_ref().map(|s| crate::plan::Shared {
        url: s.url.clone(),
        cert: s.cert.clone(),
    });
    let mut cells = Vec::new();
    let mut skipped = Vec::new();
    for cell in plan.cells() {
        match plan.over_limit(cell) {
            None => cells.push(cell),
            Some((units, reason)) => {
                eprintln!(
                    "asyncstudy: skipping {} at {units} units: {reason}",
                    cell.runtime
                );
                skipped.push(Skipped {
                    runtime: cell.runtime.into(),
                    workers: cell.workers,
                    tasks: cell.tasks,
                    reason,
                });
            }
        }
    }
    let mut record = CompareRecord {
        schema: COMPARE_SCHEMA.into(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        machine: crate::measure::machine::detect(),
        started_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        kind: plan.kind.clone(),
        command: plan.shared_args(),
        repeat: plan.repeat,
        complete: false,
        interrupted: None,
        runs: Vec::new(),
        failures: Vec::new(),
        scale: plan.scale,
        limits: Some(plan.limits()),
        skipped,
        summary: Vec::new(),
        verdict: Vec::new(),
    };
    let total = cells.len() * plan.repeat;
    let progress = Progress::new(total as u64, !plan.quiet && plan.output.shows_progress());
    let mut interrupted = None;
    'rounds: for round in 1..=plan.repeat {
        for &cell in &cells {
            if let Some(sig) = crate::interrupt::requested() {
                interrupted = Some(sig);
                break 'rounds;
            }
            progress.start(&format!(
                "{} w{} t{} ({round}/{})",
                cell.runtime, cell.workers, cell.tasks, plan.repeat
            ));
            match run_child(&exe, &plan.cell_args(cell, shared.as_ref()))? {
                ChildResult::Record(r) => record.runs.push(*r),
                ChildResult::Failed(reason) => record.failures.push(CellFailure {
                    runtime: cell.runtime.into(),
                    workers: cell.workers,
                    tasks: cell.tasks,
                    repeat: round,
                    reason,
                }),
                ChildResult::Interrupted(sig) => {
                    interrupted = Some(sig);
                    break 'rounds;
                }
            }
            crate::analysis::refresh(&mut record);
            write(&record)?;
            progress.done();
        }
    }
    progress.finish();
    drop(server);
    record.complete = interrupted.is_none();
    record.interrupted = interrupted.map(crate::interrupt::signal_name);
    crate::analysis::refresh(&mut record);
    write(&record)?;
    Ok(SweepEnd {
        record,
        interrupted,
    })
}

enum ChildResult {
    Record(Box<RunRecord>),
    Failed(String),
    Interrupted(i32),
}

/// Runs one cell in a fresh `asyncstudy` and reads its JSON record.
fn run_child(exe: &std::path::Path, args: &[String]) -> anyhow::Result<ChildResult> {
    let mut child = Child::spawn(
        Command::new(exe)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    )
    .context("could not start a child asyncstudy")?;
    let out = reader(child.take_stdout());
    let err = reader(child.take_stderr());
    let status = loop {
        if let Some(status) = child.try_wait().context("could not wait for a child run")? {
            break status;
        }
        if let Some(sig) = crate::interrupt::requested() {
            // A process-runtime child then reaps its workers and writes what it has.
            child.stop(Ask::Terminate, Duration::from_secs(5));
            let _ = out.join();
            let _ = err.join();
            return Ok(ChildResult::Interrupted(sig));
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    let last = String::from_utf8_lossy(&stderr)
        .lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_string();
    if !status.success() && status.code() != Some(1) {
        return Ok(ChildResult::Failed(format!("child {status}: {last}")));
    }
    match serde_json::from_slice::<RunRecord>(&stdout) {
        Ok(r) => Ok(ChildResult::Record(Box::new(r))),
        Err(e) => Ok(ChildResult::Failed(format!(
            "child {status} printed no record ({e}): {last}"
        ))),
    }
}

/// Reads a pipe to its end on a thread, so a child that writes a lot never blocks on a full
/// pipe while the parent waits for it.
fn reader(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut buf);
        }
        buf
    })
}
