//! `study`: the seed notebooks' experiments in this tool's terms, run as comparisons and
//! written up as `STUDY.md` with tables, verdicts and SVG plots, plus the machine it ran on.
//!
//! Each experiment is a comparison plan built here from the same types a command line turns
//! into; the document prints the command line it renders to, which reproduces the table.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::model::Runtime;
use crate::plan::{
    ComparePlan, DownloadPlan, Format, MixedPlan, Output, RunPlan, Source, StudyPlan, WorkPlan,
};
use crate::server::ServeOptions;
use crate::workload::{CpuKind, CpuWork, Sleep};
use crate::{Error, Status, report, sweep};

/// One experiment: a name for its files, a heading, what was run, and its comparison.
struct Experiment {
    name: &'static str,
    heading: &'static str,
    about: &'static str,
    plan: fn() -> ComparePlan,
}

/// A comparison of `runtimes` on `work` (`tasks` tasks, as `--tasks` counts them) at `workers`,
/// three measured runs a cell, with the defaults a `compare` command line has.
fn comparison(
    kind: &str,
    work: WorkPlan,
    tasks: usize,
    runtimes: &[Runtime],
    workers: &[usize],
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
        repeat: 3,
        output: Output::stdout(),
        quiet: false,
        strict: false,
        plots: None,
        scale: false,
    }
}

/// Seed 002's `long_comp` with a million steps.
const COMP: CpuWork = CpuWork {
    kind: CpuKind::Comp,
    iters: 1_000_000,
};

/// Sleep tasks of `ms` milliseconds, blocking or on the runtime's timer.
fn sleep(ms: u64, blocking: bool) -> WorkPlan {
    WorkPlan::Sleep(Sleep {
        duration: Duration::from_millis(ms),
        blocking,
    })
}

use Runtime::*;

/// The default experiments, sized to finish in under two minutes on a 2-core machine.
const EXPERIMENTS: [Experiment; 6] = [
    Experiment {
        name: "cpu-runtimes",
        heading: "CPU loops on every runtime (seeds 000 and 002)",
        about: "Eight `comp` tasks (seed 002's `long_comp`, a million steps each) on 2 workers, on every runtime: the seeds' thread and process pools, and Rust's async runtimes (Rust has no GIL).",
        plan: || {
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
            comparison("cpu", WorkPlan::Cpu(COMP), 8, &all, &[2])
        },
    },
    Experiment {
        name: "cpu-workers",
        heading: "CPU worker sweep (seed 003)",
        about: "The same loop with 1, 2 and 4 workers, on a machine whose core count the header gives.",
        plan: || {
            let rts = [Serial, Threads, TokioMt, ProcessPool];
            comparison("cpu", WorkPlan::Cpu(COMP), 8, &rts, &[1, 2, 4])
        },
    },
    Experiment {
        name: "download",
        heading: "Downloading and rewriting pages (seed 001)",
        about: "16 pages from the embedded server (16 KiB, 50 ms latency), each written 50 times, with 1 to 16 workers. Async runtimes run every download at once whatever `--workers` says; thread pools and processes run as many as they have workers.",
        plan: || {
            let work = WorkPlan::Download(Box::new(DownloadPlan {
                connections: crate::workload::download::Connections::New,
                source: Source::Embedded(ServeOptions::new()),
                writes: 50,
                out_dir: None,
                keep: false,
                max_page_size: 10 << 20,
                timeout: Duration::from_secs(20),
            }));
            let rts = [
                Serial,
                Threads,
                ProcessPool,
                TokioMt,
                TokioCt,
                Smol,
                AsyncStd,
            ];
            comparison("io", work, 16, &rts, &[1, 2, 4, 8, 16])
        },
    },
    Experiment {
        name: "sleep",
        heading: "Waiting: sleep tasks (seed 002 `long_io`)",
        about: "16 tasks that each wait 100 ms on the runtime's timer (threads block in `std::thread::sleep`), with 2 and 16 workers.",
        plan: || {
            let rts = [
                Serial,
                Threads,
                ThreadPerTask,
                TokioMt,
                TokioCt,
                Smol,
                AsyncStd,
            ];
            comparison("sleep", sleep(100, false), 16, &rts, &[2, 16])
        },
    },
    Experiment {
        name: "sleep-blocking",
        heading: "Blocking an executor",
        about: "The same sleeps with `--blocking`: `std::thread::sleep` inside async tasks, which holds the executor thread it runs on; tokio-blocking moves the sleep to `spawn_blocking`.",
        plan: || {
            let rts = [TokioMt, TokioCt, TokioBlocking, Smol, AsyncStd];
            comparison("sleep", sleep(100, true), 16, &rts, &[2])
        },
    },
    Experiment {
        name: "mixed",
        heading: "CPU work beside IO: where to put it",
        about: "Eight `comp` tasks (2 million steps) among 100 sleeps of 10 ms, submitted together on 2 workers. The IO tasks' p99 is the figure: it shows what the CPU work, placed where each runtime puts it, does to the sleeps.",
        plan: || {
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
            comparison("mixed", work, 108, &rts, &[2])
        },
    },
];

