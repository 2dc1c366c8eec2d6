//! CSV: one header row and one row per run, flat columns, for spreadsheets and scripts.

use serde::Serialize;

use crate::measure::record::RunRecord;

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
