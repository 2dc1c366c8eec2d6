//! The terminal table: a summary of the run and its latency percentiles, a comparison, the
//! runtime listing.
//!
//! Complete, every table is drawn in the rounded box at its natural width. Fitted to a
//! terminal ([`Fit`]), a table shows its compact set of columns (all with `--wide`), its cells
//! wrap so that no line is wider than the terminal, and the lines around it (headline,
//! verdict, notes) wrap with a hanging indent.

use tabled::builder::Builder;
use tabled::settings::object::Columns;
use tabled::settings::{Alignment, Style};

use super::RuntimeRow;
use super::compare_rows::{
    self, compare_notes, compare_table, compare_title, rounds_lines, startup_note, verdict_lines,
};
use super::fit::{Fit, column_widths, width, wrap};
use super::run_rows::{LATENCY_COMPACT, LATENCY_HEADER, latency_rows, summary_rows, title};
use crate::model::compare::CompareRecord;
use crate::model::run::RunRecord;

/// How a table is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Frame {
    /// The rounded box, a rule under the header row.
    Boxed,
    /// The rounded box without rules: a listing of names and values.
    Listing,
    /// No box: columns two spaces apart, a rule under the header. Narrower than the box, for a
    /// table that the box would wrap into more lines.
    Plain,
}

impl Frame {
    /// Characters the frame takes on a line of `columns` columns.
    fn overhead(self, columns: usize) -> usize {
        match self {
            Frame::Boxed | Frame::Listing => 3 * columns + 1,
            Frame::Plain => 2 * columns.saturating_sub(1),
        }
    }
}

/// A table of `rows` (the header first, unless a listing): complete, or fitted to `fit`'s
/// width in whichever of `frames` wraps its cells into the fewest lines (the first on a tie).
/// Columns from `right_from` on are aligned right.
fn draw(rows: Vec<Vec<String>>, fit: Fit, frames: &[Frame], right_from: usize) -> String {
    let Some(limit) = fit.width else {
        return framed(rows, frames[0], right_from);
    };
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let lines = |widths: &[usize]| -> usize {
        rows.iter()
            .map(|r| {
                r.iter()
                    .zip(widths)
                    .map(|(cell, &w)| wrap(cell, w).len())
                    .max()
                    .unwrap_or(1)
            })
            .sum()
    };
    let (frame, widths) = frames
        .iter()
        .map(|&f| {
            let widths = column_widths(&rows, limit.saturating_sub(f.overhead(columns)));
            (lines(&widths), f, widths)
        })
        .min_by_key(|(lines, _, _)| *lines)
        .map(|(_, f, w)| (f, w))
        .expect("at least one frame");
    let wrapped = rows
        .into_iter()
        .map(|r| {
            r.iter()
                .zip(&widths)
                .map(|(cell, &w)| wrap(cell, w).join("\n"))
                .collect()
        })
        .collect();
    framed(wrapped, frame, right_from)
}

/// `rows` drawn in `frame` at their own widths.
fn framed(rows: Vec<Vec<String>>, frame: Frame, right_from: usize) -> String {
    if frame == Frame::Plain {
        return plain(&rows, right_from);
    }
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut b = Builder::default();
    for row in rows {
        b.push_record(row);
    }
    let mut t = b.build();
    match frame {
        Frame::Listing => t.with(Style::rounded().remove_horizontals()),
        _ => t.with(Style::rounded()),
    };
    if right_from < columns {
        t.modify(Columns::new(right_from..), Alignment::right());
    }
    t.to_string()
}

/// `rows` as plain columns two spaces apart, a rule under the header, no trailing spaces.
fn plain(rows: &[Vec<String>], right_from: usize) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .flat_map(|cell| cell.lines().map(width))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out: Vec<String> = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let cells: Vec<Vec<&str>> = row.iter().map(|c| c.lines().collect()).collect();
        let height = cells.iter().map(Vec::len).max().unwrap_or(1).max(1);
        for k in 0..height {
            let parts: Vec<String> = (0..columns)
                .map(|c| {
                    let text = cells.get(c).and_then(|l| l.get(k)).copied().unwrap_or("");
                    let pad = " ".repeat(widths[c].saturating_sub(width(text)));
                    if c >= right_from {
                        format!("{pad}{text}")
                    } else {
                        format!("{text}{pad}")
                    }
                })
                .collect();
            out.push(parts.join("  ").trim_end().to_string());
        }
        if i == 0 {
            let rule: Vec<String> = widths.iter().map(|&w| "─".repeat(w)).collect();
            out.push(rule.join("  "));
        }
    }
    out.join("\n")
}

