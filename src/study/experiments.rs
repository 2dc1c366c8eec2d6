//! The study's experiments: the seed notebooks' comparisons, and the scale of tasks in flight,
//! each built as a comparison plan for this machine's core count, and the situations of the
//! answer table each one's groups stand for.
//!
//! Sizes are chosen so a 3% difference can be decided on a noisy 2-core VM (CPU tasks of about
//! 57 ms, seed 002's `long_comp` at its 5 million steps) and the whole study, with `--repeat
//! auto`, stays under 4 minutes there: every experiment has its own time budget.

use std::time::Duration;

use crate::model::Runtime;
use crate::model::compare::Metric;
use crate::plan::{
    ComparePlan, DownloadPlan, MixedPlan, Output, Repeat, RunPlan, Source, WorkPlan,
};
use crate::server::ServeOptions;
use crate::workload::download::Connections;
use crate::workload::{CpuKind, CpuWork, Sleep};

use Runtime::*;

/// One experiment: a name for its files, a heading, what was run, its comparison, and the
/// situations of the answer it stands for.
pub(super) struct Experiment {
    /// The stem of its data and plot files.
    pub name: &'static str,
    /// Its section's heading.
    pub heading: &'static str,
    /// What was run, in a sentence or two (no findings: those come from the figures).
    pub about: String,
    /// Its comparison.
    pub plan: ComparePlan,
    /// The rows of the answer table it fills.
    pub situations: Vec<Ask>,
}

/// A row of the answer table: one group of an experiment and the figure it is judged on.
#[derive(Debug, Clone)]
pub(super) struct Ask {
    /// The situation in a few words.
    pub label: String,
    /// The group's worker count.
    pub workers: usize,
    /// The group's tasks, as the records count them (a mix's IO and CPU tasks together).
    pub tasks: usize,
    /// The figure compared.
    pub metric: Metric,
}

/// A comparison of `runtimes` on `work` (`tasks` tasks, as `--tasks` counts them) at `workers`,
/// with `--repeat auto` within `budget` and the defaults a `compare` command line has.
pub(super) fn comparison(
    kind: &str,
    work: WorkPlan,
    tasks: usize,
    runtimes: &[Runtime],
    workers: &[usize],
    budget: u64,
) -> ComparePlan {
    let io_tasks = match &work {
        WorkPlan::Mixed(m) => m.io_tasks,
        _ => tasks,
    };
    let mut template = RunPlan::new(work, tasks);
    template.warmup = 0;
    ComparePlan {
        kind: kind.into(),
        template,
        runtimes: runtimes.to_vec(),
        workers: workers.to_vec(),
        tasks: vec![io_tasks],
        connections: Vec::new(),
        repeat: Repeat::Auto {
            max: Repeat::DEFAULT_MAX,
            budget: Duration::from_secs(budget),
        },
        min_effect: crate::model::compare::DEFAULT_MIN_EFFECT,
        output: Output::stdout(),
        quiet: false,
        strict: false,
        plots: None,
        scale: false,
    }
}

/// Seed 002's `long_comp` at its own size, 5 million steps: about 57 ms a task on the
/// project's VM, long enough that start-up and scheduling noise stay far below 3%.
const COMP: CpuWork = CpuWork {
    kind: CpuKind::Comp,
    iters: 5_000_000,
};

/// Sleep tasks of `ms` milliseconds, blocking or on the runtime's timer.
fn sleep(ms: u64, blocking: bool) -> WorkPlan {
    WorkPlan::Sleep(Sleep {
        duration: Duration::from_millis(ms),
        blocking,
    })
}

/// An answer row.
pub(super) fn ask(label: String, workers: usize, tasks: usize, metric: Metric) -> Ask {
    Ask {
        label,
        workers,
        tasks,
        metric,
    }
}

/// Every experiment, for a machine of `cores` logical cores.
pub(super) fn experiments(cores: usize) -> Vec<Experiment> {
    vec![
        cpu_runtimes(cores),
        cpu_workers(cores),
        download(),
        web(cores, false, Connections::New),
        web(cores, false, Connections::Reuse),
        web(cores, true, Connections::New),
        web(cores, true, Connections::Reuse),
        sleeps(cores),
        blocking(cores),
        mixed(cores),
        scale(cores),
    ]
}

