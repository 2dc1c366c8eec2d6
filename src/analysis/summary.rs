//! One summary per cell of a comparison (workload, runtime, workers, tasks) over its runs:
//! medians and ranges, speed-up, p50 and p99 over every run's tasks merged, memory (an upper
//! estimate for process runtimes), the per-unit figures of a `--scale` sweep, and each run's
//! own figures by round (outliers flagged), which the verdict pairs across cells.

use std::collections::BTreeMap;

use super::paired::outliers;
use super::stats::spread;
use crate::model::compare::{CellSummary, RoundFigures};
use crate::model::histogram::TaskHistograms;
use crate::model::run::RunRecord;

/// Spread (max − min) over median beyond which a cell is flagged noisy.
pub const NOISE_SPREAD: f64 = 0.20;

/// The memory figure a run is judged by (see `CellSummary::memory_bytes`).
pub fn memory_of(r: &RunRecord) -> f64 {
    let children = if r.memory.children_peak_rss_bytes > 0 {
        r.processes.peak.saturating_sub(1).max(1) * r.memory.children_peak_rss_bytes
    } else {
        0
    };
    (r.memory.peak_rss_bytes + children) as f64
}

/// One summary per (workload, runtime, workers, tasks), in the order cells first appear.
pub fn summarize(runs: &[RunRecord]) -> Vec<CellSummary> {
    let mut order: Vec<(String, String, usize, usize)> = Vec::new();
    let mut groups: BTreeMap<(String, String, usize, usize), Vec<&RunRecord>> = BTreeMap::new();
    for r in runs {
        let key = (
            r.workload_label(),
            r.runtime.clone(),
            r.workers,
            r.workload.tasks_per_run,
        );
        if !groups.contains_key(&key) {
            order.push(key.clone());
        }
        groups.entry(key).or_default().push(r);
    }
    let mut cells: Vec<CellSummary> = order.iter().map(|key| cell(key, &groups[key])).collect();
    // Speed-up: against serial at the same work when it ran, else against this runtime at the
    // fewest workers swept.
    let walls: Vec<(String, String, usize, usize, f64, usize)> = cells
        .iter()
        .map(|c| {
            (
                c.workload.clone(),
                c.runtime.clone(),
                c.workers,
                c.tasks,
                c.wall_s.median,
                c.ideal_parallelism,
            )
        })
        .collect();
    for c in &mut cells {
        // Each language's serial is its runtimes' baseline (Python's loops are far slower
        // than Rust's); the other language's serial stands in only where it did not run.
        let language = |name: &str| crate::model::Runtime::from_name(name).map(|r| r.language());
        let serial = walls
            .iter()
            .filter(|w| {
                w.0 == c.workload
                    && crate::model::Runtime::from_name(&w.1)
                        .is_some_and(crate::model::Runtime::is_baseline)
                    && w.3 == c.tasks
            })
            .min_by_key(|w| language(&w.1) != language(&c.runtime));
        let fewest = walls
            .iter()
            .filter(|w| w.0 == c.workload && w.1 == c.runtime && w.3 == c.tasks)
            .min_by_key(|w| w.2);
        let (base, label, ideal) = match (serial, fewest) {
            (Some(s), _) => (s.4, s.1.clone(), c.ideal_parallelism as f64),
            (None, Some(f)) if f.2 < c.workers => (
                f.4,
                format!("{} at {} workers", c.runtime, f.2),
                c.ideal_parallelism as f64 / f.5.max(1) as f64,
            ),
            _ => continue,
        };
        if base > 0.0 && c.wall_s.median > 0.0 {
            let speedup = base / c.wall_s.median;
            c.speedup = Some(speedup);
            c.speedup_vs = Some(label);
            c.efficiency = (ideal > 0.0).then(|| speedup / ideal);
        }
    }
    per_unit(&mut cells);
    cells
}

/// Whether a cell holds a thread or process for each of its tasks, all at once: its worker
/// count then says nothing its task count does not, so such cells form one series.
pub(super) fn one_unit_per_task(c: &CellSummary) -> bool {
    c.workers >= c.tasks
        && crate::model::Runtime::from_name(&c.runtime)
            .is_some_and(crate::model::Runtime::creates_unit_per_task)
}

/// The cells that show one runtime's cost growing with its tasks: the same workload and
/// runtime, at the same workers (or all with one unit per task).
pub fn same_series(a: &CellSummary, b: &CellSummary) -> bool {
    a.workload == b.workload
        && a.runtime == b.runtime
        && (a.workers == b.workers || (one_unit_per_task(a) && one_unit_per_task(b)))
}

