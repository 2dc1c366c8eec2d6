//! The sentences of the verdict, built only from the figures they name.

use super::judge::{figure, show};
use crate::model::compare::{CellSummary, Metric, Reason, Skipped};

/// `1 worker`, `4 workers`.
pub fn workers_phrase(n: usize) -> String {
    if n == 1 {
        "1 worker".into()
    } else {
        format!("{n} workers")
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

/// ` Skipped at the limits: thread-per-task at 100000 units (over --max-threads 12000).`, or
/// nothing.
pub(super) fn skipped_sentence(skipped: &[Skipped]) -> String {
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

fn margin(ratio: f64) -> String {
    if ratio >= 1.5 {
        format!("{ratio:.1}×")
    } else {
        format!("{:.0}%", (ratio - 1.0) * 100.0)
    }
}

pub(super) fn sentence(
    metric: Metric,
    w: &CellSummary,
    ties: &[&CellSummary],
    runner: Option<&CellSummary>,
    reason: Option<&Reason>,
) -> String {
    let v = |c: &CellSummary| show(metric, c);
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
        let ratio = figure(metric, r) / figure(metric, w);
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
            workers_phrase(r.workers),
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
                crate::model::Runtime::from_name(&c.runtime)
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
