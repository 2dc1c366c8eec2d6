//! The sentences of the verdict, built only from the figures and intervals they name.

use super::judge::show;
use crate::model::compare::{CellSummary, Comparison, Metric, Outcome, Reason, Skipped};

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

/// A winner's margin: `3.6×` from 1.5× up, else `12%` (`3.5%` under 10%).
pub fn margin(ratio: f64) -> String {
    if ratio >= 1.5 {
        format!("{ratio:.1}×")
    } else {
        percent(ratio)
    }
}

/// `(ratio − 1)` in percent, with a decimal under 10%.
fn percent(ratio: f64) -> String {
    let p = (ratio - 1.0) * 100.0;
    if p.abs() < 10.0 {
        format!("{p:.1}%")
    } else {
        format!("{p:.0}%")
    }
}

/// A paired interval as a sentence quotes it, in the unit its lead `ratio` is quoted in (see
/// [`margin`]): `95% CI 3.2–4.0×` beside `3.6×`, `95% CI 8.1–15%` beside `12%`, and
/// `95% CI 0.99–1.06×` when it reaches 1 or below.
pub fn interval(ratio: f64, low: f64, high: f64) -> String {
    if ratio >= 1.5 {
        format!("95% CI {low:.1}–{high:.1}×")
    } else if low > 1.0 {
        format!(
            "95% CI {}–{}",
            percent(low).trim_end_matches('%'),
            percent(high)
        )
    } else {
        format!("95% CI {low:.2}–{high:.2}×")
    }
}

/// A paired interval as plain ratios, for calls that are not a lead: `95% CI 0.99–1.06×`.
pub fn ratio_interval(low: f64, high: f64) -> String {
    format!("95% CI {low:.2}–{high:.2}×")
}

/// `1 paired round`, `5 paired rounds`.
pub fn rounds_phrase(n: usize) -> String {
    if n == 1 {
        "1 paired round".into()
    } else {
        format!("{n} paired rounds")
    }
}

/// The minimum effect as sentences state it: `3%`, or for memory `10% or 1 MiB`.
pub(super) fn effect_phrase(metric: Metric, e: f64) -> String {
    if super::judge::is_memory(metric) {
        format!(
            "{:.0}% or {:.0} MiB",
            super::judge::MEMORY_MIN_EFFECT * 100.0,
            super::judge::MEMORY_MIN_BYTES / (1u64 << 20) as f64
        )
    } else {
        format!("{}%", (e * 1000.0).round() / 10.0)
    }
}

/// How `w` leads `r` on `metric` by `ratio`: `smol is 3.6× faster than threads`.
fn lead(metric: Metric, w: &str, r: &str, ratio: f64) -> String {
    let m = margin(ratio);
    match metric {
        Metric::Wall => format!("{w} is {m} faster than {r}"),
        Metric::Memory | Metric::MemoryPerUnit => {
            format!("{w} uses {m} less {} than {r}", metric.name())
        }
        _ => format!("{w} has {m} lower {} than {r}", metric.name()),
    }
}

/// The verdict's sentence: a win with its interval, a tie, or what stayed undecided, each with
/// the figures it rests on; `judged` is every other cell against the winner `w`, and `runner`
/// the closest one `w` beats.
pub(super) fn sentence(
    metric: Metric,
    w: &CellSummary,
    judged: &[(&CellSummary, Comparison)],
    runner: Option<&CellSummary>,
    reason: Option<&Reason>,
    e: f64,
) -> String {
    let v = |c: &CellSummary| show(metric, c);
    if judged.is_empty() {
        return format!(
            "{} is the only runtime that finished every task, with {} on {}.",
            w.runtime,
            v(w),
            metric.name()
        );
    }
    let of = |o: Outcome| -> Vec<&(&CellSummary, Comparison)> {
        judged.iter().filter(|(_, c)| c.outcome == o).collect()
    };
    let (tied, open) = (of(Outcome::Tie), of(Outcome::Undecided));
    let beaten = runner.and_then(|r| judged.iter().find(|(c, _)| c.runtime == r.runtime));
    let mut parts = Vec::new();
    if !open.is_empty() {
        parts.push(undecided(metric, w, &open, e));
    }
    if !tied.is_empty() {
        parts.push(tie(metric, w, &tied, e, !open.is_empty()));
    }
    if let Some((r, cmp)) = beaten {
        let mut s = format!(
            "{} ({}, {}): {} against {}; ",
            lead(metric, &w.runtime, &r.runtime, cmp.ratio),
            interval(cmp.ratio, cmp.low, cmp.high),
            rounds_phrase(cmp.rounds),
            v(w),
            v(r)
        );
        s.push_str(&match reason {
            Some(reason) => because(reason, w, r),
            None => "no measured figure explains the gap".into(),
        });
        parts.push(s);
    }
    let mut s = parts.join("; ");
    s.push('.');
    s
}

