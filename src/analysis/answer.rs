//! The study's question asked of one group of cells: which family of runtimes — async, OS
//! threads, worker processes — does best on a figure, by how much, and how sure that is. Each
//! family is represented by its best runtime that finished every task; the leading family's
//! best is compared with the next family's best by the paired rule of the verdict
//! ([`super::paired`]), with the same minimum effect. The serial baseline belongs to no family
//! (see `model::runtime::Family`).

use super::judge::{compare, effect, figure, group_members, show};
use super::paired::MIN_WIN_ROUNDS;
use super::prose::{effect_phrase, interval, margin, ratio_interval, rounds_phrase};
use crate::model::compare::{CellSummary, CompareRecord, Comparison, Metric, Outcome};
use crate::model::runtime::{Family, Language, Runtime};

/// A family's best runtime in a group.
#[derive(Debug, Clone, PartialEq)]
pub struct Best {
    /// The runtime.
    pub runtime: String,
    /// Its figure, in the metric's unit (s, ms, bytes).
    pub value: f64,
    /// The figure as sentences show it (`0.250 s`, `≤ 40.1 MiB`).
    pub shown: String,
}

/// One group's answer: each family's best, the leading family, and how it compares with the
/// next.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// What was compared.
    pub metric: Metric,
    /// Per family of [`Family::COMPARED`], its best runtime, or why it has none.
    pub best: Vec<(Family, Result<Best, String>)>,
    /// The family with the best figure.
    pub winner: Option<Family>,
    /// The family with the next best figure.
    pub runner_up: Option<Family>,
    /// The winner's best against the runner-up's best, paired by round.
    pub comparison: Option<Comparison>,
    /// `win`, `tie` or `undecided`; a family alone is a win.
    pub outcome: Outcome,
}

impl Answer {
    /// The best of `family`, if it has one.
    pub fn of(&self, family: Family) -> Option<&Best> {
        self.best
            .iter()
            .find(|(f, _)| *f == family)
            .and_then(|(_, b)| b.as_ref().ok())
    }

    /// Each family's best figure over the winner's (1 for the winner), for plots.
    pub fn relative(&self, family: Family) -> Option<f64> {
        let top = self.of(self.winner?)?.value;
        self.of(family)
            .map(|b| b.value / top)
            .filter(|r| r.is_finite())
    }

    /// The call alone, for a table cell: `async, 8.0× (95% CI 7.9–8.1×, 5 paired rounds)`,
    /// `tie of async and threads within 3% (…)`, `undecided: threads/async 1.02× (…)` (the
    /// next family's figure over the leader's, with why a lead beyond the minimum effect is
    /// not yet a win), `async alone`.
    pub fn short(&self) -> String {
        let Some(w) = self.winner else {
            return "none finished every task".into();
        };
        let (Some(r), Some(cmp)) = (self.runner_up, &self.comparison) else {
            return format!("{} alone", w.name());
        };
        let ci = self.interval_phrase(cmp);
        match cmp.outcome {
            Outcome::Win => format!("{}, {} ({ci})", w.name(), margin(cmp.ratio)),
            Outcome::Tie => format!(
                "tie of {} and {} within {} ({ci})",
                w.name(),
                r.name(),
                effect_phrase(self.metric, cmp.min_effect)
            ),
            Outcome::Undecided => format!(
                "undecided: {}/{} {:.2}× ({ci})",
                r.name(),
                w.name(),
                cmp.ratio,
            ),
        }
    }

    /// The interval and the rounds it rests on; for a lead beyond the minimum effect over too
    /// few rounds, that a win needs more.
    fn interval_phrase(&self, cmp: &Comparison) -> String {
        let interval = match cmp.outcome {
            Outcome::Win => interval(cmp.ratio, cmp.low, cmp.high),
            _ => ratio_interval(cmp.low, cmp.high),
        };
        let short = cmp.outcome == Outcome::Undecided
            && cmp.low > 1.0 + cmp.min_effect
            && cmp.rounds < MIN_WIN_ROUNDS;
        if short {
            format!(
                "{interval}, {}; a win needs {MIN_WIN_ROUNDS}",
                rounds_phrase(cmp.rounds)
            )
        } else {
            format!("{interval}, {}", rounds_phrase(cmp.rounds))
        }
    }

