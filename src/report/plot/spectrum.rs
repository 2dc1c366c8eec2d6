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

/// The percentiles the x axis names, as HdrHistogram's plots do, up to where the data stops.
const TICKS: [(f64, &str); 8] = [
    (0.0, "0%"),
    (0.5, "50%"),
    (0.9, "90%"),
    (0.99, "99%"),
    (0.999, "99.9%"),
    (0.999_9, "99.99%"),
    (0.999_99, "99.999%"),
    (0.999_999, "99.9999%"),
];

/// Latency against percentile on HdrHistogram's log scale of 1/(1 − p). The x axis stops at
/// the highest percentile any curve reaches (a curve of n tasks stops at 1 − 1/n).
pub fn spectrum_chart(path: &Path, title: &str, series: &[SpectrumSeries]) -> anyhow::Result<()> {
    let finite = |p: &&(f64, f64)| p.0.is_finite() && p.1.is_finite();
    let top_ms = series
        .iter()
        .flat_map(|s| s.points.iter().filter(finite))
        .map(|p| p.1)
        .fold(0.0f64, f64::max);
    // A curve of one task has no spread to show: the axis still reaches the median.
    let top_x = series
        .iter()
        .flat_map(|s| s.points.iter().filter(finite))
        .map(|p| spectrum_x(p.0))
        .fold(spectrum_x(0.5), f64::max);
    render(path, (WIDTH, HEIGHT), |root| {
        if top_ms <= 0.0 {
            return no_data(root, title);
        }
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 18))
            .margin(12)
            .margin_right(28)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..top_x, 0.0..top_ms * 1.1)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .x_desc("percentile")
            .y_desc("latency (ms)")
            .label_style((FONT, 13))
            .draw()
            .map_err(err)?;
        let ticks: Vec<(f64, &str)> = TICKS
            .iter()
            .map(|&(q, text)| (spectrum_x(q), text))
            .filter(|&(x, _)| x <= top_x + 1e-9)
            .collect();
        // A faint line up from each named percentile, drawn under the curves.
        let rules = ticks
            .iter()
            .filter(|(x, _)| *x > 0.0)
            .map(|&(x, _)| PathElement::new(vec![(x, 0.0), (x, top_ms * 1.1)], BLACK.mix(0.15)));
        chart.draw_series(rules).map_err(err)?;
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
        for (x, text) in ticks {
            let (px, py) = chart.backend_coord(&(x, 0.0));
            label(root, text, (px, py + 6), Pos::new(HPos::Center, VPos::Top))?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::plot::tests::svg;

    /// The SVG of curves named `names` from 0% to `top` (x = log10(1 / (1 - q))).
    fn drawn(names: &[&str], top: f64) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spectrum.svg");
        let curves: Vec<SpectrumSeries> = names
            .iter()
            .map(|n| SpectrumSeries {
                name: n.to_string(),
                samples: 30,
                points: (0..=30)
                    .map(|k| k as f64 / 30.0 * top)
                    .map(|x| (1.0 - 10f64.powf(-x), 1.0 + x))
                    .collect(),
            })
            .collect();
        spectrum_chart(&path, "latency percentiles", &curves).unwrap();
        svg(&path)
    }

    #[test]
    fn the_spectrum_names_hdrhistograms_percentiles_up_to_where_the_data_stops() {
        let text = drawn(&["smol", "threads"], 3.0);
        for want in [
            "latency percentiles",
            "smol (n=30)",
            "threads",
            ">50%<",
            ">90%<",
            ">99%<",
            ">99.9%<",
            "latency (ms)",
        ] {
            assert!(text.contains(want), "{want} missing");
        }
        assert!(!text.contains(">99.99%<"));
        // 108 tasks reach 1 - 1/108, past 99% and short of 99.9%: the axis ends there.
        let text = drawn(&["smol"], 108f64.log10());
        assert!(text.contains(">99%<") && !text.contains(">99.9%<"));
    }
}