/// Fills in the memory per unit above the runtime's own cost and the makespan over ideal, which
/// need other cells (see the module doc).
fn per_unit(cells: &mut [CellSummary]) {
    let snapshot: Vec<CellSummary> = cells.to_vec();
    for c in cells.iter_mut() {
        if c.ideal_makespan_s.is_none() {
            // No sleep to go by: the serial baseline spread over the ideal parallelism.
            if let Some(e) = c.efficiency.filter(|e| *e > 0.0) {
                c.ideal_makespan_s = Some(c.wall_s.median * e);
            }
        }
        c.makespan_vs_ideal = c
            .ideal_makespan_s
            .filter(|i| *i > 0.0)
            .map(|i| c.wall_s.median / i);
        let base = snapshot
            .iter()
            .filter(|b| same_series(b, c) && b.tasks < c.tasks && b.tasks_ok > 0)
            .min_by_key(|b| b.tasks);
        if let (Some(b), Some(units), Some(base_units)) = (
            base,
            c.units_in_flight,
            base.and_then(|b| b.units_in_flight),
        ) {
            if units > base_units {
                c.memory_per_unit_above_base_bytes =
                    Some((c.memory_bytes.median - b.memory_bytes.median) / (units - base_units));
            }
        }
    }
}

/// The sleep each task of `r` waited, if it is a sleep run.
fn sleep_of(r: &RunRecord) -> Option<f64> {
    if r.workload.name != "sleep" {
        return None;
    }
    let text = r.workload.params.get("sleep")?.as_str()?;
    humantime::parse_duration(text)
        .ok()
        .map(|d| d.as_secs_f64())
}

/// The median of a tokio figure over the runs that have it.
fn tokio_median(
    runs: &[&RunRecord],
    f: fn(&crate::model::run::TokioMetrics) -> Option<f64>,
) -> Option<f64> {
    let values: Vec<f64> = runs
        .iter()
        .filter_map(|r| r.tokio.as_ref().and_then(f))
        .collect();
    (!values.is_empty()).then(|| spread(values).median)
}

/// Every run's histograms merged into one, when every run carries them (records from before
/// histograms were saved do not).
fn merged_histograms(runs: &[&RunRecord]) -> Option<TaskHistograms> {
    let mut merged = TaskHistograms::default();
    for r in runs {
        merged += &TaskHistograms::decode(r.histograms.as_ref()?).ok()?;
    }
    Some(merged)
}

/// Each run's figures by round: the round the sweep recorded, or for files from before rounds
/// were recorded the run's place among its cell's runs (runs are saved in the order they ran).
fn round_figures(runs: &[&RunRecord]) -> Vec<RoundFigures> {
    let walls: Vec<f64> = runs.iter().map(|r| r.wall_s).collect();
    let flagged = outliers(&walls);
    runs.iter()
        .zip(flagged)
        .enumerate()
        .map(|(i, (r, outlier))| RoundFigures {
            round: r.round.unwrap_or(i + 1),
            wall_s: r.wall_s,
            p99_ms: r.latency_ms.p99,
            max_latency_ms: r.latency_ms.max,
            memory_bytes: memory_of(r),
            io_p99_ms: r.mixed.as_ref().map(|m| m.io_latency_ms.p99),
            units_in_flight: Some(r.in_flight_peak.unwrap_or(r.ideal_parallelism) as f64),
            outlier,
        })
        .collect()
}

/// Every run's failed tasks by kind, added up.
fn errors(runs: &[&RunRecord]) -> BTreeMap<String, u64> {
    runs.iter().fold(BTreeMap::new(), |mut all, r| {
        for (kind, n) in &r.tasks.errors {
            *all.entry(kind.clone()).or_default() += n;
        }
        all
    })
}

/// A mixed run's figure over the runs, if every run is a mix.
fn mixed_figure(
    runs: &[&RunRecord],
    f: fn(&crate::model::run::MixedLatency) -> f64,
) -> Option<crate::model::compare::Spread> {
    runs.iter()
        .all(|r| r.mixed.is_some())
        .then(|| spread(runs.iter().filter_map(|r| r.mixed.as_ref()).map(f)))
}

