//! Harness overhead per `noop` task, runtime by runtime.
//!
//! For each runtime two benchmarks run the same number of empty tasks: `harness` through
//! asyncstudy's executor (timestamps, worker ids, panic capture, task records), and `raw`
//! through the bare mechanism the executor is built on (spawn and join, nothing recorded).
//! One criterion iteration is one task and each sample runs its tasks as one batch, so the
//! slope criterion reports is the cost per task with the runtime's start-up factored out.
//! The ratio harness / raw is what asyncstudy adds to every task it measures.
//!
//! The process runtimes' raw mechanisms are a pipe round trip to a long-lived `cat` (for
//! `process-pool`) and spawning and reaping `/bin/true` (for `process-per-task`); a third
//! benchmark, `raw-self`, spawns this binary's worker with nothing to do, to show what the
//! binary's own start-up adds to the smallest possible process. The tokio runtimes also run
//! `harness-no-metrics`, without the per-task tokio-metrics monitors, to show what those cost.
//!
//! The Python runtimes (`py-*`) run `harness` only, timed from their ready time: Python's own
//! executors are the mechanism, and what the harness adds is a line of JSON per task.
//!
//! Run with `cargo bench --bench overhead`; `-- tokio` runs one family, `-- process` both
//! process runtimes.

use std::hint::black_box;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use asyncstudy::executor::process::{ProcessPerTask, ProcessPool};
use asyncstudy::executor::{Executor, Job, Runtime};
use asyncstudy::workload::{CpuKind, CpuWork, Work};
use criterion::{Criterion, criterion_group, criterion_main};
use rayon::prelude::*;

/// Worker threads for every runtime: this machine's two cores.
const WORKERS: usize = 2;

/// The binary cargo built for this bench: the process runtimes start their workers from it.
const ASYNCSTUDY: &str = env!("CARGO_BIN_EXE_asyncstudy");

/// Empty tasks that a worker process can be told to run.
fn noop_job() -> Job {
    Job::new(Work::Cpu(CpuWork {
        kind: CpuKind::Noop,
        iters: 0,
    }))
}

/// The executor under test; process runtimes start workers from the bench's binary, not from
/// the bench itself (which has no `worker` subcommand).
fn executor(rt: Runtime) -> Box<dyn Executor> {
    let program = Some(ASYNCSTUDY.into());
    match rt {
        Runtime::ProcessPool => Box::new(ProcessPool {
            workers: WORKERS,
            program,
        }),
        Runtime::ProcessPerTask => Box::new(ProcessPerTask {
            max_alive: WORKERS,
            program,
        }),
        _ => rt.executor(WORKERS, None),
    }
}

/// Splits `tasks` over `WORKERS` threads, each calling `lane` with a claim function that hands
/// out task numbers until none are left.
fn on_worker_threads(tasks: usize, lane: impl Fn(&dyn Fn() -> Option<usize>) + Sync) {
    let next = AtomicUsize::new(0);
    let claim = || {
        let i = next.fetch_add(1, Ordering::Relaxed);
        (i < tasks).then_some(i)
    };
    thread::scope(|s| {
        for _ in 0..WORKERS {
            s.spawn(|| lane(&claim));
        }
    });
}

/// Spawns `program args` and reaps it, once per task, at most `WORKERS` at a time.
fn spawn_and_reap(tasks: usize, program: &str, args: &[&str]) {
    on_worker_threads(tasks, |claim| {
        while claim().is_some() {
            let status = Command::new(program)
                .args(args)
                .stdin(Stdio::null())
                .status()
                .unwrap();
            assert!(status.success());
        }
    });
}

