//! asyncstudy runs the same workloads under every mainstream Rust concurrency model and shows,
//! with measured numbers, where async, threads or processes win.
//!
//! A run flows one way through the modules:
//!
//! - [`cli`] is the only module that knows clap. It turns arguments into a [`plan::Plan`],
//!   whose constructors in [`plan`] check everything that can be checked before work starts.
//! - [`workload`] says what a task does (the seed notebooks' CPU loops, in [`workload::cpu`]),
//!   and [`executor`] runs a batch of tasks on one runtime, one file per runtime family, each
//!   returning a [`measure::record::TaskRecord`] per task.
//! - [`measure`] drives an executor through warm-up and measured repeats, reads CPU, memory,
//!   context switches and thread counts around each repeat ([`measure::rusage`]), and
//!   summarizes it all into the [`measure::record::RunRecord`] of the JSON contract, with HDR
//!   histograms ([`measure::histogram`]) and the machine's facts ([`measure::machine`]).
//!   Timestamps are `CLOCK_MONOTONIC` nanoseconds from [`clock`].
//! - [`executor::process`] runs tasks in worker processes: the same binary started with a
//!   hidden `worker` subcommand, spoken to in the frames of [`protocol`]. [`interrupt`] turns
//!   Ctrl-C and SIGTERM into a flag for those runs, so every child is reaped before exit.
//! - [`report`] formats records (table, Markdown, CSV, JSON), one file per format, and is the
//!   one place that writes output, atomically when it goes to a file.

pub mod cli;
pub mod clock;
pub mod executor;
pub mod interrupt;
pub mod measure;
pub mod plan;
pub mod protocol;
pub mod report;
pub mod workload;

use plan::Plan;

/// Why the tool stopped short.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input was wrong; nothing ran. Exit code 2.
    #[error("{0}")]
    BadInput(String),
    /// Something broke while running or writing. Exit code 1.
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

/// How a completed command went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Everything succeeded.
    Ok,
    /// The run completed and was reported, but some tasks failed. Exit code 1.
    TasksFailed,
    /// A signal stopped the run; what finished was reported. Exit code 128 + the signal.
    Interrupted(i32),
}

/// Carries out a checked plan and writes its results.
pub fn run(plan: Plan) -> Result<Status, Error> {
    match plan {
        Plan::Cpu(run) => {
            let record = measure::measure(&run)?;
            report::emit(
                &run.output,
                &report::render_run(&record, run.output.format)?,
            )?;
            if let Some(path) = &run.output.path {
                eprintln!("asyncstudy: wrote {}", path.display());
            }
            Ok(if let Some(sig) = interrupt::requested() {
                Status::Interrupted(sig)
            } else if record.tasks.failed > 0 {
                Status::TasksFailed
            } else {
                Status::Ok
            })
        }
        Plan::Worker => {
            executor::process::serve()?;
            Ok(Status::Ok)
        }
        Plan::Runtimes(output) => {
            report::emit(&output, &report::render_runtimes(output.format)?)?;
            Ok(Status::Ok)
        }
    }
}
