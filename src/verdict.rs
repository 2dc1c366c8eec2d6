//! Per-cell summaries of a comparison, and the verdict: who wins on wall time, p99 latency
//! and memory at each workload and worker count, by how much, and why, in sentences built
//! only from the measured figures.
//!
//! Rules, stated once so tables and docs can quote them:
//! - A cell is *noisy* when it has at least two runs and their wall times spread (max − min)
//!   by more than [`NOISE_SPREAD`] of the median.
//! - The winner has the lowest median. A runner-up is *tied* with it when its median is within
//!   [`TIE_MARGIN`] of the winner's, or when the two cells' min–max ranges overlap: with a
//!   handful of runs on a noisy machine, overlapping ranges cannot be told apart.
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

use crate::measure::record::RunRecord;

/// Spread (max − min) over median beyond which a cell is flagged noisy.
pub const NOISE_SPREAD: f64 = 0.20;
/// Relative difference under which two medians are a tie whatever their ranges.
pub const TIE_MARGIN: f64 = 0.03;

/// A median with the smallest and largest value it came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    /// Median (the lower middle value for an even count).
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
    /// Latency p50, ms (median over runs).
    pub p50_ms: f64,
    /// Latency p99, ms, over runs.
    pub p99_ms: Spread,
    /// Queue-wait p99, ms (median over runs).
    pub queue_p99_ms: f64,
    /// Service-time p99, ms (median over runs).
    pub service_p99_ms: f64,
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
        && crate::executor::Runtime::from_name(&c.runtime).is_some_and(crate::compare::one_per_task)
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
    f: fn(&crate::measure::record::TokioMetrics) -> Option<f64>,
) -> Option<f64> {
    let values: Vec<f64> = runs
        .iter()
        .filter_map(|r| r.tokio.as_ref().and_then(f))
        .collect();
    (!values.is_empty()).then(|| Spread::of(values).median)
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
        p50_ms: med(|r| r.latency_ms.p50),
        p99_ms: Spread::of(runs.iter().map(|r| r.latency_ms.p99)),
        queue_p99_ms: med(|r| r.queue_ms.p99),
        service_p99_ms: med(|r| r.service_ms.p99),
        // Without per-task monitors (--no-tokio-metrics) no first poll was seen, not one of 0 ms.
        first_poll_p99_ms: tokio_median(runs, |t| {
            (t.first_poll_delay_ms.count > 0).then_some(t.first_poll_delay_ms.p99)
        }),
        busy_ratio: tokio_median(runs, |t| t.busy_ratio),
        cores_used: med(|r| r.cpu.cores_used),
        cpu_s: med(|r| r.cpu.user_s + r.cpu.sys_s),
        memory_bytes,
        threads_peak: runs.iter().map(|r| r.threads.peak).max().unwrap_or(0),
        processes_peak: runs.iter().map(|r| r.processes.peak).max().unwrap_or(0),
        distinct_workers: runs.iter().map(|r| r.distinct_workers).max().unwrap_or(0),
        tasks_ok: runs.iter().map(|r| r.tasks.ok).sum(),
        tasks_failed: runs.iter().map(|r| r.tasks.failed).sum(),
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
    /// Median p99 latency.
    P99,
    /// Peak memory.
    Memory,
    /// A mixed run's IO tasks' median p99 latency.
    IoP99,
    /// Peak memory over the units in flight (`--scale`).
    MemoryPerUnit,
}

impl Metric {
    fn value(self, c: &CellSummary) -> Spread {
        match self {
            Metric::Wall => c.wall_s,
            Metric::P99 => c.p99_ms,
            Metric::Memory => c.memory_bytes,
            Metric::IoP99 => c.io_p99_ms.unwrap_or_default(),
            Metric::MemoryPerUnit => {
                let m = c.memory_bytes;
                let u = c.units_in_flight.filter(|u| *u > 0.0).unwrap_or(f64::NAN);
                Spread {
                    median: m.median / u,
                    min: m.min / u,
                    max: m.max / u,
                }
            }
        }
    }

    fn show(self, v: f64) -> String {
        match self {
            Metric::Wall => format!("{v:.3} s"),
            Metric::P99 | Metric::IoP99 => format!("{v:.1} ms"),
            Metric::Memory => format!("{:.1} MiB", v / (1u64 << 20) as f64),
            Metric::MemoryPerUnit => per_unit_bytes(v),
        }
    }