/// `tie on wall time: threads 0.250 s, rayon 0.251 s and smol 0.252 s are within 3% (95% CIs
/// within 0.98–1.02×, 5 paired rounds)`; `also`, after an undecided clause, names only the
/// runtimes tied with the winner.
fn tie(
    metric: Metric,
    w: &CellSummary,
    tied: &[&(&CellSummary, Comparison)],
    e: f64,
    also: bool,
) -> String {
    let mut all: Vec<String> = std::iter::once(w)
        .chain(tied.iter().map(|(c, _)| *c))
        .map(|c| format!("{} {}", c.runtime, show(metric, c)))
        .collect();
    let last = all.pop().unwrap_or_default();
    let low = tied
        .iter()
        .map(|(_, c)| c.low)
        .fold(f64::INFINITY, f64::min);
    let high = tied.iter().map(|(_, c)| c.high).fold(0.0, f64::max);
    let rounds = tied.iter().map(|(_, c)| c.rounds).min().unwrap_or(0);
    if also {
        // After an undecided clause that named the winner: only who ties with it.
        let names: Vec<String> = tied
            .iter()
            .map(|(c, _)| format!("{} {}", c.runtime, show(metric, c)))
            .collect();
        return format!(
            "within {} of {}: {}",
            effect_phrase(metric, e),
            w.runtime,
            names.join(", ")
        );
    }
    let head = format!("tie on {}", metric.name());
    let bounds = if super::judge::is_memory(metric) {
        String::new()
    } else {
        format!(
            " (95% CIs within {low:.2}–{high:.2}×, {})",
            rounds_phrase(rounds)
        )
    };
    format!(
        "{head}: {} and {last} are within {}{bounds}",
        all.join(", "),
        effect_phrase(metric, e)
    )
}

/// `undecided on wall time after 20 paired rounds between smol 0.250 s and threads 0.255 s
/// (1.02× smol, 95% CI 0.99–1.06×): neither within 3% nor beyond it`.
fn undecided(
    metric: Metric,
    w: &CellSummary,
    open: &[&(&CellSummary, Comparison)],
    e: f64,
) -> String {
    let rounds = open.iter().map(|(_, c)| c.rounds).max().unwrap_or(0);
    let each: Vec<String> = open
        .iter()
        .map(|(c, cmp)| {
            format!(
                "{} {} ({:.2}× {}, {})",
                c.runtime,
                show(metric, c),
                cmp.ratio,
                w.runtime,
                ratio_interval(cmp.low, cmp.high)
            )
        })
        .collect();
    let mut s = format!(
        "undecided on {} after {} between {} {} and {}",
        metric.name(),
        rounds_phrase(rounds),
        w.runtime,
        show(metric, w),
        each.join(", ")
    );
    let short = |c: &Comparison| c.low > 1.0 + e && c.rounds < super::paired::MIN_WIN_ROUNDS;
    if rounds <= 1 {
        s.push_str(" (one run per cell: noise unmeasured)");
    } else if open.iter().all(|(_, c)| short(c)) {
        s.push_str(&format!(
            ": beyond {} but a win needs {}",
            effect_phrase(metric, e),
            rounds_phrase(super::paired::MIN_WIN_ROUNDS)
        ));
    } else {
        s.push_str(&format!(
            ": neither within {} nor beyond it",
            effect_phrase(metric, e)
        ));
    }
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
