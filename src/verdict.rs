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
//! - `serial` runs once per task count and competes in every worker count's group.

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
    cells
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
    CellSummary {
        workload: key.0.clone(),
        runtime: key.1.clone(),
        workers: key.2,
        tasks: key.3,
        runs: runs.len(),
        noisy: runs.len() >= 2 && wall_s.relative() > NOISE_SPREAD,
        wall_s,
        speedup: None,
        speedup_vs: None,
        efficiency: None,
        ideal_parallelism: runs.iter().map(|r| r.ideal_parallelism).max().unwrap_or(1),
        p50_ms: med(|r| r.latency_ms.p50),
        p99_ms: Spread::of(runs.iter().map(|r| r.latency_ms.p99)),
        queue_p99_ms: med(|r| r.queue_ms.p99),
        service_p99_ms: med(|r| r.service_ms.p99),
        first_poll_p99_ms: tokio_median(runs, |t| Some(t.first_poll_delay_ms.p99)),
        busy_ratio: tokio_median(runs, |t| t.busy_ratio),
        cores_used: med(|r| r.cpu.cores_used),
        cpu_s: med(|r| r.cpu.user_s + r.cpu.sys_s),
        memory_bytes: Spread::of(runs.iter().map(|r| memory_of(r))),
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
}

impl Metric {
    fn value(self, c: &CellSummary) -> Spread {
        match self {
            Metric::Wall => c.wall_s,
            Metric::P99 => c.p99_ms,
            Metric::Memory => c.memory_bytes,
            Metric::IoP99 => c.io_p99_ms.unwrap_or_default(),
        }
    }

    fn show(self, v: f64) -> String {
        match self {
            Metric::Wall => format!("{v:.3} s"),
            Metric::P99 | Metric::IoP99 => format!("{v:.1} ms"),
            Metric::Memory => format!("{:.1} MiB", v / (1u64 << 20) as f64),
        }
    }

    /// The metric's name in tables.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Wall => "wall time",
            Metric::P99 => "p99 latency",
            Metric::Memory => "memory",
            Metric::IoP99 => "IO p99 under CPU load",
        }
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
    let mut groups: Vec<(String, usize, usize)> = Vec::new();
    for c in cells.iter().filter(|c| c.runtime != "serial") {
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
            .filter(|c| c.workers == workers || c.runtime == "serial")
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
