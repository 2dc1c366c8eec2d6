//! Every way results leave the tool: formatting (one file per format) and writing.
//!
//! Formatters only turn records into text; [`emit`] is the one place that writes, to stdout or
//! atomically to a file. Nothing outside this module formats output.

mod csv;
mod json;
mod markdown;
mod table;

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use serde::Serialize;

use crate::executor::Runtime;
use crate::measure::record::RunRecord;
use crate::plan::{Format, Output, dir_of};

/// Formats one run record.
pub fn render_run(record: &RunRecord, format: Format) -> anyhow::Result<String> {
    match format {
        Format::Table => Ok(table::run(record)),
        Format::Markdown => Ok(markdown::run(record)),
        Format::Csv => csv::run(record),
        Format::Json => json::to_json(record),
    }
}

/// Formats the list of runtimes.
pub fn render_runtimes(format: Format) -> anyhow::Result<String> {
    let rows: Vec<RuntimeRow> = Runtime::ALL.into_iter().map(RuntimeRow::from).collect();
    match format {
        Format::Table => Ok(table::runtimes(&rows)),
        Format::Markdown => Ok(markdown::runtimes(&rows)),
        Format::Csv => csv::rows(&rows),
        Format::Json => json::to_json(&rows),
    }
}

/// Writes `text` where `output` says: stdout, or a file replaced atomically.
///
/// A closed stdout (`asyncstudy ... | head`) is not an error: the reader has what it wanted.
pub fn emit(output: &Output, text: &str) -> anyhow::Result<()> {
    match &output.path {
        None => {
            let mut out = std::io::stdout().lock();
            match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                other => other.context("could not write to stdout"),
            }
        }
        Some(path) => write_atomically(path, text.as_bytes()),
    }
}

/// Writes `bytes` to a temporary file beside `path` and renames it into place, so `path` is
/// either its old self or complete, never half-written.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = dir_of(path);
    let mut tmp = tempfile::Builder::new()
        .prefix(".asyncstudy-")
        .tempfile_in(dir)
        .with_context(|| format!("could not create a temporary file in {}", dir.display()))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("could not write {}", path.display()))?;
    tmp.persist(path)
        .with_context(|| format!("could not write {}", path.display()))?;
    Ok(())
}

/// One runtime as listings show it.
#[derive(Debug, Serialize)]
struct RuntimeRow {
    runtime: &'static str,
    runs_tasks_on: &'static str,
    workers_n_means: &'static str,
    note: &'static str,
}

impl From<Runtime> for RuntimeRow {
    fn from(rt: Runtime) -> Self {
        RuntimeRow {
            runtime: rt.name(),
            runs_tasks_on: rt.runs_tasks_on(),
            workers_n_means: rt.workers_mean(),
            note: rt.note().unwrap_or(""),
        }
    }
}

