//! A comparison's headline, columns, rows and footnotes, shared by the table and Markdown.

use super::numbers::{bytes, fixed};
use super::run_rows::tail;
use crate::model::Runtime;
use crate::model::compare::{CellSummary, CompareRecord};

/// The headline of a comparison.
pub(super) fn compare_title(c: &CompareRecord) -> String {
    let state = match (&c.interrupted, c.complete) {
        (Some(sig), _) => format!(" (stopped by {sig}: partial)"),
        (None, false) => " (partial)".into(),
        (None, true) => String::new(),
    };
    let scale = if c.scale {
        " (scale: every task in flight at once)"
    } else {
        ""
    };
    let per_cell = match &c.adaptive {
        Some(a) => format!(
            "{}–{} rounds per cell (--repeat auto)",
            a.min_rounds.min(c.repeat),
            c.repeat
        ),
        None => format!("{} per cell", c.repeat),
    };
    format!(
        "compare {}{scale}: {} runs of `asyncstudy {}`, {per_cell}{state}\nmachine: {}, {} logical cores, {}, kernel {}",
        c.kind,
        c.runs.len(),
        c.command.join(" "),
        c.machine.cpu_model,
        c.machine.logical_cores,
        c.machine.os,
        c.machine.kernel
    )
}

/// Header of the comparison table.
pub(super) const COMPARE_HEADER: [&str; 16] = [
    "workload",
    "runtime",
    "workers",
    "tasks",
    "wall s (min–max)",
    "speed-up",
    "efficiency",
    "p50 ms",
    "p99 ms (all runs)",
    "queue p99 ms (tokio first poll)",
    "cores",
    "memory (≤ upper est.)",
    "threads",
    "procs",
    "failed",
    "runs",
];

/// The columns a `--scale` comparison adds: what each unit in flight cost.
pub(super) const SCALE_HEADER: [&str; 5] = [
    "in flight",
    "KiB/unit",
    "KiB/unit above base",
    "spawn µs/unit",
    "makespan × ideal",
];

/// The comparison table's header: [`COMPARE_HEADER`]; for mixed runs the IO tasks' latency,
/// the headline of a mix, after the latency of all tasks; the per-unit columns when `scale`.
pub(super) fn compare_header(cells: &[CellSummary], scale: bool) -> Vec<String> {
    let mut header: Vec<String> = COMPARE_HEADER.iter().map(|h| h.to_string()).collect();
    if cells.iter().any(|c| c.io_p99_ms.is_some()) {
        header.insert(9, "IO p99 ms (min–max)".into());
    }
    header.insert(STARTUP_COLUMN, "startup ms".into());
    if scale {
        header.extend(SCALE_HEADER.map(String::from));
    }
    header
}

/// One comparison row per cell under [`compare_header`], shared by the table and Markdown.
pub(super) fn compare_table_rows(cells: &[CellSummary], scale: bool) -> Vec<Vec<String>> {
    let dash = || "–".to_string();
    compare_rows(cells)
        .into_iter()
        .zip(cells)
        .map(|(mut row, c)| {
            if scale {
                let kib = |b: Option<f64>| b.map(|b| fixed(b / 1024.0, 2)).unwrap_or_else(dash);
                row.extend([
                    c.units_in_flight.map(|u| fixed(u, 0)).unwrap_or_else(dash),
                    kib(c.memory_per_unit_bytes),
                    kib(c.memory_per_unit_above_base_bytes),
                    c.spawn_per_unit_us
                        .map(|us| fixed(us, 2))
                        .unwrap_or_else(dash),
                    c.makespan_vs_ideal
                        .map(|m| fixed(m, 2))
                        .unwrap_or_else(dash),
                ]);
            }
            row
        })
        .collect()
}

/// Where the start-up column goes: beside the wall time it is part of.
pub(super) const STARTUP_COLUMN: usize = 5;

