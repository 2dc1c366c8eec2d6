//! `smol`: an `async_executor::Executor` driven by N threads.
//!
//! smol's own `spawn` runs on a global executor with a single thread by default; the fair
//! comparison gives the executor N threads, as smol's documentation shows for multi-threaded use.

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use async_executor::{Executor as AsyncExecutor, Task};
use async_lock::Semaphore;

use super::{Executor, Job, Ledger, RunOutput, StartGate, TaskKind, admitted, start_async_io};
use crate::interrupt;
use crate::workload::download::{FuturesRuntime, write_page};

/// An `async_executor::Executor` run by `workers` threads.
pub struct Smol {
    /// Threads running the executor.
    pub workers: usize,
    /// Most tasks in flight; `None` for all of them.
    pub in_flight: Option<usize>,
}

/// smol's own sockets (async-net), timer (async-io) and files (async-fs) for the hyper client.
pub struct SmolRt;

impl FuturesRuntime for SmolRt {
    type Tcp = smol::net::TcpStream;

    async fn connect(host: String, port: u16) -> io::Result<smol::net::TcpStream> {
        smol::net::TcpStream::connect((host.as_str(), port)).await
    }

    async fn sleep(d: Duration) {
        smol::Timer::after(d).await;
    }

    async fn write_file(path: &Path, bytes: bytes::Bytes) -> io::Result<()> {
        // async-fs's own `write` is this: `unblock` of the blocking write.
        let path = path.to_path_buf();
        smol::unblock(move || write_page(&path, &bytes)).await
    }
}

impl Executor for Smol {
    fn run(&self, job: &Job, tasks: usize) -> anyhow::Result<RunOutput> {
        start_async_io()?;
        let ex = Arc::new(AsyncExecutor::new());
        // Closing this channel ends `ex.run` on every driver thread.
        let (stop, stopped) = smol::channel::bounded::<()>(1);
        let drivers = self.start_drivers(&ex, stopped)?;
        let ledger = Ledger::new(job, tasks);
        let in_flight = self.in_flight.map(|n| Arc::new(Semaphore::new(n)));
        // The calling thread submits but never runs executor tasks, so an open-loop
        // wait for a task's slot can block it.
        let arrivals = job.arrivals();
        let mut handles: Vec<Task<()>> = Vec::with_capacity(tasks);
        for i in 0..tasks {
            let submit = arrivals.submit(i);
            if interrupt::requested().is_some() {
                ledger.skip(i, submit);
                continue;
            }
            handles.push(spawn_task(
                &ex,
                job.kind(i),
                i,
                submit,
                in_flight.clone(),
                ledger.clone(),
            ));
        }
        // The calling thread only waits for the records; it never runs executor tasks.
        let complete = ledger.wait();
        // Dropping a task cancels it: after a cut, the ones still waiting stop at once, and
        // one busy on a driver thread is dropped when it next yields, if ever.
        drop(handles);
        drop(stop);
        if complete {
            for d in drivers {
                let _ = d.join();
            }
        }
        // Otherwise a driver may be stuck in a task: it is left to end with the process.
        Ok(RunOutput::new(ledger.records(&arrivals), arrivals.t0_ns()))
    }
}

impl Smol {
    /// Starts the driver threads, each running the executor until `stopped` closes, and
    /// returns once every one runs it. A thread the OS will not create is an error naming it,
    /// after the drivers already started have ended.
    fn start_drivers(
        &self,
        ex: &Arc<AsyncExecutor<'static>>,
        stopped: smol::channel::Receiver<()>,
    ) -> anyhow::Result<Vec<thread::JoinHandle<()>>> {
        let gate = StartGate::new();
        let mut drivers = Vec::with_capacity(self.workers);
        for k in 0..self.workers {
            let (ex, closed, up) = (ex.clone(), stopped.clone(), gate.reporter());
            // A driver reports from inside `ex.run`, so it runs the executor when it does.
            let driver = thread::Builder::new()
                .name(format!("asyncstudy-smol-{k}"))
                .spawn(move || {
                    let _ = smol::block_on(ex.run(async move {
                        up.up();
                        closed.recv().await
                    }));
                });
            match driver {
                Ok(d) => drivers.push(d),
                Err(e) => {
                    // Closing the channel ends the drivers already started.
                    stopped.close();
                    for d in drivers {
                        let _ = d.join();
                    }
                    anyhow::bail!(
                        "could not start smol executor thread {} of {}: {e}",
                        k + 1,
                        self.workers
                    );
                }
            }
        }
        gate.wait(drivers.len());
        Ok(drivers)
    }
}

/// Spawns task `i`, submitted at `submit`, on `ex` as a future of its kind, admitted through
/// `gate`.
fn spawn_task(
    ex: &AsyncExecutor<'static>,
    kind: TaskKind<'_>,
    i: usize,
    submit: u64,
    gate: Option<Arc<Semaphore>>,
    ledger: Arc<Ledger>,
) -> Task<()> {
    // Each kind of task is its own future: one async block for all kinds would
    // be as large as a download for every task, which cost noop tasks 3 µs.
    match kind {
        TaskKind::Download(_, _) => ex.spawn(async move {
            let _permit = admitted(gate).await;
            let TaskKind::Download(d, page) = ledger.job().kind(i) else {
                unreachable!("a download task has its work")
            };
            let work = d.run_futures::<SmolRt>(page);
            ledger.run_async(i, submit, work).await
        }),
        TaskKind::Sleep(s) => {
            let s = *s;
            ex.spawn(async move {
                let _permit = admitted(gate).await;
                let work = s.run_async(|d| async move {
                    smol::Timer::after(d).await;
                });
                ledger.run_async(i, submit, work).await
            })
        }
        TaskKind::Inline => ex.spawn(async move {
            let _permit = admitted(gate).await;
            ledger.run(i, submit)
        }),
    }
}
