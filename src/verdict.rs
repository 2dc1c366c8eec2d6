//! Per-cell summaries of a comparison, and the verdict: who wins on wall time, p99 latency
//! and memory at each workload and worker count, by how much, and why, in sentences built
//! only from the measured figures.
//!
//! Rules, stated once so tables and docs can quote them:
//! - A cell is *noisy* when it has at least two runs and their wall times spread (max − min)
//!   by more than [`NOISE_SPREAD`] of the median.
//! - A cell with a failed task is never judged: its figures are of less work than the
//!   others'. The verdict names it as left out, with how many tasks failed and how.
//! - The winner has the best figure among the rest. Going down the ranking, each next runtime
//!   is *tied* with the winner while its figure is within [`TIE_MARGIN`] of the winner's or
//!   its min–max range over runs overlaps the winner's; the first that is neither is the
//!   runner-up, and cells after it are not compared with the winner. With one run per cell
//!   there is no range, and the sentence says the noise is unmeasured.
//! - Latency is judged on p99 over every run's tasks merged; when a cell has fewer than
//!   [`MIN_P99_SAMPLES`] tasks, a p99 is only its maximum, so the maximum is judged by name.
//! - A reason is given only when a measured figure favours the winner by at least
//!   [`REASON_MARGIN`] and by enough to account for half the gap (for figures in time);
//!   otherwise the sentence says no measured figure explains the gap. Cores kept busy count
//!   as a reason only for CPU work: for IO they follow from finishing sooner.
//! - Memory of process runtimes is an upper estimate: the parent's peak plus the largest
//!   worker's peak times the workers (see [`memory_of`]), shown with `≤`.
//! - `serial` runs once per task count and competes in every worker count's group; so do
//!   thread-per-task and process-per-task in a `--scale` sweep, which hold one unit per task.
//! - Per unit: memory per unit in flight is a cell's peak memory over the most tasks its runs
//!   had running at once. Above the runtime's own cost, it is the growth in peak memory from
//!   the same runtime's cell at the fewest tasks swept, over the growth in units. Spawn time
//!   per unit is the time to get every task started over the tasks. Makespan over ideal is
//!   wall time over the ideal: for sleep tasks, the sleep times the waves of tasks in flight
//!   needed; otherwise the serial baseline's wall over the ideal parallelism (1 / efficiency).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::histogram::{Summary, TaskHistograms};
use crate::model::run::RunRecord;

/// Spread (max − min) over median beyond which a cell is flagged noisy.
pub const NOISE_SPREAD: f64 = 0.20;
/// Relative difference under which two medians are a tie whatever their ranges.
pub const TIE_MARGIN: f64 = 0.03;

/// A median with the smallest and largest value it came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    /// Median (the mean of the two middle values for an even count).
    pub median: f64,
    /// Smallest.
    pub min: f64,
    /// Largest.
    pub max: f64,
}

impl Spread {
    /// The spread of `values`; all zero when empty.
    pub fn of(values: impl IntoIterator<Item = f64>) -> Spread {
        let mut v: Vec<f64> = values.into_iter().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return Spread::default();
        }
        v.sort_by(f64::total_cmp);
        let mid = v.len() / 2;
        let median = if v.len() % 2 == 1 {
            v[mid]
        } else {
            (v[mid - 1] + v[mid]) / 2.0
        };
        Spread {
            median,
            min: v[0],
            max: v[v.len() - 1],
        }
    }

    /// (max − min) / median, 0 for a zero median.
    pub fn relative(&self) -> f64 {
        if self.median > 0.0 {
            (self.max - self.min) / self.median
        } else {
            0.0
        }
    }
}

/// One cell of a comparison, over its runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellSummary {
    /// `cpu comp`, `io download`, `io sleep` ...
    pub workload: String,
    /// The runtime's name.
    pub runtime: String,
    /// `--workers`.
    pub workers: usize,
    /// Tasks per run.
    pub tasks: usize,
    /// Runs summarized.
    pub runs: usize,
    /// Wall time in seconds.
    pub wall_s: Spread,
    /// Start-up in seconds, inside the wall time (median over the runs that measured it; see
    /// `RunRecord::startup_s`).
    #[serde(default)]
    pub startup_s: Option<f64>,
    /// Whether the runs' wall times disagree by more than [`NOISE_SPREAD`].
    pub noisy: bool,
    /// Baseline wall over this wall, when a baseline ran.
    pub speedup: Option<f64>,
    /// What the speed-up is measured against: `serial`, or this runtime at fewer workers.
    pub speedup_vs: Option<String>,
    /// Speed-up over the ideal one.
    pub efficiency: Option<f64>,
    /// min(effective workers, cores, tasks) (for IO: tasks in flight).
    pub ideal_parallelism: usize,
    /// Latency p50, ms, over every run's tasks merged (the median of the runs' p50s for
    /// records without histograms).
    pub p50_ms: f64,
    /// The runs' own latency p99s, ms: their range is what the tie rule sees. The p99 a table
    /// shows and a verdict ranks is `latency_ms.p99`, over every run's tasks merged.
    pub p99_ms: Spread,
    /// Queue-wait p99, ms, over every run's tasks merged (as `p50_ms`).
    pub queue_p99_ms: f64,
    /// Service-time p99, ms, over every run's tasks merged (as `p50_ms`).
    pub service_p99_ms: f64,
    /// Latency over every run's succeeded tasks merged into one histogram; `count` says how
    /// many tasks a percentile stands on. Absent for records without histograms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<Summary>,
    /// Queue wait over every run's tasks merged, as `latency_ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_ms: Option<Summary>,
    /// Service time over every run's tasks merged, as `latency_ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_ms: Option<Summary>,
    /// tokio's first-poll delay p99, ms (median over runs), for tokio cells.
    #[serde(default)]
    pub first_poll_p99_ms: Option<f64>,
    /// tokio workers' busy ratio (median over runs), for tokio cells.
    #[serde(default)]
    pub busy_ratio: Option<f64>,
    /// Cores kept busy (median over runs).
    pub cores_used: f64,
    /// User + system CPU seconds per run (median), children included.
    pub cpu_s: f64,
    /// Peak memory in bytes over runs: the process's peak RSS plus, for runs with worker
    /// processes, the largest child's peak RSS times the children seen (an upper estimate).
    pub memory_bytes: Spread,
    /// Worker processes over all runs whose peak memory could not be read (they died first);
    /// `memory_bytes` counts them at the largest measured worker's peak.
    #[serde(default)]
    pub children_unmeasured: u64,
    /// Most threads seen in the measuring process.
    pub threads_peak: u64,
    /// Most processes seen (the measuring one included).
    pub processes_peak: u64,
    /// Most distinct threads that ran tasks in one run.
    pub distinct_workers: usize,
    /// Tasks that succeeded, over runs.
    pub tasks_ok: u64,
    /// Tasks that failed, over runs.
    pub tasks_failed: u64,
    /// Failed tasks by kind, over runs.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub errors: BTreeMap<String, u64>,
    /// For mixed runs, the IO tasks' p99 latency over runs, ms: the headline of a mix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub io_p99_ms: Option<Spread>,
    /// For mixed runs, the IO tasks' queue-wait p99, ms (median over runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub io_queue_p99_ms: Option<f64>,
    /// Most tasks running at once (median over runs), or the planned tasks in flight for
    /// records that do not count it.
    #[serde(default)]
    pub units_in_flight: Option<f64>,
    /// Median peak memory over `units_in_flight`, in bytes.
    #[serde(default)]
    pub memory_per_unit_bytes: Option<f64>,
    /// Bytes each unit added above the runtime's own cost: (median memory here − median memory
    /// of the same runtime and workers at the fewest tasks swept) over the units added.
    #[serde(default)]
    pub memory_per_unit_above_base_bytes: Option<f64>,
    /// Seconds to get every task started (median over runs; see `RunRecord::spawn_s`).
    #[serde(default)]
    pub spawn_s: Option<f64>,
    /// `spawn_s` over the tasks, in microseconds.
    #[serde(default)]
    pub spawn_per_unit_us: Option<f64>,
    /// The wall time the cell would take with no overhead (see the module doc).
    #[serde(default)]
    pub ideal_makespan_s: Option<f64>,
    /// Median wall time over `ideal_makespan_s`: 1 is ideal.
    #[serde(default)]
    pub makespan_vs_ideal: Option<f64>,
}