/// The headline of a run: what ran, on what, how often.
fn title(r: &RunRecord) -> String {
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
fn summary_rows(r: &RunRecord) -> Vec<(&'static str, String)> {
    let t = &r.tasks;
    let mut tasks = format!("{} ok, {} failed of {}", t.ok, t.failed, t.total);
    if !t.errors.is_empty() {
        let kinds: Vec<String> = t.errors.iter().map(|(k, n)| format!("{k}: {n}")).collect();
        tasks.push_str(&format!(" ({})", kinds.join(", ")));
    }
    let mut wall = format!("{} s", fixed(r.wall_s, 3));
    if r.repeat.count > 1 {
        let lo = r
            .repeat
            .wall_s
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min);
        let hi = r.repeat.wall_s.iter().copied().fold(0.0, f64::max);
        wall.push_str(&format!(
            " median of {} (min {}, max {})",
            r.repeat.count,
            fixed(lo, 3),
            fixed(hi, 3)
        ));
    }
    let speedup = match (r.speedup, r.efficiency) {
        (Some(s), Some(e)) => format!(
            "{}x, efficiency {} of ideal {}",
            fixed(s, 2),
            fixed(e, 2),
            r.ideal_parallelism
        ),
        _ => format!(
            "unknown (no serial baseline; ideal {})",
            r.ideal_parallelism
        ),
    };
    let mut memory = bytes(r.memory.peak_rss_bytes);
    if r.memory.children_peak_rss_bytes > 0 {
        memory.push_str(&format!(
            " (largest child {})",
            bytes(r.memory.children_peak_rss_bytes)
        ));
    }
    // Distinct workers are threads or processes, whichever ran the tasks.
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
    vec![
        ("tasks", tasks),
        ("wall", wall),
        (
            "throughput",
            format!("{} tasks/s", fixed(r.throughput_per_s, 1)),
        ),
        ("speed-up vs serial", speedup),
        (
            "time in tasks",
            format!("{} of ideal workers x wall", fixed(r.utilization, 2)),
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
        ("peak memory", memory),
        (
            "context switches",
            format!(
                "{} voluntary, {} involuntary",
                r.context_switches.voluntary, r.context_switches.involuntary
            ),
        ),
        ("threads", threads),
        ("processes", processes),
        (
            "machine",
            format!(
                "{}, {} logical cores, {}, kernel {}",
                r.machine.cpu_model, r.machine.logical_cores, r.machine.os, r.machine.kernel
            ),
        ),
    ]
}

/// Header of the latency table.
const LATENCY_HEADER: [&str; 8] = ["ms", "count", "mean", "p50", "p90", "p99", "p99.9", "max"];

/// Latency, queue and service rows in milliseconds, shared by the table and Markdown.
fn latency_rows(r: &RunRecord) -> Vec<[String; 8]> {
    [
        ("latency", &r.latency_ms),
        ("queue", &r.queue_ms),
        ("service", &r.service_ms),
    ]
    .into_iter()
    .map(|(name, s)| {
        [
            name.to_string(),
            s.count.to_string(),
            fixed(s.mean, 3),
            fixed(s.p50, 3),
            fixed(s.p90, 3),
            fixed(s.p99, 3),
            fixed(s.p999, 3),
            fixed(s.max, 3),
        ]
    })
    .collect()
}

/// `x` with `digits` decimals.
fn fixed(x: f64, digits: usize) -> String {
    format!("{x:.digits$}")
}

/// A byte count in binary units.
fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// An integer with thousands separators: 5,000,000.
fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::summarize;
    use crate::measure::tests::{fake_meta, fake_run};

    /// A record built from made-up repeats: every format's snapshot shows the same run.
    pub(super) fn sample_record() -> RunRecord {
        let runs = [
            fake_run(0, 8, 25, false),
            fake_run(1000, 8, 24, true),
            fake_run(2000, 8, 26, false),
        ];
        summarize(&fake_meta(Runtime::AsyncStd), &runs)
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(4 << 20), "4.0 MiB");
        assert_eq!(group(5_000_000), "5,000,000");
        assert_eq!(group(999), "999");
    }

    #[test]
    fn table_snapshot() {
        insta::assert_snapshot!(render_run(&sample_record(), Format::Table).unwrap());
    }

    #[test]
    fn markdown_snapshot() {
        insta::assert_snapshot!(render_run(&sample_record(), Format::Markdown).unwrap());
    }

    #[test]
    fn csv_snapshot() {
        insta::assert_snapshot!(render_run(&sample_record(), Format::Csv).unwrap());
    }

    #[test]
    fn json_snapshot() {
        insta::assert_snapshot!(render_run(&sample_record(), Format::Json).unwrap());
    }

    #[test]
    fn runtimes_snapshots() {
        for format in Format::ALL {
            insta::assert_snapshot!(
                format!("runtimes_{}", format.name()),
                render_runtimes(format).unwrap()
            );
        }
    }

    #[test]
    fn atomic_write_replaces_whole_files_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.json");
        write_atomically(&path, b"first").unwrap();
        write_atomically(&path, b"second").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "second");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("out.json")]);
    }
}
