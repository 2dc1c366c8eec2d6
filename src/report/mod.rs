//! Every way results leave the tool: formatting (one file per format) and writing.
//!
//! Formatters only turn records into text; [`emit`] is the one place that writes, to stdout or
//! atomically to a file. Nothing outside this module formats output.

mod csv;
pub mod hdr;
mod json;
mod markdown;
pub mod plot;
mod table;

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use serde::Serialize;

use crate::model::Runtime;
use crate::model::compare::CellSummary;
use crate::model::compare::CompareRecord;
use crate::model::histogram::TaskHistograms;
use crate::model::run::RunRecord;
use crate::plan::{Format, Output};
use crate::plan::{ReportPlan, SavedRecord};

/// Formats one run record.
pub fn render_run(record: &RunRecord, format: Format) -> anyhow::Result<String> {
    match format {
        Format::Table => Ok(table::run(record)),
        Format::Markdown => Ok(markdown::run(record)),
        Format::Csv => csv::run(record),
        Format::Json => json::to_json(record),
    }
}

/// Formats a comparison: the per-cell summary and the verdict.
pub fn render_compare(c: &CompareRecord, format: Format) -> anyhow::Result<String> {
    match format {
        Format::Table => Ok(table::compare(c)),
        Format::Markdown => Ok(markdown::compare(c)),
        Format::Csv => csv::rows(
            &c.summary
                .iter()
                .map(|cell| csv::CompareRow::new(cell, c.scale))
                .collect::<Vec<_>>(),
        ),
        Format::Json => json::to_json(c),
    }
}

/// `report`: renders a saved record, then writes its plots and interval logs if asked.
pub fn report(plan: &ReportPlan) -> anyhow::Result<()> {
    // A saved comparison is judged again with the current rules, so an old file shows what
    // its runs support today rather than the verdict it was written with.
    let rejudged = match &plan.record {
        SavedRecord::Compare(c) => {
            let mut c = (**c).clone();
            crate::analysis::refresh(&mut c);
            Some(c)
        }
        SavedRecord::Run(_) => None,
    };
    let text = match (&plan.record, &rejudged) {
        (_, Some(c)) => render_compare(c, plan.output.format)?,
        (SavedRecord::Run(r), None) => render_run(r, plan.output.format)?,
        (SavedRecord::Compare(_), None) => unreachable!("a comparison is always re-judged"),
    };
    emit(&plan.output, &text)?;
    if let Some(dir) = &plan.plots {
        let written = match (&plan.record, &rejudged) {
            (_, Some(c)) => compare_plots(c, dir)?,
            (SavedRecord::Run(r), None) => run_plots(r, dir)?,
            (SavedRecord::Compare(c), None) => compare_plots(c, dir)?,
        };
        eprintln!(
            "asyncstudy: wrote {} plots in {}",
            written.len(),
            dir.display()
        );
    }
    if let Some(dir) = &plan.hdr {
        let written = match &plan.record {
            SavedRecord::Run(r) => vec![hdr::write_cell(&ensure_dir(dir)?, &cell_name(r), &[r])?],
            SavedRecord::Compare(c) => compare_logs(c, dir)?,
        };
        eprintln!(
            "asyncstudy: wrote {} interval logs in {}",
            written.len(),
            dir.display()
        );
    }
    Ok(())
}

fn ensure_dir(dir: &Path) -> anyhow::Result<std::path::PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("could not create {}", dir.display()))?;
    Ok(dir.to_path_buf())
}

/// A file-name stem for a cell: `tokio-mt-w2-t16`.
fn cell_name(r: &RunRecord) -> String {
    format!(
        "{}-{}-{}-w{}-t{}",
        r.workload.kind, r.workload.name, r.runtime, r.workers, r.workload.tasks_per_run
    )
}

/// Runs grouped by cell, in the order cells first appear.
fn by_cell(c: &CompareRecord) -> Vec<(String, Vec<&RunRecord>)> {
    let mut cells: Vec<(String, Vec<&RunRecord>)> = Vec::new();
    for r in &c.runs {
        let name = cell_name(r);
        match cells.iter_mut().find(|(n, _)| *n == name) {
            Some((_, runs)) => runs.push(r),
            None => cells.push((name, vec![r])),
        }
    }
    cells
}

