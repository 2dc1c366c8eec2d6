//! The study's answer: one Markdown table with a row per situation and a column per family
//! (best async runtime, best thread-based, best process-based, each with its figure), then the
//! winning family with its margin and interval; and one plot of the same, each family's best
//! relative to the winner's.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::plot::{FONT, PALETTE, WIDTH, err, label, legend, no_data, render};
use crate::analysis::answer::Answer;
use crate::model::runtime::Family;

/// One row of the answer: what the situation is, what was compared, and the answer.
pub struct Situation {
    /// The situation in a few words, e.g. `CPU-bound, workers = cores (2)`.
    pub label: String,
    /// Where its figures are in the document (an anchor such as `#cpu-loops`), if anywhere.
    pub link: Option<String>,
    /// The answer of its group.
    pub answer: Answer,
}

/// The answer table in Markdown.
pub fn answer_table(rows: &[Situation]) -> String {
    let mut out = String::from(
        "| situation | figure | best async | best thread-based | best process-based | answer |\n|---|---|---|---|---|---|\n",
    );
    for row in rows {
        let a = &row.answer;
        let family = |f: Family| match a.best.iter().find(|(g, _)| *g == f) {
            Some((_, Ok(b))) if a.winner == Some(f) => format!("**{} {}**", b.runtime, b.shown),
            Some((_, Ok(b))) => format!("{} {}", b.runtime, b.shown),
            Some((_, Err(why))) => format!("– ({why})"),
            None => "–".into(),
        };
        let situation = match &row.link {
            Some(link) => format!("[{}]({link})", row.label),
            None => row.label.clone(),
        };
        let cells = [
            situation,
            a.metric.name().to_string(),
            family(Family::Async),
            family(Family::Threads),
            family(Family::Processes),
            a.short(),
        ];
        let escaped: Vec<String> = cells.iter().map(|c| c.replace('|', "\\|")).collect();
        out.push_str(&format!("| {} |\n", escaped.join(" | ")));
    }
    out
}

/// One row of the Python section: a situation's answer among the Python runtimes and among
/// the Rust runtimes of the same comparison, and whether the seeds' conclusion carries over.
pub struct PythonSituation {
    /// The situation in a few words.
    pub label: String,
    /// Where its figures are in the document, if anywhere.
    pub link: Option<String>,
    /// The answer among the Python runtimes.
    pub python: Answer,
    /// The answer among the Rust runtimes.
    pub rust: Answer,
    /// Whether Python's winning family also wins in Rust, in a few words.
    pub carries_over: String,
}

/// The Python section's table in Markdown: per situation each language's family bests (the
/// winner's in bold) and answer, then whether the seeds' conclusion holds in Rust.
pub fn python_answer_table(rows: &[PythonSituation]) -> String {
    let mut out = String::from(
        "| situation | figure | Python: threads · processes · async | Python's answer | Rust: threads · processes · async | Rust's answer | the seeds' conclusion in Rust |\n|---|---|---|---|---|---|---|\n",
    );
    let bests = |a: &Answer| -> String {
        [Family::Threads, Family::Processes, Family::Async]
            .iter()
            .map(|&f| match a.best.iter().find(|(g, _)| *g == f) {
                Some((_, Ok(b))) if a.winner == Some(f) => format!("**{} {}**", b.runtime, b.shown),
                Some((_, Ok(b))) => format!("{} {}", b.runtime, b.shown),
                Some((_, Err(why))) => format!("– ({} {why})", f.name()),
                None => "–".into(),
            })
            .collect::<Vec<_>>()
            .join(" · ")
    };
    for row in rows {
        let situation = match &row.link {
            Some(link) => format!("[{}]({link})", row.label),
            None => row.label.clone(),
        };
        let cells = [
            situation,
            row.python.metric.name().to_string(),
            bests(&row.python),
            row.python.short(),
            bests(&row.rust),
            row.rust.short(),
            row.carries_over.clone(),
        ];
        let escaped: Vec<String> = cells.iter().map(|c| c.replace('|', "\\|")).collect();
        out.push_str(&format!("| {} |\n", escaped.join(" | ")));
    }
    out
}

/// The family's colour in the answer plot.
fn colour(f: Family) -> RGBColor {
    match f {
        Family::Async => PALETTE[0],
        Family::Threads => PALETTE[1],
        Family::Processes => PALETTE[2],
        Family::Serial => PALETTE[7],
    }
}

/// Horizontal bars, a group per situation: each family's best figure as a share of the
/// winner's, so the winner's bar is full and one at a quarter took four times the winner's
/// time (or memory); the factor is written at the end of each bar.
pub fn answer_chart(path: &Path, title: &str, rows: &[Situation]) -> anyhow::Result<()> {
    let families = Family::COMPARED;
    let height = 80 + 26 * (families.len() as u32 + 1) * rows.len().max(1) as u32;
    render(path, (WIDTH, height), |root| {
        if rows.is_empty() {
            return no_data(root, title);
        }
        let n = rows.len() as f64;
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(270)
            .build_cartesian_2d(0.0..1.25, 0.0..n)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_desc("the winner's figure over the family's best (1 = the winner)")
            .label_style((FONT, 13))
            .draw()
            .map_err(err)?;
        let slot = 0.8 / families.len() as f64;
        for (fi, &f) in families.iter().enumerate() {
            let c = colour(f);
            // Rows top to bottom: row i sits at n − 1 − i.
            let bars: Vec<(f64, f64)> = rows
                .iter()
                .enumerate()
                .filter_map(|(i, row)| {
                    let rel = row.answer.relative(f)?;
                    let y0 = n - 1.0 - i as f64 + 0.9 - (fi + 1) as f64 * slot;
                    Some((1.0 / rel.max(1.0), y0))
                })
                .collect();
            chart
                .draw_series(bars.iter().map(|&(share, y0)| {
                    Rectangle::new([(0.0, y0), (share, y0 + slot * 0.85)], c.filled())
                }))
                .map_err(err)?
                .label(format!("best {}", f.name()))
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], c.filled()));
            for (i, row) in rows.iter().enumerate() {
                let y = n - 1.0 - i as f64 + 0.9 - (fi + 1) as f64 * slot + slot * 0.4;
                let text = match row.answer.relative(f) {
                    Some(rel) if rel <= 1.0 + 1e-9 => "the winner".to_string(),
                    Some(rel) if rel >= 10.0 => format!("{rel:.0}×"),
                    Some(rel) => format!("{rel:.2}×"),
                    None => "not run".to_string(),
                };
                let share = row.answer.relative(f).map_or(0.0, |r| 1.0 / r.max(1.0));
                let (px, py) = chart.backend_coord(&(share, y));
                label(
                    root,
                    &text,
                    (px + 4, py),
                    Pos::new(HPos::Left, VPos::Center),
                )?;
            }
        }
        legend(&mut chart, SeriesLabelPosition::LowerRight)?;
        for (i, row) in rows.iter().enumerate() {
            let (px, py) = chart.backend_coord(&(0.0, n - 0.5 - i as f64));
            label(
                root,
                &row.label,
                (px - 8, py),
                Pos::new(HPos::Right, VPos::Center),
            )?;
        }
        Ok(())
    })
}
