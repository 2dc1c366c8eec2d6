//! The verdict: who wins each metric in each group of cells, by how much, and why. Pure
//! functions of the cell summaries; the rules are stated once in the module doc of
//! [`crate::analysis`].

use super::paired;
use super::prose::{sentence, skipped_sentence};
use super::summary::one_unit_per_task;
use crate::model::compare::{
    Better, CellSummary, Comparison, LeftOut, Metric, Outcome, Reason, Skipped, Verdict,
};

/// Fewest latency samples a p99 is shown or judged on; below it, the maximum is, named as such.
pub const MIN_P99_SAMPLES: u64 = 100;

/// How much better a figure must be, relative, before a verdict gives it as the reason.
pub const REASON_MARGIN: f64 = 0.10;

/// The least relative difference in memory a verdict calls a win, whatever `--min-effect` says.
pub const MEMORY_MIN_EFFECT: f64 = 0.10;

/// The least difference in memory, in bytes, a verdict calls a win: a mebibyte either way is
/// allocator and page-table noise, not a runtime's cost.
pub const MEMORY_MIN_BYTES: f64 = (1u64 << 20) as f64;

/// The figure a cell is ranked by, in the metric's unit (s, ms, bytes).
pub fn figure(metric: Metric, c: &CellSummary) -> f64 {
    match metric {
        Metric::Wall => c.wall_s.median,
        Metric::P99 => c.latency_ms.as_ref().map_or(c.p99_ms.median, |s| s.p99),
        Metric::MaxLatency => c.latency_ms.as_ref().map_or(c.p99_ms.max, |s| s.max),
        Metric::Memory => c.memory_bytes.median,
        Metric::IoP99 => c.io_p99_ms.unwrap_or_default().median,
        Metric::MemoryPerUnit => c.memory_bytes.median / units(c),
    }
}

/// The figure of `metric` in each round a cell ran, as (round, figure).
pub fn per_round(metric: Metric, c: &CellSummary) -> Vec<(usize, f64)> {
    c.rounds
        .iter()
        .filter_map(|r| {
            let v = match metric {
                Metric::Wall => r.wall_s,
                Metric::P99 => r.p99_ms,
                Metric::MaxLatency => r.max_latency_ms,
                Metric::Memory => r.memory_bytes,
                Metric::IoP99 => r.io_p99_ms?,
                Metric::MemoryPerUnit => r.memory_bytes / r.units_in_flight.filter(|u| *u > 0.0)?,
            };
            Some((r.round, v))
        })
        .collect()
}

/// The relative difference a comparison on `metric` is judged against, with `winner` ahead:
/// `min_effect`, or for memory the larger of [`MEMORY_MIN_EFFECT`] and [`MEMORY_MIN_BYTES`] of
/// the winner's memory.
pub fn effect(metric: Metric, winner: &CellSummary, min_effect: f64) -> f64 {
    match metric {
        Metric::Memory | Metric::MemoryPerUnit => {
            let bytes = winner.memory_bytes.median;
            MEMORY_MIN_EFFECT.max(if bytes > 0.0 {
                MEMORY_MIN_BYTES / bytes
            } else {
                f64::INFINITY
            })
        }
        _ => min_effect,
    }
}

/// Whether `metric` is a memory figure, whose verdict is a win or a tie, never undecided by a
/// difference too small to matter.
pub fn is_memory(metric: Metric) -> bool {
    matches!(metric, Metric::Memory | Metric::MemoryPerUnit)
}

/// `other` against the leader `lead` on `metric`, paired by round, judged against `e`.
pub fn compare(metric: Metric, lead: &CellSummary, other: &CellSummary, e: f64) -> Comparison {
    let fallback = figure(metric, other) / figure(metric, lead);
    let paired = paired::pair(&per_round(metric, lead), &per_round(metric, other));
    let (ratio, low, high, rounds) = match paired {
        Some(p) => (p.ratio, p.low, p.high, p.rounds),
        // No round both ran: the cells' own figures, with nothing to judge them by.
        None => (fallback, fallback, fallback, 0),
    };
    let mut outcome = paired.map_or(Outcome::Undecided, |p| p.outcome(e));
    // A memory difference too small to matter is a tie, however uncertain.
    if is_memory(metric) && outcome == Outcome::Undecided && paired.is_some_and(|p| !p.beyond(e)) {
        outcome = Outcome::Tie;
    }
    let finite = |x: f64| if x.is_finite() { x } else { 0.0 };
    Comparison {
        runtime: other.runtime.clone(),
        ratio: finite(ratio),
        low: finite(low),
        high: finite(high),
        rounds,
        min_effect: finite(e),
        outcome,
    }
}

/// A cell's figure as sentences show it; process runtimes' memory is an upper estimate.
pub(super) fn show(metric: Metric, c: &CellSummary) -> String {
    let v = figure(metric, c);
    let bound = if estimated_memory(c) { "≤ " } else { "" };
    match metric {
        Metric::Wall => format!("{v:.3} s"),
        Metric::P99 | Metric::MaxLatency | Metric::IoP99 => format!("{v:.1} ms"),
        Metric::Memory => format!("{bound}{:.1} MiB", v / (1u64 << 20) as f64),
        Metric::MemoryPerUnit => format!("{bound}{}", super::prose::per_unit_bytes(v)),
    }
}

