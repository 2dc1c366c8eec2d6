//! `study`: the seed notebooks' experiments in this tool's terms, run as comparisons and
//! written up as `STUDY.md` with tables, verdicts and SVG plots, plus the machine it ran on.
//!
//! Each experiment is an ordinary `compare` command line, parsed by the same code as a user's,
//! so the document can print the exact command that reproduces each table.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use anyhow::Context;

use crate::plan::{Plan, StudyPlan};
use crate::{Error, Status, compare, report};

/// One experiment: a name for its files, a heading, what it reproduces, and its arguments.
struct Experiment {
    name: &'static str,
    heading: &'static str,
    about: &'static str,
    /// The `asyncstudy` command line, split on whitespace.
    args: &'static str,
}

/// The default experiments, sized to finish in under two minutes on a 2-core machine.
const EXPERIMENTS: [Experiment; 6] = [
    Experiment {
        name: "cpu-runtimes",
        heading: "CPU loops on every runtime (seeds 000 and 002)",
        about: "Eight `comp` tasks (seed 002's `long_comp`, a million steps each) on 2 workers. Without a GIL, threads, rayon, the multi-thread async runtimes and worker processes all use both cores; tokio-ct runs every task on one thread.",
        args: "compare cpu --workload comp --iters 1000000 --tasks 8 --workers 2 --runtimes serial,threads,thread-per-task,rayon,tokio-mt,tokio-ct,tokio-blocking,smol,async-std,process-pool,process-per-task",
    },
    Experiment {
        name: "cpu-workers",
        heading: "CPU worker sweep (seed 003)",
        about: "The same loop with 1, 2 and 4 workers: past the core count, more workers add nothing.",
        args: "compare cpu --workload comp --iters 1000000 --tasks 8 --workers 1,2,4 --runtimes serial,threads,tokio-mt,process-pool",
    },
    Experiment {
        name: "download",
        heading: "Downloading and rewriting pages (seed 001)",
        about: "16 pages from the embedded server (16 KiB, 50 ms latency), each written 50 times, with 1 to 16 workers. Async runtimes run every download at once whatever `--workers` says; thread pools and processes run as many as they have workers.",
        args: "compare io --tasks 16 --writes 50 --workers 1,2,4,8,16 --runtimes serial,threads,process-pool,tokio-mt,tokio-ct,smol,async-std",
    },
    Experiment {
        name: "sleep",
        heading: "Waiting: sleep tasks (seed 002 `long_io`)",
        about: "16 tasks that each wait 100 ms on the runtime's timer (threads block in `std::thread::sleep`), with 2 and 16 workers.",
        args: "compare sleep --tasks 16 --sleep 100ms --workers 2,16 --runtimes serial,threads,thread-per-task,tokio-mt,tokio-ct,smol,async-std",
    },
    Experiment {
        name: "sleep-blocking",
        heading: "Blocking an executor",
        about: "The same sleeps with `--blocking`: `std::thread::sleep` inside async tasks holds the executor's thread, so a runtime runs only as many tasks at once as it has threads; tokio-blocking moves the sleep to `spawn_blocking`.",
        args: "compare sleep --blocking --tasks 16 --sleep 100ms --workers 2 --runtimes tokio-mt,tokio-ct,tokio-blocking,smol,async-std",
    },
    Experiment {
        name: "mixed",
        heading: "CPU work beside IO: where to put it",
        about: "Eight `comp` tasks (2 million steps) among 100 sleeps of 10 ms, submitted together on 2 workers. The IO tasks' p99 is the figure: CPU work inline in async tasks makes the sleeps wait for it; `spawn_blocking` or a rayon pool beside tokio keeps them near 10 ms; 2 OS threads or processes hold a worker per sleep.",
        args: "compare mixed --cpu-tasks 8 --cpu-iters 2000000 --tasks 100 --sleep 10ms --workers 2 --runtimes tokio-mt,tokio-ct,smol,async-std,tokio-blocking,tokio+rayon,threads,process-pool",
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
    for (i, e) in EXPERIMENTS.iter().enumerate() {
        let json = data.join(format!("{}.json", e.name));
        let mut args: Vec<String> = e.args.split_whitespace().map(String::from).collect();
        let shown = format!("asyncstudy {}", e.args);
        args.extend(["--output".into(), json.display().to_string()]);
        if plan.quiet {
            args.push("--quiet".into());
        }
        let Some(Plan::Compare(cmp)) =
            crate::cli::parse(std::iter::once("asyncstudy".to_string()).chain(args))?
        else {
            unreachable!("every experiment is a compare command line");
        };
        eprintln!(
            "asyncstudy study: {}/{}: {}",
            i + 1,
            EXPERIMENTS.len(),
            e.heading
        );
        let out = &cmp.output;
        let outcome = compare::run(&cmp, |record| {
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
        doc.push_str(&report::render_compare(
            record,
            crate::plan::Format::Markdown,
        )?);
        doc.push('\n');
        for p in &plots {
            let rel = relative(p, &plan.out);
            let _ = writeln!(doc, "![{rel}]({rel})\n");
        }
        for v in &record.verdict {
            let _ = writeln!(
                verdicts,
                "- **{}** · {} · {} tasks · {}",
                e.heading,
                crate::verdict::workers(v.workers),
                v.tasks,
                v.sentence
            );
        }
        if let Some(sig) = outcome.interrupted {
            return Ok(Status::Interrupted(sig));
        }
    }
    let took = began.elapsed().as_secs_f64();
    let m = machine.unwrap_or_else(crate::measure::machine::Machine::detect);
    let head = format!(
        "# asyncstudy: where async, threads or processes win\n\n\
         Generated by `asyncstudy study` (asyncstudy {}) in {took:.0} s on {}, {} logical cores, {}, kernel {}. \
         Every figure below was measured in that run; each table's command reproduces it, and \
         `asyncstudy report docs/data/NAME.json` re-renders it from the saved records.\n\n\
         Timings on a small shared VM are noisy: cells marked ~ had runs more than 20% apart, \
         and the verdict calls a tie whenever two runtimes' ranges overlap.\n\n\
         ## Verdicts\n\n{verdicts}\n",
        env!("CARGO_PKG_VERSION"),
        m.cpu_model,
        m.logical_cores,
        m.os,
        m.kernel
    );
    let path = plan.out.join("STUDY.md");
    report::write_atomically(&path, format!("{head}{doc}").as_bytes())?;
    eprintln!("asyncstudy: wrote {} in {took:.0} s", path.display());
    Ok(Status::Ok)
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

    // A typo in an experiment would otherwise surface only when someone runs the whole study.
    #[test]
    fn every_experiment_is_a_valid_compare_command() {
        for e in EXPERIMENTS {
            let args = std::iter::once("asyncstudy").chain(e.args.split_whitespace());
            match crate::cli::parse(args) {
                Ok(Some(Plan::Compare(c))) => assert!(!c.cells().is_empty(), "{}", e.name),
                other => panic!("{}: {other:?}", e.name),
            }
        }
    }
}
