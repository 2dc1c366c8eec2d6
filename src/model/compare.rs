//! The record of a comparison, `asyncstudy.compare/1`: every run's record, one summary per
//! cell and the verdict, with what was skipped or failed. Documented in `docs/records.md` and,
//! as a JSON Schema generated from these types, in `docs/schema/compare.json`. The summaries
//! and the verdict are computed by `crate::analysis`; here they are only data.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::histogram::Summary;
use super::run::{Machine, RunRecord};
use super::runtime::{Limits, Runtime};

/// The schema tag of a comparison file.
pub const COMPARE_SCHEMA: &str = "asyncstudy.compare/1";

/// A comparison file: every run, the per-cell summary and the verdict.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CompareRecord {
    /// Always [`COMPARE_SCHEMA`].
    pub schema: String,
    /// The asyncstudy version that measured it.
    pub tool_version: String,
    /// Where it was measured.
    pub machine: Machine,
    /// When the sweep started (RFC 3339, UTC).
    pub started_at: String,
    /// `cpu`, `io` or `sleep`.
    pub kind: String,
    /// The child command line shared by every cell (without runtime, workers, tasks).
    pub command: Vec<String>,
    /// Measured child runs per cell: as planned for a fixed `--repeat N`; with `--repeat auto`,
    /// the most rounds any cell ran (see `adaptive`).
    pub repeat: usize,
    /// The smallest relative difference a verdict calls a win, and within which it calls a tie
    /// (`--min-effect`; 0.03 for files written before it existed).
    #[serde(default = "default_min_effect")]
    pub min_effect: f64,
    /// How `--repeat auto` chose the rounds, and why it stopped; absent for a fixed count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adaptive: Option<Adaptive>,
    /// Whether every planned run finished.
    pub complete: bool,
    /// The signal that stopped the sweep, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interrupted: Option<String>,
    /// Every finished child run's record.
    pub runs: Vec<RunRecord>,
    /// Child runs that produced no record, and why.
    #[serde(default)]
    pub failures: Vec<CellFailure>,
    /// Whether every task was in flight at once (`--scale`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub scale: bool,
    /// The threads and processes a cell could hold (absent from files written before limits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<Limits>,
    /// Cells not run because they were over a limit.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<Skipped>,
    /// One row per cell with at least one run.
    pub summary: Vec<CellSummary>,
    /// Winners per workload and worker count.
    pub verdict: Vec<Verdict>,
}

/// `--min-effect`'s default, also the rule for files written before it was recorded.
pub const DEFAULT_MIN_EFFECT: f64 = 0.03;

fn default_min_effect() -> f64 {
    DEFAULT_MIN_EFFECT
}

/// What `--repeat auto` did: at least `min_rounds` rounds, then more for the groups with an
/// undecided verdict, until none was left, `max_rounds` or the budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Adaptive {
    /// Rounds every cell ran before any was left out (3).
    pub min_rounds: usize,
    /// `--max-repeat`: the most rounds any cell runs.
    pub max_rounds: usize,
    /// `--budget` in seconds: no round starts that would be expected to end after it.
    pub budget_s: f64,
    /// Why rounds stopped: `decided` (no verdict left undecided), `max_repeat`, `budget`,
    /// `interrupted`, or `no_cells` (an undecided group had no cell left to run); absent while
    /// the sweep runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    /// Seconds the sweep took, start to end.
    #[serde(default)]
    pub elapsed_s: f64,
    /// Every group of cells judged together, with the rounds it ran.
    pub groups: Vec<GroupRounds>,
}

/// The rounds one group of cells (a workload at a worker count and a task count) ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct GroupRounds {
    /// The workload label.
    pub workload: String,
    /// The group's worker count.
    pub workers: usize,
    /// Tasks per run.
    pub tasks: usize,
    /// Rounds it ran: after the last, every verdict of the group was decided, or the sweep
    /// stopped.
    pub rounds: usize,
    /// Whether every verdict of the group was decided when it stopped running.
    pub decided: bool,
}

impl CompareRecord {
    /// The records of the runs whose summary is `cell`.
    pub fn runs_of<'a>(&'a self, cell: &'a CellSummary) -> impl Iterator<Item = &'a RunRecord> {
        self.runs.iter().filter(move |r| {
            r.runtime == cell.runtime
                && r.workers == cell.workers
                && r.workload.tasks_per_run == cell.tasks
                && r.workload_label() == cell.workload
        })
    }
}

/// A child run that produced no record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CellFailure {
    /// The cell's runtime.
    pub runtime: String,
    /// The cell's workers.
    pub workers: usize,
    /// The cell's tasks.
    pub tasks: usize,
    /// The cell's way of connecting, when the comparison swept them (`new`, `reuse`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connections: Option<String>,
    /// The measured repeat, 1-based.
    pub repeat: usize,
    /// What went wrong, with the child's last line of stderr.
    pub reason: String,
}

/// A cell that was not run because it would have held more threads or processes than allowed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Skipped {
    /// The cell's runtime.
    pub runtime: String,
    /// The cell's workers.
    pub workers: usize,
    /// The cell's tasks.
    pub tasks: usize,
    /// Which limit it was over, e.g. `over --max-threads 12000 (each unit holds an OS thread;
    /// raise the limit to try)`.
    pub reason: String,
}

impl Skipped {
    /// Units the cell would have held at once.
    pub fn units(&self) -> usize {
        self.workers.min(self.tasks)
    }
}

/// A median with the smallest and largest value it came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Spread {
    /// Median (the mean of the two middle values for an even count), as
    /// `analysis::stats::median` computes it.
    pub median: f64,
    /// Smallest.
    pub min: f64,
    /// Largest.
    pub max: f64,
}

