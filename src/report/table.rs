//! The terminal table: a summary of the run and its latency percentiles.

use tabled::builder::Builder;
use tabled::settings::object::Columns;
use tabled::settings::{Alignment, Style};

use super::RuntimeRow;
use super::compare_rows::{
    compare_header, compare_notes, compare_table_rows, compare_title, rounds_lines, verdict_lines,
};
use super::run_rows::{LATENCY_HEADER, latency_rows, summary_rows, title};
use crate::model::compare::CompareRecord;
use crate::model::run::RunRecord;

/// A run as two terminal tables under a headline, notes last.
pub fn run(r: &RunRecord) -> String {
    let mut summary = Builder::default();
    for (name, value) in summary_rows(r) {
        summary.push_record([name.to_string(), value]);
    }
    let mut summary = summary.build();
    // A key-value table has no header row to rule off.
    summary.with(Style::rounded().remove_horizontals());

    let mut latency = Builder::default();
    latency.push_record(LATENCY_HEADER);
    for row in latency_rows(r) {
        latency.push_record(row);
    }
    let mut latency = latency.build();
    latency
        .with(Style::rounded())
        .modify(Columns::new(1..), Alignment::right());

    let mut out = format!("{}\n{summary}\n{latency}\n", title(r));
    for note in &r.notes {
        out.push_str(&format!("note: {note}\n"));
    }
    out
}

/// A comparison: one row per cell, then the verdict, then the notes.
pub fn compare(c: &CompareRecord) -> String {
    let mut b = Builder::default();
    b.push_record(compare_header(&c.summary, c.scale));
    for row in compare_table_rows(&c.summary, c.scale) {
        b.push_record(row);
    }
    let mut t = b.build();
    t.with(Style::rounded())
        .modify(Columns::new(2..), Alignment::right());
    let mut out = format!("{}\n{t}\n", compare_title(c));
    if !c.verdict.is_empty() {
        out.push_str("verdict:\n");
        for line in verdict_lines(c) {
            out.push_str(&format!("  {line}\n"));
        }
    }
    let rounds = rounds_lines(c);
    if !rounds.is_empty() {
        out.push_str("rounds:\n");
        for line in rounds {
            out.push_str(&format!("  {line}\n"));
        }
    }
    for note in compare_notes(c) {
        out.push_str(&format!("note: {note}\n"));
    }
    out
}

/// The runtime listing.
pub(super) fn runtimes(rows: &[RuntimeRow]) -> String {
    let mut b = Builder::default();
    b.push_record(["runtime", "what runs the tasks", "--workers N means"]);
    for r in rows {
        b.push_record([r.runtime, r.runs_tasks_on, r.workers_n_means]);
    }
    let mut t = b.build();
    t.with(Style::rounded());
    // Notes go under the table: as a fourth column they would double its width for one row.
    let mut out = format!("{t}\n");
    for r in rows.iter().filter(|r| !r.note.is_empty()) {
        out.push_str(&format!("note: {}: {}\n", r.runtime, r.note));
    }
    out
}
