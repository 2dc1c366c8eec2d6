//! Every way results leave the tool: one file per format (table, Markdown, CSV, JSON, SVG
//! plots, HdrHistogram logs), the rows the table and Markdown share (`run_rows`,
//! `compare_rows`), fitting a table to a terminal's width (`fit`), which plots a record gets
//! (`charts`), the study's answer table and plot (`answer`), and writing.
//!
//! Formatters only turn records into text; [`emit`] writes it to stdout or, through
//! [`crate::files::write`], to a file. The `show_*` functions do both for an [`Output`], so a
//! table on a terminal fits its width while a pipe or a file gets it complete. Tables of
//! records are formatted nowhere else (the study composes its document from these
//! renderings).

mod answer;
mod charts;
mod compare_rows;
mod csv;
pub mod fit;
pub mod hdr;
mod json;
mod markdown;
mod numbers;
pub mod plot;
mod run_rows;
mod table;

pub use answer::{PythonSituation, Situation, answer_chart, answer_table, python_answer_table};
use charts::{cell_name, compare_logs, ensure_dir};
pub use charts::{compare_plots, run_plots};
pub use fit::Fit;

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use serde::Serialize;

use crate::model::Runtime;
use crate::model::compare::CompareRecord;
use crate::model::run::RunRecord;
use crate::plan::{Format, Output};
use crate::plan::{ReportPlan, SavedRecord};

/// Formats one run record, complete.
pub fn render_run(record: &RunRecord, format: Format) -> anyhow::Result<String> {
    render_run_fitted(record, format, Fit::COMPLETE)
}

/// Formats one run record; a table is laid out as `fit` says.
pub fn render_run_fitted(record: &RunRecord, format: Format, fit: Fit) -> anyhow::Result<String> {
    match format {
        Format::Table => Ok(table::run(record, fit)),
        Format::Markdown => Ok(markdown::run(record)),
        Format::Csv => csv::run(record),
        Format::Json => json::to_json(record),
    }
}

/// Writes a run where `output` says: on a terminal, a table that fits its width.
pub fn show_run(record: &RunRecord, output: &Output) -> anyhow::Result<()> {
    let fit = Fit::for_output(output);
    emit(output, &render_run_fitted(record, output.format, fit)?)
}

/// Formats a comparison, complete: the per-cell summary and the verdict.
pub fn render_compare(c: &CompareRecord, format: Format) -> anyhow::Result<String> {
    render_compare_fitted(c, format, Fit::COMPLETE)
}

/// Writes a comparison where `output` says: on a terminal, a table that fits its width.
pub fn show_compare(c: &CompareRecord, output: &Output) -> anyhow::Result<()> {
    let fit = Fit::for_output(output);
    emit(output, &render_compare_fitted(c, output.format, fit)?)
}

/// Formats a comparison; a table is laid out as `fit` says.
pub fn render_compare_fitted(
    c: &CompareRecord,
    format: Format,
    fit: Fit,
) -> anyhow::Result<String> {
    match format {
        Format::Table => Ok(table::compare(c, fit)),
        Format::Markdown => Ok(markdown::compare(c)),
        Format::Csv => csv::rows(
            &c.summary
                .iter()
                .map(|cell| csv::CompareRow::new(cell, c.scale))
                .collect::<Vec<_>>(),
        ),
        Format::Json => json::to_json(c),
    }
}

/// A comparison in Markdown with its verdict and rounds folded into a `<details>` block, for a
/// document that states its own findings above it.
pub fn render_compare_folded(c: &CompareRecord) -> String {
    markdown::compare_with(c, true)
}

/// `report`: renders a saved record, then writes its plots and interval logs if asked.
pub fn report(plan: &ReportPlan) -> anyhow::Result<()> {
    // A saved comparison is judged again with the current rules, so an old file shows what
    // its runs support today rather than the verdict it was written with.
    let rejudged = match &plan.record {
        SavedRecord::Compare(c) => {
            let mut c = (**c).clone();
            crate::analysis::refresh(&mut c);
            Some(c)
        }
        SavedRecord::Run(_) => None,
    };
    match (&plan.record, &rejudged) {
        (_, Some(c)) => show_compare(c, &plan.output)?,
        (SavedRecord::Run(r), None) => show_run(r, &plan.output)?,
        (SavedRecord::Compare(_), None) => unreachable!("a comparison is always re-judged"),
    }
    if let Some(dir) = &plan.plots {
        let written = match (&plan.record, &rejudged) {
            (_, Some(c)) => compare_plots(c, dir)?,
            (SavedRecord::Run(r), None) => run_plots(r, dir)?,
            (SavedRecord::Compare(c), None) => compare_plots(c, dir)?,
        };
        eprintln!(
            "asyncstudy: wrote {} plots in {}",
            written.len(),
            dir.display()
        );
    }
    if let Some(dir) = &plan.hdr {
        let written = match &plan.record {
            SavedRecord::Run(r) => vec![hdr::write_cell(&ensure_dir(dir)?, &cell_name(r), &[r])?],
            SavedRecord::Compare(c) => compare_logs(c, dir)?,
        };
        eprintln!(
            "asyncstudy: wrote {} interval logs in {}",
            written.len(),
            dir.display()
        );
    }
    Ok(())
}

/// Formats the list of runtimes, complete.
pub fn render_runtimes(format: Format) -> anyhow::Result<String> {
    render_runtimes_fitted(format, Fit::COMPLETE)
}

/// Writes the list of runtimes where `output` says: on a terminal, a table that fits its width.
pub fn show_runtimes(output: &Output) -> anyhow::Result<()> {
    let fit = Fit::for_output(output);
    emit(output, &render_runtimes_fitted(output.format, fit)?)
}