fn cpu_runtimes(cores: usize) -> Experiment {
    let tasks = 4 * cores;
    let all = [
        Serial,
        Threads,
        ThreadPerTask,
        Rayon,
        TokioMt,
        TokioCt,
        TokioBlocking,
        Smol,
        AsyncStd,
        ProcessPool,
        ProcessPerTask,
    ];
    Experiment {
        name: "cpu-runtimes",
        heading: "CPU loops on every runtime (seeds 000 and 002)",
        about: format!(
            "{tasks} `comp` tasks (seed 002's `long_comp`, 5 million steps each) on {cores} workers, as many as the machine has cores, on every runtime: the seeds' thread and process pools, and Rust's async runtimes running the loop inline in their tasks."
        ),
        plan: comparison("cpu", WorkPlan::Cpu(COMP), tasks, &all, &[cores], 20),
        situations: vec![ask(
            format!("CPU-bound, workers = cores ({cores})"),
            cores,
            tasks,
            Metric::Wall,
        )],
    }
}

fn cpu_workers(cores: usize) -> Experiment {
    let tasks = 4 * cores;
    let rts = [Serial, Threads, Rayon, TokioMt, Smol, ProcessPool];
    Experiment {
        name: "cpu-workers",
        heading: "More workers than cores (seed 003)",
        about: format!(
            "The same {tasks} tasks with {} workers, twice the {cores} cores, so workers take turns on a core; serial, on one, is the baseline of seed 003's worker sweep.",
            2 * cores
        ),
        plan: comparison("cpu", WorkPlan::Cpu(COMP), tasks, &rts, &[2 * cores], 15),
        situations: vec![ask(
            format!("CPU-bound, {} workers on {cores} cores", 2 * cores),
            2 * cores,
            tasks,
            Metric::Wall,
        )],
    }
}

fn download() -> Experiment {
    let work = WorkPlan::Download(Box::new(DownloadPlan {
        source: Source::Embedded(ServeOptions::new()),
        writes: 50,
        out_dir: None,
        keep: false,
        max_page_size: 10 << 20,
        timeout: Duration::from_secs(20),
        connections: Connections::New,
    }));
    // No serial: at one worker the thread pool is the seed's serial loop, and serial would
    // cost a second of every round.
    let rts = [Threads, ProcessPool, TokioMt, TokioCt, Smol, AsyncStd];
    let workers = [1, 4, 16];
    Experiment {
        name: "download",
        heading: "Downloading and rewriting pages (seed 001)",
        about: "16 pages from the embedded server (16 KiB, 50 ms latency), each written 50 times, with 1, 4 and 16 workers. Async runtimes run every download at once whatever `--workers` says; thread pools and processes run as many as they have workers.".into(),
        plan: comparison("io", work, 16, &rts, &workers, 55),
        situations: download_situations(&workers, Metric::Wall),
    }
}

/// The answers asked of 16 downloads, one per worker count, on `metric`.
pub(super) fn download_situations(workers: &[usize], metric: Metric) -> Vec<Ask> {
    workers
        .iter()
        .map(|&w| {
            let label = format!(
                "IO: 16 downloads, {}",
                crate::analysis::prose::workers_phrase(w)
            );
            ask(label, w, 16, metric)
        })
        .collect()
}

/// Downloads as web clients make them: over plain http or https from the embedded server (its
/// self-signed certificate trusted alone), on a new connection each or kept ones. No server
/// delay and one write, so what a request costs the client and the server is what shows; the
/// four together show what a TLS handshake per request costs each side.
fn web(cores: usize, tls: bool, connections: Connections) -> Experiment {
    let tasks = 64;
    let work = WorkPlan::Download(Box::new(DownloadPlan {
        source: Source::Embedded(ServeOptions {
            latency: Duration::ZERO,
            tls,
            ..ServeOptions::new()
        }),
        writes: 1,
        out_dir: None,
        keep: false,
        max_page_size: 10 << 20,
        timeout: Duration::from_secs(20),
        connections,
    }));
    let rts = [TokioMt, Smol, Threads, ProcessPool];
    let scheme = if tls { "https" } else { "http" };
    let (name, heading) = match (tls, connections) {
        (false, Connections::New) => (
            "web-http-new",
            "Web traffic: http, a new connection per download",
        ),
        (false, Connections::Reuse) => ("web-http-reuse", "Web traffic: http, kept connections"),
        (true, Connections::New) => (
            "web-https-new",
            "Web traffic: https, a new connection per download",
        ),
        (true, Connections::Reuse) => ("web-https-reuse", "Web traffic: https, kept connections"),
    };
    let (how, situation) = match connections {
        Connections::New => (
            "every download on a new connection (with https, a handshake each)",
            "a new connection per download",
        ),
        Connections::Reuse => (
            "connections kept alive: one client per runtime or per worker process",
            "kept connections",
        ),
    };
    Experiment {
        name,
        heading,
        about: format!(
            "{tasks} downloads of 16 KiB pages over {scheme} from the embedded server with no delay, each written once, {how}, on {cores} workers. Async runtimes have all {tasks} in flight at once, so they hold a connection per download in flight even when connections are kept; thread pools and processes hold one per worker. The `server cores` column is the server process's own CPU over the client's wall time, beside the client's `cores`: it says when the server, sharing the {cores} cores, was the bottleneck. The four web-traffic sections differ only in http or https and new or kept connections, so their differences in wall time and cores are what the handshakes cost each side."
        ),
        plan: comparison("io", work, tasks, &rts, &[cores], 5),
        situations: vec![ask(
            format!("IO over {scheme}, {situation}"),
            cores,
            tasks,
            Metric::Wall,
        )],
    }
}

