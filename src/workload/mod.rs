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
    /// A download or its writes failed.
    #[error("{message}")]
    Io {
        /// What kind of failure, the key it is counted under.
        kind: IoKind,
        /// What happened.
        message: String,
    },
}

/// How an IO task failed, as counted in `tasks.errors`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IoKind {
    /// No complete answer within `--timeout`.
    Timeout,
    /// The connection could not be made.
    Connect,
    /// The server answered 4xx.
    Http4xx,
    /// The server answered 5xx.
    Http5xx,
    /// The connection closed or broke before the answer was complete (a body short of its
    /// `Content-Length` included).
    Reset,
    /// The answer was not valid HTTP/1.1: not an HTTP status line, a bad header, a bad
    /// chunked encoding.
    Protocol,
    /// A redirect that is not followed: too many, or to a `Location` that cannot be used, or a
    /// 3xx answer that is not a redirect.
    Redirect,
    /// The body was over `--max-page-size`.
    TooLarge,
    /// Writing the file failed.
    Write,
    /// Anything else about the request.
    Request,
}

impl IoKind {
    /// The key in `tasks.errors`.
    pub fn name(self) -> &'static str {
        match self {
            IoKind::Timeout => "timeout",
            IoKind::Connect => "connect",
            IoKind::Http4xx => "http_4xx",
            IoKind::Http5xx => "http_5xx",
            IoKind::Reset => "reset",
            IoKind::Protocol => "protocol",
            IoKind::Redirect => "redirect",
            IoKind::TooLarge => "too_large",
            IoKind::Write => "write",
            IoKind::Request => "request",
        }
    }
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
            TaskError::Io { kind, .. } => kind.name(),
        }
    }
}

/// What a task that succeeded reports besides its timing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// Bytes the task downloaded (0 for CPU work).
    pub bytes: u64,
}

impl Outcome {
    /// Nothing to report: CPU work and sleeps.
    pub const NONE: Outcome = Outcome { bytes: 0 };
}

/// What one task returns.
pub type TaskResult = Result<Outcome, TaskError>;

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