    /// The metric's name in tables.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Wall => "wall time",
            Metric::P99 => "p99 latency",
            Metric::Memory => "memory",
            Metric::IoP99 => "IO p99 under CPU load",
            Metric::MemoryPerUnit => "memory per unit",
        }
    }
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
    /// The runtime with the lowest median.
    pub winner: String,
    /// Runtimes within noise of the winner (empty for a clear win).
    pub tied: Vec<String>,
    /// The best runtime not tied with the winner, if any.
    pub runner_up: Option<String>,
    /// The winner's median.
    pub value: f64,
    /// The runner-up's median.
    pub runner_up_value: Option<f64>,
    /// Runner-up median over winner median.
    pub ratio: Option<f64>,
    /// The generated explanation.
    pub sentence: String,
}

/// Judges every group (workload, workers, tasks) with at least two runtimes that finished a
/// task, on wall time, p99 latency and memory.
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
            let mut v = judge_one(&members, Metric::MemoryPerUnit, workload, workers, top);
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
            .filter(|c| c.workload == workload && c.tasks == tasks && c.tasks_ok > 0)
            .filter(|c| c.workers == workers || everywhere(c))
            .collect();
        if members.len() < 2 {
            continue;
        }
        // A mix is judged first on what it exists to show: the IO tasks' latency.
        if members.iter().all(|c| c.io_p99_ms.is_some()) {
            out.push(judge_one(
                &members,
                Metric::IoP99,
                &workload,
                workers,
                tasks,
            ));
        }
        for metric in [Metric::Wall, Metric::P99, Metric::Memory] {
            out.push(judge_one(&members, metric, &workload, workers, tasks));
        }
    }
    out
}

fn tied(winner: &CellSummary, other: &CellSummary, metric: Metric) -> bool {
    let (w, o) = (metric.value(winner), metric.value(other));
    o.median <= w.median * (1.0 + TIE_MARGIN) || o.min <= w.max
}

fn judge_one(
    members: &[&CellSummary],
    metric: Metric,
    workload: &str,
    workers: usize,
    tasks: usize,
) -> Verdict {
    let mut ranked: Vec<&CellSummary> = members.to_vec();
    ranked.sort_by(|a, b| metric.value(a).median.total_cmp(&metric.value(b).median));
    let winner = ranked[0];
    // Ties run from the winner down the ranking and stop at the first cell that is clearly
    // behind, so the runner-up is never better than a cell called tied.
    let cut = ranked[1..]
        .iter()
        .position(|c| !tied(winner, c, metric))
        .map_or(ranked.len(), |i| i + 1);
    let ties: Vec<&CellSummary> = ranked[1..cut].to_vec();
    let rest: Vec<&CellSummary> = ranked[cut..].to_vec();
    let runner = rest.first().copied();
    let w = metric.value(winner).median;
    let ratio = runner
        .map(|r| metric.value(r).median / w)
        .filter(|r| r.is_finite());
    let sentence = sentence(metric, winner, &ties, runner);
    Verdict {
        workload: workload.into(),
        workers,
        tasks,
        metric,
        winner: winner.runtime.clone(),
        tied: ties.iter().map(|c| c.runtime.clone()).collect(),
        runner_up: runner.map(|c| c.runtime.clone()),
        value: w,
        runner_up_value: runner.map(|c| metric.value(c).median),
        ratio,
        sentence,
    }
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
) -> String {
    let v = |c: &CellSummary| metric.show(metric.value(c).median);
    let mut s = if ties.is_empty() {
        format!("{} wins on {} with {}", w.runtime, metric.name(), v(w))
    } else {
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
    };
    let Some(r) = runner else {
        return s + ".";
    };
    let ratio = metric.value(r).median / metric.value(w).median;
    s.push_str(&format!(
        "; next is {} with {} ({} more)",
        r.runtime,
        v(r),
        margin(ratio)
    ));
    s.push_str(": ");
    s.push_str(&why(metric, w, r));
    if w.runs < 2 || r.runs < 2 {
        // A single run has no range, so the tie rule cannot see noise.
        s.push_str(" (one run per cell: noise unmeasured, so this may be a tie)");
    }
    s.push('.');
    s
}