fn compare_logs(c: &CompareRecord, dir: &Path) -> anyhow::Result<Vec<std::path::PathBuf>> {
    let dir = ensure_dir(dir)?;
    by_cell(c)
        .iter()
        .map(|(name, runs)| hdr::write_cell(&dir, name, runs))
        .collect()
}

/// A run's plots: its timeline and its latency, queue and service spectra.
pub fn run_plots(r: &RunRecord, dir: &Path) -> anyhow::Result<Vec<std::path::PathBuf>> {
    let dir = ensure_dir(dir)?;
    let name = cell_name(r);
    let timeline = dir.join(format!("timeline-{name}.svg"));
    plot::timeline_chart(&timeline, &format!("timeline: {}", title(r)), &r.timeline)?;
    let mut written = vec![timeline];
    if let Some(e) = &r.histograms {
        let h = TaskHistograms::decode(e)?;
        let series = [
            ("latency", &h.latency),
            ("queue", &h.queue),
            ("service", &h.service),
        ]
        .into_iter()
        .map(|(n, h)| plot::SpectrumSeries {
            name: n.into(),
            samples: h.len(),
            points: h.spectrum(),
        })
        .collect::<Vec<_>>();
        let path = dir.join(format!("spectrum-{name}.svg"));
        plot::spectrum_chart(
            &path,
            &format!("latency percentiles: {}", title(r)),
            &series,
        )?;
        written.push(path);
    }
    Ok(written)
}

/// A comparison's plots: wall time across worker counts per workload and task count; the
/// latency spectrum of every runtime per worker count; the timeline of each runtime's median
/// run at the most workers swept; and, for a workload swept over more than one task count,
/// the cost per unit against units.
pub fn compare_plots(c: &CompareRecord, dir: &Path) -> anyhow::Result<Vec<std::path::PathBuf>> {
    let dir = ensure_dir(dir)?;
    let mut written = scale_plots(c, &dir)?;
    let mut groups: Vec<(String, usize)> = Vec::new();
    for cell in &c.summary {
        if !groups.contains(&(cell.workload.clone(), cell.tasks)) {
            groups.push((cell.workload.clone(), cell.tasks));
        }
    }
    let slug = |s: &str| s.replace(' ', "-");
    for (workload, tasks) in &groups {
        let cells: Vec<&CellSummary> = c
            .summary
            .iter()
            .filter(|s| &s.workload == workload && s.tasks == *tasks)
            .collect();
        let mut series: Vec<plot::WallSeries> = Vec::new();
        for cell in &cells {
            let point = plot::WallPoint {
                workers: cell.workers,
                median_s: cell.wall_s.median,
                min_s: cell.wall_s.min,
                max_s: cell.wall_s.max,
            };
            match series.iter_mut().find(|s| s.runtime == cell.runtime) {
                Some(s) => s.points.push(point),
                None => series.push(plot::WallSeries {
                    runtime: cell.runtime.clone(),
                    points: vec![point],
                }),
            }
        }
        let path = dir.join(format!("wall-{}-t{tasks}.svg", slug(workload)));
        plot::wall_chart(
            &path,
            &format!("{workload}, {tasks} tasks: median wall time (min–max)"),
            &series,
        )?;
        written.push(path);

        // serial's single worker count is not a group of its own unless another runtime ran it.
        let mut workers: Vec<usize> = cells
            .iter()
            .filter(|c| !c.is_baseline() || cells.len() == 1)
            .map(|c| c.workers)
            .collect();
        workers.sort_unstable();
        workers.dedup();
        for w in &workers {
            let mut curves = Vec::new();
            for (_, runs) in by_cell(c) {
                let Some(first) = runs.first() else { continue };
                let same = &first.workload_label() == workload
                    && first.workload.tasks_per_run == *tasks
                    && (first.workers == *w
                        || Runtime::from_name(&first.runtime).is_some_and(Runtime::is_baseline));
                if !same {
                    continue;
                }
                let mut merged = TaskHistograms::default();
                for r in &runs {
                    if let Some(e) = &r.histograms {
                        merged += &TaskHistograms::decode(e)?;
                    }
                }
                curves.push(plot::SpectrumSeries {
                    name: first.runtime.clone(),
                    samples: merged.latency.len(),
                    points: merged.latency.spectrum(),
                });
            }
            let path = dir.join(format!("spectrum-{}-t{tasks}-w{w}.svg", slug(workload)));
            plot::spectrum_chart(
                &path,
                &format!("{workload}, {tasks} tasks, {w} workers: latency percentiles"),
                &curves,
            )?;
            written.push(path);
        }
        // Timelines at the most workers swept: the median-wall run of each runtime.
        let top = workers.last().copied().unwrap_or(1);
        for cell in cells.iter().filter(|c| c.workers == top || c.is_baseline()) {
            let mut runs: Vec<&RunRecord> = c
                .runs
                .iter()
                .filter(|r| {
                    r.workload_label() == *workload
                        && r.workload.tasks_per_run == *tasks
                        && r.runtime == cell.runtime
                        && r.workers == cell.workers
                })
                .collect();
            runs.sort_by(|a, b| a.wall_s.total_cmp(&b.wall_s));
            let Some(median) = runs.get((runs.len().saturating_sub(1)) / 2) else {
                continue;
            };
            let path = dir.join(format!("timeline-{}.svg", cell_name(median)));
            plot::timeline_chart(
                &path,
                &format!("timeline: {}", title(median)),
                &median.timeline,
            )?;
            written.push(path);
        }
    }
    Ok(written)
}

