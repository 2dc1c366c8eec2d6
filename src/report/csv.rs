//! CSV: one header row and one row per run, flat columns, for spreadsheets and scripts.

use serde::Serialize;

use crate::model::compare::CellSummary;
use crate::model::run::RunRecord;

/// A run as one flat CSV row.
#[derive(Serialize)]
struct Row<'a> {
    runtime: &'a str,
    workload_kind: &'a str,
    workload: &'a str,
    iters: Option<u64>,
    workers: usize,
    tasks_per_run: usize,
    repeats: usize,
    tasks_total: u64,
    tasks_ok: u64,
    tasks_failed: u64,
    wall_s: f64,
    startup_s: Option<f64>,
    throughput_per_s: f64,
    speedup: Option<f64>,
    efficiency: Option<f64>,
    utilization: f64,
    latency_p50_ms: f64,
    latency_p99_ms: f64,
    latency_max_ms: f64,
    queue_p50_ms: f64,
    service_p50_ms: f64,
    service_mean_ms: f64,
    cpu_user_s: f64,
    cpu_sys_s: f64,
    cores_used: f64,
    peak_rss_bytes: u64,
    ctx_voluntary: u64,
    ctx_involuntary: u64,
    threads_peak: u64,
    processes_peak: u64,
    distinct_workers: usize,
    logical_cores: usize,
    cpu_model: &'a str,
    io_tasks_latency_p50_ms: Option<f64>,
    io_tasks_latency_p99_ms: Option<f64>,
    rate_per_s: Option<f64>,
}

/// One comparison cell as a flat CSV row.
#[derive(Serialize)]
pub(super) struct CompareRow<'a> {
    workload: &'a str,
    runtime: &'a str,
    workers: usize,
    tasks: usize,
    runs: usize,
    wall_median_s: f64,
    wall_min_s: f64,
    wall_max_s: f64,
    startup_median_s: Option<f64>,
    noisy: bool,
    speedup: Option<f64>,
    speedup_vs: Option<&'a str>,
    efficiency: Option<f64>,
    ideal_parallelism: usize,
    latency_p50_ms: f64,
    latency_p99_ms: f64,
    latency_max_ms: Option<f64>,
    latency_samples: Option<u64>,
    queue_p99_ms: f64,
    service_p99_ms: f64,
    tokio_first_poll_p99_ms: Option<f64>,
    tokio_busy_ratio: Option<f64>,
    io_tasks_p99_ms: Option<f64>,
    cores_used: f64,
    cpu_s: f64,
    memory_bytes: f64,
    memory_is_upper_estimate: bool,
    threads_peak: u64,
    processes_peak: u64,
    distinct_workers: usize,
    tasks_ok: u64,
    tasks_failed: u64,
    /// `timeout:3 reset:1`: the failed tasks by kind.
    failed_kinds: String,
    // The per-unit columns only exist in a `--scale` comparison: the outer `None` leaves the
    // column out, the inner one leaves a figure the cell does not have empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    units_in_flight: Option<Option<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    memory_per_unit_bytes: Option<Option<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    memory_per_unit_above_base_bytes: Option<Option<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    spawn_s: Option<Option<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    spawn_per_unit_us: Option<Option<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    makespan_vs_ideal: Option<Option<f64>>,
}

