//! A run's timeline: a line from start to end per task, one row per worker thread or process
//! (seed 000's scatter of which worker ran what, when).

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{FONT, PALETTE, WIDTH, err, label, legend, no_data, render};

use crate::model::run::TimelineEntry;

/// Most timeline entries a plot draws, whatever the record holds.
pub const TIMELINE_PLOT_CAP: usize = 2_000;

/// One row per worker thread, grouped by process; a line from start to end per task.
pub fn timeline_chart(path: &Path, title: &str, tasks: &[TimelineEntry]) -> anyhow::Result<()> {
    // A record from elsewhere may hold millions of entries; a plot of them would be gigabytes.
    let capped;
    let (title, tasks) = if tasks.len() > TIMELINE_PLOT_CAP {
        capped = format!(
            "{title} (first {TIMELINE_PLOT_CAP} of {} tasks)",
            tasks.len()
        );
        (capped.as_str(), &tasks[..TIMELINE_PLOT_CAP])
    } else {
        (title, tasks)
    };
    let ok: Vec<&TimelineEntry> = tasks
        .iter()
        .filter(|t| t.start_ms.is_finite() && t.end_ms.is_finite() && t.submit_ms.is_finite())
        .collect();
    let mut rows: Vec<(u64, u64, &str)> = ok
        .iter()
        .map(|t| {
            let (pid, tid) = t.worker.split_once(':').unwrap_or((&t.worker, ""));
            (
                pid.parse().unwrap_or(0),
                tid.parse().unwrap_or(0),
                t.worker.as_str(),
            )
        })
        .collect();
    rows.sort_unstable();
    rows.dedup();
    let height = (120 + 18 * rows.len() as u32).clamp(260, 4000);
    let origin = ok.iter().map(|t| t.submit_ms).fold(f64::INFINITY, f64::min);
    let end = ok
        .iter()
        .map(|t| t.end_ms)
        .fold(f64::NEG_INFINITY, f64::max);
    render(path, (WIDTH, height), |root| {
        if rows.is_empty() {
            return no_data(root, title);
        }
        let span = (end - origin).max(1e-3);
        let n = rows.len() as f64;
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 16))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(150)
            .build_cartesian_2d(0.0..span * 1.02, -0.5..n - 0.5)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_desc("ms since the first task was submitted")
            .label_style((FONT, 13))
            .draw()
            .map_err(err)?;
        let row_of = |w: &str| rows.iter().position(|r| r.2 == w).unwrap_or(0) as f64;
        for (ok_state, c, name) in [
            (true, PALETTE[0], "task"),
            (false, PALETTE[3], "failed task"),
        ] {
            let these: Vec<&&TimelineEntry> = ok.iter().filter(|t| t.ok == ok_state).collect();
            if these.is_empty() {
                continue;
            }
            let lines = these.iter().map(|t| {
                let y = row_of(&t.worker);
                PathElement::new(
                    vec![(t.start_ms - origin, y), (t.end_ms - origin, y)],
                    c.stroke_width(4),
                )
            });
            chart
                .draw_series(lines)
                .map_err(err)?
                .label(name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 12, y)], c.stroke_width(4))
                });
            let marks = these.iter().flat_map(|t| {
                let y = row_of(&t.worker);
                [t.start_ms - origin, t.end_ms - origin]
                    .map(|x| Circle::new((x, y), 3, BLACK.filled()))
            });
            chart.draw_series(marks).map_err(err)?;
        }
        // A thin line between processes, so threads of one process stay together.
        let seps = rows
            .windows(2)
            .enumerate()
            .filter(|(_, w)| w[0].0 != w[1].0)
            .map(|(i, _)| {
                PathElement::new(
                    vec![(0.0, i as f64 + 0.5), (span * 1.02, i as f64 + 0.5)],
                    BLACK.mix(0.4).stroke_width(1),
                )
            });
        chart.draw_series(seps).map_err(err)?;
        legend(&mut chart, SeriesLabelPosition::LowerRight)?;
        for (i, (pid, tid, _)) in rows.iter().enumerate() {
            let (px, py) = chart.backend_coord(&(0.0, i as f64));
            label(
                root,
                &format!("pid {pid} · tid {tid}"),
                (px - 6, py),
                Pos::new(HPos::Right, VPos::Center),
            )?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::plot::tests::{entry, svg};

    #[test]
    fn the_timeline_has_its_title_workers_and_failed_tasks() {
        let dir = tempfile::tempdir().unwrap();
        let timeline = dir.path().join("timeline.svg");
        let tasks: Vec<TimelineEntry> = (0..20)
            .map(|i| {
                let worker = ["10:10", "10:11", "20:20", "20:21"][i % 4];
                let start = (i / 4) as f64 * 10.0;
                entry(i, worker, start, start + 9.0, i != 7)
            })
            .collect();
        timeline_chart(&timeline, "timeline of a run", &tasks).unwrap();
        let text = svg(&timeline);
        for want in [
            "timeline of a run",
            "pid 10 · tid 11",
            "pid 20 · tid 21",
            "failed task",
        ] {
            assert!(text.contains(want), "{want} missing");
        }
    }
}