/// The common columns of one comparison row per cell, the IO tasks' p99 for mixed runs and the
/// start-up. A noisy cell's wall time is marked with `~`.
pub(super) fn compare_rows(cells: &[CellSummary]) -> Vec<Vec<String>> {
    let mixed = cells.iter().any(|c| c.io_p99_ms.is_some());
    cells
        .iter()
        .map(|c| {
            let noisy = if c.noisy { " ~" } else { "" };
            let vs = |x: Option<f64>| x.map(|v| fixed(v, 2)).unwrap_or_else(|| "–".into());
            let mut row = vec![
                c.workload.clone(),
                c.runtime.clone(),
                c.workers.to_string(),
                c.tasks.to_string(),
                format!(
                    "{} ({}–{}){noisy}",
                    fixed(c.wall_s.median, 3),
                    fixed(c.wall_s.min, 3),
                    fixed(c.wall_s.max, 3)
                ),
                c.speedup
                    .map(|s| format!("{}x", fixed(s, 2)))
                    .unwrap_or_else(|| "–".into()),
                vs(c.efficiency),
                fixed(c.p50_ms, 1),
                match &c.latency_ms {
                    Some(s) => tail(s.p99, s, crate::analysis::judge::MIN_P99_SAMPLES, 1),
                    // Records without histograms: the runs' own p99s.
                    None => format!("{} (median of runs)", fixed(c.p99_ms.median, 1)),
                },
                match c.first_poll_p99_ms {
                    Some(f) => format!("{} ({})", fixed(c.queue_p99_ms, 1), fixed(f, 2)),
                    None => fixed(c.queue_p99_ms, 1),
                },
                fixed(c.cores_used, 2),
                if Runtime::from_name(&c.runtime).is_some_and(Runtime::uses_processes) {
                    format!("≤ {}", bytes(c.memory_bytes.median as u64))
                } else {
                    bytes(c.memory_bytes.median as u64)
                },
                c.threads_peak.to_string(),
                c.processes_peak.to_string(),
                c.tasks_failed.to_string(),
                runs_cell(c),
            ];
            if mixed {
                row.insert(
                    9,
                    c.io_p99_ms.map_or("–".into(), |io| {
                        format!(
                            "{} ({}–{})",
                            fixed(io.median, 1),
                            fixed(io.min, 1),
                            fixed(io.max, 1)
                        )
                    }),
                );
            }
            row.insert(
                STARTUP_COLUMN,
                c.startup_s.map_or("–".into(), |s| fixed(s * 1e3, 2)),
            );
            row
        })
        .collect()
}

/// The runs of a cell, with how many are outliers: `5`, `5 (1 outlier)`.
fn runs_cell(c: &CellSummary) -> String {
    match c.rounds.iter().filter(|r| r.outlier).count() {
        0 => c.runs.to_string(),
        1 => format!("{} (1 outlier)", c.runs),
        n => format!("{} ({n} outliers)", c.runs),
    }
}

/// The verdict as lines, one per group and metric, shortest first: a memory tie of every
/// runtime is said once for all the groups that have one.
pub(super) fn verdict_lines(c: &CompareRecord) -> Vec<String> {
    use crate::analysis::prose::workers_phrase;
    use crate::model::compare::{Metric, Outcome};
    let plain_tie = |v: &&crate::model::compare::Verdict| {
        v.metric == Metric::Memory
            && v.outcome == Outcome::Tie
            && v.runner_up.is_none()
            && v.left_out.is_empty()
    };
    let mut lines: Vec<String> = c
        .verdict
        .iter()
        .filter(|v| !plain_tie(v))
        .map(|v| {
            format!(
                "{} · {} · {} tasks · {}",
                v.workload,
                workers_phrase(v.workers),
                v.tasks,
                v.sentence
            )
        })
        .collect();
    let ties: Vec<&crate::model::compare::Verdict> = c.verdict.iter().filter(plain_tie).collect();
    if let Some(first) = ties.first() {
        let mut groups: Vec<String> = ties
            .iter()
            .map(|v| format!("{} ({} tasks)", workers_phrase(v.workers), v.tasks))
            .collect();
        groups.dedup();
        let every = ties.len()
            == c.verdict
                .iter()
                .filter(|v| v.metric == Metric::Memory)
                .count();
        lines.push(format!(
            "{} · memory · tie {}: no runtime's peak memory differs from the leanest's by both {:.0}% and {:.0} MiB.",
            first.workload,
            if every {
                "in every group".to_string()
            } else {
                format!("at {}", groups.join(", "))
            },
            crate::analysis::judge::MEMORY_MIN_EFFECT * 100.0,
            crate::analysis::judge::MEMORY_MIN_BYTES / (1u64 << 20) as f64
        ));
    }
    lines.sort_by_key(|l| l.chars().count());
    lines
}