/// Runs `tasks` empty tasks on the bare mechanism behind `rt`.
fn raw(rt: Runtime, tasks: usize) {
    let task = |i: usize| {
        black_box(i);
    };
    match rt {
        Runtime::Serial => (0..tasks).for_each(task),
        Runtime::Threads => {
            let (tx, rx) = crossbeam_channel::unbounded::<usize>();
            thread::scope(|s| {
                for _ in 0..WORKERS {
                    let rx = rx.clone();
                    s.spawn(move || rx.iter().for_each(task));
                }
                (0..tasks).for_each(|i| tx.send(i).unwrap());
                drop(tx);
            });
        }
        Runtime::ThreadPerTask => {
            let (give_back, slots) = crossbeam_channel::bounded::<()>(WORKERS);
            (0..WORKERS).for_each(|_| give_back.send(()).unwrap());
            thread::scope(|s| {
                for i in 0..tasks {
                    slots.recv().unwrap();
                    let give_back = give_back.clone();
                    s.spawn(move || {
                        task(i);
                        give_back.send(()).unwrap();
                    });
                }
            });
        }
        Runtime::TokioMt | Runtime::TokioCt | Runtime::TokioBlocking => {
            let rt_built = match rt {
                Runtime::TokioMt => tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(WORKERS)
                    .build(),
                Runtime::TokioCt => tokio::runtime::Builder::new_current_thread().build(),
                _ => tokio::runtime::Builder::new_current_thread()
                    .max_blocking_threads(WORKERS)
                    .build(),
            }
            .unwrap();
            let gate = Arc::new(tokio::sync::Semaphore::new(WORKERS));
            rt_built.block_on(async {
                let handles: Vec<_> = (0..tasks)
                    .map(|i| {
                        let gate = Arc::clone(&gate);
                        match rt {
                            Runtime::TokioBlocking => tokio::task::spawn_blocking(move || task(i)),
                            // tokio-ct's N is a limit on tasks in flight: the gate is part of
                            // the mechanism, not of the harness.
                            Runtime::TokioCt => tokio::spawn(async move {
                                let _permit = gate.acquire_owned().await.unwrap();
                                task(i)
                            }),
                            _ => tokio::spawn(async move { task(i) }),
                        }
                    })
                    .collect();
                for h in handles {
                    h.await.unwrap();
                }
            });
        }
        Runtime::TokioRayon => {
            // The pattern itself: a tokio task hands the work to rayon and awaits a oneshot.
            let rt_built = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(WORKERS)
                .build()
                .unwrap();
            let pool = Arc::new(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(WORKERS)
                    .build()
                    .unwrap(),
            );
            rt_built.block_on(async {
                let handles: Vec<_> = (0..tasks)
                    .map(|i| {
                        let pool = Arc::clone(&pool);
                        tokio::spawn(async move {
                            let (done, result) = tokio::sync::oneshot::channel();
                            pool.spawn(move || {
                                task(i);
                                let _ = done.send(());
                            });
                            result.await.unwrap();
                        })
                    })
                    .collect();
                for h in handles {
                    h.await.unwrap();
                }
            });
        }
        Runtime::AsyncStd => async_std::task::block_on(async {
            let handles: Vec<_> = (0..tasks)
                .map(|i| async_std::task::spawn(async move { task(i) }))
                .collect();
            for h in handles {
                h.await;
            }
        }),
        Runtime::Smol => {
            let ex = async_executor::Executor::new();
            let (stop, stopped) = smol::channel::bounded::<()>(1);
            thread::scope(|s| {
                for _ in 0..WORKERS {
                    let (ex, stopped) = (&ex, stopped.clone());
                    s.spawn(move || smol::block_on(ex.run(stopped.recv())));
                }
                let handles: Vec<_> = (0..tasks)
                    .map(|i| ex.spawn(async move { task(i) }))
                    .collect();
                smol::block_on(async {
                    for h in handles {
                        h.await;
                    }
                });
                drop(stop);
            });
        }
        Runtime::Rayon => {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(WORKERS)
                .build()
                .unwrap();
            pool.install(|| (0..tasks).into_par_iter().for_each(task));
        }
        Runtime::ProcessPool => on_worker_threads(tasks, |claim| {
            // `cat` echoes each 8-byte message: one write and one read per task, as in the pool.
            let mut cat = Command::new("cat")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let (mut to, mut from) = (cat.stdin.take().unwrap(), cat.stdout.take().unwrap());
            let mut echo = [0u8; 8];
            while let Some(i) = claim() {
                to.write_all(&(i as u64).to_le_bytes()).unwrap();
                from.read_exact(&mut echo).unwrap();
                task(u64::from_le_bytes(echo) as usize);
            }
            drop(to);
            cat.wait().unwrap();
        }),
        Runtime::ProcessPerTask => spawn_and_reap(tasks, "/bin/true", &[]),
        // The Python runtimes have no raw mechanism in Rust: see `python_overhead`.
        Runtime::PySerial | Runtime::PyThreads | Runtime::PyProcesses | Runtime::PyAsyncio => {}
    }
}