/// One plot per workload swept over more than one task count: memory and spawn time per unit
/// against units, a line per runtime (and worker count, when a runtime ran at several).
fn scale_plots(c: &CompareRecord, dir: &Path) -> anyhow::Result<Vec<std::path::PathBuf>> {
    let mut workloads: Vec<&str> = Vec::new();
    for cell in &c.summary {
        if !workloads.contains(&cell.workload.as_str()) {
            workloads.push(&cell.workload);
        }
    }
    let mut written = Vec::new();
    for workload in workloads {
        let cells: Vec<&CellSummary> = c
            .summary
            .iter()
            .filter(|s| s.workload == workload && s.tasks_ok > 0)
            .collect();
        let mut tasks: Vec<usize> = cells.iter().map(|s| s.tasks).collect();
        tasks.sort_unstable();
        tasks.dedup();
        if tasks.len() < 2 {
            continue;
        }
        // Series: cells of one runtime that differ only in their task count.
        let mut groups: Vec<Vec<&CellSummary>> = Vec::new();
        for cell in cells {
            match groups
                .iter_mut()
                .find(|g| crate::analysis::summary::same_series(g[0], cell))
            {
                Some(g) => g.push(cell),
                None => groups.push(vec![cell]),
            }
        }
        let series: Vec<plot::ScaleSeries> = groups
            .iter()
            .map(|g| {
                let runtime = &g[0].runtime;
                let alone = groups.iter().filter(|o| o[0].runtime == *runtime).count() == 1;
                let mut points: Vec<plot::ScalePoint> = g
                    .iter()
                    .map(|s| plot::ScalePoint {
                        units: s.tasks,
                        kib_per_unit: s.memory_per_unit_bytes.map(|b| b / 1024.0),
                        spawn_us_per_unit: s.spawn_per_unit_us,
                    })
                    .collect();
                points.sort_by_key(|p| p.units);
                plot::ScaleSeries {
                    name: if alone {
                        runtime.clone()
                    } else if g.iter().all(|s| s.workers == s.tasks) {
                        format!("{runtime} w=tasks")
                    } else {
                        format!("{runtime} w{}", g[0].workers)
                    },
                    points,
                }
            })
            .collect();
        let path = dir.join(format!("scale-{}.svg", workload.replace(' ', "-")));
        plot::scale_chart(
            &path,
            &format!("{workload}: cost per unit in flight against units"),
            &series,
        )?;
        written.push(path);
    }
    Ok(written)
}

