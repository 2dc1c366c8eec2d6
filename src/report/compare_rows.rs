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
    format!(
        "compare {}{scale}: {} runs of `asyncstudy {}`, {} per cell{state}\nmachine: {}, {} logical cores, {}, kernel {}",
        c.kind,
        c.runs.len(),
        c.command.join(" "),
        c.repeat,
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
static COLUMNS: [Column; 22] = [
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
    COLUMNS
        .iter()
        .filter(|col| match col.when {
            When::Always => true,
            When::Mixed => mixed,
            When::Scale => scale,
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
