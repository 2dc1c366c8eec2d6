//! A worker slot: the proxy thread that feeds one worker process its tasks, the worker process
//! as the parent sees it, and the set of live workers an interrupt kills.

use std::collections::HashSet;
use std::io::{self, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};
use serde::de::DeserializeOwned;

use super::WORKER_COMMAND;
use crate::child::Child;
use crate::clock::now_ns;
use crate::interrupt;
use crate::model::task::{OsThread, TaskRecord};
use crate::protocol::{Done, FrameError, Ready, Setup, ToWorker, read_frame, write_frame};
use crate::workload::TaskError;

/// The live workers of a run, so an interrupt can kill them all.
///
/// A pid is in the set only while its process is unreaped, so a kill through the set can never
/// reach a recycled pid: slots remove a pid before they reap it, and the set is locked for both.
#[derive(Default)]
pub(super) struct Children {
    state: Mutex<ChildSet>,
    /// The largest peak RSS a worker reported.
    pub(super) peak_rss: AtomicU64,
    /// Workers buried before their peak RSS could be read (a dead process has none left).
    pub(super) unmeasured: AtomicU64,
}

#[derive(Default)]
struct ChildSet {
    stopping: bool,
    pids: HashSet<u32>,
}

impl Children {
    /// Adds a new worker; `false` if the run is stopping and the caller must kill it.
    fn adopt(&self, pid: u32) -> bool {
        let mut s = self.lock();
        if !s.stopping {
            s.pids.insert(pid);
        }
        !s.stopping
    }

    /// Removes a worker before it is reaped.
    fn forget(&self, pid: u32) {
        self.lock().pids.remove(&pid);
    }

    /// Whether the run is stopping.
    fn stopping(&self) -> bool {
        self.lock().stopping
    }