/// Formats the list of runtimes.
pub fn render_runtimes(format: Format) -> anyhow::Result<String> {
    let rows: Vec<RuntimeRow> = Runtime::ALL.into_iter().map(RuntimeRow::from).collect();
    match format {
        Format::Table => Ok(table::runtimes(&rows)),
        Format::Markdown => Ok(markdown::runtimes(&rows)),
        Format::Csv => csv::rows(&rows),
        Format::Json => json::to_json(&rows),
    }
}

/// Writes `text` where `output` says: stdout, or a file replaced atomically.
///
/// A closed stdout (`asyncstudy ... | head`) is not an error: the reader has what it wanted.
pub fn emit(output: &Output, text: &str) -> anyhow::Result<()> {
    match &output.path {
        None => {
            let mut out = std::io::stdout().lock();
            match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                other => other.context("could not write to stdout"),
            }
        }
        Some(path) => write_atomically(path, text.as_bytes()),
    }
}

/// Writes `bytes` to `path`: regular files and new paths replaced atomically, devices and
/// FIFOs written in place, anything else refused (see [`crate::files`]).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    crate::files::write(path, bytes)
}

/// One runtime as listings show it.
#[derive(Debug, Serialize)]
struct RuntimeRow {
    runtime: &'static str,
    runs_tasks_on: &'static str,
    workers_n_means: &'static str,
    note: &'static str,
}

impl From<Runtime> for RuntimeRow {
    fn from(rt: Runtime) -> Self {
        RuntimeRow {
            runtime: rt.name(),
            runs_tasks_on: rt.runs_tasks_on(),
            workers_n_means: rt.workers_mean(),
            note: rt.note().unwrap_or(""),
        }
    }
}

/// The headline of a run: what ran, on what, how often.
fn title(r: &RunRecord) -> String {
    let iters = r
        .workload
        .iters
        .map(|i| format!(" ({} iters)", group(i)))
        .unwrap_or_default();
    format!(
        "{} {}{iters} on {}: {} workers, {} tasks x {} repeat{}",
        r.workload.kind,
        r.workload.name,
        r.runtime,
        r.workers,
        r.workload.tasks_per_run,
        r.repeat.count,
        if r.repeat.count == 1 { "" } else { "s" },
    )
}