impl Spread {
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
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
    /// Whether the runs' wall times disagree by more than `analysis::summary::NOISE_SPREAD`.
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
    /// Every run's own figures by round, which the verdict pairs with other cells' runs of
    /// the same round.
    #[serde(default)]
    pub rounds: Vec<RoundFigures>,
    /// Cores the download server's own process kept busy over the client's wall time (median
    /// over the runs that read its cost; see `RunRecord::server`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_cores_used: Option<f64>,
    /// Connections per run that carried pages, as the server counted them (median).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_connections: Option<f64>,
}

/// One run of a cell: the figures a verdict compares, by the round it ran in.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RoundFigures {
    /// The comparison round (1-based), or the run's place among its cell's runs in files
    /// written before rounds were recorded.
    pub round: usize,
    /// Wall time, s.
    pub wall_s: f64,
    /// Latency p99 of the run's tasks, ms.
    pub p99_ms: f64,
    /// Longest latency of the run's tasks, ms.
    pub max_latency_ms: f64,
    /// Memory as `CellSummary::memory_bytes` counts it.
    pub memory_bytes: f64,
    /// A mixed run's IO tasks' p99 latency, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub io_p99_ms: Option<f64>,
    /// Most tasks running at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub units_in_flight: Option<f64>,
    /// Whether the wall time lies beyond `analysis::paired::OUTLIER_IQRS` interquartile ranges
    /// from the cell's median: flagged, and still counted.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub outlier: bool,
}

impl CellSummary {
    /// The cell's runtime, if it is one this build knows.
    pub fn kind(&self) -> Option<Runtime> {
        Runtime::from_name(&self.runtime)
    }

    /// Whether the cell is the serial baseline, which competes beside every worker count.
    pub fn is_baseline(&self) -> bool {
        self.kind().is_some_and(Runtime::is_baseline)
    }
}

/// What a verdict line judges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Median wall time.
    Wall,
    /// p99 latency over every run's tasks merged.
    P99,
    /// The longest latency, judged instead of p99 when a cell has fewer than
    /// `analysis::judge::MIN_P99_SAMPLES` tasks, where a p99 is only the maximum under another name.
    MaxLatency,
    /// Peak memory (an upper estimate for process runtimes, see `analysis::summary::memory_of`).
    Memory,
    /// A mixed run's IO tasks' p99 latency (median of the runs' IO p99s).
    IoP99,
    /// Peak memory over the units in flight (`--scale`).
    MemoryPerUnit,
}

impl Metric {
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

/// Which way a figure is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    /// Less is better (time, memory, threads).
    Lower,
    /// More is better (cores kept busy).
    Higher,
}

/// The measured figure a verdict gives for its winner's lead, so a reader or a script can check
/// it: the figure favours the winner by at least `analysis::judge::REASON_MARGIN`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
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

/// How a paired comparison came out, from its interval and the minimum effect.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The whole interval is beyond the minimum effect, over enough rounds.
    Win,
    /// The whole interval lies within the minimum effect.
    Tie,
    /// Neither: more rounds could tell.
    #[default]
    Undecided,
}

impl Outcome {
    /// `win`, `tie`, `undecided`.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Win => "win",
            Outcome::Tie => "tie",
            Outcome::Undecided => "undecided",
        }
    }
}

/// One runtime against a verdict's winner: the ratio of their figures within each round both
/// ran (this runtime's over the winner's, so above 1 favours the winner), its median and 95%
/// bootstrap interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Comparison {
    /// The runtime compared with the winner.
    pub runtime: String,
    /// Median over the paired rounds of its figure over the winner's.
    pub ratio: f64,
    /// Lower end of the 95% bootstrap interval of that median.
    pub low: f64,
    /// Upper end of the interval.
    pub high: f64,
    /// Rounds in which both ran.
    pub rounds: usize,
    /// The relative difference judged against: `--min-effect`, or for memory the larger of
    /// 10% and 1 MiB of the winner's figure.
    pub min_effect: f64,
    /// `win`: the winner beats it; `tie`; `undecided`.
    pub outcome: Outcome,
}

/// A cell left out of a verdict, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LeftOut {
    /// The cell's runtime.
    pub runtime: String,
    /// Why it was not judged, e.g. `3 of 48 tasks failed: timeout 3`.
    pub reason: String,
}

/// The winner of one metric in one group of cells.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
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
    /// Runtimes tied with the winner: their paired interval lies within the minimum effect.
    pub tied: Vec<String>,
    /// The runtime the winner beats by the least, if it beats any.
    pub runner_up: Option<String>,
    /// The winner's figure.
    pub value: f64,
    /// The runner-up's figure.
    pub runner_up_value: Option<f64>,
    /// Runner-up figure over winner figure.
    pub ratio: Option<f64>,
    /// The measured figure that explains the winner's lead over the runner-up; `null` when no
    /// figure favours the winner by `analysis::judge::REASON_MARGIN` (or there is no runner-up).
    #[serde(default)]
    pub reason: Option<Reason>,
    /// Cells of the group that were not judged (failed tasks), with why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub left_out: Vec<LeftOut>,
    /// `win` when the winner beats every other runtime, `tie` when the rest are beaten or
    /// tied with it, `undecided` when any comparison is.
    #[serde(default)]
    pub outcome: Outcome,
    /// Runtimes neither tied with the winner nor beaten by it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub undecided: Vec<String>,
    /// The winner against every other runtime judged, paired by round.
    #[serde(default)]
    pub comparisons: Vec<Comparison>,
    /// Most paired rounds behind any of the comparisons.
    #[serde(default)]
    pub rounds: usize,
    /// The generated explanation.
    pub sentence: String,
}
