//! A run's headline, its summary rows and its latency rows, shared by the table and Markdown.

use super::numbers::{bytes, fixed, group};
use crate::model::Runtime;
use crate::model::run::RunRecord;

/// The headline of a run: what ran, on what, how often.
pub(super) fn title(r: &RunRecord) -> String {
    let iters = r
        .workload
        .iters
        .map(|i| format!(" ({} iters)", group(i)))
        .unwrap_or_default();
    format!(
        "{} {}{iters} on {}: {} workers, {} tasks x {} repeat{}",
        r.workload.kind,
        r.workload.name,
        r.runtime,
        r.workers,
        r.workload.tasks_per_run,
        r.repeat.count,
        if r.repeat.count == 1 { "" } else { "s" },
    )
}

/// The headline figures of a run as (name, value) pairs, shared by the table and Markdown.
pub(super) fn summary_rows(r: &RunRecord) -> Vec<(&'static str, String)> {
    let mut rows = vec![("tasks", tasks_row(r)), ("wall", wall_row(r))];
    if let Some(startup) = startup_row(r) {
        rows.push(("start-up", startup));
    }
    let (threads, processes) = unit_rows(r);
    rows.extend([
        (
            "throughput",
            format!("{} tasks/s", fixed(r.throughput_per_s, 1)),
        ),
        ("speed-up vs serial", speedup_row(r)),
        (
            "tasks running at once",
            format!(
                "{} on average (ideal parallelism {}; a task counts while it waits or is descheduled)",
                fixed(r.mean_tasks_running, 2),
                r.ideal_parallelism
            ),
        ),
        (
            "CPU per run",
            format!(
                "{} s user + {} s sys = {} cores busy",
                fixed(r.cpu.user_s, 3),
                fixed(r.cpu.sys_s, 3),
                fixed(r.cpu.cores_used, 2)
            ),
        ),
        ("peak memory", memory_row(r)),
        (
            "context switches",
            format!(
                "{} voluntary, {} involuntary",
                r.context_switches.voluntary, r.context_switches.involuntary
            ),
        ),
        ("threads", threads),
        ("processes", processes),
    ]);
    if let Some(server) = server_row(r) {
        rows.push(("server", server));
    }
    if let Some(cpus) = &r.client_cpus {
        rows.push((
            "client CPUs",
            format!("pinned to {}", crate::cpus::show(cpus)),
        ));
    }
    rows.extend(extra_rows(r));
    if let Some(py) = &r.python {
        let gil = if py.gil { "with the GIL" } else { "GIL off" };
        let aiohttp = py.aiohttp.as_deref().map(|v| format!(", aiohttp {v}"));
        rows.push((
            "python",
            format!(
                "{} {} ({}), {gil}{}",
                py.implementation,
                py.version,
                py.path,
                aiohttp.unwrap_or_default()
            ),
        ));
    }
    rows.push((
        "machine",
        format!(
            "{}, {} logical cores, {}, kernel {}",
            r.machine.cpu_model, r.machine.logical_cores, r.machine.os, r.machine.kernel
        ),
    ));
    rows
}

/// The server's own cost beside the client's: where it was, what serving cost its process.
fn server_row(r: &RunRecord) -> Option<String> {
    let side = r.server.as_ref()?;
    let scheme = if side.tls { "https" } else { "http" };
    let head = format!("{} {scheme} ({})", side.kind, side.url);
    let Some(c) = &side.cost else {
        return Some(format!("{head}: its cost is unknown (see notes)"));
    };
    Some(format!(
        "{head}: {} connections for {} requests; CPU {} s user + {} s sys = {} cores busy; {} voluntary, {} involuntary switches; peak {}; CPUs {}",
        c.connections,
        c.requests,
        fixed(c.cpu.user_s, 3),
        fixed(c.cpu.sys_s, 3),
        fixed(c.cpu.cores_used, 2),
        c.context_switches.voluntary,
        c.context_switches.involuntary,
        bytes(c.peak_rss_bytes),
        crate::cpus::show(&c.cpus)
    ))
}