impl<'a> CompareRow<'a> {
    /// The row of cell `c`, with the per-unit columns when `scale`.
    pub(super) fn new(c: &'a CellSummary, scale: bool) -> Self {
        let scaled = |v: Option<f64>| scale.then_some(v);
        CompareRow {
            workload: &c.workload,
            runtime: &c.runtime,
            workers: c.workers,
            tasks: c.tasks,
            runs: c.runs,
            wall_median_s: c.wall_s.median,
            wall_min_s: c.wall_s.min,
            wall_max_s: c.wall_s.max,
            startup_median_s: c.startup_s,
            noisy: c.noisy,
            speedup: c.speedup,
            speedup_vs: c.speedup_vs.as_deref(),
            efficiency: c.efficiency,
            ideal_parallelism: c.ideal_parallelism,
            latency_p50_ms: c.p50_ms,
            // Over every run's tasks merged, as the tables show it; below 100 samples it is
            // their maximum (see latency_samples).
            latency_p99_ms: c.latency_ms.as_ref().map_or(c.p99_ms.median, |s| s.p99),
            latency_max_ms: c.latency_ms.as_ref().map(|s| s.max),
            latency_samples: c.latency_ms.as_ref().map(|s| s.count),
            queue_p99_ms: c.queue_p99_ms,
            service_p99_ms: c.service_p99_ms,
            tokio_first_poll_p99_ms: c.first_poll_p99_ms,
            tokio_busy_ratio: c.busy_ratio,
            io_tasks_p99_ms: c.io_p99_ms.map(|s| s.median),
            cores_used: c.cores_used,
            cpu_s: c.cpu_s,
            memory_bytes: c.memory_bytes.median,
            memory_is_upper_estimate: crate::model::Runtime::from_name(&c.runtime)
                .is_some_and(crate::model::Runtime::uses_processes),
            threads_peak: c.threads_peak,
            processes_peak: c.processes_peak,
            distinct_workers: c.distinct_workers,
            tasks_ok: c.tasks_ok,
            tasks_failed: c.tasks_failed,
            failed_kinds: c
                .errors
                .iter()
                .map(|(k, n)| format!("{k}:{n}"))
                .collect::<Vec<_>>()
                .join(" "),
            units_in_flight: scaled(c.units_in_flight),
            memory_per_unit_bytes: scaled(c.memory_per_unit_bytes),
            memory_per_unit_above_base_bytes: scaled(c.memory_per_unit_above_base_bytes),
            spawn_s: scaled(c.spawn_s),
            spawn_per_unit_us: scaled(c.spawn_per_unit_us),
            makespan_vs_ideal: scaled(c.makespan_vs_ideal),
        }
    }
}

/// The CSV of one run.
pub fn run(r: &RunRecord) -> anyhow::Result<String> {
    rows(&[Row {
        runtime: &r.runtime,
        workload_kind: &r.workload.kind,
        workload: &r.workload.name,
        iters: r.workload.iters,
        workers: r.workers,
        tasks_per_run: r.workload.tasks_per_run,
        repeats: r.repeat.count,
        tasks_total: r.tasks.total,
        tasks_ok: r.tasks.ok,
        tasks_failed: r.tasks.failed,
        wall_s: r.wall_s,
        startup_s: r.startup_s,
        throughput_per_s: r.throughput_per_s,
        speedup: r.speedup,
        efficiency: r.efficiency,
        utilization: r.utilization,
        latency_p50_ms: r.latency_ms.p50,
        latency_p99_ms: r.latency_ms.p99,
        latency_max_ms: r.latency_ms.max,
        queue_p50_ms: r.queue_ms.p50,
        service_p50_ms: r.service_ms.p50,
        service_mean_ms: r.service_ms.mean,
        cpu_user_s: r.cpu.user_s,
        cpu_sys_s: r.cpu.sys_s,
        cores_used: r.cpu.cores_used,
        peak_rss_bytes: r.memory.peak_rss_bytes,
        ctx_voluntary: r.context_switches.voluntary,
        ctx_involuntary: r.context_switches.involuntary,
        threads_peak: r.threads.peak,
        processes_peak: r.processes.peak,
        distinct_workers: r.distinct_workers,
        logical_cores: r.machine.logical_cores,
        cpu_model: &r.machine.cpu_model,
        io_tasks_latency_p50_ms: r.mixed.as_ref().map(|m| m.io_latency_ms.p50),
        io_tasks_latency_p99_ms: r.mixed.as_ref().map(|m| m.io_latency_ms.p99),
        rate_per_s: r.open_loop.as_ref().map(|o| o.rate_per_s),
    }])
}

/// Any serializable rows as CSV with a header.
pub fn rows<T: Serialize>(rows: &[T]) -> anyhow::Result<String> {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    for row in rows {
        w.serialize(row)?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}
