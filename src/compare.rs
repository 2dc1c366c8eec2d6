//! `compare`: a sweep over runtimes, worker counts and task counts, one fresh child
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
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::model::Runtime;
use crate::model::compare::{COMPARE_SCHEMA, CellFailure, CompareRecord, Skipped};
use crate::model::run::RunRecord;
use crate::plan::{Limits, Output};
use crate::server::{EmbeddedServer, ServeOptions};

/// A checked comparison: what to sweep and the child command line of the workload.
#[derive(Debug, Clone)]
pub struct ComparePlan {
    /// `cpu`, `io` or `sleep`.
    pub kind: String,
    /// The runtimes, in the order given.
    pub runtimes: Vec<Runtime>,
    /// Worker counts to sweep.
    pub workers: Vec<usize>,
    /// Task counts to sweep.
    pub tasks: Vec<usize>,
    /// Measured child runs per cell.
    pub repeat: usize,
    /// Unmeasured runs inside each child before it measures.
    pub warmup: usize,
    /// The child's subcommand and workload options (`cpu --workload comp --iters ...`).
    pub child_args: Vec<String>,
    /// The embedded server to start once for every cell, for downloads without `--urls`.
    pub server: Option<ServeOptions>,
    /// Where the comparison goes, and in what format.
    pub output: Output,
    /// No progress bar.
    pub quiet: bool,
    /// Exit 1 when any task or cell failed.
    pub strict: bool,
    /// Where to write SVG plots after the sweep, if anywhere.
    pub plots: Option<PathBuf>,
    /// Every task in flight at once (`--scale`).
    pub scale: bool,
    /// The threads and processes a cell may hold; cells over them are skipped.
    pub limits: Limits,
}

/// One cell of the grid: a runtime at a worker count and a task count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Cell {
    /// The runtime's name.
    pub runtime: &'static str,
    /// `--workers`.
    pub workers: usize,
    /// `--tasks`.
    pub tasks: usize,
}

impl ComparePlan {
    /// Every cell, in the order they run, skipped ones included. `serial` ignores `--workers`,
    /// so it runs once per task count, at 1 worker, and serves as every worker count's
    /// baseline. With `--scale`, thread-per-task and process-per-task also run once per task
    /// count, with as many workers as tasks.
    pub fn cells(&self) -> Vec<Cell> {
        let mut cells = Vec::new();
        for &tasks in &self.tasks {
            for (i, &workers) in self.workers.iter().enumerate() {
                for &rt in &self.runtimes {
                    let scaled = self.scale && rt.creates_unit_per_task();
                    if rt.is_baseline() || scaled {
                        if i == 0 {
                            cells.push(Cell {
                                runtime: rt.name(),
                                workers: if scaled { tasks } else { 1 },
                                tasks,
                            });
                        }
                        continue;
                    }
                    cells.push(Cell {
                        runtime: rt.name(),
                        workers,
                        tasks,
                    });
                }
            }
        }
        cells
    }

    /// Units the cell would hold over a limit, and why it is over; such a cell is skipped.
    pub fn over_limit(&self, cell: Cell) -> Option<(usize, String)> {
        let rt = Runtime::from_name(cell.runtime)?;
        self.limits.exceeded(rt, cell.workers, cell.tasks)
    }

    /// The child's full argument list for one cell (program name not included).
    pub fn cell_args(&self, cell: Cell, server_url: Option<&str>) -> Vec<String> {
        let mut args = self.child_args.clone();
        if let Some(url) = server_url {
            args.extend(["--server-url".into(), url.into()]);
        }
        let in_flight_is_concurrency =
            Runtime::from_name(cell.runtime).is_some_and(Runtime::in_flight_is_concurrency);
        if self.scale && in_flight_is_concurrency {
            // An io child already defaults to every task in flight; saying it puts the figure
            // in each record's parameters and keeps the sweep's meaning if that default moves.
            args.extend(["--concurrency".into(), cell.tasks.to_string()]);
        }
        args.extend([
            "--runtime".into(),
            cell.runtime.into(),
            "--workers".into(),
            cell.workers.to_string(),
            "--tasks".into(),
            cell.tasks.to_string(),
            "--warmup".into(),
            self.warmup.to_string(),
            "--format".into(),
            "json".into(),
        ]);
        args
    }
}

/// How a sweep ended.
pub struct Outcome {
    /// The comparison as written.
    pub record: CompareRecord,
    /// The signal that stopped it, if any.
    pub interrupted: Option<i32>,
}

