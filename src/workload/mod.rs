//! The work a task does.
//!
//! A workload turns a task index into work and a checked result. CPU workloads are plain
//! closures that any runtime can call; IO workloads (later) need each runtime family's own
//! client, so they are described here and executed in `executor/`.

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
}

impl TaskError {
    /// Short name used as the key of `tasks.errors` in the run record.
    pub fn kind(&self) -> &'static str {
        match self {
            TaskError::Check(_) => "check",
            TaskError::Panic(_) => "panic",
            TaskError::Spawn(_) => "spawn",
        }
    }
}

/// What one task returns.
pub type TaskResult = Result<(), TaskError>;