/// The workload label cells are grouped by: `cpu comp`, `io download`, `sleep`.
pub fn workload_label(r: &RunRecord) -> String {
    if r.workload.kind == r.workload.name {
        r.workload.name.clone()
    } else {
        format!("{} {}", r.workload.kind, r.workload.name)
    }
}

/// `1 worker`, `4 workers`.
pub fn workers(n: usize) -> String {
    if n == 1 {
        "1 worker".into()
    } else {
        format!("{n} workers")
    }
}

/// The memory figure a run is judged by (see [`CellSummary::memory_bytes`]).
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
            workload_label(r),
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
        let serial = walls
            .iter()
            .find(|w| w.0 == c.workload && w.1 == "serial" && w.3 == c.tasks);
        let fewest = walls
            .iter()
            .filter(|w| w.0 == c.workload && w.1 == c.runtime && w.3 == c.tasks)
            .min_by_key(|w| w.2);
        let (base, label, ideal) = match (serial, fewest) {
            (Some(s), _) => (s.4, "serial".to_string(), c.ideal_parallelism as f64),
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
fn one_unit_per_task(c: &CellSummary) -> bool {
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
    (!values.is_empty()).then(|| Spread::of(values).median)
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

fn cell(key: &(String, String, usize, usize), runs: &[&RunRecord]) -> CellSummary {
    let med = |f: fn(&RunRecord) -> f64| Spread::of(runs.iter().map(|r| f(r))).median;
    let wall_s = Spread::of(runs.iter().map(|r| r.wall_s));
    let memory_bytes = Spread::of(runs.iter().map(|r| memory_of(r)));
    let ideal_parallelism = runs.iter().map(|r| r.ideal_parallelism).max().unwrap_or(1);
    // The median of a figure over the runs that have it.
    let some_median = |values: Vec<f64>| (!values.is_empty()).then(|| Spread::of(values).median);
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
        p99_ms: Spread::of(runs.iter().map(|r| r.latency_ms.p99)),
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
        errors: runs.iter().fold(BTreeMap::new(), |mut all, r| {
            for (kind, n) in &r.tasks.errors {
                *all.entry(kind.clone()).or_default() += n;
            }
            all
        }),
        io_p99_ms: runs.iter().all(|r| r.mixed.is_some()).then(|| {
            Spread::of(
                runs.iter()
                    .filter_map(|r| r.mixed.as_ref())
                    .map(|m| m.io_latency_ms.p99),
            )
        }),
        io_queue_p99_ms: runs.iter().all(|r| r.mixed.is_some()).then(|| {
            Spread::of(
                runs.iter()
                    .filter_map(|r| r.mixed.as_ref())
                    .map(|m| m.io_queue_ms.p99),
            )
            .median
        }),
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
    }
}

/// What a verdict line judges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Median wall time.
    Wall,
    /// p99 latency over every run's tasks merged.
    P99,
    /// The longest latency, judged instead of p99 when a cell has fewer than
    /// [`MIN_P99_SAMPLES`] tasks, where a p99 is only the maximum under another name.
    MaxLatency,
    /// Peak memory (an upper estimate for process runtimes, see [`memory_of`]).
    Memory,
    /// A mixed run's IO tasks' p99 latency (median of the runs' IO p99s).
    IoP99,
    /// Peak memory over the units in flight (`--scale`).
    MemoryPerUnit,
}

/// Fewest latency samples a p99 is shown or judged on; below it, the maximum is, named as such.
pub const MIN_P99_SAMPLES: u64 = 100;

/// How much better a figure must be, relative, before a verdict gives it as the reason.
pub const REASON_MARGIN: f64 = 0.10;

impl Metric {
    /// The figure a cell is ranked by, in the metric's unit (s, ms, bytes).
    pub fn figure(self, c: &CellSummary) -> f64 {
        match self {
            Metric::Wall => c.wall_s.median,
            Metric::P99 => c.latency_ms.as_ref().map_or(c.p99_ms.median, |s| s.p99),
            Metric::MaxLatency => c.latency_ms.as_ref().map_or(c.p99_ms.max, |s| s.max),
            Metric::Memory => c.memory_bytes.median,
            Metric::IoP99 => c.io_p99_ms.unwrap_or_default().median,
            Metric::MemoryPerUnit => c.memory_bytes.median / units(c),
        }
    }

    /// The smallest and largest value of the figure over the cell's runs, for the tie rule.
    fn range(self, c: &CellSummary) -> (f64, f64) {
        match self {
            Metric::Wall => (c.wall_s.min, c.wall_s.max),
            // Below 100 samples a run's p99 is its maximum, so the per-run p99s are the range
            // of both.
            Metric::P99 | Metric::MaxLatency => (c.p99_ms.min, c.p99_ms.max),
            Metric::Memory => (c.memory_bytes.min, c.memory_bytes.max),
            Metric::IoP99 => {
                let s = c.io_p99_ms.unwrap_or_default();
                (s.min, s.max)
            }
            Metric::MemoryPerUnit => (c.memory_bytes.min / units(c), c.memory_bytes.max / units(c)),
        }
    }

    /// A cell's figure as sentences show it; process runtimes' memory is an upper estimate.
    fn show(self, c: &CellSummary) -> String {
        let v = self.figure(c);
        let bound = if estimated_memory(c) { "≤ " } else { "" };
        match self {
            Metric::Wall => format!("{v:.3} s"),
            Metric::P99 | Metric::MaxLatency | Metric::IoP99 => format!("{v:.1} ms"),
            Metric::Memory => format!("{bound}{:.1} MiB", v / (1u64 << 20) as f64),
            Metric::MemoryPerUnit => format!("{bound}{}", per_unit_bytes(v)),
        }
    }

