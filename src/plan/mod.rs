//! The checked, typed plan of what to do, built from the command line before any work starts.
//!
//! `cli` turns arguments into values of the right types; this module checks what depends on
//! more than one argument or on the file system (an output directory that exists, a baseline
//! that matches the run), so every bad input is reported before a task runs. A run's plan is
//! also what a comparison hands each child: [`run::RunPlan::to_args`] is the one renderer of a
//! child's command line, and parsing what it renders gives the plan back.

pub mod compare;
pub mod input;
pub mod output;
pub mod python;
pub mod run;

use std::path::PathBuf;

pub use compare::{Cell, ComparePlan, Repeat, Shared};
pub use input::{SavedRecord, parse_urls, read_urls};
pub use output::{Format, Output, check_dir_target, check_out_dir};
pub use run::{
    BYTES_PER_TASK, Baseline, DownloadPlan, Limits, MAX_DURATION, MAX_PAGE_SIZE, MixedPlan,
    RunPlan, Source, WorkPlan,
};

use crate::server::ServeOptions;

/// What the tool was asked to do.
#[derive(Debug)]
pub enum Plan {
    /// Run a workload (`cpu` or `io`) on one runtime and report it.
    Run(Box<RunPlan>),
    /// Run the embedded HTTP server until stdin closes.
    Serve(ServeOptions),
    /// List the runtimes.
    Runtimes(Output),
    /// Serve tasks as a worker process over stdin and stdout (the hidden `worker` subcommand).
    Worker,
    /// Sweep runtimes, workers and tasks in child processes (`compare`).
    Compare(Box<ComparePlan>),
    /// Re-render a saved run or comparison (`report`).
    Report(Box<ReportPlan>),
    /// Run the seeds' experiments and write the study docs (`study`).
    Study(StudyPlan),
    /// Print this text to stdout (shell completions).
    Print(String),
    /// Remove the temporary out-dirs of killed runs (`clean`).
    Clean {
        /// Only list them.
        dry_run: bool,
    },
}

/// `report`: a loaded record and where its renderings go.
#[derive(Debug)]
pub struct ReportPlan {
    /// The record as loaded.
    pub record: SavedRecord,
    /// The rendering of the record.
    pub output: Output,
    /// Where SVG plots go.
    pub plots: Option<PathBuf>,
    /// Where HdrHistogram interval logs go.
    pub hdr: Option<PathBuf>,
}

/// `study`: where the docs go, and whether to show progress.
#[derive(Debug, Clone)]
pub struct StudyPlan {
    /// The docs directory (STUDY.md and img/).
    pub out: PathBuf,
    /// No progress bars.
    pub quiet: bool,
    /// `--python`: the interpreter of the Python section (`None`: `python3`).
    pub python: Option<PathBuf>,
}
