//! What a run reports about the machinery under it: tokio's own view (tokio-metrics), present
//! for tokio runtimes only and consistent with the harness's timings; and peak memory that is
//! the run's own, not inherited from the process that started it.

use crate::common;

use common::{cpu_args, run_json};

#[test]
fn tokio_runs_carry_scheduling_figures_that_agree_with_the_harness() {
    // 20 sleeps, 5 in flight: most tasks wait for a permit after their first poll, so the
    // harness's queue wait must exceed tokio's first-poll delay.
    let r = run_json(&[
        "io",
        "--runtime",
        "tokio-mt",
        "--workers",
        "2",
        "--workload",
        "sleep",
        "--tasks",
        "20",
        "--sleep",
        "20ms",
        "--concurrency",
        "5",
        "--format",
        "json",
    ]);
    let t = &r["tokio"];
    assert_eq!(t["first_poll_delay_ms"]["count"], 20);
    assert_eq!(t["workers"], 2);
    let busy = t["busy_ratio"].as_f64().unwrap();
    assert!((0.0..=1.05).contains(&busy), "{busy}");
    // A sleep is polled at least twice: once to arm the timer, once when it fires.
    assert!(t["mean_polls_per_task"].as_f64().unwrap() >= 2.0);
    let first_poll_p99 = t["first_poll_delay_ms"]["p99"].as_f64().unwrap();
    let queue_p99 = r["queue_ms"]["p99"].as_f64().unwrap();
    assert!(queue_p99 >= 20.0, "{queue_p99}");
    assert!(
        first_poll_p99 < queue_p99,
        "{first_poll_p99} vs {queue_p99}"
    );

    // CPU tasks with no permit to wait for finish in their one and only poll.
    let r = run_json(&cpu_args("tokio-mt", "10000", &[]));
    assert_eq!(r["tokio"]["mean_polls_per_task"], 1.0);
    assert_eq!(r["tokio"]["first_poll_delay_ms"]["count"], 6);

    // Without per-task monitors only the runtime's figures remain.
    let r = run_json(&cpu_args("tokio-mt", "10000", &["--no-tokio-metrics"]));
    assert_eq!(r["tokio"]["first_poll_delay_ms"]["count"], 0);
    assert!(r["tokio"]["busy_ratio"].as_f64().is_some());

    // tokio-blocking runs CPU tasks straight in spawn_blocking: nothing to poll.
    let r = run_json(&cpu_args("tokio-blocking", "10000", &[]));
    assert_eq!(r["tokio"]["first_poll_delay_ms"]["count"], 0);
    assert_eq!(r["tokio"]["workers"], 1);
}

#[test]
fn other_runtimes_have_no_tokio_figures() {
    for rt in ["smol", "async-std", "threads"] {
        let r = run_json(&cpu_args(rt, "10000", &[]));
        assert!(r.get("tokio").is_none(), "{rt}");
    }
}

#[test]
fn peak_memory_is_the_runs_own_not_its_parents() {
    // ru_maxrss survives fork and exec, so a child of a big process used to report the
    // parent's size (77 MiB under `cargo run`). Make this test process big, then look.
    let big: Vec<u8> = vec![1; 300 << 20];
    assert_eq!(std::hint::black_box(&big)[123_456], 1);
    for rt in ["serial", "process-pool"] {
        let r = run_json(&cpu_args(rt, "10000", &[]));
        let own = r["memory"]["peak_rss_bytes"].as_u64().unwrap();
        let child = r["memory"]["children_peak_rss_bytes"].as_u64().unwrap();
        assert!(own > 1 << 20 && own < 100 << 20, "{rt}: {own}");
        if rt == "process-pool" {
            assert!(child > 1 << 20 && child < 100 << 20, "{rt}: child {child}");
        } else {
            assert_eq!(child, 0, "{rt}");
        }
    }
    drop(big);
}
