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
use crate::model::run::workload_label;
use crate::plan::{Cell, ComparePlan, Repeat};

/// A group's key: workload label, workers, tasks.
type Group = (String, usize, usize);

/// The state of the rounds of one sweep.
pub(super) struct Rounds {
    repeat: Repeat,
    scale: bool,
    cells: Vec<Cell>,
    /// Each cell's tasks as its records count them (a mix's CPU tasks with its IO tasks), and
    /// the workload label its records bear.
    recorded: HashMap<Cell, (usize, String)>,
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
            recorded: cells
                .iter()
                .map(|&c| {
                    let p = plan.cell_plan(c, None);
                    let label = workload_label(p.work.kind(), p.work.name(), &p.params);
                    (c, (p.tasks, label))
                })
                .collect(),
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
        if next.is_empty() {
            // Every undecided group's cells ran in no round: nothing more can decide it.
            self.stopped = Some("no_cells");
            return None;
        }
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
        let Some((tasks, label)) = self.recorded.get(&cell) else {
            return false;
        };
        *label == group.0
            && group_members(&record.summary, (&group.0, group.1, group.2), self.scale)
                .iter()
                .any(|c| {
                    c.runtime == cell.runtime && c.workers == cell.workers && c.tasks == *tasks
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::run::RunRecord;
    use crate::plan::Plan;
    use crate::report::tests::{judged_compare, ok_record};
    use crate::workload::download::Connections;

    /// The record `cell`'s child would write in `round`: the cell's runtime, workers and
    /// workload as its plan names them, every task ok.
    fn cell_record(plan: &ComparePlan, cell: Cell, round: usize) -> RunRecord {
        let mut r = ok_record(cell.runtime, round);
        let p = plan.cell_plan(cell, None);
        (r.workload.kind, r.workload.name) = (p.work.kind().into(), p.work.name().into());
        r.workload.params = p.params;
        r.workload.tasks_per_run = p.tasks;
        r.workers = cell.workers;
        r
    }

    // A mix's cells count its IO tasks, its records every task: the rounds must still find
    // the cells of an undecided group.
    #[test]
    fn a_mix_with_an_undecided_verdict_runs_its_cells_again() {
        let line = "asyncstudy compare mixed --runtimes tokio-mt,threads --workers 2 --tasks 30 --cpu-tasks 2 --cpu-iters 1000";
        let Ok(Some(Plan::Compare(plan))) = crate::cli::parse(line.split_whitespace()) else {
            panic!("a valid command line")
        };
        let cells = plan.cells();
        let runs = cells.iter().map(|&c| cell_record(&plan, c, 1)).collect();
        let record = judged_compare("mixed", runs);
        assert!(
            record
                .verdict
                .iter()
                .any(|v| v.outcome == Outcome::Undecided),
            "one round decides nothing"
        );
        let mut rounds = Rounds::new(&plan, &cells);
        let next = rounds.next(&record, 3, Instant::now());
        assert_eq!(next, Some(cells));
    }

    // With both ways of connecting swept, each way is a group: a tie among the new
    // connections' cells is decided, and only the kept connections' cells run again.
    #[test]
    fn a_connections_sweep_runs_again_only_the_way_left_undecided() {
        let line = "asyncstudy compare io --runtimes smol,threads --workers 2 --tasks 8 --connections new,reuse";
        let Ok(Some(Plan::Compare(plan))) = crate::cli::parse(line.split_whitespace()) else {
            panic!("a valid command line")
        };
        let cells = plan.cells();
        let mut runs = Vec::new();
        for round in 1..=3 {
            for &c in &cells {
                let mut r = cell_record(&plan, c, round);
                // Kept connections: threads 2× slower than smol, which 3 rounds cannot call.
                if c.connections == Some(Connections::Reuse) && c.runtime == "threads" {
                    r.wall_s *= 2.0;
                }
                runs.push(r);
            }
        }
        let record = judged_compare("io", runs);
        let undecided: Vec<(&str, &str)> = record
            .verdict
            .iter()
            .filter(|v| v.outcome == Outcome::Undecided)
            .map(|v| (v.workload.as_str(), v.metric.name()))
            .collect();
        assert!(
            undecided.iter().all(|(w, _)| *w == "io download (reuse)"),
            "{undecided:?}"
        );
        assert!(!undecided.is_empty());
        let mut rounds = Rounds::new(&plan, &cells);
        let next = rounds
            .next(&record, 3, Instant::now())
            .expect("another round");
        let reuse: Vec<Cell> = cells
            .iter()
            .copied()
            .filter(|c| c.connections == Some(Connections::Reuse))
            .collect();
        assert_eq!(next, reuse);
    }
}
