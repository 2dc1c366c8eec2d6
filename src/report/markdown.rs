//! Markdown: the same tables as the terminal, ready to paste into docs.

use tabled::builder::Builder;
use tabled::settings::Style;

use super::RuntimeRow;
use super::compare_rows::{
    compare_header, compare_notes, compare_table_rows, compare_title, rounds_lines, verdict_lines,
};
use super::run_rows::{LATENCY_HEADER, latency_rows, summary_rows, title};
use crate::model::compare::CompareRecord;
use crate::model::run::RunRecord;

/// A run as a heading, a summary table, a latency table and notes as a quote.
pub fn run(r: &RunRecord) -> String {
    let mut summary = Builder::default();
    summary.push_record(["metric", "value"]);
    for (name, value) in summary_rows(r) {
        summary.push_record([name.to_string(), escape(&value)]);
    }
    let mut latency = Builder::default();
    latency.push_record(LATENCY_HEADER);
    for row in latency_rows(r) {
        latency.push_record(row);
    }
    let mut out = format!(
        "### {}\n\n{}\n\n{}\n",
        title(r),
        table(summary),
        table(latency)
    );
    if !r.notes.is_empty() {
        out.push('\n');
        for note in &r.notes {
            out.push_str(&format!("> {}\n", escape(note)));
        }
    }
    out
}

/// A comparison: a table of cells, the verdict as a list, the notes as a quote.
pub fn compare(c: &CompareRecord) -> String {
    compare_with(c, false)
}

/// [`compare`], with the verdict and the rounds folded into a `<details>` block when `fold`.
pub fn compare_with(c: &CompareRecord, fold: bool) -> String {
    let mut b = Builder::default();
    b.push_record(compare_header(&c.summary, c.scale));
    for row in compare_table_rows(&c.summary, c.scale) {
        b.push_record(row.iter().map(|cell| escape(cell)));
    }
    let mut out = String::new();
    for (i, line) in compare_title(c).lines().enumerate() {
        out.push_str(&if i == 0 {
            format!("### {}\n\n", escape(line))
        } else {
            format!("{}\n", escape(line))
        });
    }
    out.push_str(&format!("\n{}\n", table(b)));
    let lines = verdict_lines(c);
    let rounds = rounds_lines(c);
    if fold && !lines.is_empty() {
        out.push_str(&format!(
            "\n<details><summary>Every verdict ({} lines) and the rounds</summary>\n",
            lines.len()
        ));
    }
    if !lines.is_empty() {
        out.push_str("\n**Verdict**\n\n");
        for line in lines {
            out.push_str(&format!("- {}\n", escape(&line)));
        }
    }
    if !rounds.is_empty() {
        out.push_str("\n**Rounds**\n\n");
        for line in rounds {
            out.push_str(&format!("- {}\n", escape(&line)));
        }
    }
    if fold && !c.verdict.is_empty() {
        out.push_str("\n</details>\n");
    }
    out.push('\n');
    for note in compare_notes(c) {
        out.push_str(&format!("> {}\n", escape(&note)));
    }
    out
}

/// The runtime listing as a Markdown table.
pub(super) fn runtimes(rows: &[RuntimeRow]) -> String {
    let mut b = Builder::default();
    b.push_record([
        "runtime",
        "what runs the tasks",
        "`--workers N` means",
        "note",
    ]);
    for r in rows {
        b.push_record([
            format!("`{}`", r.runtime),
            escape(r.runs_tasks_on),
            escape(r.workers_n_means),
            escape(r.note),
        ]);
    }
    format!("{}\n", table(b))
}

fn table(b: Builder) -> String {
    let mut t = b.build();
    t.with(Style::markdown());
    t.to_string()
}

/// Escapes what Markdown would read as table syntax.
fn escape(s: &str) -> String {
    s.replace('|', "\\|")
}