/// A Python runtime's cost per noop task: from its ready time (interpreter and pool started)
/// to the last task's end, so the interpreter's start-up is left out as the slope leaves the
/// Rust runtimes' out. Python's own mechanism is the harness's: there is no cheaper raw one.
fn python_overhead(c: &mut Criterion, rt: Runtime, job: &Job) {
    let mut group = c.benchmark_group(format!("noop/{}", rt.name()));
    group.sample_size(10);
    let executor = executor(rt);
    group.bench_function("harness", |b| {
        b.iter_custom(|tasks| {
            let out = executor.run(job, tasks as usize).unwrap();
            assert_eq!(out.tasks.len(), tasks as usize);
            let last = out
                .tasks
                .iter()
                .map(|r| r.end_ns)
                .max()
                .unwrap_or(out.ready_ns);
            Duration::from_nanos(last.saturating_sub(out.ready_ns))
        })
    });
    group.finish();
}

fn overhead(c: &mut Criterion) {
    let job = noop_job();
    for rt in Runtime::ALL {
        if rt.is_python() {
            python_overhead(c, rt, &job);
            continue;
        }
        let mut group = c.benchmark_group(format!("noop/{}", rt.name()));
        // Spawning a thread or a process per task costs tens of microseconds to milliseconds;
        // fewer samples keep those short.
        if matches!(rt, Runtime::ThreadPerTask | Runtime::ProcessPerTask) {
            group.sample_size(10);
        }
        // The harness runs first: async-std's thread count is fixed by whoever starts it first,
        // and the executor is the one that sets it to WORKERS.
        let executor = executor(rt);
        group.bench_function("harness", |b| {
            b.iter_custom(|tasks| {
                let start = Instant::now();
                let records = executor.run(&job, tasks as usize).unwrap().tasks;
                let took = start.elapsed();
                assert_eq!(records.len(), tasks as usize);
                took
            })
        });
        if matches!(
            rt,
            Runtime::TokioMt | Runtime::TokioCt | Runtime::TokioBlocking
        ) {
            // What the per-task tokio-metrics monitors cost (`--no-tokio-metrics`).
            let bare = rt.executor_with(WORKERS, None, false);
            group.bench_function("harness-no-metrics", |b| {
                b.iter_custom(|tasks| {
                    let start = Instant::now();
                    let records = bare.run(&job, tasks as usize).unwrap().tasks;
                    let took = start.elapsed();
                    assert_eq!(records.len(), tasks as usize);
                    took
                })
            });
        }
        group.bench_function("raw", |b| {
            b.iter_custom(|tasks| {
                let start = Instant::now();
                raw(rt, tasks as usize);
                start.elapsed()
            })
        });
        if rt == Runtime::ProcessPerTask {
            group.bench_function("raw-self", |b| {
                b.iter_custom(|tasks| {
                    let start = Instant::now();
                    spawn_and_reap(tasks as usize, ASYNCSTUDY, &["worker"]);
                    start.elapsed()
                })
            });
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = overhead
}
criterion_main!(benches);