/// One cell's summary from its runs; speed-ups and the per-unit figures above a base are
/// filled in later, against the other cells.
fn cell(key: &(String, String, usize, usize), runs: &[&RunRecord]) -> CellSummary {
    let med = |f: fn(&RunRecord) -> f64| spread(runs.iter().map(|r| f(r))).median;
    let wall_s = spread(runs.iter().map(|r| r.wall_s));
    let memory_bytes = spread(runs.iter().map(|r| memory_of(r)));
    let ideal_parallelism = runs.iter().map(|r| r.ideal_parallelism).max().unwrap_or(1);
    // The median of a figure over the runs that have it.
    let some_median = |values: Vec<f64>| (!values.is_empty()).then(|| spread(values).median);
    let units_in_flight = some_median(
        runs.iter()
            .map(|r| r.in_flight_peak.unwrap_or(r.ideal_parallelism) as f64)
            .collect(),
    );
    let spawn_s = some_median(runs.iter().filter_map(|r| r.spawn_s).collect());
    let tasks = key.3;
    let merged = merged_histograms(runs);
    // Tasks run in waves of the tasks in flight, each wave one sleep long at best.
    let waves = tasks.div_ceil(ideal_parallelism.max(1)) as f64;
    let ideal_makespan_s =
        some_median(runs.iter().filter_map(|r| sleep_of(r)).collect()).map(|s| s * waves);
    CellSummary {
        workload: key.0.clone(),
        runtime: key.1.clone(),
        workers: key.2,
        tasks: key.3,
        runs: runs.len(),
        noisy: runs.len() >= 2 && wall_s.relative() > NOISE_SPREAD,
        wall_s,
        startup_s: some_median(runs.iter().filter_map(|r| r.startup_s).collect()),
        speedup: None,
        speedup_vs: None,
        efficiency: None,
        ideal_parallelism,
        p50_ms: merged
            .as_ref()
            .map_or_else(|| med(|r| r.latency_ms.p50), |h| h.latency.summary().p50),
        p99_ms: spread(runs.iter().map(|r| r.latency_ms.p99)),
        queue_p99_ms: merged
            .as_ref()
            .map_or_else(|| med(|r| r.queue_ms.p99), |h| h.queue.summary().p99),
        service_p99_ms: merged
            .as_ref()
            .map_or_else(|| med(|r| r.service_ms.p99), |h| h.service.summary().p99),
        latency_ms: merged.as_ref().map(|h| h.latency.summary()),
        queue_ms: merged.as_ref().map(|h| h.queue.summary()),
        service_ms: merged.as_ref().map(|h| h.service.summary()),
        // Without per-task monitors (--no-tokio-metrics) no first poll was seen, not one of 0 ms.
        first_poll_p99_ms: tokio_median(runs, |t| {
            (t.first_poll_delay_ms.count > 0).then_some(t.first_poll_delay_ms.p99)
        }),
        busy_ratio: tokio_median(runs, |t| t.busy_ratio),
        cores_used: med(|r| r.cpu.cores_used),
        cpu_s: med(|r| r.cpu.user_s + r.cpu.sys_s),
        memory_bytes,
        children_unmeasured: runs.iter().map(|r| r.memory.children_unmeasured).sum(),
        threads_peak: runs.iter().map(|r| r.threads.peak).max().unwrap_or(0),
        processes_peak: runs.iter().map(|r| r.processes.peak).max().unwrap_or(0),
        distinct_workers: runs.iter().map(|r| r.distinct_workers).max().unwrap_or(0),
        tasks_ok: runs.iter().map(|r| r.tasks.ok).sum(),
        tasks_failed: runs.iter().map(|r| r.tasks.failed).sum(),
        errors: errors(runs),
        io_p99_ms: mixed_figure(runs, |m| m.io_latency_ms.p99),
        io_queue_p99_ms: mixed_figure(runs, |m| m.io_queue_ms.p99).map(|s| s.median),
        memory_per_unit_bytes: units_in_flight
            .filter(|u| *u > 0.0)
            .map(|u| memory_bytes.median / u),
        units_in_flight,
        memory_per_unit_above_base_bytes: None,
        spawn_s,
        spawn_per_unit_us: spawn_s
            .filter(|_| tasks > 0)
            .map(|s| s * 1e6 / tasks as f64),
        ideal_makespan_s,
        makespan_vs_ideal: None,
        rounds: round_figures(runs),
        server_cores_used: some_median(server_costs(runs).map(|c| c.cpu.cores_used).collect()),
        server_connections: some_median(server_costs(runs).map(|c| c.connections as f64).collect()),
    }
}

/// The server's cost of each run that read it.
fn server_costs<'a>(
    runs: &'a [&RunRecord],
) -> impl Iterator<Item = &'a crate::model::server::ServerCost> {
    runs.iter()
        .filter_map(|r| r.server.as_ref().and_then(|s| s.cost.as_ref()))
}