/// Units in flight, or NaN when unknown, so a figure divided by it is no figure.
pub(super) fn units(c: &CellSummary) -> f64 {
    c.units_in_flight.filter(|u| *u > 0.0).unwrap_or(f64::NAN)
}

/// Whether a cell's memory counts worker processes, and so is an upper estimate.
pub(super) fn estimated_memory(c: &CellSummary) -> bool {
    // A Python runtime's memory counts its interpreter and pool workers, child processes.
    crate::model::Runtime::from_name(&c.runtime)
        .is_some_and(|rt| rt.uses_processes() || rt.is_python())
}

/// Judges every group (workload, workers, tasks) with at least two runtimes, on wall time,
/// p99 latency (the maximum below [`MIN_P99_SAMPLES`] tasks) and memory, calling a win or a
/// tie against `min_effect` (see [`paired`]).
pub fn judge(cells: &[CellSummary], min_effect: f64) -> Vec<Verdict> {
    judge_with(cells, false, min_effect)
}

/// [`judge`] for a `--scale` sweep, where thread-per-task and process-per-task join every
/// worker count's group, then one line per workload on memory per unit at the most tasks
/// that ran, with the cells skipped at a limit.
pub fn judge_scale(cells: &[CellSummary], skipped: &[Skipped], min_effect: f64) -> Vec<Verdict> {
    let mut out = judge_with(cells, true, min_effect);
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
            let group = (workload, workers, top);
            let Some(mut v) = judge_one(&members, Metric::MemoryPerUnit, group, min_effect) else {
                continue;
            };
            if members.len() < 2 {
                v.sentence = format!(
                    "only {} ran {top} tasks: {} of memory per unit in flight.",
                    v.winner,
                    super::prose::per_unit_bytes(v.value)
                );
            }
            let winner = members.iter().find(|c| c.runtime == v.winner);
            if let Some(above) = winner.and_then(|w| w.memory_per_unit_above_base_bytes) {
                v.sentence.push_str(&format!(
                    " Above its own cost, each of {}'s units took {}.",
                    v.winner,
                    super::prose::per_unit_bytes(above)
                ));
            }
            v.sentence.push_str(&skipped_sentence(skipped));
            out.push(v);
        }
    }
    out
}

/// The cells judged together as the group of `workload` at `workers` and `tasks`: that
/// cell of every runtime, and the cells that join every worker count's group (the baseline,
/// and with `scale` the runtimes whose units are their tasks).
pub fn group_members<'a>(
    cells: &'a [CellSummary],
    (workload, workers, tasks): (&str, usize, usize),
    scale: bool,
) -> Vec<&'a CellSummary> {
    cells
        .iter()
        .filter(|c| c.workload == workload && c.tasks == tasks)
        .filter(|c| c.workers == workers || everywhere(c, scale))
        .collect()
}

/// Whether a cell joins every worker count's group, as the baseline or as a runtime whose
/// workers are its tasks.
fn everywhere(c: &CellSummary, scale: bool) -> bool {
    c.is_baseline() || (scale && one_unit_per_task(c))
}

/// [`judge`], with `scale` making one-unit-per-task cells compete at every worker count.
fn judge_with(cells: &[CellSummary], scale: bool, min_effect: f64) -> Vec<Verdict> {
    let mut groups: Vec<(String, usize, usize)> = Vec::new();
    let mut keys: Vec<&CellSummary> = cells.iter().filter(|c| !everywhere(c, scale)).collect();
    if scale && keys.is_empty() {
        keys = cells.iter().filter(|c| !c.is_baseline()).collect();
    }
    for c in keys {
        let key = (c.workload.clone(), c.workers, c.tasks);
        if !groups.contains(&key) {
            groups.push(key);
        }
    }
    let mut out = Vec::new();
    for (workload, workers, tasks) in groups {
        let group = (workload.as_str(), workers, tasks);
        let members = group_members(cells, group, scale);
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
            out.extend(judge_one(&members, metric, group, min_effect));
        }
    }
    out
}