    /// One line: who wins, by how much, with the interval; a tie or undecided said as such.
    pub fn sentence(&self) -> String {
        let (Some(w), Some(best)) = (self.winner, self.winner.and_then(|w| self.of(w))) else {
            return "no family finished every task".into();
        };
        let (Some(r), Some(cmp)) = (self.runner_up, &self.comparison) else {
            return format!("only {} ran: {} {}", w.name(), best.runtime, best.shown);
        };
        let other = self
            .of(r)
            .map_or(String::new(), |b| format!("{} {}", b.runtime, b.shown));
        let ci = self.interval_phrase(cmp);
        match cmp.outcome {
            Outcome::Win => format!(
                "{} by {} ({ci}): {} {} against {other}",
                w.name(),
                margin(cmp.ratio),
                best.runtime,
                best.shown
            ),
            Outcome::Tie => format!(
                "tie of {} and {} within {} ({ci}): {} {} against {other}",
                w.name(),
                r.name(),
                effect_phrase(self.metric, cmp.min_effect),
                best.runtime,
                best.shown
            ),
            Outcome::Undecided => format!(
                "undecided: {}/{} {:.2}× ({ci}): {} {} against {other}",
                r.name(),
                w.name(),
                cmp.ratio,
                best.runtime,
                best.shown
            ),
        }
    }
}

/// Whether the family Python's answer names also wins in Rust's answer of the same group: the
/// seeds' conclusion (threads for IO, processes for CPU) carried over, or not. Only decided
/// answers are compared: an undecided one leaves the question open, and says so.
pub fn carries_over(python: &Answer, rust: &Answer) -> String {
    let (Some(py), Some(rs)) = (python.winner, rust.winner) else {
        return "open: a language had no runtime that finished every task".into();
    };
    let pair = |a: &Answer| format!("{} and {}", name_of(a.winner), name_of(a.runner_up));
    match (python.outcome, rust.outcome) {
        (Outcome::Undecided, _) => "open: Python's answer is undecided".into(),
        (_, Outcome::Undecided) => "open: Rust's answer is undecided".into(),
        (Outcome::Tie, Outcome::Tie) if pair(python) == pair(rust) => {
            format!("holds: {} tie in both", pair(python))
        }
        (Outcome::Tie, _) => format!(
            "Python ties {}; Rust: {}",
            pair(python),
            if rust.outcome == Outcome::Win {
                format!("{} wins", rs.name())
            } else {
                format!("{} tie", pair(rust))
            }
        ),
        (Outcome::Win, Outcome::Win) if py == rs => format!("holds: {} wins in both", py.name()),
        (Outcome::Win, Outcome::Win) => format!(
            "does not hold: {} wins in Python, {} in Rust",
            py.name(),
            rs.name()
        ),
        (Outcome::Win, _) if rust.runner_up == Some(py) || rs == py => format!(
            "partly: {} wins in Python; Rust ties {}",
            py.name(),
            pair(rust)
        ),
        (Outcome::Win, _) => format!(
            "does not hold: {} wins in Python; Rust ties {}",
            py.name(),
            pair(rust)
        ),
    }
}

/// Why `family` has no runtime to stand for it at `tasks`: its runtimes skipped over a limit,
/// its `failed` ones, or not run at all.
fn why_none(
    record: &CompareRecord,
    tasks: usize,
    family: Family,
    language: Option<Language>,
    failed: &[String],
) -> String {
    let of = |name: &str| Runtime::from_name(name);
    let skipped = record
        .skipped
        .iter()
        .filter(|s| s.tasks == tasks)
        .filter(|s| of(&s.runtime).map(Runtime::family) == Some(family))
        .filter(|s| language.is_none_or(|l| of(&s.runtime).map(Runtime::language) == Some(l)))
        .map(|s| {
            let limit = s.reason.split(" (").next().unwrap_or(&s.reason);
            format!("{} skipped, {limit}", s.runtime)
        });
    let all: Vec<String> = skipped.chain(failed.iter().cloned()).collect();
    if all.is_empty() {
        "not run".to_string()
    } else {
        all.join("; ")
    }
}