fn sleeps(cores: usize) -> Experiment {
    let rts = [
        Serial,
        Threads,
        ThreadPerTask,
        ProcessPool,
        TokioMt,
        TokioCt,
        Smol,
        AsyncStd,
    ];
    Experiment {
        name: "sleep",
        heading: "Waiting: sleep tasks (seed 002 `long_io`)",
        about: format!(
            "16 tasks that each wait 50 ms on the runtime's timer (threads and processes block in `std::thread::sleep`), with {cores} and with 16 workers."
        ),
        plan: comparison("sleep", sleep(50, false), 16, &rts, &[cores, 16], 18),
        situations: vec![ask(
            format!("16 sleeps of 50 ms, {cores} workers"),
            cores,
            16,
            Metric::Wall,
        )],
    }
}

fn blocking(cores: usize) -> Experiment {
    let rts = [
        TokioMt,
        TokioCt,
        TokioBlocking,
        Smol,
        AsyncStd,
        Threads,
        ProcessPool,
    ];
    Experiment {
        name: "sleep-blocking",
        heading: "Blocking inside async tasks",
        about: format!(
            "The same sleeps with `--blocking`: `std::thread::sleep` inside async tasks, which holds the executor thread it runs on; tokio-blocking moves the sleep to `spawn_blocking`. Threads and processes sleep as before. {cores} workers."
        ),
        plan: comparison("sleep", sleep(50, true), 16, &rts, &[cores], 15),
        situations: vec![ask(
            format!("a blocking call inside async tasks, {cores} workers"),
            cores,
            16,
            Metric::Wall,
        )],
    }
}

fn mixed(cores: usize) -> Experiment {
    let cpu_tasks = 4 * cores;
    let work = WorkPlan::Mixed(MixedPlan {
        cpu: CpuWork {
            kind: CpuKind::Comp,
            iters: 2_000_000,
        },
        io: Box::new(sleep(10, false)),
        io_tasks: 100,
    });
    let rts = [
        TokioMt,
        TokioCt,
        Smol,
        AsyncStd,
        TokioBlocking,
        TokioRayon,
        Threads,
        ProcessPool,
    ];
    Experiment {
        name: "mixed",
        heading: "CPU work beside IO: where to put it",
        about: format!(
            "{cpu_tasks} `comp` tasks (2 million steps) among 100 sleeps of 10 ms, submitted together on {cores} workers. The IO tasks' p99 is the figure: what the CPU work, placed where each runtime puts it, does to the sleeps."
        ),
        plan: comparison("mixed", work, 100 + cpu_tasks, &rts, &[cores], 15),
        situations: vec![ask(
            format!("CPU work beside IO, {cores} workers"),
            cores,
            100 + cpu_tasks,
            Metric::IoP99,
        )],
    }
}

fn scale(cores: usize) -> Experiment {
    let rts = [TokioMt, Smol, AsyncStd, ThreadPerTask, ProcessPerTask];
    let mut plan = comparison("sleep", sleep(250, false), 100, &rts, &[cores], 22);
    plan.scale = true;
    plan.tasks = vec![100, 10_000, 100_000];
    // A monitor per task would be part of tokio's memory per task.
    plan.template.tokio_metrics = false;
    Experiment {
        name: "scale",
        heading: "Scale: 100 to 100,000 sleeping tasks in flight",
        about: format!(
            "Every task in flight at once, each waiting 250 ms: async runtimes on {cores} threads with every task as a future, thread-per-task and process-per-task with a thread or a process per task, up to the limits of --max-threads and --max-processes. Memory and spawn time per unit in flight are the figures."
        ),
        plan,
        situations: vec![ask(
            "100,000 tasks in flight".into(),
            cores,
            100_000,
            Metric::MemoryPerUnit,
        )],
    }
}
