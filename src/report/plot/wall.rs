//! Wall time across worker counts: grouped bars with min–max whiskers, the seeds' bar charts.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{FONT, HEIGHT, WIDTH, colour, err, label, legend, no_data, render};

/// One runtime's wall times across worker counts.
pub struct WallSeries {
    /// The runtime's name (also picks its colour).
    pub runtime: String,
    /// One point per worker count.
    pub points: Vec<WallPoint>,
}

/// Median wall time of one cell with its min and max over repeats.
pub struct WallPoint {
    /// `--workers`.
    pub workers: usize,
    /// Median wall seconds.
    pub median_s: f64,
    /// Smallest wall seconds.
    pub min_s: f64,
    /// Largest wall seconds.
    pub max_s: f64,
}

/// Grouped bars: one group per worker count, one bar per runtime with a min–max whisker.
pub fn wall_chart(path: &Path, title: &str, series: &[WallSeries]) -> anyhow::Result<()> {
    let mut workers: Vec<usize> = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.workers))
        .collect();
    workers.sort_unstable();
    workers.dedup();
    let top = series
        .iter()
        .flat_map(|s| &s.points)
        .flat_map(|p| [p.median_s, p.max_s])
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max);
    render(path, (WIDTH, HEIGHT), |root| {
        if workers.is_empty() || top <= 0.0 {
            return no_data(root, title);
        }
        let groups = workers.len() as f64;
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..groups, 0.0..top * 1.1)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .x_desc("workers")
            .y_desc("wall time (s)")
            .label_style((FONT, 13))
            .draw()
            .map_err(err)?;
        let n = series.len().max(1) as f64;
        let width = 0.8 / n;
        for (si, s) in series.iter().enumerate() {
            let c = colour(&s.runtime, si);
            let bars = s.points.iter().filter(|p| p.median_s.is_finite()).map(|p| {
                let g = workers.iter().position(|&w| w == p.workers).unwrap_or(0) as f64;
                let x0 = g + 0.1 + si as f64 * width;
                Rectangle::new([(x0, 0.0), (x0 + width * 0.9, p.median_s)], c.filled())
            });
            chart
                .draw_series(bars)
                .map_err(err)?
                .label(s.runtime.clone())
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], c.filled()));
            let whiskers = s
                .points
                .iter()
                .filter(|p| p.min_s.is_finite() && p.max_s.is_finite())
                .map(|p| {
                    let g = workers.iter().position(|&w| w == p.workers).unwrap_or(0) as f64;
                    let x = g + 0.1 + si as f64 * width + width * 0.45;
                    PathElement::new(vec![(x, p.min_s), (x, p.max_s)], BLACK.stroke_width(1))
                });
            chart.draw_series(whiskers).map_err(err)?;
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        for (g, w) in workers.iter().enumerate() {
            let (px, py) = chart.backend_coord(&(g as f64 + 0.5, 0.0));
            label(
                root,
                &w.to_string(),
                (px, py + 6),
                Pos::new(HPos::Center, VPos::Top),
            )?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::plot::tests::svg;

    #[test]
    fn the_wall_chart_has_its_title_runtimes_and_worker_counts() {
        let dir = tempfile::tempdir().unwrap();
        let wall = dir.path().join("wall.svg");
        let series: Vec<WallSeries> = ["threads", "tokio-mt", "process-pool"]
            .iter()
            .enumerate()
            .map(|(i, rt)| WallSeries {
                runtime: rt.to_string(),
                points: [1, 2, 4, 8]
                    .iter()
                    .map(|&w| WallPoint {
                        workers: w,
                        median_s: 1.0 / w as f64 + i as f64 * 0.05,
                        min_s: 0.9 / w as f64,
                        max_s: 1.1 / w as f64 + 0.1,
                    })
                    .collect(),
            })
            .collect();
        wall_chart(&wall, "cpu comp, 8 tasks", &series).unwrap();
        let text = svg(&wall);
        for want in [
            "cpu comp, 8 tasks",
            "threads",
            "tokio-mt",
            "process-pool",
            ">8<",
            "workers",
            "wall time (s)",
        ] {
            assert!(text.contains(want), "{want} missing");
        }
        // 3 runtimes x 4 worker counts bars, plus legend swatches.
        assert!(text.matches("<rect").count() >= 12);
    }
}
