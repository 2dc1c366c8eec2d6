//! Which plots and interval logs a run or a comparison gets, and where they go; `plot` draws
//! them.

use std::path::Path;

use anyhow::Context;

use super::run_rows::title;
use super::{hdr, plot};
use crate::model::Runtime;
use crate::model::compare::{CellSummary, CompareRecord};
use crate::model::histogram::TaskHistograms;
use crate::model::run::RunRecord;

pub(super) fn ensure_dir(dir: &Path) -> anyhow::Result<std::path::PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("could not create {}", dir.display()))?;
    Ok(dir.to_path_buf())
}

/// A file-name stem for a cell: `tokio-mt-w2-t16`.
pub(super) fn cell_name(r: &RunRecord) -> String {
    // Kept connections are a cell of their own (`io download (reuse)`).
    let reuse = if crate::model::run::reuses_connections(&r.workload.params) {
        "-reuse"
    } else {
        ""
    };
    format!(
        "{}-{}{reuse}-{}-w{}-t{}",
        r.workload.kind, r.workload.name, r.runtime, r.workers, r.workload.tasks_per_run
    )
}

/// Runs grouped by cell, in the order cells first appear.
pub(super) fn by_cell(c: &CompareRecord) -> Vec<(String, Vec<&RunRecord>)> {
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

pub(super) fn compare_logs(
    c: &CompareRecord,
    dir: &Path,
) -> anyhow::Result<Vec<std::path::PathBuf>> {
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
    timeline_plot_of(&timeline, r)?;
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
    for (workload, tasks) in &groups {
        let cells: Vec<&CellSummary> = c
            .summary
            .iter()
            .filter(|s| &s.workload == workload && s.tasks == *tasks)
            .collect();
        written.push(wall_plot(&dir, workload, *tasks, &cells)?);
        // serial's single worker count is not a group of its own unless another runtime ran it.
        let mut workers: Vec<usize> = cells
            .iter()
            .filter(|c| !c.is_baseline() || cells.len() == 1)
            .map(|c| c.workers)
            .collect();
        workers.sort_unstable();
        workers.dedup();
        for &w in &workers {
            written.push(spectrum_plot(c, &dir, workload, *tasks, w)?);
        }
        // Timelines at the most workers swept: the median-wall run of each runtime.
        let top = workers.last().copied().unwrap_or(1);
        for cell in cells.iter().filter(|c| c.workers == top || c.is_baseline()) {
            written.extend(timeline_plot(c, &dir, cell)?);
        }
    }
    Ok(written)
}

/// `wall-<workload>-t<tasks>.svg`: median wall time per worker count, a bar per runtime.
fn wall_plot(
    dir: &Path,
    workload: &str,
    tasks: usize,
    cells: &[&CellSummary],
) -> anyhow::Result<std::path::PathBuf> {
    let mut series: Vec<plot::WallSeries> = Vec::new();
    for cell in cells {
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
    Ok(path)
}

/// `spectrum-<workload>-t<tasks>-w<workers>.svg`: every runtime's latency percentiles at one
/// worker count, over all its runs' tasks merged (as the tables' p99).
fn spectrum_plot(
    c: &CompareRecord,
    dir: &Path,
    workload: &str,
    tasks: usize,
    workers: usize,
) -> anyhow::Result<std::path::PathBuf> {
    let mut curves = Vec::new();
    for (_, runs) in by_cell(c) {
        let Some(first) = runs.first() else { continue };
        let same = first.workload_label() == workload
            && first.workload.tasks_per_run == tasks
            && (first.workers == workers
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
    let path = dir.join(format!(
        "spectrum-{}-t{tasks}-w{workers}.svg",
        slug(workload)
    ));
    plot::spectrum_chart(
        &path,
        &format!("{workload}, {tasks} tasks, {workers} workers: latency percentiles"),
        &curves,
    )?;
    Ok(path)
}

/// The timeline of `cell`'s median-wall run, if it has runs.
fn timeline_plot(
    c: &CompareRecord,
    dir: &Path,
    cell: &CellSummary,
) -> anyhow::Result<Option<std::path::PathBuf>> {
    let mut runs: Vec<&RunRecord> = c.runs_of(cell).collect();
    runs.sort_by(|a, b| a.wall_s.total_cmp(&b.wall_s));
    let Some(median) = runs.get((runs.len().saturating_sub(1)) / 2) else {
        return Ok(None);
    };
    let path = dir.join(format!("timeline-{}.svg", cell_name(median)));
    timeline_plot_of(&path, median)?;
    Ok(Some(path))
}

/// Draws `r`'s timeline at `path`. Runtimes whose in-flight limit is `--concurrency` interleave
/// their tasks on a thread, so they get a row per task; the others, whose task holds its
/// worker, a row per worker. A mix's CPU and IO tasks are coloured apart.
fn timeline_plot_of(path: &Path, r: &RunRecord) -> anyhow::Result<()> {
    let interleaved = Runtime::from_name(&r.runtime).is_some_and(Runtime::in_flight_is_concurrency);
    let mix = r
        .mixed
        .as_ref()
        .map(|m| (m.io_tasks, r.workload.tasks_per_run));
    let is_io = |task: usize| {
        mix.is_some_and(|(io, all)| crate::workload::mixed::io_index(task, io, all).is_some())
    };
    plot::timeline_chart(
        path,
        &plot::Timeline {
            title: &format!("timeline: {}", title(r)),
            tasks: &r.timeline,
            rows: if interleaved {
                plot::Rows::Tasks
            } else {
                plot::Rows::Workers
            },
            io_task: mix.is_some().then_some(&is_io as &dyn Fn(usize) -> bool),
        },
    )
}

/// A workload label as a file-name part: `cpu comp` → `cpu-comp`, `io download (reuse)` →
/// `io-download-reuse`.
fn slug(s: &str) -> String {
    s.replace(['(', ')'], "").replace(' ', "-")
}

/// One plot per workload swept over more than one task count: memory and spawn time per unit
/// against units, a line per runtime (and worker count, when a runtime ran at several).
pub(super) fn scale_plots(
    c: &CompareRecord,
    dir: &Path,
) -> anyhow::Result<Vec<std::path::PathBuf>> {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The text of the timeline `run_plots` draws for `r`.
    fn timeline_of(r: &RunRecord) -> String {
        let dir = tempfile::tempdir().unwrap();
        let written = run_plots(r, dir.path()).unwrap();
        let path = written
            .iter()
            .find(|p| p.to_string_lossy().contains("timeline-"));
        // plotters puts a text's content on a line of its own.
        std::fs::read_to_string(path.unwrap())
            .unwrap()
            .replace('\n', "")
    }

    #[test]
    fn tasks_that_interleave_on_a_thread_get_a_row_each_the_others_a_row_per_worker() {
        // async-std's tasks are futures: their in-flight limit is --concurrency.
        let r = crate::report::tests::sample_record();
        assert!(timeline_of(&r).contains(">on pid 100"));
        let threads = RunRecord {
            runtime: "threads".into(),
            ..r
        };
        let text = timeline_of(&threads);
        assert!(!text.contains(">on pid") && text.contains("pid 100 · tid 101"));
    }
}