/// `23 ok, 1 failed of 24 (check: 1)`.
fn tasks_row(r: &RunRecord) -> String {
    let t = &r.tasks;
    let mut tasks = format!("{} ok, {} failed of {}", t.ok, t.failed, t.total);
    if !t.errors.is_empty() {
        let kinds: Vec<String> = t.errors.iter().map(|(k, n)| format!("{k}: {n}")).collect();
        tasks.push_str(&format!(" ({})", kinds.join(", ")));
    }
    tasks
}

/// The median wall time, and its range over several repeats.
fn wall_row(r: &RunRecord) -> String {
    let mut wall = format!("{} s", fixed(r.wall_s, 3));
    if r.repeat.count > 1 {
        let walls = r.repeat.wall_s.iter().copied();
        let lo = walls.clone().fold(f64::INFINITY, f64::min);
        let hi = walls.fold(0.0, f64::max);
        wall.push_str(&format!(
            " median of {} (min {}, max {})",
            r.repeat.count,
            fixed(lo, 3),
            fixed(hi, 3)
        ));
    }
    wall
}

/// Speed-up and efficiency, with the rule the ideal parallelism follows.
fn speedup_row(r: &RunRecord) -> String {
    match (r.speedup, r.efficiency) {
        (Some(s), Some(e)) => format!(
            "{}x, efficiency {} of ideal {} ({})",
            fixed(s, 2),
            fixed(e, 2),
            r.ideal_parallelism,
            ideal_rule(&r.workload.kind)
        ),
        _ => format!(
            "unknown (no serial baseline; ideal {})",
            r.ideal_parallelism
        ),
    }
}

/// The measuring process's peak, and its worker processes' when it had any.
fn memory_row(r: &RunRecord) -> String {
    let mut memory = bytes(r.memory.peak_rss_bytes);
    if r.memory.children_peak_rss_bytes > 0 {
        // A Python run's figure is its interpreter's peak plus each pool worker's.
        let what = if r.python.is_some() {
            "Python processes together"
        } else {
            "largest worker process"
        };
        memory.push_str(&format!(
            " ({what} {}",
            bytes(r.memory.children_peak_rss_bytes)
        ));
        if r.memory.children_unmeasured > 0 {
            memory.push_str(&format!(
                "; {} died before theirs could be read",
                r.memory.children_unmeasured
            ));
        }
        memory.push(')');
    }
    memory
}

/// The thread and process rows; the distinct workers go with whichever ran the tasks.
fn unit_rows(r: &RunRecord) -> (String, String) {
    let in_processes = Runtime::from_name(&r.runtime).is_some_and(Runtime::uses_processes);
    let (mut threads, mut processes) = (
        format!("{} peak", r.threads.peak),
        format!("{} peak", r.processes.peak),
    );
    let ran = format!(", {} ran tasks", r.distinct_workers);
    if in_processes {
        processes.push_str(&ran);
    } else {
        threads.push_str(&ran);
    }
    (threads, processes)
}

/// The rows only some runs have: a mix's IO latency, an open loop's rates, tokio's view.
fn extra_rows(r: &RunRecord) -> Vec<(&'static str, String)> {
    let mut rows = Vec::new();
    if let Some(m) = &r.mixed {
        rows.push((
            "IO under CPU load",
            format!(
                "{} IO tasks: p50 {} ms, p99 {} ms; beside {} CPU tasks",
                m.io_tasks,
                fixed(m.io_latency_ms.p50, 1),
                fixed(m.io_latency_ms.p99, 1),
                m.cpu_tasks
            ),
        ));
    }
    if let Some(o) = &r.open_loop {
        let span = r.workload.tasks_per_run.saturating_sub(1) as f64 / o.rate_per_s;
        rows.push((
            "open loop",
            format!(
                "{} tasks/s offered over {} s, {} completed/s; p99 raw {} ms, corrected {} ms",
                fixed(o.rate_per_s, 1),
                fixed(span, 3),
                fixed(r.throughput_per_s, 1),
                fixed(r.service_ms.p99, 1),
                fixed(r.latency_ms.p99, 1)
            ),
        ));
    }
    if let Some(t) = &r.tokio {
        let busy = t
            .busy_ratio
            .map(|b| format!("{}% busy", fixed(b * 100.0, 0)))
            .unwrap_or_else(|| "busy time unknown".into());
        rows.push((
            "tokio runtime",
            format!(
                "{} worker thread{}, {busy}{}",
                t.workers,
                if t.workers == 1 { "" } else { "s" },
                if t.first_poll_delay_ms.count > 0 {
                    format!("; {} polls per task", fixed(t.mean_polls_per_task, 1))
                } else {
                    "; tasks not instrumented".into()
                }
            ),
        ));
    }
    rows
}