    /// The metric's name in sentences.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Wall => "wall time",
            Metric::P99 => "p99 latency",
            Metric::MaxLatency => "max latency",
            Metric::Memory => "memory",
            Metric::IoP99 => "IO p99 under CPU load",
            Metric::MemoryPerUnit => "memory per unit",
        }
    }
}

/// Units in flight, or NaN when unknown, so a figure divided by it is no figure.
fn units(c: &CellSummary) -> f64 {
    c.units_in_flight.filter(|u| *u > 0.0).unwrap_or(f64::NAN)
}

/// Whether a cell's memory counts worker processes, and so is an upper estimate.
fn estimated_memory(c: &CellSummary) -> bool {
    crate::executor::Runtime::from_name(&c.runtime).is_some_and(|rt| rt.uses_processes())
}

/// Bytes per unit in KiB, or MiB from 1 MiB up, with the digits small figures need.
pub fn per_unit_bytes(v: f64) -> String {
    let kib = v / 1024.0;
    if kib.abs() >= 1024.0 {
        format!("{:.2} MiB", kib / 1024.0)
    } else if kib.abs() >= 10.0 {
        format!("{kib:.1} KiB")
    } else {
        format!("{kib:.2} KiB")
    }
}

/// Which way a figure is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    /// Less is better (time, memory, threads).
    Lower,
    /// More is better (cores kept busy).
    Higher,
}

/// The measured figure a verdict gives for its winner's lead, so a reader or a script can check
/// it: the figure favours the winner by at least [`REASON_MARGIN`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    /// The figure's name in the cell summary, e.g. `queue_p99_ms`.
    pub figure: String,
    /// The winner's value.
    pub winner: f64,
    /// The runner-up's value.
    pub other: f64,
    /// Which way is better.
    pub better: Better,
}

/// A cell left out of a verdict, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeftOut {
    /// The cell's runtime.
    pub runtime: String,
    /// Why it was not judged, e.g. `3 of 48 tasks failed: timeout 3`.
    pub reason: String,
}

/// The winner of one metric in one group of cells.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// The workload label.
    pub workload: String,
    /// The worker count of the group.
    pub workers: usize,
    /// Tasks per run.
    pub tasks: usize,
    /// What was judged.
    pub metric: Metric,
    /// The runtime with the best figure among the cells that finished every task.
    pub winner: String,
    /// Runtimes within noise of the winner (empty for a clear win).
    pub tied: Vec<String>,
    /// The best runtime not tied with the winner, if any.
    pub runner_up: Option<String>,
    /// The winner's figure.
    pub value: f64,
    /// The runner-up's figure.
    pub runner_up_value: Option<f64>,
    /// Runner-up figure over winner figure.
    pub ratio: Option<f64>,
    /// The measured figure that explains the winner's lead over the runner-up; `null` when no
    /// figure favours the winner by [`REASON_MARGIN`] (or there is no runner-up).
    #[serde(default)]
    pub reason: Option<Reason>,
    /// Cells of the group that were not judged (failed tasks), with why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub left_out: Vec<LeftOut>,
    /// The generated explanation.
    pub sentence: String,
}

/// Judges every group (workload, workers, tasks) with at least two runtimes, on wall time,
/// p99 latency (the maximum below [`MIN_P99_SAMPLES`] tasks) and memory.
pub fn judge(cells: &[CellSummary]) -> Vec<Verdict> {
    judge_with(cells, false)
}

/// [`judge`] for a `--scale` sweep, where thread-per-task and process-per-task join every
/// worker count's group, then one line per workload on memory per unit at the most tasks
/// that ran, with the cells skipped at a limit.
pub fn judge_scale(cells: &[CellSummary], skipped: &[crate::compare::Skipped]) -> Vec<Verdict> {
    let mut out = judge_with(cells, true);
    let mut workloads: Vec<&str> = Vec::new();
    for c in cells {
        if !workloads.contains(&c.workload.as_str()) {
            workloads.push(&c.workload);
        }
    }
    for workload in workloads {
        let ran: Vec<&CellSummary> = cells
            .iter()
            .filter(|c| c.workload == workload && c.tasks_ok > 0)
            .filter(|c| c.memory_per_unit_bytes.is_some())
            .collect();
        let Some(top) = ran.iter().map(|c| c.tasks).max() else {
            continue;
        };
        let at_top: Vec<&CellSummary> = ran.into_iter().filter(|c| c.tasks == top).collect();
        let mut groups: Vec<usize> = at_top
            .iter()
            .filter(|c| !one_unit_per_task(c))
            .map(|c| c.workers)
            .collect();
        groups.sort_unstable();
        groups.dedup();
        if groups.is_empty() {
            groups.push(top);
        }
        for workers in groups {
            let members: Vec<&CellSummary> = at_top
                .iter()
                .copied()
                .filter(|c| c.workers == workers || one_unit_per_task(c))
                .collect();
            let Some(mut v) = judge_one(&members, Metric::MemoryPerUnit, workload, workers, top)
            else {
                continue;
            };
            if members.len() < 2 {
                v.sentence = format!(
                    "only {} ran {top} tasks: {} of memory per unit in flight.",
                    v.winner,
                    per_unit_bytes(v.value)
                );
            }
            let winner = members.iter().find(|c| c.runtime == v.winner);
            if let Some(above) = winner.and_then(|w| w.memory_per_unit_above_base_bytes) {
                v.sentence.push_str(&format!(
                    " Above its own cost, each of {}'s units took {}.",
                    v.winner,
                    per_unit_bytes(above)
                ));
            }
            v.sentence.push_str(&skipped_sentence(skipped));
            out.push(v);
        }
    }
    out
}

/// ` Skipped at the limits: thread-per-task at 100000 units (over --max-threads 12000).`, or
/// nothing.
fn skipped_sentence(skipped: &[crate::compare::Skipped]) -> String {
    let mut by: Vec<(&str, &str, Vec<usize>)> = Vec::new();
    for s in skipped {
        // The reason's first clause names the limit; its advice is in the record.
        let limit = s.reason.split(" (").next().unwrap_or(&s.reason);
        match by.iter_mut().find(|b| b.0 == s.runtime && b.1 == limit) {
            Some(b) => b.2.push(s.units()),
            None => by.push((&s.runtime, limit, vec![s.units()])),
        }
    }
    if by.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = by
        .into_iter()
        .map(|(rt, limit, mut units)| {
            units.sort_unstable();
            units.dedup();
            let list: Vec<String> = units.iter().map(usize::to_string).collect();
            format!("{rt} at {} units ({limit})", list.join(" and "))
        })
        .collect();
    format!(" Skipped at the limits: {}.", parts.join("; "))
}