    /// Stops the run: no new workers, and SIGKILL to every live one (their slots reap them).
    pub(super) fn stop_all(&self) {
        let mut s = self.lock();
        s.stopping = true;
        for &pid in &s.pids {
            // SAFETY: kill has no memory effects; the pid is an unreaped child of ours (see the
            // type's comment), so the signal reaches that worker and nothing else.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ChildSet> {
        // The set holds plain data that every operation leaves consistent, so a slot that
        // panicked while holding it does not make it unusable.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// One worker slot: the proxy thread's view of the run.
#[derive(Clone, Copy)]
pub(super) struct Slot<'a> {
    /// What every worker is told before its first task.
    pub(super) setup: &'a Setup,
    /// The binary workers are started from.
    pub(super) program: &'a Path,
    /// The run's live workers.
    pub(super) children: &'a Children,
    /// Retire each worker after one task (process-per-task).
    pub(super) one_task_each: bool,
}

/// Why a slot has no worker ready for tasks.
enum Unready {
    /// The OS would not create its process.
    Refused(io::Error),
    /// It was created but failed before it was ready, or the run is stopping.
    Failed(TaskError),
}

impl Slot<'_> {
    /// The proxy thread of slot `k`: starts its worker (a pool's), says on `up` that it is
    /// ready (or that the OS would not create the worker), then runs tasks from `inbox` and
    /// sends their records on `finished`.
    pub(super) fn proxy(
        self,
        k: usize,
        inbox: &Receiver<(usize, u64)>,
        finished: &Sender<Vec<TaskRecord>>,
        up: &Sender<Option<(usize, String)>>,
    ) {
        let first = (!self.one_task_each).then(|| self.start());
        let refused = match &first {
            Some(Err(Unready::Refused(e))) => Some((k, e.to_string())),
            _ => None,
        };
        let _ = up.send(refused);
        let _ = finished.send(self.run(inbox, first));
    }

    /// Starts the slot's worker and waits until it is ready.
    fn start(&self) -> Result<Proc, Unready> {
        Proc::spawn(self.program, self.setup, self.children)
    }

    /// The error of the task that found the slot without a worker.
    fn unready(&self, why: Unready) -> TaskError {
        match why {
            Unready::Refused(e) => TaskError::Spawn(format!(
                "could not start worker {}: {e}",
                self.program.display()
            )),
            Unready::Failed(e) => e,
        }
    }

    /// Takes tasks until there are none or the run stops, and returns their records. `first`
    /// is the worker [`Slot::start`] started, or why it could not.
    fn run(
        &self,
        inbox: &Receiver<(usize, u64)>,
        first: Option<Result<Proc, Unready>>,
    ) -> Vec<TaskRecord> {
        let mut records = Vec::new();
        let (mut live, mut unstarted) = match first {
            Some(Ok(p)) => (Some(p), None),
            Some(Err(e)) => (None, Some(e)),
            None => (None, None),
        };
        while let Ok((task, submit_ns)) = inbox.recv() {
            let failed = |start_ns: u64, worker: OsThread, error: TaskError| {
                let when = (submit_ns, start_ns, now_ns().max(start_ns));
                TaskRecord::new(task, worker, when, Err(error))
            };
            if self.children.stopping() {
                records.push(failed(
                    submit_ns,
                    OsThread::current(),
                    TaskError::Interrupted,
                ));
                break;
            }
            let proc = match live.take() {
                Some(p) => p,
                // The worker that could not start before the run fails this task with its
                // reason; the next task tries a new one.
                None => match unstarted.take().map_or_else(|| self.start(), Err) {
                    Ok(p) => p,
                    Err(e) => {
                        records.push(failed(now_ns(), OsThread::current(), self.unready(e)));
                        continue;
                    }
                },
            };
            let sent_ns = now_ns();
            let mut proc = proc;
            match proc.run(task) {
                Ok(done) => {
                    let when = (submit_ns, done.start_ns, done.end_ns);
                    let result = match done.error {
                        Some(e) => Err(e),
                        None => Ok(crate::workload::Outcome { bytes: done.bytes }),
                    };
                    records.push(TaskRecord::new(task, done.worker, when, result));
                    if self.one_task_each {
                        proc.retire(self.children);
                    } else {
                        live = Some(proc);
                    }
                }
                Err(lost) => {
                    let pid = proc.pid;
                    let reason = proc.bury(lost, self.children, Stage::Task);
                    let error = if self.children.stopping() {
                        TaskError::Interrupted
                    } else {
                        TaskError::Worker(reason)
                    };
                    records.push(failed(sent_ns, OsThread { pid, tid: pid }, error));
                }
            }
        }
        if let Some(proc) = live {
            proc.retire(self.children);
        }
        records
    }
}

/// A running worker process; dropping it kills and reaps it ([`crate::child::Child`]).
struct Proc {
    child: Child,
    pid: u32,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

/// What a worker was doing when it failed the parent.
#[derive(Clone, Copy)]
enum Stage {
    /// Starting: between its spawn and its ready answer.
    Start,
    /// Running a task.
    Task,
}

impl Stage {
    fn doing(self) -> &'static str {
        match self {
            Stage::Start => "while starting",
            Stage::Task => "while running a task",
        }
    }
}

/// How a worker failed the parent.
enum Lost {
    /// Its stdin broke: it is gone or closed it.
    Write(io::Error),
    /// Its stdout ended, broke, or stopped mid-frame.
    Ended(Option<FrameError>),
    /// It sent something that is not the answer expected.
    Garbage(String),
}

impl Proc {
    /// Starts a worker, sends it the setup and waits for its ready answer.
    fn spawn(program: &Path, setup: &Setup, children: &Children) -> Result<Proc, Unready> {
        let mut child = Child::spawn_for_run(
            Command::new(program)
                .arg(WORKER_COMMAND)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit()),
        )
        .map_err(Unready::Refused)?;
        let pid = child.id();
        let stdin = child.take_stdin();
        let stdout = child.take_stdout().expect("stdout was piped");
        let mut proc = Proc {
            child,
            pid,
            stdin,
            stdout: BufReader::new(stdout),
        };
        if !children.adopt(pid) {
            proc.kill_and_reap();
            return Err(Unready::Failed(TaskError::Interrupted));
        }
        // A worker killed because the run is stopping did not fail: its task was cut short.
        let failed = |proc: Proc, lost: Lost| {
            let reason = proc.bury(lost, children, Stage::Start);
            Unready::Failed(if children.stopping() {
                TaskError::Interrupted
            } else {
                TaskError::Worker(reason)
            })
        };
        if let Err(e) = proc.send(&ToWorker::Setup(setup.clone())) {
            return Err(failed(proc, Lost::Write(e)));
        }
        match proc.answer::<Ready>() {
            Ok(ready) if ready.pid == pid => Ok(proc),
            Ok(ready) => {
                let what = format!("said it was ready as pid {}", ready.pid);
                Err(failed(proc, Lost::Garbage(what)))
            }
            Err(lost) => Err(failed(proc, lost)),
        }
    }

