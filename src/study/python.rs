//! The study's section "Python's answer and Rust's": the seeds' three experiments (CPU loops,
//! downloads at 1 to 16 workers, sleeps) run on the seeds' own Python models and on Rust's
//! runtimes in one comparison each, so both languages are measured on the same machine, work
//! and clock; each situation is answered among the Python runtimes and among the Rust ones
//! apart, and the table says whether the family Python's answer names also wins in Rust.
//!
//! The figure is each runtime's longest task latency (from the batch's submission, once every
//! worker runs, to the last task's end): the makespan without start-up, so a Python runtime is
//! not judged on its interpreter's start-up, which its wall time includes. Sizes and budgets
//! keep the section to about 55 s with `--repeat auto` on the project's VM: every Python cell
//! costs an interpreter start (and a check of the interpreter) besides its work.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use super::experiments::{Ask, Experiment, ask, comparison, download_situations};
use crate::analysis::answer::{answer_in, carries_over};
use crate::model::Runtime::*;
use crate::model::compare::{CompareRecord, Metric};
use crate::model::run::PythonInfo;
use crate::model::runtime::Language;
use crate::plan::{DownloadPlan, Source, WorkPlan};
use crate::report::PythonSituation;
use crate::server::ServeOptions;
use crate::workload::download::Connections;
use crate::workload::{CpuKind, CpuWork, Sleep};

/// The section's heading.
pub(super) const HEADING: &str = "Python's answer and Rust's";

/// Seed 002's `long_comp` at 300,000 of its 5 million steps: CPython takes about 0.14 s a
/// task on the project's VM (Rust about 3 ms), so four tasks fit a round of a second or two.
const PY_COMP: CpuWork = CpuWork {
    kind: CpuKind::Comp,
    iters: 300_000,
};

/// The section's experiments on a machine of `cores` cores, with `interpreter` (`--python`)
/// and whether it has aiohttp (py-asyncio downloads need it; without it they are left out).
pub(super) fn experiments(
    cores: usize,
    interpreter: Option<&Path>,
    aiohttp: bool,
) -> Vec<Experiment> {
    let mut all = vec![cpu(cores), download(aiohttp), sleeps(cores)];
    for e in &mut all {
        e.plan.template.python_path = interpreter.map(Path::to_path_buf);
    }
    all
}

fn cpu(cores: usize) -> Experiment {
    // The seeds' two pools in each language. No py-asyncio: its CPU tasks run one after
    // another on the event loop, as py-serial's would, and the seeds never ran CPU work there.
    let rts = [PyThreads, PyProcesses, Threads, ProcessPool];
    Experiment {
        name: "python-cpu",
        heading: "Python and Rust: CPU loops (seed 002's long_comp)",
        about: format!(
            "4 `comp` tasks (seed 002's `long_comp` at 300,000 of the seed's 5 million steps) on {cores} workers, in Python's thread pool and process pool and in Rust's."
        ),
        plan: comparison("cpu", WorkPlan::Cpu(PY_COMP), 4, &rts, &[cores], 10),
        situations: vec![ask(
            format!("CPU-bound, workers = cores ({cores})"),
            cores,
            4,
            Metric::MaxLatency,
        )],
    }
}

/// The IO experiments' runtimes: Python's thread pool, process pool and asyncio beside the
/// Rust ones they stand for.
const IO_RUNTIMES: [crate::model::Runtime; 6] = [
    PyThreads,
    PyProcesses,
    PyAsyncio,
    Threads,
    ProcessPool,
    TokioMt,
];