/// [`judge`], with `scale` making one-unit-per-task cells compete at every worker count.
fn judge_with(cells: &[CellSummary], scale: bool) -> Vec<Verdict> {
    // Cells that join every worker count's group, as the baseline or as the runtimes whose
    // workers are their tasks.
    let everywhere = |c: &CellSummary| c.runtime == "serial" || (scale && one_unit_per_task(c));
    let mut groups: Vec<(String, usize, usize)> = Vec::new();
    let mut keys: Vec<&CellSummary> = cells.iter().filter(|c| !everywhere(c)).collect();
    if scale && keys.is_empty() {
        keys = cells.iter().filter(|c| c.runtime != "serial").collect();
    }
    for c in keys {
        let key = (c.workload.clone(), c.workers, c.tasks);
        if !groups.contains(&key) {
            groups.push(key);
        }
    }
    let mut out = Vec::new();
    for (workload, workers, tasks) in groups {
        let members: Vec<&CellSummary> = cells
            .iter()
            .filter(|c| c.workload == workload && c.tasks == tasks)
            .filter(|c| c.workers == workers || everywhere(c))
            .collect();
        if members.len() < 2 {
            continue;
        }
        // A mix is judged first on what it exists to show: the IO tasks' latency.
        let mut metrics = Vec::new();
        if members.iter().all(|c| c.io_p99_ms.is_some()) {
            metrics.push(Metric::IoP99);
        }
        // A p99 of fewer than 100 tasks is their maximum: judge it under its own name.
        let few = members.iter().any(|c| {
            c.latency_ms
                .as_ref()
                .is_some_and(|s| s.count < MIN_P99_SAMPLES)
        });
        let tail = if few { Metric::MaxLatency } else { Metric::P99 };
        metrics.extend([Metric::Wall, tail, Metric::Memory]);
        for metric in metrics {
            out.extend(judge_one(&members, metric, &workload, workers, tasks));
        }
    }
    out
}

/// Why a cell may not win: some of its tasks failed, so its figures are of other work.
fn left_out_reason(c: &CellSummary) -> Option<String> {
    if c.tasks_failed == 0 && c.tasks_ok > 0 {
        return None;
    }
    let total = c.tasks_ok + c.tasks_failed;
    let kinds: Vec<String> = c.errors.iter().map(|(k, n)| format!("{k} {n}")).collect();
    Some(if kinds.is_empty() {
        format!("{} of {total} tasks failed", c.tasks_failed)
    } else {
        format!(
            "{} of {total} tasks failed: {}",
            c.tasks_failed,
            kinds.join(", ")
        )
    })
}

/// Whether `other` is within noise of `winner`: its figure within [`TIE_MARGIN`] of the
/// winner's, or its range over runs overlapping the winner's.
fn tied(winner: &CellSummary, other: &CellSummary, metric: Metric) -> bool {
    let (w, o) = (metric.figure(winner), metric.figure(other));
    let ((_, w_max), (o_min, _)) = (metric.range(winner), metric.range(other));
    o <= w * (1.0 + TIE_MARGIN) || o_min <= w_max
}

/// One verdict over `members`; `None` when none of them may win.
fn judge_one(
    members: &[&CellSummary],
    metric: Metric,
    workload: &str,
    workers: usize,
    tasks: usize,
) -> Option<Verdict> {
    let left_out: Vec<LeftOut> = members
        .iter()
        .filter_map(|c| {
            left_out_reason(c).map(|reason| LeftOut {
                runtime: c.runtime.clone(),
                reason,
            })
        })
        .collect();
    let mut ranked: Vec<&CellSummary> = members
        .iter()
        .copied()
        .filter(|c| left_out_reason(c).is_none())
        .collect();
    ranked.sort_by(|a, b| metric.figure(a).total_cmp(&metric.figure(b)));
    let winner = *ranked.first()?;
    // Ties run from the winner down the ranking and stop at the first cell that is not tied,
    // which is the runner-up; cells after it are not compared with the winner. So the
    // runner-up is never better than a cell called tied.
    let cut = ranked[1..]
        .iter()
        .position(|c| !tied(winner, c, metric))
        .map_or(ranked.len(), |i| i + 1);
    let ties: Vec<&CellSummary> = ranked[1..cut].to_vec();
    let runner = ranked.get(cut).copied();
    let w = metric.figure(winner);
    let ratio = runner
        .map(|r| metric.figure(r) / w)
        .filter(|r| r.is_finite());
    let reason = runner.and_then(|r| reason(metric, winner, r));
    let mut sentence = sentence(metric, winner, &ties, runner, reason.as_ref());
    if !left_out.is_empty() {
        let parts: Vec<String> = left_out
            .iter()
            .map(|l| format!("{} ({})", l.runtime, l.reason))
            .collect();
        sentence.push_str(&format!(
            " Left out, as its figures are not of the whole work: {}.",
            parts.join("; ")
        ));
    }
    Some(Verdict {
        workload: workload.into(),
        workers,
        tasks,
        metric,
        winner: winner.runtime.clone(),
        tied: ties.iter().map(|c| c.runtime.clone()).collect(),
        runner_up: runner.map(|c| c.runtime.clone()),
        value: w,
        runner_up_value: runner.map(|c| metric.figure(c)),
        ratio,
        reason,
        left_out,
        sentence,
    })
}

fn margin(ratio: f64) -> String {
    if ratio >= 1.5 {
        format!("{ratio:.1}×")
    } else {
        format!("{:.0}%", (ratio - 1.0) * 100.0)
    }
}

fn sentence(
    metric: Metric,
    w: &CellSummary,
    ties: &[&CellSummary],
    runner: Option<&CellSummary>,
    reason: Option<&Reason>,
) -> String {
    let v = |c: &CellSummary| metric.show(c);
    let single_run = std::iter::once(w)
        .chain(ties.iter().copied())
        .chain(runner)
        .any(|c| c.runs < 2);
    let mut s = match (ties.is_empty(), runner) {
        (true, None) => format!(
            "{} is the only runtime that finished every task, with {} on {}",
            w.runtime,
            v(w),
            metric.name()
        ),
        (true, Some(_)) => format!("{} wins on {} with {}", w.runtime, metric.name(), v(w)),
        (false, _) => {
            let mut all: Vec<String> = std::iter::once(w)
                .chain(ties.iter().copied())
                .map(|c| format!("{} {}", c.runtime, v(c)))
                .collect();
            let last = all.pop().unwrap_or_default();
            format!(
                "tie on {}: {} and {last} are within noise",
                metric.name(),
                all.join(", ")
            )
        }
    };
    if let Some(r) = runner {
        let ratio = metric.figure(r) / metric.figure(w);
        s.push_str(&format!(
            "; next is {} with {} ({} more): ",
            r.runtime,
            v(r),
            margin(ratio)
        ));
        s.push_str(&match reason {
            Some(reason) => because(reason, w, r),
            None => "no measured figure explains the gap".into(),
        });
    }
    if single_run {
        // A single run has no range, so the tie rule sees no noise: only the 3% margin.
        s.push_str(if ties.is_empty() && runner.is_some() {
            " (one run per cell: noise unmeasured, so this may be a tie)"
        } else {
            " (one run per cell: noise unmeasured)"
        });
    }
    s.push('.');
    s
}

/// A figure that may explain a gap: its name, how to read it from a cell, which way is better,
/// and the least difference that could account for the gap (in the figure's unit).
struct Candidate {
    figure: &'static str,
    read: fn(&CellSummary) -> Option<f64>,
    better: Better,
    least: f64,
}