/// Runs every experiment and writes `STUDY.md`, `data/*.json` and `img/*.svg` under the out dir.
pub fn run(plan: &StudyPlan) -> Result<Status, Error> {
    let began = Instant::now();
    let data = plan.out.join("data");
    let img = plan.out.join("img");
    for dir in [&data, &img] {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("could not create {}", dir.display()))?;
    }
    let mut doc = String::new();
    let mut verdicts = String::new();
    let mut machine = None;
    let (mut noisy, mut cells) = (0, 0);
    for (i, e) in EXPERIMENTS.iter().enumerate() {
        let json = data.join(format!("{}.json", e.name));
        let mut cmp = (e.plan)();
        let shown = format!("asyncstudy {}", cmp.to_args().join(" "));
        cmp.output = Output {
            format: Format::Json,
            path: Some(json.clone()),
            wide: false,
        };
        cmp.quiet = plan.quiet;
        eprintln!(
            "asyncstudy study: {}/{}: {}",
            i + 1,
            EXPERIMENTS.len(),
            e.heading
        );
        let out = &cmp.output;
        let outcome = sweep::run(&cmp, |record| {
            report::write_atomically(
                out.path.as_deref().expect("study sets --output"),
                report::render_compare(record, out.format)?.as_bytes(),
            )
        })?;
        let record = &outcome.record;
        let plots = report::compare_plots(record, &img.join(e.name))?;
        machine.get_or_insert_with(|| record.machine.clone());
        let _ = writeln!(
            doc,
            "## {}\n\n{}\n\n```sh\n{shown}\n```\n",
            e.heading, e.about
        );
        doc.push_str(&report::render_compare(record, Format::Markdown)?);
        doc.push('\n');
        for line in findings(record) {
            let _ = writeln!(doc, "- {line}");
        }
        doc.push('\n');
        for p in &plots {
            let rel = relative(p, &plan.out);
            let _ = writeln!(doc, "![{rel}]({rel})\n");
        }
        noisy += record.summary.iter().filter(|c| c.noisy).count();
        cells += record.summary.len();
        for v in &record.verdict {
            let _ = writeln!(
                verdicts,
                "- **{}** · {} · {} tasks · {}",
                e.heading,
                crate::analysis::prose::workers_phrase(v.workers),
                v.tasks,
                v.sentence
            );
        }
        if let Some(sig) = outcome.interrupted {
            return Ok(Status::Interrupted(sig));
        }
    }
    let took = began.elapsed().as_secs_f64();
    let m = machine.unwrap_or_else(crate::measure::machine::detect);
    let head = format!(
        "# asyncstudy: where async, threads or processes win\n\n\
         Generated by `asyncstudy study` (asyncstudy {}) in {took:.0} s on {}, {} logical cores, {}, kernel {}. \
         Every figure below was measured in that run; each table's command reproduces it, and \
         `asyncstudy report docs/data/NAME.json` re-renders it from the saved records.\n\n\
         {noisy} of the {cells} cells below are marked ~: their runs' wall times were more than \
         {spread:.0}% apart. A runtime is tied with the winner while its figure is within {tie:.0}% of \
         the winner's or its range over runs overlaps the winner's; the first runtime that is \
         neither is the runner-up. Cells with failed tasks are left out of the verdicts.\n\n\
         ## Verdicts\n\n{verdicts}\n",
        env!("CARGO_PKG_VERSION"),
        m.cpu_model,
        m.logical_cores,
        m.os,
        m.kernel,
        spread = crate::analysis::summary::NOISE_SPREAD * 100.0,
        tie = crate::analysis::judge::TIE_MARGIN * 100.0,
    );
    let path = plan.out.join("STUDY.md");
    report::write_atomically(&path, format!("{head}{doc}").as_bytes())?;
    eprintln!("asyncstudy: wrote {} in {took:.0} s", path.display());
    Ok(Status::Ok)
}