/// ` Left out, as its figures are not of the whole work: smol (3 of 24 tasks failed).`, or
/// nothing.
fn left_out_sentence(left_out: &[LeftOut]) -> String {
    if left_out.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = left_out
        .iter()
        .map(|l| format!("{} ({})", l.runtime, l.reason))
        .collect();
    format!(
        " Left out, as its figures are not of the whole work: {}.",
        parts.join("; ")
    )
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

/// One verdict over `members` of the group (workload, workers, tasks); `None` when none of
/// them may win. The winner is the best figure; every other cell is compared with it, paired
/// by round: tied, beaten (the closest beaten is the runner-up), or undecided.
fn judge_one(
    members: &[&CellSummary],
    metric: Metric,
    (workload, workers, tasks): (&str, usize, usize),
    min_effect: f64,
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
    ranked.sort_by(|a, b| figure(metric, a).total_cmp(&figure(metric, b)));
    let winner = *ranked.first()?;
    let e = effect(metric, winner, min_effect);
    let judged: Vec<(&CellSummary, Comparison)> = ranked[1..]
        .iter()
        .map(|&c| (c, compare(metric, winner, c, e)))
        .collect();
    let with = |o: Outcome| judged.iter().filter(move |(_, cmp)| cmp.outcome == o);
    let runner = with(Outcome::Win)
        .min_by(|a, b| a.1.ratio.total_cmp(&b.1.ratio))
        .map(|(c, _)| *c);
    let outcome = if with(Outcome::Undecided).next().is_some() {
        Outcome::Undecided
    } else if with(Outcome::Tie).next().is_some() {
        Outcome::Tie
    } else {
        Outcome::Win
    };
    let w = figure(metric, winner);
    let ratio = runner
        .map(|r| figure(metric, r) / w)
        .filter(|r| r.is_finite());
    let reason = runner.and_then(|r| reason(metric, winner, r));
    let mut sentence = sentence(metric, winner, &judged, runner, reason.as_ref(), e);
    sentence.push_str(&left_out_sentence(&left_out));
    let names = |o: Outcome| with(o).map(|(c, _)| c.runtime.clone()).collect();
    Some(Verdict {
        workload: workload.into(),
        workers,
        tasks,
        metric,
        winner: winner.runtime.clone(),
        tied: names(Outcome::Tie),
        runner_up: runner.map(|c| c.runtime.clone()),
        value: w,
        runner_up_value: runner.map(|c| figure(metric, c)),
        ratio,
        reason,
        left_out,
        outcome,
        undecided: names(Outcome::Undecided),
        rounds: judged
            .iter()
            .map(|(_, c)| c.rounds)
            .max()
            .unwrap_or(winner.rounds.len()),
        comparisons: judged.into_iter().map(|(_, c)| c).collect(),
        sentence,
    })
}

/// A figure that may explain a gap: its name, how to read it from a cell, which way is better,
/// and the least difference that could account for the gap (in the figure's unit).
struct Candidate {
    figure: &'static str,
    read: fn(&CellSummary) -> Option<f64>,
    better: Better,
    least: f64,
}

impl Candidate {
    /// A figure where lower is better.
    fn lower(figure: &'static str, read: fn(&CellSummary) -> Option<f64>, least: f64) -> Self {
        Candidate {
            figure,
            read,
            better: Better::Lower,
            least,
        }
    }
}

/// The figures that may explain a gap of `gap` (in `metric`'s unit) in `metric`, in the order
/// they are tried.
fn candidates(metric: Metric, cpu_work: bool, gap: f64) -> Vec<Candidate> {
    // A figure explains a gap only if its own difference is at least half the gap. `half` is
    // in the metric's unit (seconds of wall, milliseconds of latency); a wall gap is set
    // against queue times in milliseconds.
    let half = gap / 2.0;
    let cpu_s = Candidate::lower("cpu_s", |c| Some(c.cpu_s), half);
    match metric {
        // Cores kept busy are a cause only for work that needs cores; for IO they follow from
        // finishing the same work sooner.
        Metric::Wall if cpu_work => vec![
            Candidate {
                figure: "cores_used",
                read: |c| Some(c.cores_used),
                better: Better::Higher,
                least: 0.0,
            },
            cpu_s,
        ],
        Metric::Wall => vec![
            Candidate::lower("queue_p99_ms", |c| Some(c.queue_p99_ms), half * 1000.0),
            cpu_s,
        ],
        Metric::P99 => vec![
            Candidate::lower("queue_p99_ms", |c| Some(c.queue_p99_ms), half),
            Candidate::lower("service_p99_ms", |c| Some(c.service_p99_ms), half),
        ],
        Metric::MaxLatency => vec![
            Candidate::lower("queue_max_ms", |c| c.queue_ms.as_ref().map(|s| s.max), half),
            Candidate::lower(
                "service_max_ms",
                |c| c.service_ms.as_ref().map(|s| s.max),
                half,
            ),
        ],
        Metric::IoP99 => vec![Candidate::lower(
            "io_queue_p99_ms",
            |c| c.io_queue_p99_ms,
            half,
        )],
        Metric::Memory | Metric::MemoryPerUnit => vec![
            Candidate::lower("threads_peak", |c| Some(c.threads_peak as f64), 1.0),
            Candidate::lower("processes_peak", |c| Some(c.processes_peak as f64), 1.0),
        ],
    }
}

/// The first candidate figure that favours winner `w` over `r` by [`REASON_MARGIN`] and by a
/// difference large enough to account for the gap; `None` if no figure does.
fn reason(metric: Metric, w: &CellSummary, r: &CellSummary) -> Option<Reason> {
    let gap = figure(metric, r) - figure(metric, w);
    let candidates = candidates(metric, w.workload.starts_with("cpu"), gap);
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