/// The first candidate figure that favours winner `w` over `r` by [`REASON_MARGIN`] and by a
/// difference large enough to account for the gap; `None` if no figure does.
fn reason(metric: Metric, w: &CellSummary, r: &CellSummary) -> Option<Reason> {
    let gap = metric.figure(r) - metric.figure(w);
    let cpu_work = w.workload.starts_with("cpu");
    // A figure explains a gap in time only if its own difference is at least half the gap.
    let half_gap_ms = gap * 1000.0 / 2.0;
    let half_gap_s = gap / 2.0;
    let candidates: Vec<Candidate> = match metric {
        // Cores kept busy are a cause only for work that needs cores; for IO they follow from
        // finishing the same work sooner.
        Metric::Wall if cpu_work => vec![
            Candidate {
                figure: "cores_used",
                read: |c| Some(c.cores_used),
                better: Better::Higher,
                least: 0.0,
            },
            Candidate {
                figure: "cpu_s",
                read: |c| Some(c.cpu_s),
                better: Better::Lower,
                least: half_gap_s,
            },
        ],
        Metric::Wall => vec![
            Candidate {
                figure: "queue_p99_ms",
                read: |c| Some(c.queue_p99_ms),
                better: Better::Lower,
                least: half_gap_ms,
            },
            Candidate {
                figure: "cpu_s",
                read: |c| Some(c.cpu_s),
                better: Better::Lower,
                least: half_gap_s,
            },
        ],
        Metric::P99 => vec![
            Candidate {
                figure: "queue_p99_ms",
                read: |c| Some(c.queue_p99_ms),
                better: Better::Lower,
                least: gap / 2.0,
            },
            Candidate {
                figure: "service_p99_ms",
                read: |c| Some(c.service_p99_ms),
                better: Better::Lower,
                least: gap / 2.0,
            },
        ],
        Metric::MaxLatency => vec![
            Candidate {
                figure: "queue_max_ms",
                read: |c| c.queue_ms.as_ref().map(|s| s.max),
                better: Better::Lower,
                least: gap / 2.0,
            },
            Candidate {
                figure: "service_max_ms",
                read: |c| c.service_ms.as_ref().map(|s| s.max),
                better: Better::Lower,
                least: gap / 2.0,
            },
        ],
        Metric::IoP99 => vec![Candidate {
            figure: "io_queue_p99_ms",
            read: |c| c.io_queue_p99_ms,
            better: Better::Lower,
            least: gap / 2.0,
        }],
        Metric::Memory | Metric::MemoryPerUnit => vec![
            Candidate {
                figure: "threads_peak",
                read: |c| Some(c.threads_peak as f64),
                better: Better::Lower,
                least: 1.0,
            },
            Candidate {
                figure: "processes_peak",
                read: |c| Some(c.processes_peak as f64),
                better: Better::Lower,
                least: 1.0,
            },
        ],
    };
    candidates.into_iter().find_map(|c| {
        let (a, b) = ((c.read)(w)?, (c.read)(r)?);
        let favours = match c.better {
            Better::Lower => b >= a * (1.0 + REASON_MARGIN) && b - a >= c.least,
            Better::Higher => a >= b * (1.0 + REASON_MARGIN) && a - b >= c.least,
        };
        (favours && a.is_finite() && b.is_finite()).then(|| Reason {
            figure: c.figure.into(),
            winner: a,
            other: b,
            better: c.better,
        })
    })
}

/// The sentence for a reason, winner `w` against `r`.
fn because(reason: &Reason, w: &CellSummary, r: &CellSummary) -> String {
    let (a, b) = (reason.winner, reason.other);
    let one_thread = |c: &CellSummary| c.distinct_workers == 1;
    match reason.figure.as_str() {
        "cores_used" if one_thread(r) => format!(
            "{} kept {a:.2} cores busy against {b:.2} ({} ran every task on one thread)",
            w.runtime, r.runtime
        ),
        "cores_used" => format!("{} kept {a:.2} cores busy against {b:.2}", w.runtime),
        "cpu_s" => format!("{} spent {a:.3} s of CPU against {b:.3} s", w.runtime),
        "queue_p99_ms" if one_thread(r) => format!(
            "{} ran every task on one thread, so tasks waited up to {b:.1} ms for it (queue p99) against {a:.1} ms",
            r.runtime
        ),
        "queue_p99_ms" => format!(
            "with {}, {} made tasks wait up to {b:.1} ms for a worker (queue p99) against {a:.1} ms",
            workers(r.workers),
            r.runtime
        ),
        "service_p99_ms" => format!(
            "tasks ran for up to {a:.1} ms once started (service p99) against {b:.1} ms under {}",
            r.runtime
        ),
        "queue_max_ms" => format!(
            "under {} a task waited {b:.1} ms to start (longest queue wait) against {a:.1} ms",
            r.runtime
        ),
        "service_max_ms" => format!(
            "the longest task ran {a:.1} ms once started against {b:.1} ms under {}",
            r.runtime
        ),
        "io_queue_p99_ms" => {
            let place = |c: &CellSummary| {
                crate::executor::Runtime::from_name(&c.runtime)
                    .map_or("where its runtime puts it", |rt| rt.cpu_placement())
            };
            format!(
                "{} ran the CPU work {}, {} {}; under {} IO tasks waited up to {b:.1} ms to start (queue p99) against {a:.1} ms",
                w.runtime,
                place(w),
                r.runtime,
                place(r),
                r.runtime
            )
        }
        "threads_peak" => format!(
            "{} peaked at {} against {}",
            w.runtime,
            count(a as u64, "thread"),
            count(b as u64, "thread")
        ),
        "processes_peak" => format!(
            "{} ran {} against {}",
            w.runtime,
            count(a as u64, "process"),
            count(b as u64, "process")
        ),
        other => format!("{other} {a} against {b}"),
    }
}

