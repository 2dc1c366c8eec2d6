//! Latency against percentile on HdrHistogram's log scale of 1/(1 − p).

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{FONT, HEIGHT, WIDTH, colour, err, label, legend, no_data, render};

/// One curve of a percentile spectrum.
pub struct SpectrumSeries {
    /// The legend's name (a runtime's name picks its colour).
    pub name: String,
    /// Tasks the curve stands on, shown in the legend: a curve of 8 tasks has no p99.
    pub samples: u64,
    /// (quantile in [0, 1), milliseconds), rising.
    pub points: Vec<(f64, f64)>,
}

/// Highest quantile shown: 99.9999%.
const TOP_QUANTILE: f64 = 0.999_999;

/// x position of quantile `q`: log10(1 / (1 - q)), so 90% is 1, 99% is 2, 99.9% is 3.
fn spectrum_x(q: f64) -> f64 {
    (1.0 / (1.0 - q.clamp(0.0, TOP_QUANTILE))).log10()
}

/// Latency against percentile on HdrHistogram's log scale of 1/(1 − p).
pub fn spectrum_chart(path: &Path, title: &str, series: &[SpectrumSeries]) -> anyhow::Result<()> {
    let finite = |p: &&(f64, f64)| p.0.is_finite() && p.1.is_finite();
    let top_ms = series
        .iter()
        .flat_map(|s| s.points.iter().filter(finite))
        .map(|p| p.1)
        .fold(0.0f64, f64::max);
    let top_x = series
        .iter()
        .flat_map(|s| s.points.iter().filter(finite))
        .map(|p| spectrum_x(p.0))
        .fold(0.0f64, f64::max)
        .ceil()
        .max(1.0);
    render(path, (WIDTH, HEIGHT), |root| {
        if top_ms <= 0.0 {
            return no_data(root, title);
        }
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..top_x, 0.0..top_ms * 1.1)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_labels(0)
            .x_desc("percentile")
            .y_desc("latency (ms)")
            .label_style((FONT, 13))
            .draw()
            .map_err(err)?;
        for (i, s) in series.iter().enumerate() {
            let c = colour(&s.name, i);
            let line: Vec<(f64, f64)> = s
                .points
                .iter()
                .filter(finite)
                .map(|&(q, ms)| (spectrum_x(q), ms))
                .collect();
            chart
                .draw_series(LineSeries::new(line, c.stroke_width(2)))
                .map_err(err)?
                .label(format!("{} (n={})", s.name, s.samples))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 12, y)], c.stroke_width(2))
                });
        }
        legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
        const TICKS: [&str; 7] = ["0%", "90%", "99%", "99.9%", "99.99%", "99.999%", "99.9999%"];
        for (k, text) in TICKS.iter().enumerate().take(top_x as usize + 1) {
            let (px, py) = chart.backend_coord(&(k as f64, 0.0));
            label(root, text, (px, py + 6), Pos::new(HPos::Center, VPos::Top))?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::plot::tests::svg;

    #[test]
    fn the_spectrum_has_its_title_curves_and_percentiles() {
        let dir = tempfile::tempdir().unwrap();
        let spectrum = dir.path().join("spectrum.svg");
        let curves: Vec<SpectrumSeries> = ["smol", "threads"]
            .iter()
            .map(|n| SpectrumSeries {
                name: n.to_string(),
                samples: 30,
                points: (0..30)
                    .map(|k| {
                        let q = 1.0 - 10f64.powf(-(k as f64) / 10.0);
                        (q, 1.0 + k as f64)
                    })
                    .collect(),
            })
            .collect();
        spectrum_chart(&spectrum, "latency percentiles", &curves).unwrap();
        let text = svg(&spectrum);
        for want in [
            "latency percentiles",
            "smol",
            "threads",
            ">99%<",
            ">99.9%<",
            "latency (ms)",
        ] {
            assert!(text.contains(want), "{want} missing");
        }
    }
}