/// How the ideal parallelism of a workload kind is counted (see `RunRecord::ideal_parallelism`).
pub(super) fn ideal_rule(kind: &str) -> &'static str {
    if kind == "cpu" {
        "min(workers, cores, tasks)"
    } else {
        "tasks in flight: min(in-flight limit, tasks)"
    }
}

/// A tail percentile as tables show it: the value, or `max (n=8)` when the samples are too few
/// for the percentile to be anything but their maximum.
pub(super) fn tail(
    value: f64,
    s: &crate::model::histogram::Summary,
    least: u64,
    digits: usize,
) -> String {
    if s.count < least {
        format!("{} max (n={})", fixed(s.max, digits), s.count)
    } else {
        fixed(value, digits)
    }
}

/// What the start-up figure of a run covers; `None` for records made before it was measured.
pub(super) fn startup_row(r: &RunRecord) -> Option<String> {
    let ms = fixed(r.startup_s? * 1e3, 3);
    let runtime = Runtime::from_name(&r.runtime);
    Some(match runtime.filter(|rt| rt.creates_unit_per_task()) {
        Some(rt) => format!(
            "{ms} ms (median); each task's {} is created inside its queue wait",
            if rt.uses_processes() {
                "process"
            } else {
                "thread"
            }
        ),
        None => format!(
            "{ms} ms (median): runtime built, every worker running; in wall, before queue wait"
        ),
    })
}

/// Header of the latency table.
pub(super) const LATENCY_HEADER: [&str; 8] =
    ["ms", "count", "mean", "p50", "p90", "p99", "p99.9", "max"];

/// The latency columns a terminal's compact table shows: the median, the tail and the worst.
pub(super) const LATENCY_COMPACT: [&str; 6] = ["ms", "count", "p50", "p90", "p99", "max"];

/// Latency, queue and service rows in milliseconds, shared by the table and Markdown.
pub(super) fn latency_rows(r: &RunRecord) -> Vec<[String; 8]> {
    // Open loop, latency from the schedule is the corrected figure and service time is the
    // raw one a closed-loop generator would report (see `OpenLoop`).
    let (latency, service) = if r.open_loop.is_some() {
        ("latency (corrected)", "service (raw latency)")
    } else {
        ("latency", "service")
    };
    let mut rows = vec![
        (latency, &r.latency_ms),
        ("queue", &r.queue_ms),
        (service, &r.service_ms),
    ];
    // tokio's view of the same tasks sits next to the harness's queue wait.
    if let Some(t) = r.tokio.as_ref().filter(|t| t.first_poll_delay_ms.count > 0) {
        rows.insert(2, ("tokio first poll", &t.first_poll_delay_ms));
        rows.insert(3, ("tokio scheduled", &t.scheduled_ms));
        rows.push(("tokio polled", &t.polled_ms));
    }
    // A mixed run's headline: the IO tasks apart from the CPU tasks.
    if let Some(m) = &r.mixed {
        rows.extend([
            ("IO tasks latency", &m.io_latency_ms),
            ("IO tasks queue", &m.io_queue_ms),
            ("CPU tasks latency", &m.cpu_latency_ms),
            ("CPU tasks service", &m.cpu_service_ms),
        ]);
    }
    rows.into_iter()
        .map(|(name, s)| {
            [
                name.to_string(),
                s.count.to_string(),
                fixed(s.mean, 3),
                fixed(s.p50, 3),
                fixed(s.p90, 3),
                tail(s.p99, s, crate::analysis::judge::MIN_P99_SAMPLES, 3),
                tail(s.p999, s, 10 * crate::analysis::judge::MIN_P99_SAMPLES, 3),
                fixed(s.max, 3),
            ]
        })
        .collect()
}
