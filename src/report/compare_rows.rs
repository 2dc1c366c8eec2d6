//! A comparison's headline, columns, rows and footnotes, shared by the table and Markdown.
//!
//! Why one file over 500 lines: most of it is [`COLUMNS`], the one table of every comparison
//! column's headers and cell, which the table, Markdown and the compact terminal view all read.

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

/// Which columns a comparison table shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Columns {
    /// Every column: Markdown, pipes, files, and a terminal with `--wide`.
    All,
    /// A terminal's default, to fit its width: who ran, the wall time with its range, the
    /// speed-up, the tail latency, cores, memory and failures.
    Compact,
}

/// When a column is in the table at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum When {
    Always,
    /// Mixed runs: the IO tasks' latency, the headline of a mix.
    Mixed,
    /// `--scale` comparisons: what each unit in flight cost.
    Scale,
    /// Downloads from a server of ours that told its cost: the server's beside the client's.
    Server,
}

/// One column of the comparison table: the one definition of its headers and its cell.
pub(super) struct Column {
    /// The header of the complete table.
    header: &'static str,
    /// The header of the compact table, whose notes say what the long one adds; `None` leaves
    /// the column out of it.
    compact: Option<&'static str>,
    when: When,
    /// The cell of one comparison cell.
    cell: fn(&CellSummary) -> String,
}

impl Column {
    /// Its header in a table of `columns`.
    pub(super) fn header(&self, columns: Columns) -> &'static str {
        match columns {
            Columns::All => self.header,
            Columns::Compact => self.compact.unwrap_or(self.header),
        }
    }

    /// Its cell for `c`.
    pub(super) fn cell(&self, c: &CellSummary) -> String {
        (self.cell)(c)
    }
}

/// A figure with `digits` decimals, or – where a cell has none.
fn or_dash(x: Option<f64>, digits: usize) -> String {
    x.map(|v| fixed(v, digits)).unwrap_or_else(|| "–".into())
}

/// Every column of the comparison table, in order. A noisy cell's wall time is marked with `~`.
static COLUMNS: [Column; 24] = [
    Column {
        header: "workload",
        compact: None,
        when: When::Always,
        cell: |c| c.workload.clone(),
    },
    Column {
        header: "runtime",
        compact: Some("runtime"),
        when: When::Always,
        cell: |c| c.runtime.clone(),
    },
    Column {
        header: "workers",
        compact: Some("workers"),
        when: When::Always,
        cell: |c| c.workers.to_string(),
    },
    Column {
        header: "tasks",
        compact: Some("tasks"),
        when: When::Always,
        cell: |c| c.tasks.to_string(),
    },
    Column {
        header: "wall s (min–max)",
        compact: Some("wall s (min–max)"),
        when: When::Always,
        cell: |c| {
            format!(
                "{} ({}–{}){}",
                fixed(c.wall_s.median, 3),
                fixed(c.wall_s.min, 3),
                fixed(c.wall_s.max, 3),
                if c.noisy { " ~" } else { "" }
            )
        },
    },
    // Beside the wall time it is part of.
    Column {
        header: "startup ms",
        compact: None,
        when: When::Always,
        cell: |c| c.startup_s.map_or("–".into(), |s| fixed(s * 1e3, 2)),
    },
    Column {
        header: "speed-up",
        compact: Some("speed-up"),
        when: When::Always,
        cell: |c| {
            c.speedup
                .map(|s| format!("{}x", fixed(s, 2)))
                .unwrap_or_else(|| "–".into())
        },
    },
    Column {
        header: "efficiency",
        compact: None,
        when: When::Always,
        cell: |c| or_dash(c.efficiency, 2),
    },
    Column {
        header: "p50 ms",
        compact: None,
        when: When::Always,
        cell: |c| fixed(c.p50_ms, 1),
    },
    Column {
        header: "p99 ms (all runs)",
        compact: Some("p99 ms"),
        when: When::Always,
        cell: |c| match &c.latency_ms {
            Some(s) => tail(s.p99, s, crate::analysis::judge::MIN_P99_SAMPLES, 1),
            // Records without histograms: the runs' own p99s.
            None => format!("{} (median of runs)", fixed(c.p99_ms.median, 1)),
        },
    },
    Column {
        header: "IO p99 ms (min–max)",
        compact: Some("IO p99 ms (min–max)"),
        when: When::Mixed,
        cell: |c| {
            c.io_p99_ms.map_or("–".into(), |io| {
                format!(
                    "{} ({}–{})",
                    fixed(io.median, 1),
                    fixed(io.min, 1),
                    fixed(io.max, 1)
                )
            })
        },
    },
    Column {
        header: "queue p99 ms (tokio first poll)",
        compact: None,
        when: When::Always,
        cell: |c| match c.first_poll_p99_ms {
            Some(f) => format!("{} ({})", fixed(c.queue_p99_ms, 1), fixed(f, 2)),
            None => fixed(c.queue_p99_ms, 1),
        },
    },
    Column {
        header: "cores",
        compact: Some("cores"),
        when: When::Always,
        cell: |c| fixed(c.cores_used, 2),
    },
    // Beside the client's: a server near a full core was the bottleneck, not the runtime.
    Column {
        header: "server cores (conns)",
        compact: Some("server cores"),
        when: When::Server,
        cell: |c| match (c.server_cores_used, c.server_connections) {
            (Some(cores), Some(conns)) => format!("{} ({})", fixed(cores, 2), fixed(conns, 0)),
            (cores, _) => or_dash(cores, 2),
        },
    },
    Column {
        header: "memory (≤ upper est.)",
        compact: Some("memory"),
        when: When::Always,
        cell: |c| {
            if Runtime::from_name(&c.runtime).is_some_and(Runtime::uses_processes) {
                format!("≤ {}", bytes(c.memory_bytes.median as u64))
            } else {
                bytes(c.memory_bytes.median as u64)
            }
        },
    },
    Column {
        header: "threads",
        compact: None,
        when: When::Always,
        cell: |c| c.threads_peak.to_string(),
    },
    Column {
        header: "procs",
        compact: None,
        when: When::Always,
        cell: |c| c.processes_peak.to_string(),
    },
    Column {
        header: "failed",
        compact: Some("failed"),
        when: When::Always,
        cell: |c| c.tasks_failed.to_string(),
    },
    Column {
        header: "runs",
        compact: None,
        when: When::Always,
        cell: runs_cell,
    },
    Column {
        header: "in flight",
        compact: None,
        when: When::Scale,
        cell: |c| or_dash(c.units_in_flight, 0),
    },
    Column {
        header: "KiB/unit",
        compact: Some("KiB/unit"),
        when: When::Scale,
        cell: |c| or_dash(c.memory_per_unit_bytes.map(|b| b / 1024.0), 2),
    },
    Column {
        header: "KiB/unit above base",
        compact: None,
        when: When::Scale,
        cell: |c| or_dash(c.memory_per_unit_above_base_bytes.map(|b| b / 1024.0), 2),
    },
    Column {
        header: "spawn µs/unit",
        compact: Some("spawn µs/unit"),
        when: When::Scale,
        cell: |c| or_dash(c.spawn_per_unit_us, 2),
    },
    Column {
        header: "makespan × ideal",
        compact: None,
        when: When::Scale,
        cell: |c| or_dash(c.makespan_vs_ideal, 2),
    },
];