/// Runs the sweep, rewriting `write` with the comparison after every child run.
pub fn run(
    plan: &ComparePlan,
    mut write: impl FnMut(&CompareRecord) -> anyhow::Result<()>,
) -> anyhow::Result<Outcome> {
    crate::interrupt::watch().context("could not take over Ctrl-C and SIGTERM")?;
    let exe = std::env::current_exe().context("could not find the asyncstudy binary")?;
    let server = plan
        .server
        .as_ref()
        .map(|opts| EmbeddedServer::start(&exe, opts))
        .transpose()?;
    let url = server.as_ref().map(|s| s.url.clone());
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
        command: plan.child_args.clone(),
        repeat: plan.repeat,
        complete: false,
        interrupted: None,
        runs: Vec::new(),
        failures: Vec::new(),
        scale: plan.scale,
        limits: Some(plan.limits),
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
            match run_child(&exe, &plan.cell_args(cell, url.as_deref()))? {
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
    Ok(Outcome {
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
    use std::os::unix::process::CommandExt;
    let mut child = Command::new(exe)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group: Ctrl-C in the terminal reaches only this process, which then
        // stops the child itself and reaps it.
        .process_group(0)
        .spawn()
        .context("could not start a child asyncstudy")?;
    let out = reader(child.stdout.take());
    let err = reader(child.stderr.take());
    let status = loop {
        if let Some(status) = child.try_wait().context("could not wait for a child run")? {
            break status;
        }
        if let Some(sig) = crate::interrupt::requested() {
            stop(&mut child);
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

/// SIGTERM (a process-runtime child then reaps its workers), then SIGKILL after 5 s; reaped.
fn stop(child: &mut Child) {
    let pid = child.id() as libc::pid_t;
    // SAFETY: kill has no memory preconditions; the pid is our unreaped child, so it cannot
    // have been reused.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// A bar over child runs on stderr, or nothing.
struct Progress(Option<indicatif::ProgressBar>);

impl Progress {
    fn new(len: u64, show: bool) -> Progress {
        use std::io::IsTerminal;
        if !show || !std::io::stderr().is_terminal() {
            return Progress(None);
        }
        let bar = indicatif::ProgressBar::new(len);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} runs, eta {eta}  {msg}")
                .expect("the template is valid"),
        );
        Progress(Some(bar))
    }

    fn start(&self, cell: &str) {
        if let Some(b) = &self.0 {
            b.set_message(cell.to_string());
        }
    }

    fn done(&self) {
        if let Some(b) = &self.0 {
            b.inc(1);
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Format;

    fn plan(runtimes: &[Runtime], workers: &[usize]) -> ComparePlan {
        ComparePlan {
            kind: "cpu".into(),
            runtimes: runtimes.to_vec(),
            workers: workers.to_vec(),
            tasks: vec![8],
            repeat: 2,
            warmup: 0,
            child_args: vec!["io".into()],
            server: None,
            output: Output {
                format: Format::Json,
                path: None,
            },
            quiet: true,
            strict: false,
            plots: None,
            scale: false,
            limits: Limits::DEFAULT,
        }
    }

    #[test]
    fn serial_runs_once_per_task_count() {
        let cells = plan(&[Runtime::Serial, Runtime::Threads], &[1, 2, 4]).cells();
        let serial: Vec<_> = cells.iter().filter(|c| c.runtime == "serial").collect();
        assert_eq!(serial.len(), 1);
        assert_eq!(serial[0].workers, 1);
        assert_eq!(cells.len(), 4);
    }

    #[test]
    fn a_scale_sweep_gives_every_task_its_own_unit() {
        let mut p = plan(
            &[
                Runtime::TokioCt,
                Runtime::ThreadPerTask,
                Runtime::ProcessPerTask,
            ],
            &[1, 2],
        );
        p.scale = true;
        p.tasks = vec![10, 1000];
        p.limits = Limits {
            max_threads: 500,
            max_processes: 5,
        };
        let cells = p.cells();
        // tokio-ct at each worker count; the per-task runtimes once per task count.
        assert_eq!(cells.len(), 2 * 2 + 2 * 2);
        for c in cells.iter().filter(|c| c.runtime != "tokio-ct") {
            assert_eq!(c.workers, c.tasks, "{c:?}");
        }
        let ct = cells.iter().find(|c| c.runtime == "tokio-ct").unwrap();
        let args = p.cell_args(*ct, None).join(" ");
        assert!(
            args.contains("--concurrency 10 --runtime tokio-ct --workers 1"),
            "{args}"
        );
        let tpt = cells
            .iter()
            .find(|c| c.runtime == "thread-per-task")
            .unwrap();
        assert!(
            !p.cell_args(*tpt, None)
                .contains(&"--concurrency".to_string())
        );
        // Over the limits: threads at 1000 units, processes at both counts.
        let over: Vec<(&str, usize)> = cells
            .iter()
            .filter(|&&c| p.over_limit(c).is_some())
            .map(|c| (c.runtime, c.tasks))
            .collect();
        assert_eq!(
            over,
            [
                ("process-per-task", 10),
                ("thread-per-task", 1000),
                ("process-per-task", 1000)
            ]
        );
        assert_eq!(p.over_limit(*tpt), None, "10 threads are within 500");
    }

    #[test]
    fn cell_args_name_the_cell_and_ask_for_json() {
        let p = plan(&[Runtime::Smol], &[2]);
        let args = p.cell_args(p.cells()[0], Some("http://127.0.0.1:9"));
        let joined = args.join(" ");
        assert!(joined.starts_with("io --server-url http://127.0.0.1:9 --runtime smol"));
        assert!(joined.ends_with("--workers 2 --tasks 8 --warmup 0 --format json"));
    }
}
