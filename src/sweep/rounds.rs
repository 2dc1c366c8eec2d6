//! How many rounds a sweep runs, and of which cells. A fixed `--repeat N` runs every cell N
//! times. `--repeat auto` runs every cell [`Repeat::MIN_ROUNDS`] times, then, after each round,
//! another round of the cells of every group (workload, workers, tasks) that still has an
//! undecided verdict, until no group has one, a cell has run `--max-repeat` rounds, or the next
//! round is expected to end after `--budget` (expected: each cell taking as long as its last
//! run did). What happened is kept in the record's `adaptive` block: the rounds each group ran
//! and why the sweep stopped.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::analysis::judge::group_members;
use crate::model::compare::{CompareRecord, GroupRounds, Outcome};
use crate::plan::{Cell, ComparePlan, Repeat};

/// A group's key: workload label, workers, tasks.
type Group = (String, usize, usize);

/// The state of the rounds of one sweep.
pub(super) struct Rounds {
    repeat: Repeat,
    scale: bool,
    cells: Vec<Cell>,
    /// How long each cell's last run took.
    last: HashMap<Cell, Duration>,
    /// The groups the round now running is for; `None`: every cell runs.
    open: Option<Vec<Group>>,
    /// Rounds each group ran, in the order groups were first judged.
    ran: Vec<(Group, usize)>,
    stopped: Option<&'static str>,
}

impl Rounds {
    /// The rounds of `plan` over its runnable `cells`.
    pub(super) fn new(plan: &ComparePlan, cells: &[Cell]) -> Rounds {
        Rounds {
            repeat: plan.repeat,
            scale: plan.scale,
            cells: cells.to_vec(),
            last: HashMap::new(),
            open: None,
            ran: Vec::new(),
            stopped: None,
        }
    }

    /// Notes how long a run of `cell` took, to foresee the next round's length.
    pub(super) fn took(&mut self, cell: Cell, d: Duration) {
        self.last.insert(cell, d);
    }

    /// The cells of the next round after `round`, or `None` when the sweep is done.
    pub(super) fn next(
        &mut self,
        record: &CompareRecord,
        round: usize,
        began: Instant,
    ) -> Option<Vec<Cell>> {
        self.count(record, round);
        let (max, budget) = match self.repeat {
            Repeat::Fixed(n) => return (round < n).then(|| self.cells.clone()),
            Repeat::Auto { max, budget } => (max, budget),
        };
        if round < self.repeat.min_rounds() {
            return Some(self.cells.clone());
        }
        let open = undecided_groups(record);
        if open.is_empty() {
            self.stopped = Some("decided");
            return None;
        }
        if round >= max {
            self.stopped = Some("max_repeat");
            return None;
        }
        let next: Vec<Cell> = self
            .cells
            .iter()
            .copied()
            .filter(|c| open.iter().any(|g| self.member(record, g, *c)))
            .collect();
        let expected: Duration = next.iter().filter_map(|c| self.last.get(c)).sum();
        if began.elapsed() + expected > budget {
            self.stopped = Some("budget");
            return None;
        }
        self.open = Some(open);
        Some(next)
    }

    /// Whether `cell` is judged in `group` of `record`.
    fn member(&self, record: &CompareRecord, group: &Group, cell: Cell) -> bool {
        group_members(&record.summary, (&group.0, group.1, group.2), self.scale)
            .iter()
            .any(|c| {
                c.runtime == cell.runtime && c.workers == cell.workers && c.tasks == cell.tasks
            })
    }

    /// Counts `round` for the groups it ran.
    fn count(&mut self, record: &CompareRecord, round: usize) {
        for v in &record.verdict {
            let key = (v.workload.clone(), v.workers, v.tasks);
            let ran = self.open.as_ref().is_none_or(|open| open.contains(&key));
            match self.ran.iter_mut().find(|(g, _)| *g == key) {
                Some((_, n)) if ran => *n = round,
                Some(_) => {}
                None => self.ran.push((key, round)),
            }
        }
    }

    /// Brings the record's `repeat` and `adaptive` block up to date.
    pub(super) fn fill(&self, record: &mut CompareRecord, began: Instant) {
        record.repeat = record
            .summary
            .iter()
            .map(|c| c.runs)
            .max()
            .unwrap_or(0)
            .max(match self.repeat {
                Repeat::Fixed(n) => n,
                Repeat::Auto { .. } => 0,
            });
        let open = undecided_groups(record);
        let Some(adaptive) = record.adaptive.as_mut() else {
            return;
        };
        adaptive.elapsed_s = began.elapsed().as_secs_f64();
        adaptive.stopped = self.stopped.map(String::from);
        adaptive.groups = self
            .ran
            .iter()
            .map(|((workload, workers, tasks), rounds)| GroupRounds {
                workload: workload.clone(),
                workers: *workers,
                tasks: *tasks,
                rounds: *rounds,
                decided: !open.contains(&(workload.clone(), *workers, *tasks)),
            })
            .collect();
    }

    /// The last word: why the sweep stopped, when a signal stopped it.
    pub(super) fn finish(&mut self, record: &mut CompareRecord, interrupted: bool, began: Instant) {
        if interrupted {
            self.stopped = Some("interrupted");
        }
        self.fill(record, began);
    }
}

/// The groups with at least one undecided verdict, in the order of the verdict.
fn undecided_groups(record: &CompareRecord) -> Vec<Group> {
    let mut open: Vec<Group> = Vec::new();
    for v in record
        .verdict
        .iter()
        .filter(|v| v.outcome == Outcome::Undecided)
    {
        let key = (v.workload.clone(), v.workers, v.tasks);
        if !open.contains(&key) {
            open.push(key);
        }
    }
    open
}
