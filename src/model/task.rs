//! What one task produced: when it was submitted, started and ended, on which OS thread, and
//! how it went ([`TaskRecord`], [`TaskError`]).

use std::cell::Cell;

use serde::{Deserialize, Serialize};

/// The OS thread that ran a task: process id and kernel thread id. (A thread's identity, not
/// a count of workers: records show it as `pid:tid` under the contract's name `worker`.)
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
pub struct OsThread {
    /// Process id.
    pub pid: u32,
    /// Kernel thread id (`gettid`); equals `pid` on a process's main thread.
    pub tid: u32,
}

thread_local! {
    // gettid and getpid are real syscalls (no vDSO, and glibc no longer caches the pid), so each
    // thread asks once, not once per task. Worker processes are exec'd, never forked copies of
    // a thread that already asked, so a cached pid cannot go stale.
    static CURRENT: Cell<Option<OsThread>> = const { Cell::new(None) };
}

impl OsThread {
    /// The calling thread.
    pub fn current() -> OsThread {
        CURRENT.with(|c| {
            c.get().unwrap_or_else(|| {
                // SAFETY: gettid has no preconditions and cannot fail.
                let tid = unsafe { libc::gettid() } as u32;
                let me = OsThread {
                    pid: std::process::id(),
                    tid,
                };
                c.set(Some(me));
                me
            })
        })
    }
}

impl std::fmt::Display for OsThread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.pid, self.tid)
    }
}

/// One task as it happened: when it was submitted, started and ended, where, and how.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskRecord {
    /// Task index, 0-based.
    pub task: usize,
    /// The thread that ran it.
    pub worker: OsThread,
    /// When the harness handed it to the runtime (CLOCK_MONOTONIC ns).
    pub submit_ns: u64,
    /// When it began running.
    pub start_ns: u64,
    /// When it finished.
    pub end_ns: u64,
    /// Bytes it downloaded.
    pub bytes: u64,
    /// Why it failed, if it did.
    pub error: Option<TaskError>,
}

impl TaskRecord {
    /// The record of task `task`, handed over at `submit_ns`, that ran on `worker` from
    /// `start_ns` to `end_ns` with `result`: every record a run holds is made here.
    pub fn new(
        task: usize,
        worker: OsThread,
        (submit_ns, start_ns, end_ns): (u64, u64, u64),
        result: TaskResult,
    ) -> TaskRecord {
        let (bytes, error) = match result {
            Ok(done) => (done.bytes, None),
            Err(e) => (0, Some(e)),
        };
        TaskRecord {
            task,
            worker,
            submit_ns,
            start_ns,
            end_ns,
            bytes,
            error,
        }
    }
}

/// Why a task failed: a recorded outcome, never a panic of the tool.
#[derive(
    Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize, schemars::JsonSchema,
)]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum IoKind {
    /// No complete answer within `--timeout`.
    Timeout,
    /// The connection could not be made.
    Connect,
    /// The TLS handshake failed: the server's certificate is not one the client trusts (or
    /// not for the name it asked), or the server does not speak TLS.
    Tls,
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
            IoKind::Tls => "tls",
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
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
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