/// The columns of a comparison of `cells`: the IO tasks' latency for mixed runs, the per-unit
/// columns when `scale`, all of them or the compact set.
fn compare_columns(cells: &[CellSummary], scale: bool, columns: Columns) -> Vec<&'static Column> {
    let mixed = cells.iter().any(|c| c.io_p99_ms.is_some());
    let server = cells.iter().any(|c| c.server_cores_used.is_some());
    COLUMNS
        .iter()
        .filter(|col| match col.when {
            When::Always => true,
            When::Mixed => mixed,
            When::Scale => scale,
            When::Server => server,
        })
        .filter(|col| columns == Columns::All || col.compact.is_some())
        .collect()
}

/// The comparison table's header with every column (Markdown's).
pub(super) fn compare_header(cells: &[CellSummary], scale: bool) -> Vec<String> {
    compare_table(cells, scale, Columns::All).header
}

/// One comparison row per cell under [`compare_header`].
pub(super) fn compare_table_rows(cells: &[CellSummary], scale: bool) -> Vec<Vec<String>> {
    compare_table(cells, scale, Columns::All).rows
}

/// A comparison table ready to draw.
pub(super) struct CompareTable {
    /// What every row of a compact table shares, said once instead of in a column: `tasks 8`.
    pub(super) shared: Vec<String>,
    /// The header row.
    pub(super) header: Vec<String>,
    /// A row per cell.
    pub(super) rows: Vec<Vec<String>>,
    /// Where the runtime's column is: the columns up to it are text, the ones after numbers.
    pub(super) runtime_column: usize,
}

/// The comparison of `cells` with `columns`. The compact table says a column whose every row
/// has the same value (`tasks 8`, `speed-up –` without a baseline) once, above the table, so a
/// terminal's width goes to what tells the rows apart; the runtime's column always stays.
pub(super) fn compare_table(cells: &[CellSummary], scale: bool, columns: Columns) -> CompareTable {
    let mut cols = compare_columns(cells, scale, columns);
    let mut shared = Vec::new();
    if columns == Columns::Compact && cells.len() > 1 {
        cols.retain(|col| {
            let first = cells.first().map(|c| col.cell(c));
            let same = col.header != "runtime" && cells.iter().all(|c| Some(col.cell(c)) == first);
            if same {
                shared.push(format!(
                    "{} {}",
                    col.header(columns),
                    first.unwrap_or_default()
                ));
            }
            !same
        });
    }
    CompareTable {
        shared,
        header: cols
            .iter()
            .map(|col| col.header(columns).to_string())
            .collect(),
        rows: cells
            .iter()
            .map(|c| cols.iter().map(|col| col.cell(c)).collect())
            .collect(),
        runtime_column: cols
            .iter()
            .position(|col| col.header == "runtime")
            .unwrap_or(0),
    }
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
    let undecided = |workload: &str, workers: usize, tasks: usize| -> Vec<&str> {
        c.verdict
            .iter()
            .filter(|v| (v.workload.as_str(), v.workers, v.tasks) == (workload, workers, tasks))
            .filter(|v| v.outcome == Outcome::Undecided)
            .map(|v| v.metric.name())
            .collect()
    };
    let mut lines = Vec::new();
    let Some(a) = &c.adaptive else {
        let mut seen = Vec::new();
        for v in c.verdict.iter().filter(|v| v.outcome == Outcome::Undecided) {
            if seen.contains(&(&v.workload, v.workers, v.tasks)) {
                continue;
            }
            seen.push((&v.workload, v.workers, v.tasks));
            lines.push(format!(
                "{} · {} · {} tasks: undecided after {} rounds on {} (--repeat auto adds rounds until decided)",
                v.workload,
                workers_phrase(v.workers),
                v.tasks,
                c.repeat,
                undecided(&v.workload, v.workers, v.tasks).join(", ")
            ));
        }
        return lines;
    };
    for g in &a.groups {
        let open = undecided(&g.workload, g.workers, g.tasks);
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