/// `1 thread`, `3 threads`, `2 processes`.
fn count(n: u64, what: &str) -> String {
    match (n, what.ends_with('s')) {
        (1, _) => format!("1 {what}"),
        (_, true) => format!("{n} {what}es"),
        _ => format!("{n} {what}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(runtime: &str, walls: &[f64], cores: f64, rss_mib: f64) -> CellSummary {
        CellSummary {
            workload: "cpu comp".into(),
            runtime: runtime.into(),
            workers: 2,
            tasks: 8,
            runs: walls.len(),
            wall_s: Spread::of(walls.iter().copied()),
            startup_s: None,
            noisy: false,
            speedup: None,
            speedup_vs: None,
            efficiency: None,
            ideal_parallelism: 2,
            p50_ms: 10.0,
            p99_ms: Spread::of([20.0]),
            queue_p99_ms: 5.0,
            service_p99_ms: 15.0,
            first_poll_p99_ms: None,
            busy_ratio: None,
            cores_used: cores,
            cpu_s: 0.5,
            memory_bytes: Spread::of([rss_mib * (1u64 << 20) as f64]),
            children_unmeasured: 0,
            threads_peak: 3,
            processes_peak: 1,
            distinct_workers: if cores < 1.1 { 1 } else { 2 },
            tasks_ok: 8,
            tasks_failed: 0,
            errors: BTreeMap::new(),
            latency_ms: None,
            queue_ms: None,
            service_ms: None,
            io_p99_ms: None,
            io_queue_p99_ms: None,
            units_in_flight: None,
            memory_per_unit_bytes: None,
            memory_per_unit_above_base_bytes: None,
            spawn_s: None,
            spawn_per_unit_us: None,
            ideal_makespan_s: None,
            makespan_vs_ideal: None,
        }
    }

    #[test]
    fn a_mix_is_judged_first_on_io_latency_and_names_the_placement() {
        let mixed = |runtime: &str, io_p99: f64, io_queue: f64| CellSummary {
            workload: "mixed".into(),
            io_p99_ms: Some(Spread::of([io_p99 * 0.98, io_p99, io_p99 * 1.02])),
            io_queue_p99_ms: Some(io_queue),
            ..cell(runtime, &[0.3, 0.3, 0.3], 1.9, 10.0)
        };
        let cells = [
            mixed("tokio-mt", 247.0, 236.0),
            mixed("tokio+rayon", 11.6, 0.1),
            mixed("tokio-blocking", 14.4, 0.2),
        ];
        let v = judge(&cells);
        assert_eq!(v[0].metric, Metric::IoP99);
        assert_eq!(v[0].winner, "tokio+rayon");
        assert_eq!(v[0].runner_up.as_deref(), Some("tokio-blocking"));
        // 0.1 against 0.2 ms of queue wait is twice as good but 0.1 ms cannot account for a
        // 2.8 ms gap: no reason is claimed.
        assert_eq!(v[0].reason, None);
        assert!(
            v[0].sentence
                .ends_with("(24% more): no measured figure explains the gap."),
            "{}",
            v[0].sentence
        );
        // Against inline CPU work the IO tasks' queue wait does explain it, with the placement.
        let v = judge(&cells[..2]);
        assert_eq!(
            v[0].reason,
            Some(Reason {
                figure: "io_queue_p99_ms".into(),
                winner: 0.1,
                other: 236.0,
                better: Better::Lower,
            })
        );
        assert!(
            v[0].sentence
                .contains("tokio+rayon ran the CPU work on a rayon pool beside the async runtime, tokio-mt inline in async tasks"),
            "{}",
            v[0].sentence
        );
        // Plain cells get no IO verdict.
        assert!(
            judge(&[
                cell("threads", &[0.1], 1.9, 4.0),
                cell("rayon", &[0.2], 1.9, 4.0)
            ])
            .iter()
            .all(|v| v.metric != Metric::IoP99)
        );
    }

    fn wall(v: &[Verdict]) -> &Verdict {
        v.iter().find(|v| v.metric == Metric::Wall).unwrap()
    }

    #[test]
    fn a_clear_winner_is_named_with_its_margin_and_reason() {
        let cells = [
            cell("rayon", &[0.28, 0.29, 0.30], 1.95, 4.0),
            cell("tokio-ct", &[0.54, 0.55, 0.56], 1.0, 3.0),
        ];
        let v = judge(&cells);
        let w = wall(&v);
        assert_eq!(w.winner, "rayon");
        assert!(w.tied.is_empty());
        assert_eq!(w.runner_up.as_deref(), Some("tokio-ct"));
        assert!((w.ratio.unwrap() - 0.55 / 0.29).abs() < 1e-9);
        assert!(w.sentence.contains("1.9×"), "{}", w.sentence);
        assert!(
            w.sentence.contains(
                "rayon kept 1.95 cores busy against 1.00 (tokio-ct ran every task on one thread)"
            ),
            "{}",
            w.sentence
        );
        let m = v.iter().find(|v| v.metric == Metric::Memory).unwrap();
        assert_eq!(m.winner, "tokio-ct");
    }

    #[test]
    fn the_runner_up_is_never_better_than_a_tied_cell() {
        // c's median is below b's, but only b's range reaches the winner's: b is not called
        // tied while c, ahead of it, is the runner-up.
        let cells = [
            cell("a", &[0.10, 0.10, 0.12], 2.0, 1.0),
            cell("b", &[0.11, 0.13, 0.14], 2.0, 1.0),
            cell("c", &[0.125, 0.125, 0.15], 2.0, 1.0),
        ];
        let w = wall(&judge(&cells)).clone();
        assert_eq!(w.winner, "a");
        assert!(w.tied.is_empty(), "{w:?}");
        assert_eq!(w.runner_up.as_deref(), Some("c"));
    }

    #[test]
    fn waiting_explains_an_io_gap_and_idle_cores_do_not() {
        // Sleep work: almost no CPU; the runner-up's tasks queued for two workers.
        let mut fast = cell("smol", &[0.10, 0.10, 0.10], 0.06, 9.0);
        fast.workload = "sleep".into();
        fast.queue_p99_ms = 0.2;
        let mut slow = cell("threads", &[0.80, 0.80, 0.80], 0.04, 9.0);
        slow.workload = "sleep".into();
        slow.queue_p99_ms = 702.5;
        slow.distinct_workers = 2;
        let s = wall(&judge(&[fast, slow])).sentence.clone();
        assert!(
            s.ends_with(
                "with 2 workers, threads made tasks wait up to 702.5 ms for a worker (queue p99) against 0.2 ms."
            ),
            "{s}"
        );
        assert!(!s.contains("cores busy"), "{s}");
    }

    #[test]
    fn a_cell_with_failed_tasks_never_wins_and_is_said_left_out() {
        let mut fast = cell("smol", &[0.05, 0.05, 0.05], 1.9, 1.0);
        fast.tasks_ok = 21;
        fast.tasks_failed = 3;
        fast.errors = [("timeout".to_string(), 3)].into();
        let cells = [
            fast,
            cell("threads", &[0.20, 0.21, 0.22], 1.9, 4.0),
            cell("rayon", &[0.40, 0.41, 0.42], 1.9, 5.0),
        ];
        let verdicts = judge(&cells);
        assert_eq!(verdicts.len(), 3);
        for v in &verdicts {
            assert_eq!(v.winner, "threads", "{v:?}");
            assert_eq!(
                v.left_out,
                [LeftOut {
                    runtime: "smol".into(),
                    reason: "3 of 24 tasks failed: timeout 3".into()
                }]
            );
            assert!(
                v.sentence.ends_with(
                    "Left out, as its figures are not of the whole work: smol (3 of 24 tasks failed: timeout 3)."
                ),
                "{}",
                v.sentence
            );
        }
        // With one clean cell left, it is not said to win, only to be the one that finished.
        let w = wall(&judge(&cells[..2])).clone();
        assert_eq!(w.runner_up, None);
        assert!(
            w.sentence
                .starts_with("threads is the only runtime that finished every task"),
            "{}",
            w.sentence
        );
    }

    // The four false causes docs/STUDY.md once published, rebuilt from their figures.
    #[test]
    fn a_reason_only_cites_a_figure_that_favours_the_winner() {
        // download, 8 workers, p99: the winner's tasks ran longer once started; the runner-up
        // lost on queue wait.
        let mut smol = cell("smol", &[0.3], 0.4, 9.0);
        smol.workload = "io download".into();
        smol.p99_ms = Spread::of([211.0]);
        (smol.service_p99_ms, smol.queue_p99_ms) = (209.1, 2.3);
        let mut threads = cell("threads", &[0.5], 0.4, 9.0);
        threads.workload = "io download".into();
        threads.p99_ms = Spread::of([330.0]);
        (threads.service_p99_ms, threads.queue_p99_ms) = (165.7, 162.9);
        let v = judge(&[smol.clone(), threads.clone()]);
        let p99 = v.iter().find(|v| v.metric == Metric::P99).unwrap();
        assert_eq!(p99.reason.as_ref().unwrap().figure, "queue_p99_ms");
        assert_eq!(
            (
                p99.reason.as_ref().unwrap().winner,
                p99.reason.as_ref().unwrap().other
            ),
            (2.3, 162.9)
        );
        assert!(!p99.sentence.contains("service p99"), "{}", p99.sentence);

        // CPU loops, wall: 1.93 against 1.55 cores is 24% apart, not "close".
        let cells = [
            cell("threads", &[0.30], 1.93, 4.0),
            cell("smol", &[0.37], 1.55, 4.0),
        ];
        let w = wall(&judge(&cells)).clone();
        assert_eq!(w.reason.as_ref().unwrap().figure, "cores_used");
        assert!(!w.sentence.contains("were close"), "{}", w.sentence);

        // sleep, 16 workers, memory: equal thread and process counts explain nothing.
        let mut a = cell("tokio-ct", &[1.0], 0.01, 3.0);
        let mut b = cell("smol", &[1.0], 0.01, 4.0);
        for c in [&mut a, &mut b] {
            c.workload = "sleep".into();
            (c.threads_peak, c.processes_peak) = (1, 1);
        }
        let m = judge(&[a, b])
            .into_iter()
            .find(|v| v.metric == Metric::Memory)
            .unwrap();
        assert_eq!(m.reason, None);
        assert!(
            m.sentence.contains("no measured figure explains the gap"),
            "{}",
            m.sentence
        );
        assert!(
            !m.sentence.contains("1 thread and 1 process"),
            "{}",
            m.sentence
        );

        // download, 16 workers, wall: cores busy do not explain how IO finished sooner.
        smol.cores_used = 0.9;
        threads.cores_used = 0.3;
        threads.queue_p99_ms = smol.queue_p99_ms;
        let w = wall(&judge(&[smol, threads])).clone();
        assert_eq!(w.reason, None, "{}", w.sentence);
        assert!(!w.sentence.contains("cores busy"), "{}", w.sentence);
    }

    #[test]
    fn a_tie_of_single_runs_says_its_noise_is_unmeasured() {
        let cells = [
            cell("rayon", &[0.100], 1.9, 4.0),
            cell("smol", &[0.101], 1.9, 4.0),
        ];
        let w = wall(&judge(&cells)).clone();
        assert_eq!(w.tied, ["smol"]);
        assert!(
            w.sentence
                .ends_with("(one run per cell: noise unmeasured)."),
            "{}",
            w.sentence
        );
    }

    #[test]
    fn below_100_tasks_the_tail_is_judged_as_the_maximum() {
        let runs: Vec<RunRecord> = ["threads", "smol"]
            .iter()
            .map(|rt| {
                let mut r = crate::report::tests::sample_record();
                r.runtime = rt.to_string();
                r.tasks.ok = r.tasks.total;
                r.tasks.failed = 0;
                r.tasks.errors.clear();
                r
            })
            .collect();
        let cells = summarize(&runs);
        let merged = cells[0].latency_ms.as_ref().unwrap();
        // Three repeats of eight tasks, one failed and so not in the histogram.
        assert_eq!(merged.count, 23);
        let v = judge(&cells);
        assert!(v.iter().all(|v| v.metric != Metric::P99), "{v:?}");
        let tail = v.iter().find(|v| v.metric == Metric::MaxLatency).unwrap();
        assert_eq!(tail.value, merged.max);
        assert!(tail.sentence.contains("max latency"), "{}", tail.sentence);
    }

    #[test]
    fn a_single_run_says_its_noise_is_unmeasured() {
        let cells = [
            cell("rayon", &[0.005], 1.9, 4.0),
            cell("smol", &[0.006], 1.9, 4.0),
        ];
        let w = wall(&judge(&cells)).clone();
        assert_eq!(w.winner, "rayon");
        assert!(w.sentence.contains("noise unmeasured"), "{}", w.sentence);
    }

    #[test]
    fn overlapping_ranges_are_a_tie() {
        let cells = [
            cell("threads", &[0.29, 0.30, 0.34], 1.9, 4.0),
            cell("smol", &[0.31, 0.32, 0.33], 1.9, 4.0),
        ];
        let w = wall(&judge(&cells)).clone();
        assert_eq!(w.winner, "threads");
        assert_eq!(w.tied, ["smol"]);
        assert_eq!(w.runner_up, None);
        assert!(w.sentence.starts_with("tie on wall time"), "{}", w.sentence);
        // Equal memory is a tie too, not a win.
        let m = judge(&cells)
            .into_iter()
            .find(|v| v.metric == Metric::Memory)
            .unwrap();
        assert_eq!(m.tied.len(), 1);
    }

    #[test]
    fn noisy_cells_are_flagged_by_the_stated_rule() {
        let mk = |walls: &[f64]| {
            let mut r = crate::report::tests::sample_record();
            let mut out = Vec::new();
            for &w in walls {
                r.wall_s = w;
                out.push(r.clone());
            }
            out
        };
        // 0.25 spread over a 1.0 median: noisy; 0.1: not.
        assert!(summarize(&mk(&[0.9, 1.0, 1.15]))[0].noisy);
        assert!(!summarize(&mk(&[0.95, 1.0, 1.05]))[0].noisy);
        assert!(!summarize(&mk(&[1.0]))[0].noisy);
        // A noisy winner whose range swallows the runner-up is a tie, not a win.
        let mut a = cell("threads", &[0.20, 0.30, 0.45], 1.9, 4.0);
        a.noisy = true;
        let b = cell("smol", &[0.40, 0.41, 0.42], 1.9, 4.0);
        assert_eq!(wall(&judge(&[a, b])).tied, ["smol"]);
    }

    /// A sleep run of `tasks` tasks, all in flight, peaking at `rss_mib`, that took `spawn_s`
    /// to start them all.
    fn scale_run(
        runtime: &str,
        workers: usize,
        tasks: usize,
        rss_mib: f64,
        spawn_s: f64,
    ) -> RunRecord {
        let mut r = crate::report::tests::sample_record();
        r.runtime = runtime.into();
        r.workers = workers;
        r.workload.kind = "sleep".into();
        r.workload.name = "sleep".into();
        r.workload.iters = None;
        r.workload.tasks_per_run = tasks;
        r.workload.params = [("sleep".to_string(), serde_json::Value::from("1s"))].into();
        r.ideal_parallelism = tasks;
        r.in_flight_peak = Some(tasks);
        r.spawn_s = Some(spawn_s);
        r.wall_s = 1.25;
        r.memory.peak_rss_bytes = (rss_mib * (1u64 << 20) as f64) as u64;
        // Every task finished: a cell with failed tasks is never judged.
        r.tasks.ok = r.tasks.total;
        r.tasks.failed = 0;
        r.tasks.errors.clear();
        r
    }

    #[test]
    fn spawn_time_and_units_in_flight_come_from_the_task_records() {
        use crate::measure::tests::{fake_meta, fake_run};
        // 8 tasks of 25 ms on two lanes, all submitted 1 ms in: the last starts 75 ms after
        // the submission, and a lane's next task starts the instant its last one ends.
        let rec = crate::measure::summarize(
            &fake_meta(crate::executor::Runtime::Threads),
            &[fake_run(0, 8, 25, false)],
        );
        assert!(
            (rec.spawn_s.unwrap() - 0.075).abs() < 1e-9,
            "{:?}",
            rec.spawn_s
        );
        assert_eq!(rec.in_flight_peak, Some(2));
    }

    #[test]
    fn per_unit_figures_follow_from_memory_units_and_spawn_time() {
        let runs = [
            scale_run("smol", 2, 100, 10.0, 0.001),
            scale_run("smol", 2, 1000, 19.0, 0.004),
            scale_run("thread-per-task", 100, 100, 12.0, 0.01),
            scale_run("thread-per-task", 1000, 1000, 40.0, 0.2),
        ];
        let cells = summarize(&runs);
        let get = |rt: &str, tasks: usize| {
            cells
                .iter()
                .find(|c| c.runtime == rt && c.tasks == tasks)
                .unwrap()
        };
        let mib = (1u64 << 20) as f64;
        let big = get("smol", 1000);
        assert_eq!(big.units_in_flight, Some(1000.0));
        let per_unit = big.memory_per_unit_bytes.unwrap();
        assert!((per_unit * 1000.0 - big.memory_bytes.median).abs() < 1e-6);
        assert!((per_unit - 19.0 * mib / 1000.0).abs() < 1e-6);
        // Nine MiB more for 900 more units.
        let above = big.memory_per_unit_above_base_bytes.unwrap();
        assert!((above - 9.0 * mib / 900.0).abs() < 1e-6, "{above}");
        assert!((big.spawn_per_unit_us.unwrap() - 4.0).abs() < 1e-9);
        // One wave of 1 s sleeps took 1.25 s.
        assert_eq!(big.ideal_makespan_s, Some(1.0));
        assert!((big.makespan_vs_ideal.unwrap() - 1.25).abs() < 1e-9);
        // The smallest cell is the base: nothing to take out.
        assert_eq!(get("smol", 100).memory_per_unit_above_base_bytes, None);
        // thread-per-task's workers grow with its tasks, and it is still one series.
        let threads = get("thread-per-task", 1000);
        let above = threads.memory_per_unit_above_base_bytes.unwrap();
        assert!((above - 28.0 * mib / 900.0).abs() < 1e-6, "{above}");
        assert!((threads.spawn_per_unit_us.unwrap() - 200.0).abs() < 1e-9);
    }

    #[test]
    fn units_not_all_in_flight_divide_memory_and_fill_waves() {
        let mut r = scale_run("tokio-ct", 1, 100, 8.0, 0.001);
        // Only 40 at a time: three waves of sleeps, and memory spread over 40 units.
        r.ideal_parallelism = 40;
        r.in_flight_peak = Some(40);
        let c = &summarize(&[r])[0];
        assert_eq!(c.ideal_makespan_s, Some(3.0));
        let per_unit = c.memory_per_unit_bytes.unwrap();
        assert!((per_unit - 8.0 * (1u64 << 20) as f64 / 40.0).abs() < 1e-6);
    }

    #[test]
    fn the_scale_verdict_names_the_leanest_runtime_and_the_skipped_cells() {
        let runs = [
            scale_run("smol", 2, 100, 10.0, 0.001),
            scale_run("smol", 2, 1000, 11.0, 0.004),
            scale_run("tokio-mt", 2, 100, 10.0, 0.001),
            scale_run("tokio-mt", 2, 1000, 14.0, 0.004),
            scale_run("thread-per-task", 100, 100, 12.0, 0.01),
        ];
        let skipped = [crate::compare::Skipped {
            runtime: "thread-per-task".into(),
            workers: 1000,
            tasks: 1000,
            reason: "over --max-threads 500 (each unit holds an OS thread; raise the limit to try)"
                .into(),
        }];
        let verdicts = judge_scale(&summarize(&runs), &skipped);
        let v = verdicts
            .iter()
            .find(|v| v.metric == Metric::MemoryPerUnit)
            .unwrap();
        assert_eq!((v.winner.as_str(), v.tasks), ("smol", 1000));
        assert_eq!(v.runner_up.as_deref(), Some("tokio-mt"));
        assert!((v.ratio.unwrap() - 14.0 / 11.0).abs() < 1e-9);
        assert!(
            v.sentence
                .contains("smol wins on memory per unit with 11.3 KiB"),
            "{}",
            v.sentence
        );
        assert!(
            v.sentence.contains("each of smol's units took 1.14 KiB"),
            "{}",
            v.sentence
        );
        assert!(
            v.sentence.ends_with(
                "Skipped at the limits: thread-per-task at 1000 units (over --max-threads 500)."
            ),
            "{}",
            v.sentence
        );
        // thread-per-task joins the 2-worker group at 100 tasks.
        let memory_at_100 = verdicts
            .iter()
            .find(|v| v.metric == Metric::Memory && v.tasks == 100)
            .unwrap();
        assert!(
            memory_at_100.tied.contains(&"thread-per-task".to_string())
                || memory_at_100.runner_up.as_deref() == Some("thread-per-task"),
            "{memory_at_100:?}"
        );
    }

    #[test]
    fn summaries_from_before_the_per_unit_figures_still_load() {
        let mut c = cell("smol", &[0.1], 1.0, 1.0);
        c.spawn_s = Some(0.5);
        let mut json = serde_json::to_value(&c).unwrap();
        for key in [
            "units_in_flight",
            "memory_per_unit_bytes",
            "memory_per_unit_above_base_bytes",
            "spawn_s",
            "spawn_per_unit_us",
            "ideal_makespan_s",
            "makespan_vs_ideal",
        ] {
            json.as_object_mut().unwrap().remove(key).unwrap();
        }
        let back: CellSummary = serde_json::from_value(json).unwrap();
        assert_eq!(back.spawn_s, None);
        assert_eq!(back.runtime, "smol");
    }

    #[test]
    fn speedup_is_against_serial_when_it_ran() {
        let mk = |rt: &str, workers: usize, wall: f64| {
            let mut c = cell(rt, &[wall], 1.0, 1.0);
            c.workers = workers;
            c
        };
        let cells = [mk("serial", 1, 1.0), mk("threads", 2, 0.5)];
        assert_eq!(judge(&cells).len(), 3);
        assert_eq!(wall(&judge(&cells)).winner, "threads");
        assert!(judge(&cells[..1]).is_empty());
    }
}
