//! The work a task does.
//!
//! A workload turns a task index into work and a checked result. [`Work`] is the serializable
//! description of it, so a worker process can be told what to run; CPU workloads are plain
//! loops that any runtime can call.

pub mod cpu;
pub mod download;
pub mod mixed;
pub mod sleep;

use serde::{Deserialize, Serialize};

pub use cpu::{CpuKind, CpuWork};
pub use download::Download;
pub use mixed::{Mixed, MixedIo};
pub use sleep::Sleep;

pub use crate::model::task::{IoKind, Outcome, TaskError, TaskResult};

/// What every task of a run does, in a form that can be sent to a worker process.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Work {
    /// A CPU loop.
    Cpu(CpuWork),
    /// Download a page and rewrite it to a file.
    Download(Download),
    /// Wait.
    Sleep(Sleep),
    /// CPU tasks and IO tasks together.
    Mixed(Mixed),
}

impl Work {
    /// Runs task `task` on the calling thread, blocking it for any IO.
    pub fn run(&self, task: usize) -> TaskResult {
        match self {
            Work::Cpu(w) => w.run(task),
            Work::Download(d) => d.run_blocking(task),
            Work::Sleep(s) => s.run_blocking(),
            Work::Mixed(m) => m.run(task),
        }
    }

    /// Whether tasks wait on IO, so async runtimes run them as futures rather than inline.
    pub fn is_io(&self) -> bool {
        !matches!(self, Work::Cpu(_))
    }

    /// The downloads among this work's tasks, if any.
    pub fn download(&self) -> Option<&Download> {
        match self {
            Work::Download(d) => Some(d),
            Work::Mixed(Mixed {
                io: MixedIo::Download(d),
                ..
            }) => Some(d),
            _ => None,
        }
    }
}
