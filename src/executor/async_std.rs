//! `async-std`: tasks spawned on async-std's global executor.
//!
//! async-std is discontinued upstream; it is measured because much code still runs on it.
//! Its executor (async-global-executor) reads its thread count once, at first use, so the
//! count is configured here before async-std touches it and can't change afterwards.
//!
//! The executor starts its threads when it is first used and keeps them for the life of the
//! process: async-global-executor can stop threads only down to its minimum, which is N here, and
//! has no shutdown. So a run cannot tear it down, and a later run in the same process reuses its
//! threads; `compare` runs every cell in a process of its own. A run cut short by a signal
//! cancels its tasks without waiting for them: a task busy in a CPU loop keeps its executor
//! thread until the process exits.

use std::io;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use async_global_executor::GlobalExecutorConfig;
use async_lock::Semaphore;

use super::{
    Executor, Job, Ledger, Meet, RunOutput, TaskKind, admitted, no_panic, spawn_reason,
    start_async_io,
};
use crate::interrupt;
use crate::workload::download::{FuturesRuntime, write_page};

/// async-std's global executor with `workers` threads.
pub struct AsyncStd {
    /// Executor threads (min = max = N).
    pub workers: usize,
    /// Most tasks in flight; `None` for all of them.
    pub in_flight: Option<usize>,
}

/// async-std's own sockets, timer and files for the hyper client.
pub struct AsyncStdRt;

impl FuturesRuntime for AsyncStdRt {
    type Tcp = async_std::net::TcpStream;

    async fn connect(host: String, port: u16) -> io::Result<async_std::net::TcpStream> {
        async_std::net::TcpStream::connect((host.as_str(), port)).await
    }

    async fn sleep(d: Duration) {
        async_std::task::sleep(d).await;
    }

    async fn write_file(path: &Path, bytes: bytes::Bytes) -> io::Result<()> {
        // async_std::fs::write is this: spawn_blocking of the blocking write.
        let path = path.to_path_buf();
        async_std::task::spawn_blocking(move || write_page(&path, &bytes)).await
    }
}

/// The thread count the global executor was started with in this process, or why it could not
/// start.
static STARTED_WITH: OnceLock<Result<usize, String>> = OnceLock::new();

/// Environment variable async-std's own start-up would read; it overrides the configured count.
pub use crate::model::runtime::ASYNC_STD_THREAD_COUNT_VAR as THREAD_COUNT_VAR;

impl Executor for AsyncStd {
    fn run(&self, job: &Job, tasks: usize) -> anyhow::Result<RunOutput> {
        let n = self.workers;
        start_async_io()?;
        start_executor(n)?;
        warm_up(n);
        let gate = self.in_flight.map(|n| Arc::new(Semaphore::new(n)));
        let ledger = Ledger::new(job, tasks);
        // The calling thread spawns onto the global executor but never runs its tasks, so an
        // open-loop wait for a task's slot can block it.
        let arrivals = job.arrivals();
        let mut handles = Vec::with_capacity(tasks);
        for i in 0..tasks {
            let submit = arrivals.submit(i);
            if interrupt::requested().is_some() {
                ledger.skip(i, submit);
                continue;
            }
            handles.push(spawn_task(
                job.kind(i),
                i,
                submit,
                gate.clone(),
                ledger.clone(),
            ));
        }
        if !ledger.wait() {
            for handle in handles {
                cancel(handle);
            }
        }
        Ok(RunOutput::new(ledger.records(&arrivals), arrivals.t0_ns()))
    }
}

/// Starts async-std's global executor with `n` threads, once per process; an error if it
/// cannot start them, or already runs another count.
fn start_executor(n: usize) -> anyhow::Result<()> {
    let started = STARTED_WITH.get_or_init(|| {
        // async-global-executor panics when it cannot spawn its threads.
        no_panic(
            || {},
            || {
                async_global_executor::init_with_config(
                    GlobalExecutorConfig::default()
                        // Read the same variable async-std would, so a user who sets it is
                        // not silently ignored; the plan rejects a value that disagrees with
                        // --workers.
                        .with_env_var(THREAD_COUNT_VAR)
                        .with_min_threads(n)
                        .with_max_threads(n)
                        .with_thread_name_fn(|| "async-std/runtime".into()),
                );
                n
            },
        )
        .map_err(|panic| {
            format!(
                "could not start async-std's {n} executor threads: {}",
                spawn_reason(&panic)
            )
        })
    });
    let started = match started {
        Ok(started) => *started,
        Err(e) => anyhow::bail!("{e}"),
    };
    anyhow::ensure!(
        started == n,
        "async-std's executor already runs {started} threads in this process; it cannot be resized to {n}"
    );
    Ok(())
}

/// Returns once each of the executor's `n` threads has run a task.
fn warm_up(n: usize) {
    // The executor's threads were spawned when it started; n tasks that each hold their
    // thread until all n have arrived show that every one of them runs the executor. Runs
    // in one process (tests) share the executor: two such meetings at once could each hold
    // a thread the other waits for, until the limit, so they take turns.
    static WARMING: Mutex<()> = Mutex::new(());
    let _warming = WARMING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let meet = Arc::new(Meet::new(n));
    let warm: Vec<_> = (0..n)
        .map(|_| {
            let meet = meet.clone();
            async_std::task::spawn(async move { meet.arrive() })
        })
        .collect();
    meet.wait();
    async_std::task::block_on(async {
        for w in warm {
            w.await;
        }
    });
}

/// Spawns task `i`, submitted at `submit`, as a future of its kind, admitted through `gate`.
fn spawn_task(
    kind: TaskKind<'_>,
    i: usize,
    submit: u64,
    gate: Option<Arc<Semaphore>>,
    ledger: Arc<Ledger>,
) -> async_std::task::JoinHandle<()> {
    // One future per kind of task, for the size reason given in smol.rs.
    match kind {
        TaskKind::Download(_, _) => async_std::task::spawn(async move {
            let _permit = admitted(gate).await;
            let TaskKind::Download(d, page) = ledger.job().kind(i) else {
                unreachable!("a download task has its work")
            };
            let work = d.run_futures::<AsyncStdRt>(page);
            ledger.run_async(i, submit, work).await
        }),
        TaskKind::Sleep(s) => {
            let s = *s;
            async_std::task::spawn(async move {
                let _permit = admitted(gate).await;
                let work = s.run_async(async_std::task::sleep);
                ledger.run_async(i, submit, work).await
            })
        }
        TaskKind::Inline => async_std::task::spawn(async move {
            let _permit = admitted(gate).await;
            ledger.run(i, submit)
        }),
    }
}

/// Cancels an async-std task without waiting for it. Dropping a handle only detaches the task,
/// and awaiting `cancel` waits until the task stops running, which a task busy in a CPU loop on
/// an executor thread never does. Polled once, `cancel` marks the task cancelled (a waiting
/// task is dropped at once, a running one when it next yields); dropped, it lets it go.
fn cancel<T>(handle: async_std::task::JoinHandle<T>) {
    let _ = futures_lite::future::block_on(futures_lite::future::poll_once(handle.cancel()));
}
