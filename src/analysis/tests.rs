//! The verdict's rules on made-up cells and records: who wins, ties or stays undecided, what
//! a reason may cite, what is left out, and the per-unit figures of a scale sweep. One file
//! over 500 lines because together these tests read as the rules' specification, in the order
//! the module doc of `analysis` states them.

use std::collections::BTreeMap;

use super::judge::judge_scale;
use super::stats::spread;
use super::summary::*;
use crate::model::compare::*;
use crate::model::run::RunRecord;

/// The verdict with the default minimum effect.
fn judge(cells: &[CellSummary]) -> Vec<Verdict> {
    super::judge::judge(cells, DEFAULT_MIN_EFFECT)
}

/// A cell of the CPU group at 2 workers, one run per wall time (rounds 1, 2, ...), every run
/// with a p99 of 20 ms and `rss_mib` of memory.
fn cell(runtime: &str, walls: &[f64], cores: f64, rss_mib: f64) -> CellSummary {
    CellSummary {
        workload: "cpu comp".into(),
        runtime: runtime.into(),
        workers: 2,
        tasks: 8,
        runs: walls.len(),
        wall_s: spread(walls.iter().copied()),
        startup_s: None,
        noisy: false,
        speedup: None,
        speedup_vs: None,
        efficiency: None,
        ideal_parallelism: 2,
        p50_ms: 10.0,
        p99_ms: spread([20.0]),
        queue_p99_ms: 5.0,
        service_p99_ms: 15.0,
        first_poll_p99_ms: None,
        busy_ratio: None,
        cores_used: cores,
        cpu_s: 0.5,
        memory_bytes: spread([rss_mib * (1u64 << 20) as f64]),
        children_unmeasured: 0,
        threads_peak: 3,
        processes_peak: 1,
        distinct_workers: if cores < 1.1 { 1 } else { 2 },
        tasks_ok: 8,
        tasks_failed: 0,
        errors: BTreeMap::new(),
        latency_ms: None,
        queue_ms: None,
        service_ms: None,
        io_p99_ms: None,
        io_queue_p99_ms: None,
        units_in_flight: None,
        memory_per_unit_bytes: None,
        memory_per_unit_above_base_bytes: None,
        spawn_s: None,
        spawn_per_unit_us: None,
        server_cores_used: None,
        server_connections: None,
        ideal_makespan_s: None,
        makespan_vs_ideal: None,
        rounds: walls
            .iter()
            .enumerate()
            .map(|(i, &wall_s)| RoundFigures {
                round: i + 1,
                wall_s,
                p99_ms: 20.0,
                max_latency_ms: 20.0,
                memory_bytes: rss_mib * (1u64 << 20) as f64,
                io_p99_ms: None,
                units_in_flight: None,
                outlier: false,
            })
            .collect(),
    }
}

/// Sets a cell's p99 latency, merged and in every round, to `ms`.
fn set_p99(c: &mut CellSummary, ms: f64) {
    c.p99_ms = spread([ms]);
    for r in &mut c.rounds {
        r.p99_ms = ms;
        r.max_latency_ms = ms;
    }
}

/// Five rounds of the same wall time.
const FIVE: usize = 5;