fn download(aiohttp: bool) -> Experiment {
    let mut server = ServeOptions::new();
    server.latency = Duration::from_millis(20);
    let work = WorkPlan::Download(Box::new(DownloadPlan {
        source: Source::Embedded(server),
        writes: 10,
        out_dir: None,
        keep: false,
        max_page_size: 10 << 20,
        timeout: Duration::from_secs(20),
        connections: Connections::New,
    }));
    let mut rts = IO_RUNTIMES.to_vec();
    if !aiohttp {
        rts.retain(|&rt| rt != PyAsyncio);
    }
    // 1 and 16 workers: one at a time and every download at once (the main download
    // experiment adds 4).
    let workers = [1, 16];
    let without = if aiohttp {
        ""
    } else {
        " (py-asyncio is left out: the interpreter has no aiohttp)"
    };
    Experiment {
        name: "python-download",
        heading: "Python and Rust: downloading and rewriting pages (seed 001)",
        about: format!(
            "16 pages from the embedded server (16 KiB, 20 ms latency), each written 10 times, with 1 and 16 workers: Python's urllib in a thread pool and a process pool, aiohttp on asyncio, and Rust's ureq in a thread pool and a process pool, reqwest on tokio{without}."
        ),
        plan: comparison("io", work, 16, &rts, &workers, 32),
        situations: download_situations(&workers, Metric::MaxLatency),
    }
}

fn sleeps(cores: usize) -> Experiment {
    let rts = IO_RUNTIMES;
    let work = WorkPlan::Sleep(Sleep {
        duration: Duration::from_millis(50),
        blocking: false,
    });
    Experiment {
        name: "python-sleep",
        heading: "Python and Rust: sleep tasks (seed 002's long_io)",
        about: format!(
            "8 tasks that each wait 50 ms (`time.sleep` in Python's pools, `asyncio.sleep` on asyncio; `std::thread::sleep` in Rust's pools, tokio's timer) on {cores} workers."
        ),
        plan: comparison("sleep", work, 8, &rts, &[cores], 14),
        situations: vec![ask(
            format!(
                "8 sleeps of 50 ms, {}",
                crate::analysis::prose::workers_phrase(cores)
            ),
            cores,
            8,
            Metric::MaxLatency,
        )],
    }
}

/// A situation's two answers, and whether the Python one carries over.
pub(super) fn situation(record: &CompareRecord, s: &Ask, link: String) -> PythonSituation {
    let python = answer_in(record, s.workers, s.tasks, s.metric, Some(Language::Python));
    let rust = answer_in(record, s.workers, s.tasks, s.metric, Some(Language::Rust));
    PythonSituation {
        label: s.label.clone(),
        link: Some(link),
        carries_over: carries_over(&python, &rust),
        python,
        rust,
    }
}

/// The section's opening: why it exists, what was run on which interpreter, and how to read
/// the table that follows.
pub(super) fn intro(info: &PythonInfo) -> String {
    let mut doc = String::new();
    let gil = if info.gil {
        "with its GIL"
    } else {
        "with the GIL off"
    };
    let _ = write!(
        doc,
        "## {HEADING}\n\n\
         The seed notebooks concluded *threads for IO, processes for CPU*, because CPython's global \
         interpreter lock lets one thread run Python code at a time. Here the seeds' own models — \
         `concurrent.futures.ThreadPoolExecutor` (py-threads), `ProcessPoolExecutor` (py-processes) \
         and asyncio (py-asyncio) — run in {} {} ({}, {gil}) beside Rust's thread pool, process \
         pool and tokio, on the same machine, work and clock, measured by the same harness. Each \
         situation is answered twice, among the Python runtimes and among the Rust ones, by the \
         rule of the answer above; the last column says whether the family that wins in Python \
         also wins in Rust. The figure is each runtime's longest task latency, from the batch's \
         submission (once every worker runs) to the last task's end: the work's makespan without \
         the start-up, which for Python is the interpreter's and its pool's and is in each table's \
         start-up column.\n\n",
        info.implementation, info.version, info.path
    );
    doc
}

/// The section when no interpreter could run it.
pub(super) fn not_run(why: &str) -> String {
    format!("## {HEADING}\n\nNot run: {why}.\n\n")
}
