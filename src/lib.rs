//! asyncstudy runs the same workloads under every mainstream Rust concurrency model and shows,
//! with measured numbers, where async, threads or processes win.
//!
//! This file only dispatches a checked plan to its command.
//!
//! # Layout
//!
//! Data walks one way — command line → plan → engine (executor and measurement) → record →
//! analysis → report — and the modules form layers, each using only the ones below it
//! (`tests/integration/layout.rs` checks it). From the top:
//!
//! - [`cli`]: the only module that knows clap; arguments become a [`plan::Plan`].
//! - [`command`]: one file per command that does more than call one function (a run, a
//!   comparison, `clean`); [`clean`] finds stale out-dirs of killed runs.
//! - [`study`]: the seeds' experiments as comparison plans, written up as docs/STUDY.md.
//! - [`sweep`]: `compare`'s runner, a child process per cell and round.
//! - [`report`]: every output format (table, Markdown, CSV, JSON, SVG plots, HDR logs).
//! - [`measure`]: warm-up and repeats around an executor, resource readings, and the pure
//!   summary of them into a [`model::run::RunRecord`].
//! - [`executor`]: one file per runtime family, each running a batch of tasks and returning
//!   what happened by value; [`protocol`] is what it says to worker processes.
//! - [`plan`]: plans checked before any work, and the one renderer of a child's command line.
//! - [`server`]: the embedded HTTP(S) server; [`workload`]: what a task does (the seeds' CPU
//!   loops, downloads, sleeps, mixes).
//! - [`analysis`]: pure functions over records: statistics, cell summaries, the verdict and
//!   its prose, the families' answer.
//! - [`model`]: data only: the runtime table, task, run and comparison records.
//! - [`child`], [`interrupt`], [`procfs`], [`files`], [`cpus`], [`clock`]: child processes,
//!   signals, `/proc`, safe file writes, CPU pinning, `CLOCK_MONOTONIC`.

#![warn(missing_docs)]

pub mod analysis;
pub mod child;
pub mod clean;
pub mod cli;
pub mod clock;
pub mod command;
pub mod cpus;
pub mod executor;
pub mod files;
pub mod interrupt;
pub mod measure;
pub mod model;
pub mod plan;
pub mod procfs;
pub mod protocol;
pub mod report;
pub mod server;
pub mod study;
pub mod sweep;
pub mod workload;

use plan::Plan;

/// Why the tool stopped short.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input was wrong; nothing ran. Exit code 2.
    #[error("{0}")]
    BadInput(String),
    /// A command was given without the subcommand it needs: its help (usage and subcommands),
    /// to print as it is on stderr. Exit code 2.
    #[error("{0}")]
    Usage(String),
    /// Something broke while running or writing. Exit code 1.
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

/// How a completed command went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Everything succeeded.
    Ok,
    /// The run completed and was reported, but some tasks failed and `--strict` was given.
    /// Exit code 1.
    TasksFailed,
    /// A signal stopped the run; what finished was reported. Exit code 128 + the signal.
    Interrupted(i32),
}

/// Carries out a checked plan and writes its results: one arm per command.
pub fn run(plan: Plan) -> Result<Status, Error> {
    // Held until the results are written, so two runs never silently write one file.
    let _lock = command::lock_output(&plan)?;
    match plan {
        Plan::Run(run) => command::run::run(*run),
        Plan::Compare(plan) => command::compare::run(&plan),
        Plan::Study(plan) => study::run(&plan),
        Plan::Report(plan) => {
            report::report(&plan)?;
            Ok(Status::Ok)
        }
        Plan::Serve(opts) => {
            command::raise_fd_limit();
            server::serve(&opts)?;
            Ok(Status::Ok)
        }
        Plan::Runtimes(output) => {
            report::show_runtimes(&output)?;
            Ok(Status::Ok)
        }
        Plan::Worker => {
            executor::process::serve()?;
            Ok(Status::Ok)
        }
        Plan::Print(text) => {
            report::emit(&plan::Output::stdout(), &text)?;
            Ok(Status::Ok)
        }
        Plan::Clean { dry_run } => command::clean::run(dry_run),
    }
}
