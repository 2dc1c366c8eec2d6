//! Worker processes: `process-pool` (N long-lived workers, like Python's ProcessPoolExecutor)
//! and `process-per-task` (a fresh child for every task), plus the worker's side ([`serve`]).
//!
//! A worker is this same binary started with the hidden `worker` subcommand and spoken to over
//! its stdin and stdout in the frames of [`crate::protocol`]. The parent runs one proxy thread
//! per worker slot: it takes a task, writes it to its worker, and blocks on the answer, so a task
//! costs one write and one read, and a slot whose worker dies knows exactly which task died
//! with it. A dead or babbling worker fails only its task: the slot reaps it, records why, and
//! starts a new one for the next task. The worker measures its own start and end times on
//! CLOCK_MONOTONIC, so they land on the parent's timeline unchanged.
//!
//! A pool starts all its workers before the first submission: each slot spawns its worker,
//! sends it the setup and waits for its [`Ready`] answer (exec'd, initialised, holding the
//! setup), and the run's clock starts once every slot has its answer or knows that its worker
//! could not start. A worker (or a proxy thread) the OS will not create before the run stops
//! it with an error, as a thread pool's thread would. A worker that was created but failed
//! before it was ready fails its slot's first task with the reason, and the slot tries again
//! for the next one, as after a worker dies. `process-per-task` has nothing to start up front
//! but its proxy threads: each task's worker is spawned, set up and waited for inside its queue
//! time, and one the OS will not create fails that task.
//!
//! Workers are spawned with `std::process::Command` (no shell, no `pre_exec`, which would force
//! a full fork instead of `posix_spawn`), in a process group of their own: Ctrl-C in a terminal
//! reaches only the parent, which then stops dispatching, kills every worker at once (no grace
//! period: a killed worker ends whatever it was doing) and reaps it. A worker exits when its
//! stdin closes, so even a parent killed with SIGKILL leaves none behind once the task in hand
//! ends.

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::os::fd::AsFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::Duration;

use anyhow::{Context, bail};
use crossbeam_channel::{RecvTimeoutError, bounded, unbounded};
use serde::de::DeserializeOwned;

use super::{Executor, Job, RunOutput, in_task_order, run_task};
use crate::clock::now_ns;
use crate::interrupt;
use crate::model::task::{OsThread, TaskRecord};
use crate::protocol::{
    Done, FaultKind, FrameError, Ready, Setup, ToWorker, read_frame, write_frame,
};
use crate::workload::TaskError;

/// The hidden subcommand that turns the binary into a worker.
pub const WORKER_COMMAND: &str = "worker";

/// N long-lived worker processes, each running one task at a time.
pub struct ProcessPool {
    /// Worker processes.
    pub workers: usize,
    /// The asyncstudy binary to start workers from; `None` means the running one.
    pub program: Option<PathBuf>,
}

/// A new worker process for every task, at most `max_alive` at once.
pub struct ProcessPerTask {
    /// Most task processes alive at once.
    pub max_alive: usize,
    /// The asyncstudy binary to start workers from; `None` means the running one.
    pub program: Option<PathBuf>,
}

impl Executor for ProcessPool {
    fn run(&self, job: &Job, tasks: usize) -> anyhow::Result<RunOutput> {
        drive(job, tasks, self.workers, self.program.as_deref(), false)
    }
}

impl Executor for ProcessPerTask {
    fn run(&self, job: &Job, tasks: usize) -> anyhow::Result<RunOutput> {
        drive(job, tasks, self.max_alive, self.program.as_deref(), true)
    }
}

/// How often the parent looks for Ctrl-C while its slots work. Only the reaction time depends
/// on it: a finishing slot wakes the parent at once.
const WATCH_EVERY: Duration = Duration::from_millis(20);

