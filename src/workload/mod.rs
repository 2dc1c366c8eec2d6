//! The work a task does.
//!
//! A workload turns a task index into work and a checked result. [`Work`] is the serializable
//! description of it, so a worker process can be told what to run; CPU workloads are plain
//! loops that any runtime can call.

pub mod cpu;

use serde::{Deserialize, Serialize};

pub use cpu::{CpuKind, CpuWork};

/// Why a task failed: a recorded outcome, never a panic of the tool.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum TaskError {
    /// The task ran but its result is not what the workload must produce.
    #[error("check failed: {0}")]
    Check(String),
    /// The task panicked; the message is kept.
    #[error("panicked: {0}")]
    Panic(String),
    /// The runtime could not start the task (thread or process spawn failed).
    #[error("could not start: {0}")]
    Spawn(String),
    /// The worker process running the task died or broke the protocol; the reason says how.
    #[error("{0}")]
    Worker(String),
    /// The run was interrupted (SIGINT or SIGTERM) before the task finished.
    #[error("interrupted before it finished")]
    Interrupted,
}

impl TaskError {
    /// Short name used as the key of `tasks.errors` in the run record.
    pub fn kind(&self) -> &'static str {
        match self {
            TaskError::Check(_) => "check",
            TaskError::Panic(_) => "panic",
            TaskError::Spawn(_) => "spawn",
            TaskError::Worker(_) => "worker",
            TaskError::Interrupted => "interrupted",
        }
    }
}

/// What one task returns.
pub type TaskResult = Result<(), TaskError>;

/// What every task of a run does, in a form that can be sent to a worker process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Work {
    /// A CPU loop.
    Cpu(CpuWork),
}

impl Work {
    /// Runs task `task` on the calling thread.
    pub fn run(&self, task: usize) -> TaskResult {
        match self {
            Work::Cpu(w) => w.run(task),
        }
    }
}