/// A run as two tables under a headline, notes last.
pub fn run(r: &RunRecord, fit: Fit) -> String {
    let summary: Vec<Vec<String>> = summary_rows(r)
        .into_iter()
        .map(|(name, value)| vec![name.to_string(), value])
        .collect();
    // A terminal's compact table leaves out the percentiles between the ones that tell most.
    let keep: Vec<usize> = (0..LATENCY_HEADER.len())
        .filter(|&i| !fit.compact() || LATENCY_COMPACT.contains(&LATENCY_HEADER[i]))
        .collect();
    let pick = |row: &[String]| keep.iter().map(|&i| row[i].clone()).collect::<Vec<_>>();
    let mut latency = vec![pick(&LATENCY_HEADER.map(String::from))];
    latency.extend(latency_rows(r).iter().map(|row| pick(row)));
    let mut out = format!("{}\n", fit.line(&title(r), 2));
    out.push_str(&draw(summary, fit, &[Frame::Listing], usize::MAX));
    out.push('\n');
    out.push_str(&draw(latency, fit, &[Frame::Boxed], 1));
    out.push('\n');
    for note in &r.notes {
        out.push_str(&fit.line(&format!("note: {note}"), 6));
        out.push('\n');
    }
    out
}

/// A comparison: one row per cell, then the verdict, then the notes.
pub fn compare(c: &CompareRecord, fit: Fit) -> String {
    let mut out = String::new();
    for line in compare_title(c).lines() {
        out.push_str(&fit.line(line, 2));
        out.push('\n');
    }
    out.push_str(&compare_grid(c, fit));
    out.push('\n');
    if !c.verdict.is_empty() {
        out.push_str("verdict:\n");
        for line in verdict_lines(c) {
            out.push_str(&fit.line(&format!("  {line}"), 4));
            out.push('\n');
        }
    }
    let rounds = rounds_lines(c);
    if !rounds.is_empty() {
        out.push_str("rounds:\n");
        for line in rounds {
            out.push_str(&fit.line(&format!("  {line}"), 4));
            out.push('\n');
        }
    }
    // The compact table has no start-up column for its note to explain.
    let hidden = startup_note(&c.summary).filter(|_| fit.compact());
    for note in compare_notes(c)
        .into_iter()
        .filter(|n| Some(n) != hidden.as_ref())
    {
        out.push_str(&fit.line(&format!("note: {note}"), 6));
        out.push('\n');
    }
    out
}

/// The comparison's table: every column, or the compact set with what every row shares said
/// once above it.
fn compare_grid(c: &CompareRecord, fit: Fit) -> String {
    let columns = if fit.compact() {
        compare_rows::Columns::Compact
    } else {
        compare_rows::Columns::All
    };
    let table = compare_table(&c.summary, c.scale, columns);
    let mut rows = vec![table.header];
    rows.extend(table.rows);
    let mut out = String::new();
    if !table.shared.is_empty() {
        out.push_str(&fit.line(&format!("every row: {}", table.shared.join(", ")), 2));
        out.push('\n');
    }
    // Numbers align right; the runtime and what precedes it read from the left.
    out.push_str(&draw(
        rows,
        fit,
        &[Frame::Boxed, Frame::Plain],
        table.runtime_column + 1,
    ));
    out
}