/// Runs `tasks` tasks on `slots` worker slots; `one_task_each` retires a worker after one task
/// (and so starts none before the first submission).
fn drive(
    job: &Job,
    tasks: usize,
    slots: usize,
    program: Option<&Path>,
    one_task_each: bool,
) -> anyhow::Result<RunOutput> {
    let setup = job
        .setup()
        .context("this job cannot be described to a worker process")?;
    let program = match program {
        Some(p) => p.to_path_buf(),
        None => std::env::current_exe().context("could not find the asyncstudy binary")?,
    };
    interrupt::watch().context("could not take over Ctrl-C and SIGTERM")?;
    let children = Children::default();
    let (queue, inbox) = unbounded::<(usize, u64)>();
    let (finished, slot_records) = bounded::<Vec<TaskRecord>>(slots);
    // Each slot says once that it is ready for tasks: its worker answered ready, or failed
    // before it was (or it has none to start, one task each); or that the OS would not create
    // its worker's process, which stops the run.
    let (up, ups) = unbounded::<Option<(usize, String)>>();
    thread::scope(|scope| {
        let mut open = 0;
        for k in 0..slots {
            let slot = Slot {
                setup,
                program: &program,
                children: &children,
                one_task_each,
            };
            let (inbox, finished, up) = (inbox.clone(), finished.clone(), up.clone());
            let started = thread::Builder::new()
                .name(format!("asyncstudy-proxy-{k}"))
                .spawn_scoped(scope, move || {
                    let first = (!slot.one_task_each).then(|| slot.start());
                    let refused = match &first {
                        Some(Err(Unready::Refused(e))) => Some((k, e.to_string())),
                        _ => None,
                    };
                    let _ = up.send(refused);
                    let _ = finished.send(slot.run(&inbox, first));
                });
            if let Err(e) = started {
                // Closing the queue and killing the workers ends the slots already started;
                // the scope waits for them.
                drop(queue);
                children.stop_all();
                anyhow::bail!("could not start proxy thread {} of {slots}: {e}", k + 1);
            }
            open += 1;
        }
        drop((finished, up));
        let mut ready = 0;
        let mut refused: Option<(usize, String)> = None;
        while ready < open {
            match ups.recv_timeout(WATCH_EVERY) {
                Ok(why) => {
                    ready += 1;
                    if let Some((k, why)) = why {
                        if refused.as_ref().is_none_or(|(first, _)| k < *first) {
                            refused = Some((k, why));
                        }
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    // Killing the workers ends their slots' wait for an answer.
                    if interrupt::requested().is_some() {
                        children.stop_all();
                    }
                }
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        // A pool starts its workers up front, as a thread pool its threads: one the OS would
        // not create fails the run. (A worker that fails once created fails its slot's first
        // task instead, as one that dies later fails its task.)
        if let Some((k, why)) = refused {
            drop(queue);
            children.stop_all();
            anyhow::bail!("could not start worker process {} of {slots}: {why}", k + 1);
        }
        let arrivals = job.arrivals();
        let mut records = Vec::with_capacity(tasks);
        let mut queued = 0;
        while queued < tasks && interrupt::requested().is_none() {
            // Wait for the slot in short steps, so Ctrl-C is seen while the schedule is sparse.
            let (wait, due) = arrivals.delay(queued);
            if !wait.is_zero() {
                thread::sleep(wait.min(WATCH_EVERY));
                continue;
            }
            // Closed loop the whole batch is submitted at the ready time.
            let submit = due.unwrap_or(arrivals.t0_ns());
            // The inbox is held right here, so a send cannot fail.
            queue.send((queued, submit)).expect("the inbox is alive");
            queued += 1;
        }
        drop(queue);
        if interrupt::requested().is_some() {
            children.stop_all();
        }
        while open > 0 {
            match slot_records.recv_timeout(WATCH_EVERY) {
                Ok(done) => {
                    records.extend(done);
                    open -= 1;
                }
                Err(RecvTimeoutError::Timeout) => {
                    if interrupt::requested().is_some() {
                        children.stop_all();
                    }
                }
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        // Tasks no slot took, or an interrupt kept from being queued.
        let unqueued = (queued..tasks).map(|i| (i, arrivals.due_ns(i).unwrap_or_else(now_ns)));
        records.extend(inbox.try_iter().chain(unqueued).map(|(task, submit)| {
            let when = (submit, submit, submit);
            TaskRecord::new(task, OsThread::current(), when, Err(TaskError::Interrupted))
        }));
        Ok(RunOutput {
            tasks: in_task_order(records),
            ready_ns: arrivals.t0_ns(),
            internals: None,
            children_peak_rss: Some(children.peak_rss.load(Ordering::Relaxed)),
            children_unmeasured: children.unmeasured.load(Ordering::Relaxed),
        })
    })
}

/// The live workers of a run, so an interrupt can kill them all.
///
/// A pid is in the set only while its process is unreaped, so a kill through the set can never
/// reach a recycled pid: slots remove a pid before they reap it, and the set is locked for both.
#[derive(Default)]
struct Children {
    state: Mutex<ChildSet>,
    /// The largest peak RSS a worker reported.
    peak_rss: AtomicU64,
    /// Workers buried before their peak RSS could be read (a dead process has none left).
    unmeasured: AtomicU64,
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
    fn stop_all(&self) {
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
struct Slot<'a> {
    setup: &'a Setup,
    program: &'a Path,
    children: &'a Children,
    one_task_each: bool,
}

/// Why a slot has no worker ready for tasks.
enum Unready {
    /// The OS would not create its process.
    Refused(io::Error),
    /// It was created but failed before it was ready, or the run is stopping.
    Failed(TaskError),
}

impl Slot<'_> {
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
        inbox: &crossbeam_channel::Receiver<(usize, u64)>,
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

/// A running worker process.
struct Proc {
    child: Child,
    pid: u32,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    reaped: bool,
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
        let mut child = Command::new(program)
            .arg(WORKER_COMMAND)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .process_group(0)
            .spawn()
            .map_err(Unready::Refused)?;
        let pid = child.id();
        let (stdin, stdout) = (child.stdin.take(), child.stdout.take());
        let stdout = stdout.expect("stdout was piped");
        let mut proc = Proc {
            child,
            pid,
            stdin,
            stdout: BufReader::new(stdout),
            reaped: false,
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
        self.reaped = true;
    }

    /// Waits up to `limit` for the worker to exit, reaping it if it does.
    fn reap_within(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = now_ns() + limit.as_nanos() as u64;
        let mut pause = Duration::from_micros(50);
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    self.reaped = true;
                    return Some(status);
                }
                Ok(None) if now_ns() < deadline => {
                    thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(10));
                }
                _ => return None,
            }
        }
    }

    fn kill_and_reap(&mut self) {
        if !self.reaped {
            drop(self.stdin.take());
            let _ = self.child.kill();
            let _ = self.child.wait();
            self.reaped = true;
        }
    }
}

impl Drop for Proc {
    /// No path out of a slot leaves a worker running or unreaped.
    fn drop(&mut self) {
        self.kill_and_reap();
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

/// The worker side: reads the setup, answers that it is ready, then runs tasks until stdin
/// closes.
///
/// Its stdout carries only frames; anything a task prints goes to stderr.
pub fn serve() -> anyhow::Result<()> {
    let mut input = io::stdin().lock();
    // A private handle on fd 1, unbuffered: `Stdout` is line-buffered and would split a frame
    // at any 0x0A byte of its length prefix.
    let mut out = File::from(
        io::stdout()
            .as_fd()
            .try_clone_to_owned()
            .context("worker: no stdout")?,
    );
    let setup = match read_frame::<_, ToWorker>(&mut input) {
        Ok(Some(ToWorker::Setup(setup))) => setup,
        Ok(None) => return Ok(()),
        Ok(Some(other)) => bail!("worker: expected a setup message first, got {other:?}"),
        Err(e) => bail!("worker: message from the parent: {e}"),
    };
    let job = Job::new(setup.work);
    match write_frame(
        &mut out,
        &Ready {
            pid: std::process::id(),
        },
    ) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(()),
        Err(e) => bail!("worker: could not say it is ready: {e}"),
    }
    loop {
        let task = match read_frame::<_, ToWorker>(&mut input) {
            Ok(Some(ToWorker::Run { task })) => task,
            // The parent closed the pipe: finished, or gone.
            Ok(None) => return Ok(()),
            Ok(Some(other)) => bail!("worker: expected a task, got {other:?}"),
            Err(e) => bail!("worker: message from the parent: {e}"),
        };
        if let Some(fault) = setup.faults.iter().find(|f| f.task == task) {
            stage(fault.kind, out, &mut input);
        }
        // The parent's submit time is not known here and not needed: it keeps its own.
        let record = run_task(&job, task, 0);
        let done = Done {
            task,
            worker: record.worker,
            start_ns: record.start_ns,
            end_ns: record.end_ns,
            bytes: record.bytes,
            error: record.error,
        };
        match write_frame(&mut out, &done) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(()),
            Err(e) => bail!("worker: could not answer: {e}"),
        }
    }
}

/// Breaks this worker the way `kind` says. Never returns: the worker dies, or waits for its
/// stdin to close (the parent kills it first) and then exits.
fn stage(kind: FaultKind, out: File, input: &mut impl Read) -> ! {
    match kind {
        FaultKind::Kill => {
            // SAFETY: raise has no memory effects; SIGKILL ends the process here.
            unsafe { libc::raise(libc::SIGKILL) };
        }
        FaultKind::Exit => std::process::exit(3),
        FaultKind::Close => {
            drop(out);
            // SAFETY: fd 1 is the protocol pipe and nothing in this process writes to it again.
            unsafe { libc::close(1) };
        }
        FaultKind::Garbage => {
            let mut out = out;
            let _ = io::Write::write_all(&mut out, b"this is not a frame");
        }
    }
    let _ = io::copy(input, &mut io::sink());
    std::process::exit(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::{CpuKind, CpuWork, Work};

    fn noop() -> Job {
        Job::new(Work::Cpu(CpuWork {
            kind: CpuKind::Noop,
            iters: 0,
        }))
    }

    #[test]
    fn a_worker_that_cannot_be_created_fails_a_pool_and_each_task_of_a_per_task_run() {
        let missing = PathBuf::from("/nonexistent/asyncstudy");
        // A pool starts its workers up front: one it cannot create stops the run.
        let pool = ProcessPool {
            workers: 2,
            program: Some(missing.clone()),
        };
        let err = pool.run(&noop(), 5).unwrap_err().to_string();
        assert!(
            err.starts_with("could not start worker process 1 of 2: No such file or directory"),
            "{err}"
        );
        // A run creating one per task fails each task that has none.
        let per_task = ProcessPerTask {
            max_alive: 2,
            program: Some(missing),
        };
        let records = per_task.run(&noop(), 5).unwrap().tasks;
        assert_eq!(records.len(), 5);
        for (i, r) in records.iter().enumerate() {
            assert_eq!(r.task, i);
            match &r.error {
                Some(TaskError::Spawn(why)) => assert!(
                    why.starts_with("could not start worker /nonexistent/asyncstudy: "),
                    "{why}"
                ),
                other => panic!("task {i}: {other:?}"),
            }
            assert!(r.submit_ns <= r.start_ns && r.start_ns <= r.end_ns);
        }
    }

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