#[test]
fn a_mix_is_judged_first_on_io_latency_and_names_the_placement() {
    // Five rounds in which every runtime's IO p99 drifts alike.
    let drift = [0.98, 0.99, 1.0, 1.01, 1.02];
    let mixed = |runtime: &str, io_p99: f64, io_queue: f64| {
        let mut c = CellSummary {
            workload: "mixed".into(),
            io_p99_ms: Some(spread(drift.map(|d| io_p99 * d))),
            io_queue_p99_ms: Some(io_queue),
            ..cell(runtime, &[0.3; FIVE], 1.9, 10.0)
        };
        for (r, d) in c.rounds.iter_mut().zip(drift) {
            r.io_p99_ms = Some(io_p99 * d);
        }
        c
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
    // 0.1 against 0.2 ms of queue wait is twice as good but 0.1 ms cannot account for a
    // 2.8 ms gap: no reason is claimed.
    assert_eq!(v[0].reason, None);
    assert_eq!(v[0].outcome, Outcome::Win);
    assert!(
        v[0].sentence.starts_with(
            "tokio+rayon has 24% lower IO p99 under CPU load than tokio-blocking (95% CI 24–24%, 5 paired rounds)"
        ),
        "{}",
        v[0].sentence
    );
    assert!(
        v[0].sentence
            .ends_with("11.6 ms against 14.4 ms; no measured figure explains the gap."),
        "{}",
        v[0].sentence
    );
    // Against inline CPU work the IO tasks' queue wait does explain it, with the placement.
    let v = judge(&cells[..2]);
    assert_eq!(
        v[0].reason,
        Some(Reason {
            figure: "io_queue_p99_ms".into(),
            winner: 0.1,
            other: 236.0,
            better: Better::Lower,
        })
    );
    assert!(
        v[0].sentence
            .contains("tokio+rayon ran the CPU work on a rayon pool beside the async runtime, tokio-mt inline in async tasks"),
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
        cell("rayon", &[0.28, 0.29, 0.30, 0.29, 0.29], 1.95, 4.0),
        cell("tokio-ct", &[0.54, 0.55, 0.56, 0.55, 0.55], 1.0, 3.0),
    ];
    let v = judge(&cells);
    let w = wall(&v);
    assert_eq!(w.winner, "rayon");
    assert_eq!((w.outcome, w.rounds), (Outcome::Win, 5));
    let cmp = &w.comparisons[0];
    assert_eq!(cmp.runtime, "tokio-ct");
    assert!(cmp.low > 1.8 && cmp.high < 2.0, "{cmp:?}");
    assert!(w.tied.is_empty());
    assert_eq!(w.runner_up.as_deref(), Some("tokio-ct"));
    assert!((w.ratio.unwrap() - 0.55 / 0.29).abs() < 1e-9);
    assert!(
        w.sentence
            .starts_with("rayon is 1.9× faster than tokio-ct (95% CI "),
        "{}",
        w.sentence
    );
    assert!(
        w.sentence.contains(
            "rayon kept 1.95 cores busy against 1.00 (tokio-ct ran every task on one thread)"
        ),
        "{}",
        w.sentence
    );
    // 1 MiB apart is not a memory win, however sure.
    let m = v.iter().find(|v| v.metric == Metric::Memory).unwrap();
    assert_eq!((m.winner.as_str(), m.outcome), ("tokio-ct", Outcome::Tie));
}

#[test]
fn the_runner_up_is_the_closest_beaten_and_never_better_than_a_tied_cell() {
    // A machine whose rounds drift by half: pairing sees through it.
    let base = [0.10, 0.15, 0.10, 0.14, 0.11];
    let times = |k: f64| base.map(|b| b * k);
    let cells = [
        cell("a", &times(1.0), 2.0, 1.0),
        cell("d", &times(1.5), 2.0, 1.0),
        cell("b", &times(1.01), 2.0, 1.0),
        cell("c", &times(1.10), 2.0, 1.0),
    ];
    let w = wall(&judge(&cells)).clone();
    assert_eq!(w.winner, "a");
    assert_eq!(w.tied, ["b"]);
    assert_eq!(w.runner_up.as_deref(), Some("c"));
    assert_eq!(w.outcome, Outcome::Tie);
    assert!(w.undecided.is_empty());
    assert!(
        w.sentence
            .starts_with("tie on wall time: a 0.110 s and b 0.111 s are within 3%"),
        "{}",
        w.sentence
    );
    assert!(
        w.sentence
            .contains("; a is 10% faster than c (95% CI 10–10%, 5 paired rounds)"),
        "{}",
        w.sentence
    );
}

#[test]
fn rounds_that_drift_together_still_decide_where_ranges_overlap() {
    // Every range overlaps every other, but within each round smol takes 10% longer.
    let threads = [0.30, 0.60, 0.30, 0.60, 0.30];
    let cells = [
        cell("threads", &threads, 1.9, 4.0),
        cell("smol", &threads.map(|t| t * 1.1), 1.9, 4.0),
    ];
    let w = wall(&judge(&cells)).clone();
    assert_eq!(
        (w.outcome, w.runner_up.as_deref()),
        (Outcome::Win, Some("smol"))
    );
    // Three rounds are not enough to call it.
    let cells = [
        cell("threads", &threads[..3], 1.9, 4.0),
        cell(
            "smol",
            &threads[..3].iter().map(|t| t * 1.1).collect::<Vec<_>>(),
            1.9,
            4.0,
        ),
    ];
    let w = wall(&judge(&cells)).clone();
    assert_eq!(w.outcome, Outcome::Undecided);
    assert_eq!(w.undecided, ["smol"]);
    assert!(
        w.sentence
            .ends_with("beyond 3% but a win needs 5 paired rounds."),
        "{}",
        w.sentence
    );
}

#[test]
fn waiting_explains_an_io_gap_and_idle_cores_do_not() {
    // Sleep work: almost no CPU; the runner-up's tasks queued for two workers.
    let mut fast = cell("smol", &[0.10; FIVE], 0.06, 9.0);
    fast.workload = "sleep".into();
    fast.queue_p99_ms = 0.2;
    let mut slow = cell("threads", &[0.80; FIVE], 0.04, 9.0);
    slow.workload = "sleep".into();
    slow.queue_p99_ms = 702.5;
    slow.distinct_workers = 2;
    let s = wall(&judge(&[fast, slow])).sentence.clone();
    assert!(
        s.ends_with(
            "with 2 workers, threads made tasks wait up to 702.5 ms for a worker (queue p99) against 0.2 ms."
        ),
        "{s}"
    );
    assert!(!s.contains("cores busy"), "{s}");
}

#[test]
fn a_cell_with_failed_tasks_never_wins_and_is_said_left_out() {
    let mut fast = cell("smol", &[0.05, 0.05, 0.05], 1.9, 1.0);
    fast.tasks_ok = 21;
    fast.tasks_failed = 3;
    fast.errors = [("timeout".to_string(), 3)].into();
    let cells = [
        fast,
        cell("threads", &[0.20, 0.21, 0.22], 1.9, 4.0),
        cell("rayon", &[0.40, 0.41, 0.42], 1.9, 5.0),
    ];
    let verdicts = judge(&cells);
    assert_eq!(verdicts.len(), 3);
    for v in &verdicts {
        assert_eq!(v.winner, "threads", "{v:?}");
        assert_eq!(
            v.left_out,
            [LeftOut {
                runtime: "smol".into(),
                reason: "3 of 24 tasks failed: timeout 3".into()
            }]
        );
        assert!(
            v.sentence.ends_with(
                "Left out, as its figures are not of the whole work: smol (3 of 24 tasks failed: timeout 3)."
            ),
            "{}",
            v.sentence
        );
    }
    // With one clean cell left, it is not said to win, only to be the one that finished.
    let w = wall(&judge(&cells[..2])).clone();
    assert_eq!(w.runner_up, None);
    assert!(
        w.sentence
            .starts_with("threads is the only runtime that finished every task"),
        "{}",
        w.sentence
    );
}

// The four false causes docs/STUDY.md once published, rebuilt from their figures.
#[test]
fn a_reason_only_cites_a_figure_that_favours_the_winner() {
    // download, 8 workers, p99: the winner's tasks ran longer once started; the runner-up
    // lost on queue wait.
    let mut smol = cell("smol", &[0.3; FIVE], 0.4, 9.0);
    smol.workload = "io download".into();
    set_p99(&mut smol, 211.0);
    (smol.service_p99_ms, smol.queue_p99_ms) = (209.1, 2.3);
    let mut threads = cell("threads", &[0.5; FIVE], 0.4, 9.0);
    threads.workload = "io download".into();
    set_p99(&mut threads, 330.0);
    (threads.service_p99_ms, threads.queue_p99_ms) = (165.7, 162.9);
    let v = judge(&[smol.clone(), threads.clone()]);
    let p99 = v.iter().find(|v| v.metric == Metric::P99).unwrap();
    assert_eq!(p99.reason.as_ref().unwrap().figure, "queue_p99_ms");
    assert_eq!(
        (
            p99.reason.as_ref().unwrap().winner,
            p99.reason.as_ref().unwrap().other
        ),
        (2.3, 162.9)
    );
    assert!(!p99.sentence.contains("service p99"), "{}", p99.sentence);

    // CPU loops, wall: 1.93 against 1.55 cores is 24% apart, not "close".
    let cells = [
        cell("threads", &[0.30; FIVE], 1.93, 4.0),
        cell("smol", &[0.37; FIVE], 1.55, 4.0),
    ];
    let w = wall(&judge(&cells)).clone();
    assert_eq!(w.reason.as_ref().unwrap().figure, "cores_used");
    assert!(!w.sentence.contains("were close"), "{}", w.sentence);

    // sleep, 16 workers, memory: equal thread and process counts explain nothing.
    let mut a = cell("tokio-ct", &[1.0; FIVE], 0.01, 3.0);
    let mut b = cell("smol", &[1.0; FIVE], 0.01, 6.0);
    for c in [&mut a, &mut b] {
        c.workload = "sleep".into();
        (c.threads_peak, c.processes_peak) = (1, 1);
    }
    let m = judge(&[a, b])
        .into_iter()
        .find(|v| v.metric == Metric::Memory)
        .unwrap();
    assert_eq!(m.reason, None);
    assert!(
        m.sentence.contains("no measured figure explains the gap"),
        "{}",
        m.sentence
    );
    assert!(
        !m.sentence.contains("1 thread and 1 process"),
        "{}",
        m.sentence
    );

    // download, 16 workers, wall: cores busy do not explain how IO finished sooner.
    smol.cores_used = 0.9;
    threads.cores_used = 0.3;
    threads.queue_p99_ms = smol.queue_p99_ms;
    let w = wall(&judge(&[smol, threads])).clone();
    assert_eq!(w.reason, None, "{}", w.sentence);
    assert!(!w.sentence.contains("cores busy"), "{}", w.sentence);
}

#[test]
fn a_single_run_decides_nothing_and_says_its_noise_is_unmeasured() {
    let cells = [
        cell("rayon", &[0.100], 1.9, 4.0),
        cell("smol", &[0.101], 1.9, 4.0),
    ];
    let w = wall(&judge(&cells)).clone();
    assert_eq!(
        (w.outcome, w.undecided.as_slice()),
        (Outcome::Undecided, &["smol".to_string()][..])
    );
    assert!(w.tied.is_empty());
    assert!(
        w.sentence
            .ends_with("(one run per cell: noise unmeasured)."),
        "{}",
        w.sentence
    );
}

#[test]
fn below_100_tasks_the_tail_is_judged_as_the_maximum() {
    let runs: Vec<RunRecord> = ["threads", "smol"]
        .iter()
        .map(|rt| {
            let mut r = crate::report::tests::sample_record();
            r.runtime = rt.to_string();
            r.tasks.ok = r.tasks.total;
            r.tasks.failed = 0;
            r.tasks.errors.clear();
            r
        })
        .collect();
    let cells = summarize(&runs);
    let merged = cells[0].latency_ms.as_ref().unwrap();
    // Three repeats of eight tasks, one failed and so not in the histogram.
    assert_eq!(merged.count, 23);
    let v = judge(&cells);
    assert!(v.iter().all(|v| v.metric != Metric::P99), "{v:?}");
    let tail = v.iter().find(|v| v.metric == Metric::MaxLatency).unwrap();
    assert_eq!(tail.value, merged.max);
    assert!(tail.sentence.contains("max latency"), "{}", tail.sentence);
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
fn a_paired_interval_within_the_effect_is_a_tie() {
    let threads = [0.29, 0.36, 0.27, 0.33, 0.30];
    let smol = [1.01, 0.99, 1.02, 1.0, 1.01];
    let cells = [
        cell("threads", &threads, 1.9, 4.0),
        cell(
            "smol",
            &std::array::from_fn::<f64, 5, _>(|i| threads[i] * smol[i]),
            1.9,
            4.0,
        ),
    ];
    let w = wall(&judge(&cells)).clone();
    assert_eq!(w.winner, "threads");
    assert_eq!(w.tied, ["smol"]);
    assert_eq!((w.runner_up.as_ref(), w.outcome), (None, Outcome::Tie));
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
    // A noisy winner whose rounds disagree with the runner-up's is undecided, not a win.
    let mut a = cell("threads", &[0.20, 0.30, 0.45, 0.21, 0.44], 1.9, 4.0);
    a.noisy = true;
    let b = cell("smol", &[0.40, 0.41, 0.42, 0.40, 0.41], 1.9, 4.0);
    let w = wall(&judge(&[a, b])).clone();
    assert_eq!(
        (w.outcome, w.undecided.as_slice()),
        (Outcome::Undecided, &["smol".to_string()][..])
    );
}

/// A sleep run of `tasks` tasks, all in flight, peaking at `rss_mib`, that took `spawn_s`
/// to start them all.
fn scale_run(runtime: &str, workers: usize, tasks: usize, rss_mib: f64, spawn_s: f64) -> RunRecord {
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
    // Every task finished: a cell with failed tasks is never judged.
    r.tasks.ok = r.tasks.total;
    r.tasks.failed = 0;
    r.tasks.errors.clear();
    r
}

#[test]
fn spawn_time_and_units_in_flight_come_from_the_task_records() {
    use crate::measure::tests::{fake_meta, fake_run};
    // 8 tasks of 25 ms on two lanes, all submitted 1 ms in: the last starts 75 ms after
    // the submission, and a lane's next task starts the instant its last one ends.
    let rec = crate::measure::summarize(
        &fake_meta(crate::model::Runtime::Threads),
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
    // Five rounds of each cell, so a memory difference can be called.
    let runs: Vec<RunRecord> = (1..=FIVE)
        .flat_map(|round| {
            [
                scale_run("smol", 2, 100, 10.0, 0.001),
                scale_run("smol", 2, 1000, 11.0, 0.004),
                scale_run("tokio-mt", 2, 100, 10.0, 0.001),
                scale_run("tokio-mt", 2, 1000, 14.0, 0.004),
                scale_run("thread-per-task", 100, 100, 12.0, 0.01),
            ]
            .map(|mut r| {
                r.round = Some(round);
                r
            })
        })
        .collect();
    let skipped = [crate::model::compare::Skipped {
        runtime: "thread-per-task".into(),
        workers: 1000,
        tasks: 1000,
        reason: "over --max-threads 500 (each unit holds an OS thread; raise the limit to try)"
            .into(),
    }];
    let verdicts = judge_scale(&summarize(&runs), &skipped, DEFAULT_MIN_EFFECT);
    let v = verdicts
        .iter()
        .find(|v| v.metric == Metric::MemoryPerUnit)
        .unwrap();
    assert_eq!((v.winner.as_str(), v.tasks), ("smol", 1000));
    assert_eq!(v.runner_up.as_deref(), Some("tokio-mt"));
    assert!((v.ratio.unwrap() - 14.0 / 11.0).abs() < 1e-9);
    assert!(
        v.sentence
            .starts_with("smol uses 27% less memory per unit than tokio-mt (95% CI 27–27%, 5 paired rounds): 11.3 KiB against 14.3 KiB"),
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

// A lead quoted as 1.7× has its interval in × too, even when the interval's low end would
// read as a percentage on its own.
#[test]
fn an_interval_is_quoted_in_the_unit_of_its_lead() {
    use super::prose::{interval, margin};
    assert_eq!(margin(1.7), "1.7×");
    assert_eq!(interval(1.7, 1.49, 2.01), "95% CI 1.5–2.0×");
    assert_eq!(margin(1.12), "12%");
    assert_eq!(interval(1.12, 1.05, 1.2), "95% CI 5.0–20%");
    assert_eq!(interval(1.02, 0.99, 1.06), "95% CI 0.99–1.06×");
}