/// The runtime listing.
pub(super) fn runtimes(rows: &[RuntimeRow], fit: Fit) -> String {
    let mut table = vec![vec![
        "runtime".to_string(),
        "what runs the tasks".into(),
        "--workers N means".into(),
    ]];
    for r in rows {
        table.push(vec![
            r.runtime.into(),
            r.runs_tasks_on.into(),
            r.workers_n_means.into(),
        ]);
    }
    // Notes go under the table: as a fourth column they would double its width for one row.
    let mut out = format!("{}\n", draw(table, fit, &[Frame::Boxed], usize::MAX));
    for r in rows.iter().filter(|r| !r.note.is_empty()) {
        out.push_str(&fit.line(&format!("note: {}: {}", r.runtime, r.note), 6));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::{sample_compare, sample_record};

    /// Every line of `text` within `limit` characters.
    fn assert_within(text: &str, limit: usize, what: &str) {
        for line in text.lines() {
            assert!(
                width(line) <= limit,
                "{what}: a line of {} characters at {limit}:\n{line}\n\n{text}",
                width(line)
            );
        }
    }

    #[test]
    fn fitted_tables_keep_every_line_within_80_and_120_columns() {
        let rows: Vec<RuntimeRow> = crate::model::Runtime::ALL
            .into_iter()
            .map(RuntimeRow::from)
            .collect();
        let compares = [sample_compare(false), sample_compare(true)];
        for limit in [80, 120] {
            for wide in [false, true] {
                let fit = Fit::width(limit, wide);
                for c in &compares {
                    assert!(!c.verdict.is_empty());
                    let what = format!("compare at {limit}, wide {wide}, scale {}", c.scale);
                    assert_within(&compare(c, fit), limit, &what);
                }
                assert_within(&run(&sample_record(), fit), limit, "run");
                assert_within(&runtimes(&rows, fit), limit, "runtimes");
            }
        }
    }

    #[test]
    fn a_terminal_gets_the_compact_columns_and_a_pipe_every_column_unwrapped() {
        let c = sample_compare(false);
        let text = compare(&c, Fit::width(80, false));
        let compact = text.split("verdict:").next().unwrap();
        for header in [
            "runtime", "workers", "wall s", "speed-up", "p99 ms", "cores",
        ] {
            assert!(compact.contains(header), "{header} missing:\n{compact}");
        }
        assert!(compact.contains("memory") && compact.contains("failed"));
        for left_out in ["efficiency", "p50 ms", "queue p99", "procs", "startup"] {
            assert!(!compact.contains(left_out), "{left_out} shown:\n{compact}");
        }
        // Every cell ran 8 tasks: said once, not in a column.
        assert!(compact.contains("every row: tasks 8"), "{compact}");
        let wide = compare(&c, Fit::width(200, true));
        let wide = wide.split("verdict:").next().unwrap();
        assert!(
            wide.contains("efficiency") && wide.contains("startup"),
            "{wide}"
        );
        // A pipe: the complete table, its verdict and notes a line each.
        let complete = compare(&c, Fit::COMPLETE);
        assert!(complete.lines().any(|l| width(l) > 120));
        assert_eq!(
            complete
                .lines()
                .skip_while(|l| *l != "verdict:")
                .take_while(|l| *l != "rounds:")
                .filter(|l| l.starts_with("  cpu comp"))
                .count(),
            verdict_lines(&c).len()
        );
        assert!(!complete.contains("every row"));
        // The start-up note goes with its column.
        assert!(complete.contains("note: startup is"));
        assert!(!text.contains("note: startup is"));
    }

    #[test]
    fn verdict_and_notes_wrap_with_a_hanging_indent() {
        let c = sample_compare(false);
        let text = compare(&c, Fit::width(80, false));
        let verdict: Vec<&str> = text
            .lines()
            .skip_while(|l| *l != "verdict:")
            .skip(1)
            .take_while(|l| !l.starts_with("note:") && *l != "rounds:")
            .collect();
        let lines = verdict_lines(&c).len();
        assert!(verdict.len() > lines, "{text}");
        let starts = verdict
            .iter()
            .filter(|l| l.starts_with("  cpu comp"))
            .count();
        assert_eq!(starts, lines, "{text}");
        assert!(
            verdict
                .iter()
                .all(|l| l.starts_with("  cpu comp") || l.starts_with("    "))
        );
        let notes = text.lines().skip_while(|l| !l.starts_with("note:")).skip(1);
        assert!(
            notes
                .take_while(|l| !l.starts_with("note:"))
                .all(|l| l.starts_with("      "))
        );
    }

    #[test]
    fn a_run_table_on_a_terminal_shows_the_telling_percentiles() {
        let r = sample_record();
        let compact = run(&r, Fit::width(80, false));
        assert!(compact.contains("p99") && !compact.contains("p99.9") && !compact.contains("mean"));
        let wide = run(&r, Fit::width(120, true));
        assert!(wide.contains("p99.9") && wide.contains("mean"));
        assert_eq!(
            run(&r, Fit::COMPLETE),
            crate::report::render_run(&r, crate::plan::Format::Table).unwrap()
        );
    }
}