fn name_of(f: Option<Family>) -> &'static str {
    f.map_or("none", Family::name)
}

/// The answer of `record`'s group at `workers` and `tasks` on `metric`, with the record's
/// minimum effect.
pub fn answer(record: &CompareRecord, workers: usize, tasks: usize, metric: Metric) -> Answer {
    answer_in(record, workers, tasks, metric, None)
}

/// [`answer`] among the runtimes of one language only (`None`: every runtime), so a
/// comparison of Python and Rust runtimes gives Python's answer and Rust's apart.
pub fn answer_in(
    record: &CompareRecord,
    workers: usize,
    tasks: usize,
    metric: Metric,
    language: Option<Language>,
) -> Answer {
    let workload = record
        .summary
        .iter()
        .find(|c| c.tasks == tasks)
        .map(|c| c.workload.clone())
        .unwrap_or_default();
    let members = group_members(
        &record.summary,
        (workload.as_str(), workers, tasks),
        record.scale,
    );
    let members: Vec<&CellSummary> = members
        .into_iter()
        .filter(|c| language.is_none_or(|l| c.kind().map(Runtime::language) == Some(l)))
        .collect();
    let family_of = |c: &CellSummary| c.kind().map(Runtime::family);
    let mut best: Vec<(Family, Result<&CellSummary, String>)> = Vec::new();
    for family in Family::COMPARED {
        let mut mine: Vec<&CellSummary> = members
            .iter()
            .copied()
            .filter(|c| family_of(c) == Some(family))
            .filter(|c| figure(metric, c).is_finite())
            .collect();
        let failed: Vec<String> = mine
            .iter()
            .filter(|c| c.tasks_failed > 0 || c.tasks_ok == 0)
            .map(|c| format!("{}: {} tasks failed", c.runtime, c.tasks_failed))
            .collect();
        mine.retain(|c| c.tasks_failed == 0 && c.tasks_ok > 0);
        mine.sort_by(|a, b| figure(metric, a).total_cmp(&figure(metric, b)));
        let why_none = || why_none(record, tasks, family, language, &failed);
        best.push((family, mine.first().copied().ok_or_else(why_none)));
    }
    let mut ranked: Vec<(Family, &CellSummary)> = best
        .iter()
        .filter_map(|(f, b)| b.as_ref().ok().map(|c| (*f, *c)))
        .collect();
    ranked.sort_by(|a, b| figure(metric, a.1).total_cmp(&figure(metric, b.1)));
    let comparison = match ranked.as_slice() {
        [(_, w), (_, r), ..] => Some(compare(metric, w, r, effect(metric, w, record.min_effect))),
        _ => None,
    };
    Answer {
        metric,
        best: best
            .into_iter()
            .map(|(f, b)| {
                let b = b.map(|c| Best {
                    runtime: c.runtime.clone(),
                    value: figure(metric, c),
                    shown: show(metric, c),
                });
                (f, b)
            })
            .collect(),
        winner: ranked.first().map(|r| r.0),
        runner_up: ranked.get(1).map(|r| r.0),
        outcome: comparison.as_ref().map_or(Outcome::Win, |c| c.outcome),
        comparison,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record of `walls` per runtime over rounds 1.., every run of 8 tasks on 2 workers.
    fn record(walls: &[(&str, &[f64])]) -> CompareRecord {
        let mut runs = Vec::new();
        for (runtime, ws) in walls {
            for (i, w) in ws.iter().enumerate() {
                let mut r = crate::report::tests::ok_record(runtime, i + 1);
                r.workers = 2;
                r.wall_s = *w;
                runs.push(r);
            }
        }
        crate::report::tests::judged_compare("cpu", runs)
    }

    #[test]
    fn each_family_is_its_best_runtime_and_the_leader_is_judged_paired() {
        let c = record(&[
            ("threads", &[0.50, 0.52, 0.49, 0.70, 0.51]),
            ("rayon", &[0.40, 0.41, 0.40, 0.55, 0.40]),
            ("smol", &[0.20, 0.21, 0.20, 0.28, 0.20]),
            ("process-pool", &[0.60, 0.61, 0.62, 0.80, 0.60]),
        ]);
        let a = answer(&c, 2, 8, Metric::Wall);
        assert_eq!(a.winner, Some(Family::Async));
        assert_eq!(a.runner_up, Some(Family::Threads));
        assert_eq!(a.of(Family::Threads).unwrap().runtime, "rayon");
        assert_eq!(a.outcome, Outcome::Win);
        let cmp = a.comparison.as_ref().unwrap();
        assert_eq!((cmp.runtime.as_str(), cmp.rounds), ("rayon", 5));
        assert!((cmp.ratio - 2.0).abs() < 0.03, "{cmp:?}");
        assert_eq!(a.relative(Family::Async), Some(1.0));
        let s = a.sentence();
        assert!(s.starts_with("async by 2.0× (95% CI "), "{s}");
        assert!(
            s.ends_with("5 paired rounds): smol 0.200 s against rayon 0.400 s"),
            "{s}"
        );
    }

    #[test]
    fn a_family_that_did_not_run_says_why_and_a_close_race_is_no_win() {
        let c = record(&[
            ("threads", &[0.50, 0.52, 0.49, 0.70, 0.51]),
            ("smol", &[0.49, 0.53, 0.50, 0.69, 0.50]),
        ]);
        let a = answer(&c, 2, 8, Metric::Wall);
        assert_ne!(a.outcome, Outcome::Win, "{a:?}");
        assert_eq!(a.best[2], (Family::Processes, Err("not run".to_string())));
        let alone = record(&[("smol", &[0.2, 0.2, 0.2])]);
        let a = answer(&alone, 2, 8, Metric::Wall);
        assert_eq!(a.sentence(), "only async ran: smol 0.200 s");
    }

    #[test]
    fn each_language_is_answered_apart_and_the_seeds_conclusion_is_checked() {
        // Python: processes twice as fast as threads; Rust: threads twice as fast as processes.
        let c = record(&[
            ("py-threads", &[0.80, 0.82, 0.79, 0.81, 0.80]),
            ("py-processes", &[0.40, 0.41, 0.40, 0.39, 0.40]),
            ("threads", &[0.02, 0.021, 0.02, 0.019, 0.02]),
            ("process-pool", &[0.04, 0.041, 0.04, 0.039, 0.04]),
        ]);
        let py = answer_in(&c, 2, 8, Metric::Wall, Some(Language::Python));
        let rs = answer_in(&c, 2, 8, Metric::Wall, Some(Language::Rust));
        assert_eq!(py.of(Family::Processes).unwrap().runtime, "py-processes");
        assert_eq!(rs.of(Family::Processes).unwrap().runtime, "process-pool");
        assert_eq!(
            (py.winner, py.outcome),
            (Some(Family::Processes), Outcome::Win)
        );
        assert_eq!(
            (rs.winner, rs.outcome),
            (Some(Family::Threads), Outcome::Win)
        );
        assert_eq!(
            carries_over(&py, &rs),
            "does not hold: processes wins in Python, threads in Rust"
        );
        assert_eq!(carries_over(&py, &py), "holds: processes wins in both");
        // Every language together: Rust's runtimes win every family.
        let all = answer(&c, 2, 8, Metric::Wall);
        assert_eq!(all.of(Family::Processes).unwrap().runtime, "process-pool");
        let undecided = record(&[
            ("py-threads", &[0.5, 0.7, 0.4]),
            ("py-processes", &[0.6, 0.4, 0.5]),
        ]);
        let open = answer_in(&undecided, 2, 8, Metric::Wall, Some(Language::Python));
        assert_eq!(
            carries_over(&open, &rs),
            "open: Python's answer is undecided"
        );
    }

    #[test]
    fn a_lead_over_too_few_rounds_is_undecided_and_says_a_win_needs_more() {
        let c = record(&[("threads", &[2.8, 2.7, 2.9]), ("smol", &[0.17, 0.18, 0.17])]);
        let a = answer(&c, 2, 8, Metric::Wall);
        assert_eq!(a.outcome, Outcome::Undecided, "{a:?}");
        let short = a.short();
        assert!(short.starts_with("undecided: threads/async "), "{short}");
        assert!(
            short.ends_with("3 paired rounds; a win needs 5)"),
            "{short}"
        );
    }
}
