//! What a comparison's runs say: per-cell summaries ([`summary`]), the paired statistics that
//! decide ([`paired`]), the verdict ([`judge`]) and its sentences ([`prose`]): who wins on wall
//! time, p99 latency and memory at each workload and worker count, by how much, how sure that
//! is, and why, in sentences built only from the measured figures. [`answer`] condenses a
//! group into the best runtime of each family (async, threads, processes).
//!
//! Rules, stated once so tables and docs can quote them:
//! - A cell is *noisy* when it has at least two runs and their wall times spread (max − min)
//!   by more than [`summary::NOISE_SPREAD`] of the median. A run is an *outlier* when its wall
//!   time lies more than [`paired::OUTLIER_IQRS`] interquartile ranges from its cell's median
//!   (cells of at least [`paired::MIN_OUTLIER_RUNS`] runs); it is flagged and still counted.
//! - A cell with a failed task is never judged: its figures are of less work than the
//!   others'. The verdict names it as left out, with how many tasks failed and how.
//! - The winner has the best figure among the rest. Every other runtime is compared with it by
//!   the ratio of their figures within each round both ran (paired), as the median ratio with a
//!   95% bootstrap interval (fixed seed). Against the minimum effect `e` (`--min-effect`, 3%):
//!   the winner *beats* a runtime when the whole interval is above 1 + e (over at least
//!   [`paired::MIN_WIN_ROUNDS`] rounds), *ties* with it when the interval lies within
//!   [1/(1 + e), 1 + e] (at least [`paired::MIN_TIE_ROUNDS`] rounds), and is *undecided*
//!   otherwise. The runner-up is the runtime it beats by the least. A verdict is a win when
//!   the winner beats every other runtime, a tie when the rest are beaten or tied, and
//!   undecided when any comparison is.
//! - Memory is a win only when the difference is both at least [`judge::MEMORY_MIN_EFFECT`]
//!   and [`judge::MEMORY_MIN_BYTES`]; otherwise a tie.
//! - Latency is judged on p99 over every run's tasks merged (paired on the runs' own p99s);
//!   when a cell has fewer than [`judge::MIN_P99_SAMPLES`] tasks, a p99 is only its maximum,
//!   so the maximum is judged by name.
//! - A reason is given only when a measured figure favours the winner by at least
//!   [`judge::REASON_MARGIN`] and by enough to account for half the gap (for figures in time);
//!   otherwise the sentence says no measured figure explains the gap. Cores kept busy count
//!   as a reason only for CPU work: for IO they follow from finishing sooner.
//! - Memory of process runtimes is an upper estimate: the parent's peak plus the largest
//!   worker's peak times the workers (see [`summary::memory_of`]), shown with `≤`.
//! - `serial` runs once per task count and competes in every worker count's group; so do
//!   thread-per-task and process-per-task in a `--scale` sweep, which hold one unit per task.
//! - Per unit: memory per unit in flight is a cell's peak memory over the most tasks its runs
//!   had running at once. Above the runtime's own cost, it is the growth in peak memory from
//!   the same runtime's cell at the fewest tasks swept, over the growth in units. Spawn time
//!   per unit is the time to get every task started over the tasks. Makespan over ideal is
//!   wall time over the ideal: for sleep tasks, the sleep times the waves of tasks in flight
//!   needed; otherwise the serial baseline's wall over the ideal parallelism (1 / efficiency).
//!
//! Everything here is a pure function of run records, so it is tested on made-up records, and
//! `report` can judge a saved file again with today's rules.

pub mod answer;
pub mod judge;
pub mod paired;
pub mod prose;
#[cfg(test)]
mod simulation;
pub mod stats;
pub mod summary;

use crate::model::compare::CompareRecord;

/// Recomputes a comparison's summary and verdict from its runs with the current rules.
pub fn refresh(record: &mut CompareRecord) {
    record.summary = summary::summarize(&record.runs);
    record.verdict = if record.scale {
        judge::judge_scale(&record.summary, &record.skipped, record.min_effect)
    } else {
        judge::judge(&record.summary, record.min_effect)
    };
}

#[cfg(test)]
mod tests;