/// The headline figures of a run as (name, value) pairs, shared by the table and Markdown.
fn summary_rows(r: &RunRecord) -> Vec<(&'static str, String)> {
    let t = &r.tasks;
    let mut tasks = format!("{} ok, {} failed of {}", t.ok, t.failed, t.total);
    if !t.errors.is_empty() {
        let kinds: Vec<String> = t.errors.iter().map(|(k, n)| format!("{k}: {n}")).collect();
        tasks.push_str(&format!(" ({})", kinds.join(", ")));
    }
    let mut wall = format!("{} s", fixed(r.wall_s, 3));
    if r.repeat.count > 1 {
        let lo = r
            .repeat
            .wall_s
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min);
        let hi = r.repeat.wall_s.iter().copied().fold(0.0, f64::max);
        wall.push_str(&format!(
            " median of {} (min {}, max {})",
            r.repeat.count,
            fixed(lo, 3),
            fixed(hi, 3)
        ));
    }
    let speedup = match (r.speedup, r.efficiency) {
        (Some(s), Some(e)) => format!(
            "{}x, efficiency {} of ideal {} ({})",
            fixed(s, 2),
            fixed(e, 2),
            r.ideal_parallelism,
            ideal_rule(&r.workload.kind)
        ),
        _ => format!(
            "unknown (no serial baseline; ideal {})",
            r.ideal_parallelism
        ),
    };
    let mut memory = bytes(r.memory.peak_rss_bytes);
    if r.memory.children_peak_rss_bytes > 0 {
        memory.push_str(&format!(
            " (largest worker process {}",
            bytes(r.memory.children_peak_rss_bytes)
        ));
        if r.memory.children_unmeasured > 0 {
            memory.push_str(&format!(
                "; {} died before theirs could be read",
                r.memory.children_unmeasured
            ));
        }
        memory.push(')');
    }
    // Distinct workers are threads or processes, whichever ran the tasks.
    let in_processes = Runtime::from_name(&r.runtime).is_some_and(Runtime::uses_processes);
    let (mut threads, mut processes) = (
        format!("{} peak", r.threads.peak),
        format!("{} peak", r.processes.peak),
    );
    let ran = format!(", {} ran tasks", r.distinct_workers);
    if in_processes {
        processes.push_str(&ran);
    } else {
        threads.push_str(&ran);
    }
    let mut rows = vec![("tasks", tasks), ("wall", wall)];
    if let Some(startup) = startup_row(r) {
        rows.push(("start-up", startup));
    }
    rows.extend([
        (
            "throughput",
            format!("{} tasks/s", fixed(r.throughput_per_s, 1)),
        ),
        ("speed-up vs serial", speedup),
        (
            "tasks running at once",
            format!(
                "{} on average (ideal parallelism {}; a task counts while it waits or is descheduled)",
                fixed(r.mean_tasks_running, 2),
                r.ideal_parallelism
            ),
        ),
        (
            "CPU per run",
            format!(
                "{} s user + {} s sys = {} cores busy",
                fixed(r.cpu.user_s, 3),
                fixed(r.cpu.sys_s, 3),
                fixed(r.cpu.cores_used, 2)
            ),
        ),
        ("peak memory", memory),
        (
            "context switches",
            format!(
                "{} voluntary, {} involuntary",
                r.context_switches.voluntary, r.context_switches.involuntary
            ),
        ),
        ("threads", threads),
        ("processes", processes),
    ]);
    if let Some(m) = &r.mixed {
        rows.push((
            "IO under CPU load",
            format!(
                "{} IO tasks: p50 {} ms, p99 {} ms; beside {} CPU tasks",
                m.io_tasks,
                fixed(m.io_latency_ms.p50, 1),
                fixed(m.io_latency_ms.p99, 1),
                m.cpu_tasks
            ),
        ));
    }
    if let Some(o) = &r.open_loop {
        let span = r.workload.tasks_per_run.saturating_sub(1) as f64 / o.rate_per_s;
        rows.push((
            "open loop",
            format!(
                "{} tasks/s offered over {} s, {} completed/s; p99 raw {} ms, corrected {} ms",
                fixed(o.rate_per_s, 1),
                fixed(span, 3),
                fixed(r.throughput_per_s, 1),
                fixed(r.service_ms.p99, 1),
                fixed(r.latency_ms.p99, 1)
            ),
        ));
    }
    if let Some(t) = &r.tokio {
        let busy = t
            .busy_ratio
            .map(|b| format!("{}% busy", fixed(b * 100.0, 0)))
            .unwrap_or_else(|| "busy time unknown".into());
        rows.push((
            "tokio runtime",
            format!(
                "{} worker thread{}, {busy}{}",
                t.workers,
                if t.workers == 1 { "" } else { "s" },
                if t.first_poll_delay_ms.count > 0 {
                    format!("; {} polls per task", fixed(t.mean_polls_per_task, 1))
                } else {
                    "; tasks not instrumented".into()
                }
            ),
        ));
    }
    rows.extend(vec![(
        "machine",
        format!(
            "{}, {} logical cores, {}, kernel {}",
            r.machine.cpu_model, r.machine.logical_cores, r.machine.os, r.machine.kernel
        ),
    )]);
    rows
}

/// How the ideal parallelism of a workload kind is counted (see `RunRecord::ideal_parallelism`).
fn ideal_rule(kind: &str) -> &'static str {
    if kind == "cpu" {
        "min(workers, cores, tasks)"
    } else {
        "tasks in flight: min(in-flight limit, tasks)"
    }
}