    fn send(&mut self, message: &ToWorker) -> io::Result<()> {
        match &mut self.stdin {
            Some(stdin) => write_frame(stdin, message),
            None => Err(io::ErrorKind::BrokenPipe.into()),
        }
    }

    /// Sends one task and waits for its answer.
    fn run(&mut self, task: usize) -> Result<Done, Lost> {
        self.send(&ToWorker::Run { task }).map_err(Lost::Write)?;
        match self.answer::<Done>()? {
            done if done.task == task => Ok(done),
            done => Err(Lost::Garbage(format!(
                "answered task {} when asked for task {task}",
                done.task
            ))),
        }
    }

    /// Reads the worker's next frame as a `T`.
    fn answer<T: DeserializeOwned>(&mut self) -> Result<T, Lost> {
        match read_frame::<_, T>(&mut self.stdout) {
            Ok(Some(answer)) => Ok(answer),
            Ok(None) => Err(Lost::Ended(None)),
            Err(e @ (FrameError::TooLarge(_) | FrameError::Decode(_))) => {
                Err(Lost::Garbage(e.to_string()))
            }
            Err(e) => Err(Lost::Ended(Some(e))),
        }
    }

    /// Reaps a worker that failed the parent at `stage` and says what happened to it.
    fn bury(mut self, lost: Lost, children: &Children, stage: Stage) -> String {
        let pid = self.pid;
        children.forget(pid);
        children.unmeasured.fetch_add(1, Ordering::Relaxed);
        match lost {
            Lost::Garbage(what) => {
                // It may still be talking; nothing it says can be trusted now.
                self.kill_and_reap();
                format!("worker pid {pid} broke the protocol: {what}")
            }
            Lost::Write(_) | Lost::Ended(_) => {
                let detail = match (&lost, stage) {
                    (Lost::Ended(Some(e)), _) => format!(" ({e})"),
                    (Lost::Write(e), Stage::Start) => {
                        format!(" (could not send it the setup: {e})")
                    }
                    (Lost::Write(e), Stage::Task) => format!(" (could not send it the task: {e})"),
                    _ => String::new(),
                };
                let doing = stage.doing();
                // A worker that died takes a moment to become reapable after its pipes close.
                match self.reap_within(Duration::from_millis(200)) {
                    Some(status) => {
                        format!("worker pid {pid} {}{detail}", describe(status, stage))
                    }
                    None => {
                        self.kill_and_reap();
                        format!("worker pid {pid} closed its stdout {doing}{detail}")
                    }
                }
            }
        }
    }

    /// Ends a healthy worker: closing its stdin tells it to exit; then it is reaped.
    fn retire(mut self, children: &Children) {
        // Read once here rather than reported with every task: a /proc read per task tripled
        // the pool's round trip.
        if let Some(peak) = crate::procfs::peak_rss_of(self.pid) {
            children.peak_rss.fetch_max(peak, Ordering::Relaxed);
        }
        children.forget(self.pid);
        drop(self.stdin.take());
        // A worker between tasks reads the end of its stdin at once and exits.
        let _ = self.child.wait();
    }

    /// Waits up to `limit` for the worker to exit, reaping it if it does.
    fn reap_within(&mut self, limit: Duration) -> Option<ExitStatus> {
        self.child.reap_within(limit)
    }

    fn kill_and_reap(&mut self) {
        drop(self.stdin.take());
        self.child.kill();
    }
}

/// How a worker's exit at `stage` reads in a task's error.
fn describe(status: ExitStatus, stage: Stage) -> String {
    let doing = stage.doing();
    match (status.signal(), status.code()) {
        (Some(sig), _) => format!("killed by signal {sig} ({})", interrupt::signal_name(sig)),
        (None, Some(code)) => format!("exited with code {code} {doing}"),
        (None, None) => format!("ended ({status}) {doing}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exits_read_as_reasons() {
        assert_eq!(
            describe(ExitStatus::from_raw(9), Stage::Task),
            "killed by signal 9 (SIGKILL)"
        );
        assert_eq!(
            describe(ExitStatus::from_raw(3 << 8), Stage::Task),
            "exited with code 3 while running a task"
        );
        assert_eq!(
            describe(ExitStatus::from_raw(3 << 8), Stage::Start),
            "exited with code 3 while starting"
        );
    }
}