/// How many rounds each group ran and what stayed undecided, for `--repeat auto`; for a fixed
/// count, only the groups left undecided.
pub(super) fn rounds_lines(c: &CompareRecord) -> Vec<String> {
    use crate::analysis::prose::workers_phrase;
    use crate::model::compare::Outcome;
    let undecided = |workers: usize, tasks: usize| -> Vec<&str> {
        c.verdict
            .iter()
            .filter(|v| v.workers == workers && v.tasks == tasks && v.outcome == Outcome::Undecided)
            .map(|v| v.metric.name())
            .collect()
    };
    let mut lines = Vec::new();
    let Some(a) = &c.adaptive else {
        let mut seen = Vec::new();
        for v in c.verdict.iter().filter(|v| v.outcome == Outcome::Undecided) {
            if seen.contains(&(v.workers, v.tasks)) {
                continue;
            }
            seen.push((v.workers, v.tasks));
            lines.push(format!(
                "{} · {} · {} tasks: undecided after {} rounds on {} (--repeat auto adds rounds until decided)",
                v.workload,
                workers_phrase(v.workers),
                v.tasks,
                c.repeat,
                undecided(v.workers, v.tasks).join(", ")
            ));
        }
        return lines;
    };
    for g in &a.groups {
        let open = undecided(g.workers, g.tasks);
        lines.push(format!(
            "{} · {} · {} tasks: {} rounds, {}",
            g.workload,
            workers_phrase(g.workers),
            g.tasks,
            g.rounds,
            if open.is_empty() {
                "decided".to_string()
            } else {
                format!("still undecided on {}", open.join(", "))
            }
        ));
    }
    let why = match a.stopped.as_deref() {
        Some("decided") => "every verdict decided".to_string(),
        Some("max_repeat") => format!("stopped at --max-repeat {}", a.max_rounds),
        Some("budget") => format!("stopped by the --budget of {:.0} s", a.budget_s),
        Some("interrupted") => "stopped by a signal".to_string(),
        Some("no_cells") => "stopped: an undecided group had no cell left to run".to_string(),
        _ => "running".to_string(),
    };
    lines.push(format!("{why}, after {:.0} s", a.elapsed_s));
    lines
}

/// The footnotes every comparison table carries: what the columns are measured against.
pub(super) fn compare_notes(c: &CompareRecord) -> Vec<String> {
    let ideal = if c.kind == "cpu" {
        "min(workers, cores, tasks), as a loop needs a core"
    } else {
        "the tasks in flight at once, min(in-flight limit, tasks), as a waiting task needs no core"
    };
    let mut notes = vec![
        format!(
            "wall is the median of each cell's runs; ~ marks a noisy cell (max − min over {:.0}% of the median); speed-up is against serial (or the runtime at its fewest workers); efficiency is speed-up over the ideal parallelism, for {} work {ideal}.",
            crate::analysis::summary::NOISE_SPREAD * 100.0,
            c.kind
        ),
        format!(
            "latency counts the tasks that succeeded; p50 and p99 are over every run's tasks merged, and below {} tasks p99 shows as the maximum with the count (max (n=…)); failed counts failed tasks over all runs, and a cell with any is left out of the verdict.",
            crate::analysis::judge::MIN_P99_SAMPLES
        ),
        "memory is peak RSS; for process runtimes (≤) it is an upper estimate: the parent's peak plus the largest worker's peak times the workers seen, shared pages counted in every worker.".to_string(),
        format!(
            "the verdict compares every runtime with the best by the ratio of their figures within each round (paired), as the median ratio with a 95% bootstrap interval: a win when the whole interval is beyond {}% (memory: {:.0}% and {:.0} MiB) over at least {} rounds, a tie when it lies within it, undecided otherwise; runs marks outliers, wall times more than {:.0} interquartile ranges from the cell's median, which still count.",
            (c.min_effect * 1000.0).round() / 10.0,
            crate::analysis::judge::MEMORY_MIN_EFFECT * 100.0,
            crate::analysis::judge::MEMORY_MIN_BYTES / (1u64 << 20) as f64,
            crate::analysis::paired::MIN_WIN_ROUNDS,
            crate::analysis::paired::OUTLIER_IQRS
        ),
    ];
    notes.extend(startup_note(&c.summary));
    for cell in c.summary.iter().filter(|s| s.children_unmeasured > 0) {
        notes.push(format!(
            "{} at {} workers: {} worker processes died before their memory could be read; its memory estimate counts them at the largest measured worker's peak.",
            cell.runtime, cell.workers, cell.children_unmeasured
        ));
    }
    if c.scale {
        notes.push("in flight is the most tasks running at once (median over runs); KiB/unit is peak memory over them; above base is the memory added per unit since the same runtime's cell at the fewest tasks, its own cost taken out; spawn µs/unit is the time from the first task's submission to the last one's start, over the tasks; makespan × ideal is wall time over the sleep (for sleep work) or over serial's wall spread across the tasks in flight. Process runtimes count every child's whole RSS, shared pages included, so theirs is an upper estimate.".to_string());
    }
    for s in &c.skipped {
        notes.push(format!(
            "skipped {} at {} units: {}",
            s.runtime,
            s.units(),
            s.reason
        ));
    }
    for f in &c.failures {
        notes.push(format!(
            "{} at {} workers, {} tasks, run {}: {}",
            f.runtime, f.workers, f.tasks, f.repeat, f.reason
        ));
    }
    notes
}

/// What the start-up column covers, when any cell has it.
pub(super) fn startup_note(cells: &[CellSummary]) -> Option<String> {
    cells.iter().any(|c| c.startup_s.is_some()).then(|| {
        "startup is the median time from building the runtime until every worker (thread, executor thread, worker process) runs; it is inside wall, and queue wait starts after it, so queue wait is queueing only. thread-per-task and process-per-task have no workers to start: they create each task's thread or process inside that task's queue wait.".to_string()
    })
}