/// Formats the list of runtimes; a table is laid out as `fit` says.
fn render_runtimes_fitted(format: Format, fit: Fit) -> anyhow::Result<String> {
    let rows: Vec<RuntimeRow> = Runtime::ALL.into_iter().map(RuntimeRow::from).collect();
    match format {
        Format::Table => Ok(table::runtimes(&rows, fit)),
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

/// Writes `bytes` to `path`: regular files and new paths replaced atomically, devices and
/// FIFOs written in place, anything else refused (see [`crate::files`]).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    crate::files::write(path, bytes)
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

#[cfg(test)]
pub(crate) mod tests {
    use super::compare_rows::{compare_header, compare_table_rows, startup_note};
    use super::numbers::{bytes, group};
    use super::*;
    use crate::measure::summarize;
    use crate::measure::tests::{fake_meta, fake_run};
    use crate::model::compare::CellSummary;

    /// A record built from made-up repeats: every format's snapshot shows the same run.
    pub(crate) fn sample_record() -> RunRecord {
        let runs = [
            fake_run(0, 8, 25, false),
            fake_run(1000, 8, 24, true),
            fake_run(2000, 8, 26, false),
        ];
        summarize(&fake_meta(Runtime::AsyncStd), &runs)
    }

    /// [`sample_record`] as `runtime` ran it in `round`, with every task ok (a cell with a
    /// failed task is never judged).
    pub(crate) fn ok_record(runtime: &str, round: usize) -> RunRecord {
        let mut r = sample_record();
        r.runtime = runtime.into();
        r.round = Some(round);
        (r.tasks.ok, r.tasks.failed) = (r.tasks.total, 0);
        r.tasks.errors.clear();
        r
    }

    /// A comparison of `kind` holding `runs`, summarized and judged as `report` judges a saved
    /// file; its repeat count is the last round of the runs.
    pub(crate) fn judged_compare(kind: &str, runs: Vec<RunRecord>) -> CompareRecord {
        let repeat = runs.iter().filter_map(|r| r.round).max().unwrap_or(1);
        // From JSON, so every field the file format leaves out takes its default.
        let mut c: CompareRecord = serde_json::from_value(serde_json::json!({
            "schema": crate::model::compare::COMPARE_SCHEMA, "tool_version": "0",
            "machine": runs[0].machine, "started_at": "", "kind": kind, "command": [],
            "repeat": repeat, "complete": true, "runs": runs, "summary": [], "verdict": []
        }))
        .expect("a comparison record");
        crate::analysis::refresh(&mut c);
        c
    }

    /// A comparison of made-up runs: serial at 1 worker, four runtimes at 2, three repeats each,
    /// one task of process-per-task failing; judged as `report` judges a saved file.
    pub(crate) fn sample_compare(scale: bool) -> CompareRecord {
        let mut runs = Vec::new();
        for (i, rt) in [
            Runtime::Serial,
            Runtime::Threads,
            Runtime::TokioMt,
            Runtime::ProcessPool,
            Runtime::ProcessPerTask,
        ]
        .into_iter()
        .enumerate()
        {
            let mut meta = fake_meta(rt);
            meta.workers = if rt.is_baseline() { 1 } else { 2 };
            let service = 25 + 3 * i as u64;
            let repeats: Vec<_> = (0..3)
                .map(|k| {
                    fake_run(
                        k * 1000,
                        8,
                        service + k,
                        rt.creates_unit_per_task() && k == 1,
                    )
                })
                .collect();
            for k in 0..3 {
                runs.push(summarize(&meta, &repeats[k..=k]));
            }
        }
        let mut c = CompareRecord {
            schema: "asyncstudy.compare/1".into(),
            tool_version: "0.1.0".into(),
            machine: runs[0].machine.clone(),
            started_at: "2026-11-22T12:00:00Z".into(),
            kind: "cpu".into(),
            command: "cpu --workload comp --tasks 8"
                .split(' ')
                .map(String::from)
                .collect(),
            repeat: 3,
            complete: true,
            interrupted: None,
            runs,
            failures: Vec::new(),
            scale,
            limits: None,
            skipped: Vec::new(),
            summary: Vec::new(),
            verdict: Vec::new(),
            min_effect: crate::model::compare::DEFAULT_MIN_EFFECT,
            adaptive: None,
        };
        crate::analysis::refresh(&mut c);
        c
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
    fn comparisons_show_startup_beside_wall_and_say_what_it_covers() {
        let new = sample_record();
        // A record made before start-up was measured.
        let old = RunRecord {
            runtime: "threads".into(),
            startup_s: None,
            ..sample_record()
        };
        let cells = crate::analysis::summary::summarize(&[new, old]);
        let header = compare_header(&cells, false);
        let startup = header.iter().position(|h| h == "startup ms").unwrap();
        assert_eq!(header[startup - 1], "wall s (min–max)");
        let rows = compare_table_rows(&cells, false);
        let at = |runtime: &str| {
            let i = cells.iter().position(|c| c.runtime == runtime).unwrap();
            rows[i][startup].clone()
        };
        assert_eq!(at("async-std"), "1.00");
        assert_eq!(at("threads"), "–");
        assert!(rows.iter().all(|r| r.len() == header.len()));
        let note = startup_note(&cells).unwrap();
        assert!(
            note.contains("inside wall, and queue wait starts after it"),
            "{note}"
        );
        assert!(note.contains("inside that task's queue wait"), "{note}");
        let before: Vec<CellSummary> = cells
            .into_iter()
            .map(|c| CellSummary {
                startup_s: None,
                ..c
            })
            .collect();
        assert_eq!(
            startup_note(&before),
            None,
            "no note for figures a file does not have"
        );
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