/// A tail percentile as tables show it: the value, or `max (n=8)` when the samples are too few
/// for the percentile to be anything but their maximum.
fn tail(value: f64, s: &crate::model::histogram::Summary, least: u64, digits: usize) -> String {
    if s.count < least {
        format!("{} max (n={})", fixed(s.max, digits), s.count)
    } else {
        fixed(value, digits)
    }
}

/// What the start-up figure of a run covers; `None` for records made before it was measured.
fn startup_row(r: &RunRecord) -> Option<String> {
    let ms = fixed(r.startup_s? * 1e3, 3);
    let runtime = Runtime::from_name(&r.runtime);
    Some(match runtime.filter(|rt| rt.creates_unit_per_task()) {
        Some(rt) => format!(
            "{ms} ms (median); each task's {} is created inside its queue wait",
            if rt.uses_processes() {
                "process"
            } else {
                "thread"
            }
        ),
        None => format!(
            "{ms} ms (median): runtime built, every worker running; in wall, before queue wait"
        ),
    })
}

/// The headline of a comparison.
fn compare_title(c: &CompareRecord) -> String {
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

/// Header of the comparison table.
const COMPARE_HEADER: [&str; 15] = [
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
];

/// The columns a `--scale` comparison adds: what each unit in flight cost.
const SCALE_HEADER: [&str; 5] = [
    "in flight",
    "KiB/unit",
    "KiB/unit above base",
    "spawn µs/unit",
    "makespan × ideal",
];

/// The comparison table's header: [`COMPARE_HEADER`]; for mixed runs the IO tasks' latency,
/// the headline of a mix, after the latency of all tasks; the per-unit columns when `scale`.
fn compare_header(cells: &[CellSummary], scale: bool) -> Vec<String> {
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
fn compare_table_rows(cells: &[CellSummary], scale: bool) -> Vec<Vec<String>> {
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
const STARTUP_COLUMN: usize = 5;

/// The common columns of one comparison row per cell, the IO tasks' p99 for mixed runs and the
/// start-up. A noisy cell's wall time is marked with `~`.
fn compare_rows(cells: &[CellSummary]) -> Vec<Vec<String>> {
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

/// The footnotes every comparison table carries: what the columns are measured against.
fn compare_notes(c: &CompareRecord) -> Vec<String> {
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
fn startup_note(cells: &[CellSummary]) -> Option<String> {
    cells.iter().any(|c| c.startup_s.is_some()).then(|| {
        "startup is the median time from building the runtime until every worker (thread, executor thread, worker process) runs; it is inside wall, and queue wait starts after it, so queue wait is queueing only. thread-per-task and process-per-task have no workers to start: they create each task's thread or process inside that task's queue wait.".to_string()
    })
}

/// Header of the latency table.
const LATENCY_HEADER: [&str; 8] = ["ms", "count", "mean", "p50", "p90", "p99", "p99.9", "max"];

/// Latency, queue and service rows in milliseconds, shared by the table and Markdown.
fn latency_rows(r: &RunRecord) -> Vec<[String; 8]> {
    // Open loop, latency from the schedule is the corrected figure and service time is the
    // raw one a closed-loop generator would report (see `OpenLoop`).
    let (latency, service) = if r.open_loop.is_some() {
        ("latency (corrected)", "service (raw latency)")
    } else {
        ("latency", "service")
    };
    let mut rows = vec![
        (latency, &r.latency_ms),
        ("queue", &r.queue_ms),
        (service, &r.service_ms),
    ];
    // tokio's view of the same tasks sits next to the harness's queue wait.
    if let Some(t) = r.tokio.as_ref().filter(|t| t.first_poll_delay_ms.count > 0) {
        rows.insert(2, ("tokio first poll", &t.first_poll_delay_ms));
        rows.insert(3, ("tokio scheduled", &t.scheduled_ms));
        rows.push(("tokio polled", &t.polled_ms));
    }
    // A mixed run's headline: the IO tasks apart from the CPU tasks.
    if let Some(m) = &r.mixed {
        rows.extend([
            ("IO tasks latency", &m.io_latency_ms),
            ("IO tasks queue", &m.io_queue_ms),
            ("CPU tasks latency", &m.cpu_latency_ms),
            ("CPU tasks service", &m.cpu_service_ms),
        ]);
    }
    rows.into_iter()
        .map(|(name, s)| {
            [
                name.to_string(),
                s.count.to_string(),
                fixed(s.mean, 3),
                fixed(s.p50, 3),
                fixed(s.p90, 3),
                tail(s.p99, s, crate::analysis::judge::MIN_P99_SAMPLES, 3),
                tail(s.p999, s, 10 * crate::analysis::judge::MIN_P99_SAMPLES, 3),
                fixed(s.max, 3),
            ]
        })
        .collect()
}

/// `x` with `digits` decimals.
fn fixed(x: f64, digits: usize) -> String {
    format!("{x:.digits$}")
}

/// A byte count in binary units.
fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// An integer with thousands separators: 5,000,000.
fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::measure::summarize;
    use crate::measure::tests::{fake_meta, fake_run};

    /// A record built from made-up repeats: every format's snapshot shows the same run.
    pub(crate) fn sample_record() -> RunRecord {
        let runs = [
            fake_run(0, 8, 25, false),
            fake_run(1000, 8, 24, true),
            fake_run(2000, 8, 26, false),
        ];
        summarize(&fake_meta(Runtime::AsyncStd), &runs)
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(4 << 20), "4.0 MiB");
        assert_eq!(group(5_000_000), "5,000,000");
        assert_eq!(group(999), "999");
    }

    #[test]
    fn table_snapshot() {
        insta::assert_snapshot!(render_run(&sample_record(), Format::Table).unwrap());
    }

    #[test]
    fn markdown_snapshot() {
        insta::assert_snapshot!(render_run(&sample_record(), Format::Markdown).unwrap());
    }

    #[test]
    fn csv_snapshot() {
        insta::assert_snapshot!(render_run(&sample_record(), Format::Csv).unwrap());
    }

    #[test]
    fn json_snapshot() {
        insta::assert_snapshot!(render_run(&sample_record(), Format::Json).unwrap());
    }

    #[test]
    fn comparisons_show_startup_beside_wall_and_say_what_it_covers() {
        let new = sample_record();
        // A record made before start-up was measured.
        let old = RunRecord {
            runtime: "threads".into(),
            startup_s: None,
            ..sample_record()
        };
        let cells = crate::analysis::summary::summarize(&[new, old]);
        let header = compare_header(&cells, false);
        assert_eq!(header[STARTUP_COLUMN - 1], "wall s (min–max)");
        assert_eq!(header[STARTUP_COLUMN], "startup ms");
        let rows = compare_table_rows(&cells, false);
        let at = |runtime: &str| {
            let i = cells.iter().position(|c| c.runtime == runtime).unwrap();
            rows[i][STARTUP_COLUMN].clone()
        };
        assert_eq!(at("async-std"), "1.00");
        assert_eq!(at("threads"), "–");
        assert!(rows.iter().all(|r| r.len() == header.len()));
        let note = startup_note(&cells).unwrap();
        assert!(
            note.contains("inside wall, and queue wait starts after it"),
            "{note}"
        );
        assert!(note.contains("inside that task's queue wait"), "{note}");
        let before: Vec<CellSummary> = cells
            .into_iter()
            .map(|c| CellSummary {
                startup_s: None,
                ..c
            })
            .collect();
        assert_eq!(
            startup_note(&before),
            None,
            "no note for figures a file does not have"
        );
    }

    #[test]
    fn runtimes_snapshots() {
        for format in Format::ALL {
            insta::assert_snapshot!(
                format!("runtimes_{}", format.name()),
                render_runtimes(format).unwrap()
            );
        }
    }

    #[test]
    fn atomic_write_replaces_whole_files_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.json");
        write_atomically(&path, b"first").unwrap();
        write_atomically(&path, b"second").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "second");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("out.json")]);
    }
}