/// The measured difference that best accounts for the gap between winner `w` and `r`.
fn why(metric: Metric, w: &CellSummary, r: &CellSummary) -> String {
    match metric {
        Metric::Wall => {
            // Waiting explains the gap when the runner-up's tasks spent at least half its wall
            // time queued for a worker; busy cores explain it only for work that used CPU.
            let waited = r.queue_p99_ms >= 2.0 * w.queue_p99_ms
                && r.queue_p99_ms >= 500.0 * r.wall_s.median
                && r.queue_p99_ms > 1.0;
            let busier = w.cores_used >= 1.25 * r.cores_used && w.cores_used >= 0.5;
            let mut parts = Vec::new();
            if waited {
                parts.push(if r.distinct_workers == 1 {
                    format!(
                        "{} ran every task on one thread, so tasks waited up to {:.1} ms for it (queue p99) against {:.1} ms",
                        r.runtime, r.queue_p99_ms, w.queue_p99_ms
                    )
                } else {
                    format!(
                        "with {}, {} made tasks wait up to {:.1} ms (queue p99) against {:.1} ms",
                        workers(r.workers),
                        r.runtime,
                        r.queue_p99_ms,
                        w.queue_p99_ms
                    )
                });
            }
            if busier {
                let mut s = format!(
                    "{} kept {:.2} cores busy against {:.2}",
                    w.runtime, w.cores_used, r.cores_used
                );
                if r.distinct_workers == 1 && !waited {
                    s.push_str(&format!(" ({} ran every task on one thread)", r.runtime));
                }
                parts.push(s);
            }
            if parts.is_empty() && w.cpu_s <= 0.8 * r.cpu_s {
                parts.push(format!(
                    "{} spent {:.3} s of CPU against {:.3} s",
                    w.runtime, w.cpu_s, r.cpu_s
                ));
            }
            if parts.is_empty() {
                parts.push(format!(
                    "cores busy ({:.2} against {:.2}), CPU time ({:.3} s against {:.3} s) and queue wait were close",
                    w.cores_used, r.cores_used, w.cpu_s, r.cpu_s
                ));
            }
            parts.join("; ")
        }
        Metric::P99 => {
            if r.queue_p99_ms >= r.service_p99_ms {
                format!(
                    "under {} tasks waited up to {:.1} ms for a worker (queue p99) against {:.1} ms",
                    r.runtime, r.queue_p99_ms, w.queue_p99_ms
                )
            } else {
                format!(
                    "tasks ran for up to {:.1} ms once started (service p99) against {:.1} ms under {}",
                    w.service_p99_ms, r.service_p99_ms, r.runtime
                )
            }
        }
        Metric::IoP99 => {
            let place = |c: &CellSummary| {
                crate::executor::Runtime::from_name(&c.runtime)
                    .map_or("where its runtime puts it", |rt| rt.cpu_placement())
            };
            let mut s = format!(
                "{} ran the CPU work {}, {} {}",
                w.runtime,
                place(w),
                r.runtime,
                place(r)
            );
            if let (Some(wq), Some(rq)) = (w.io_queue_p99_ms, r.io_queue_p99_ms) {
                s.push_str(&format!(
                    "; under {} IO tasks waited up to {rq:.1} ms to start (queue p99) against {wq:.1} ms",
                    r.runtime
                ));
            }
            s
        }
        Metric::Memory => format!(
            "{} peaked at {} and {} against {} and {}",
            w.runtime,
            count(w.threads_peak, "thread"),
            count(w.processes_peak, "process"),
            count(r.threads_peak, "thread"),
            count(r.processes_peak, "process")
        ),
        Metric::MemoryPerUnit => {
            let units = |c: &CellSummary| c.units_in_flight.unwrap_or(0.0).round() as u64;
            format!(
                "{} held {} in flight with {} and {}, {} held {} with {} and {}",
                w.runtime,
                count(units(w), "task"),
                count(w.threads_peak, "thread"),
                count(w.processes_peak, "process"),
                r.runtime,
                count(units(r), "task"),
                count(r.threads_peak, "thread"),
                count(r.processes_peak, "process")
            )
        }
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
            threads_peak: 3,
            processes_peak: 1,
            distinct_workers: if cores < 1.1 { 1 } else { 2 },
            tasks_ok: 8,
            tasks_failed: 0,
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
        assert!(
            v[0].sentence
                .contains("on a rayon pool beside the async runtime"),
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
        // Sleep-like work: almost no CPU; the runner-up's tasks queued for two workers.
        let mut fast = cell("smol", &[0.10, 0.10, 0.10], 0.06, 9.0);
        fast.queue_p99_ms = 0.2;
        let mut slow = cell("threads", &[0.80, 0.80, 0.80], 0.04, 9.0);
        slow.queue_p99_ms = 702.5;
        slow.distinct_workers = 2;
        let s = wall(&judge(&[fast, slow])).sentence.clone();
        assert!(
            s.ends_with(
                "with 2 workers, threads made tasks wait up to 702.5 ms (queue p99) against 0.2 ms."
            ),
            "{s}"
        );
        assert!(!s.contains("cores busy"), "{s}");
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