/// What a comparison measured, one line per group of cells (workload, workers, tasks), built
/// only from its figures: the range of wall time, and of the figure the work is about (cores
/// kept busy for CPU work, the IO tasks' p99 for a mix).
fn findings(record: &crate::model::compare::CompareRecord) -> Vec<String> {
    use crate::model::compare::CellSummary;
    let mut groups: Vec<(String, usize, usize)> = Vec::new();
    for c in record.summary.iter().filter(|c| !c.is_baseline()) {
        let key = (c.workload.clone(), c.workers, c.tasks);
        if !groups.contains(&key) {
            groups.push(key);
        }
    }
    // The lowest and highest of a figure over cells, with the runtimes that had them.
    let range = |cells: &[&CellSummary],
                 f: &dyn Fn(&CellSummary) -> Option<f64>,
                 show: &dyn Fn(f64) -> String| {
        let mut v: Vec<(f64, &str)> = cells
            .iter()
            .filter_map(|c| f(c).map(|x| (x, c.runtime.as_str())))
            .collect();
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        match (v.first(), v.last()) {
            (Some(lo), Some(hi)) if v.len() > 1 => Some(format!(
                "from {} ({}) to {} ({})",
                show(lo.0),
                lo.1,
                show(hi.0),
                hi.1
            )),
            _ => None,
        }
    };
    groups
        .into_iter()
        .filter_map(|(workload, workers, tasks)| {
            let cells: Vec<&CellSummary> = record
                .summary
                .iter()
                .filter(|c| c.workload == workload && c.tasks == tasks)
                .filter(|c| c.workers == workers || c.is_baseline())
                .filter(|c| c.tasks_failed == 0)
                .collect();
            let wall = range(&cells, &|c| Some(c.wall_s.median), &|v| format!("{v:.3} s"))?;
            let mut line = format!(
                "{workload}, {} · median wall time {wall}",
                crate::analysis::prose::workers_phrase(workers)
            );
            let focus = if workload.starts_with("cpu") {
                range(&cells, &|c| Some(c.cores_used), &|v| format!("{v:.2}"))
                    .map(|r| format!("cores kept busy {r}"))
            } else {
                range(&cells, &|c| c.io_p99_ms.map(|s| s.median), &|v| {
                    format!("{v:.1} ms")
                })
                .map(|r| format!("IO tasks' p99 {r}"))
            };
            if let Some(f) = focus {
                line.push_str(&format!("; {f}"));
            }
            line.push('.');
            Some(line)
        })
        .collect()
}

/// `path` relative to `base` when it is under it, for links inside the document.
fn relative(path: &Path, base: &Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_state_only_measured_figures() {
        let mk = |rt: &str, wall: f64, cores: f64| {
            let mut r = crate::report::tests::sample_record();
            r.runtime = rt.into();
            r.wall_s = wall;
            r.cpu.cores_used = cores;
            r.tasks.failed = 0;
            r
        };
        let runs = vec![
            mk("serial", 0.4, 1.0),
            mk("threads", 0.2, 1.93),
            mk("tokio-ct", 0.41, 0.99),
        ];
        let mut record: crate::model::compare::CompareRecord = serde_json::from_value(serde_json::json!({
            "schema": crate::model::compare::COMPARE_SCHEMA, "tool_version": "0", "machine": runs[0].machine,
            "started_at": "", "kind": "cpu", "command": [], "repeat": 1, "complete": true,
            "runs": runs, "summary": [], "verdict": []
        }))
        .unwrap();
        crate::analysis::refresh(&mut record);
        assert_eq!(
            findings(&record),
            [
                "cpu comp, 2 workers · median wall time from 0.200 s (threads) to 0.410 s (tokio-ct); cores kept busy from 0.99 (tokio-ct) to 1.93 (threads)."
            ]
        );
    }

    // The command a reader copies from the study must make the same comparison.
    #[test]
    fn every_experiment_renders_a_command_that_makes_it_again() {
        for e in EXPERIMENTS {
            let plan = (e.plan)();
            assert!(!plan.cells().is_empty(), "{}", e.name);
            let args = std::iter::once("asyncstudy".to_string()).chain(plan.to_args());
            match crate::cli::parse(args) {
                Ok(Some(crate::plan::Plan::Compare(parsed))) => {
                    assert_eq!(*parsed, plan, "{}", e.name)
                }
                other => panic!("{}: {other:?}", e.name),
            }
        }
    }
}
