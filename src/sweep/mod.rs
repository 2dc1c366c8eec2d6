//! `compare`'s runner: a sweep over runtimes, worker counts and task counts, one fresh child
//! `asyncstudy` process per cell and repeat, summarized per cell and judged by
//! [`crate::analysis`].
//!
//! Every measured run is its own process because peak RSS only grows within a process,
//! async-std fixes its thread count at first use, and allocator state carries over. Repeats are
//! interleaved (round 1 runs every cell once, then round 2 ...), so a slow minute on a noisy
//! machine spreads over all cells instead of landing on one, and the verdict compares cells
//! within each round. With `--repeat auto`, `rounds` decides after each round which cells
//! run again. The output file is rewritten atomically after every child run, so a failure or
//! Ctrl-C later loses nothing finished.
//!
//! A `--scale` sweep puts every task in flight at once, to show how a runtime's cost grows
//! with the units it holds. Cells that would hold more threads or processes than the
//! [`crate::model::runtime::Limits`] allow are skipped, said on stderr and listed in the record.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;

mod progress;
mod rounds;

use progress::Progress;
use rounds::Rounds;

use crate::child::{Ask, Child};
use crate::model::compare::{Adaptive, COMPARE_SCHEMA, CellFailure, CompareRecord, Skipped};
use crate::model::run::RunRecord;
use crate::plan::{Cell, ComparePlan, Repeat};
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
    let began = Instant::now();
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
    let (cells, skipped) = runnable(plan);
    let mut record = empty_record(plan, skipped);
    let progress = Progress::new(
        (cells.len() * plan.repeat.min_rounds()) as u64,
        !plan.quiet && plan.output.shows_progress(),
    );
    let mut rounds = Rounds::new(plan, &cells);
    let mut interrupted = None;
    let mut active = cells.clone();
    'rounds: for round in 1.. {
        for &cell in &active {
            if let Some(sig) = crate::interrupt::requested() {
                interrupted = Some(sig);
                break 'rounds;
            }
            progress.start(&format!("{} (round {round})", cell.name()));
            let started = Instant::now();
            match run_child(&exe, &plan.cell_args(cell, shared.as_ref()))? {
                ChildResult::Record(mut r) => {
                    r.round = Some(round);
                    record.runs.push(*r);
                }
                ChildResult::Failed(reason) => record.failures.push(CellFailure {
                    runtime: cell.runtime.into(),
                    workers: cell.workers,
                    tasks: cell.tasks,
                    connections: cell.connections.map(|c| c.name().into()),
                    repeat: round,
                    reason,
                }),
                ChildResult::Interrupted(sig) => {
                    interrupted = Some(sig);
                    break 'rounds;
                }
            }
            rounds.took(cell, started.elapsed());
            crate::analysis::refresh(&mut record);
            rounds.fill(&mut record, began);
            write(&record)?;
            progress.done();
        }
        match rounds.next(&record, round, began) {
            Some(next) => {
                // The bar counted the rounds every cell runs; later ones are added as they come.
                if round >= plan.repeat.min_rounds() {
                    progress.add(next.len() as u64);
                }
                active = next;
            }
            None => break,
        }
    }
    progress.finish();
    drop(server);
    record.complete = interrupted.is_none();
    record.interrupted = interrupted.map(crate::interrupt::signal_name);
    crate::analysis::refresh(&mut record);
    rounds.finish(&mut record, interrupted.is_some(), began);
    write(&record)?;
    Ok(SweepEnd {
        record,
        interrupted,
    })
}

/// The plan's cells that are within its limits, and the skipped ones, said on stderr.
fn runnable(plan: &ComparePlan) -> (Vec<Cell>, Vec<Skipped>) {
    let mut cells = Vec::new();
    let mut skipped = Vec::new();
    for cell in plan.cells() {
        match plan.over_limit(cell) {
            None => cells.push(cell),
            // A cell over a limit is over it whichever way it connects: said once.
            Some(_)
                if skipped.iter().any(|s: &Skipped| {
                    (s.runtime.as_str(), s.workers, s.tasks)
                        == (cell.runtime, cell.workers, cell.tasks)
                }) => {}
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
    (cells, skipped)
}

/// The comparison before its first run.
fn empty_record(plan: &ComparePlan, skipped: Vec<Skipped>) -> CompareRecord {
    CompareRecord {
        schema: COMPARE_SCHEMA.into(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        machine: crate::measure::machine::detect(),
        started_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        kind: plan.kind.clone(),
        command: plan.shared_args(),
        repeat: plan.repeat.min_rounds(),
        min_effect: plan.min_effect,
        adaptive: match plan.repeat {
            Repeat::Fixed(_) => None,
            Repeat::Auto { max, budget } => Some(Adaptive {
                min_rounds: plan.repeat.min_rounds(),
                max_rounds: max,
                budget_s: budget.as_secs_f64(),
                stopped: None,
                elapsed_s: 0.0,
                groups: Vec::new(),
            }),
        },
        complete: false,
        interrupted: None,
        runs: Vec::new(),
        failures: Vec::new(),
        scale: plan.scale,
        limits: Some(plan.limits()),
        skipped,
        summary: Vec::new(),
        verdict: Vec::new(),
    }
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
