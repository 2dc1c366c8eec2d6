//! SVG plots with plotters' SVG backend, one file per chart: wall time across worker counts
//! (`wall`, the seeds' bar charts), a run's timeline (`timeline`, seed 000's scatter), latency
//! percentile spectra (`spectrum`), and the cost per unit against units of a scale sweep
//! (`scale`). This file holds what they share: size, font, palette, legend, writing.
//!
//! The SVG backend writes text as `<text>` elements and, with no font feature, sizes it by
//! estimate, so plotting needs no system fonts. Axis labels that must sit on exact positions
//! (worker counts, worker rows, percentiles) are drawn by hand at their pixel positions,
//! because plotters chooses its own tick positions on continuous axes.

mod scale;
mod spectrum;
mod timeline;
mod wall;

pub use scale::{ScalePoint, ScaleSeries, scale_chart};
pub use spectrum::{SpectrumSeries, spectrum_chart};
pub use timeline::{Rows, TASK_ROWS_CAP, TIMELINE_PLOT_CAP, Timeline, timeline_chart};
pub use wall::{WallPoint, WallSeries, wall_chart};

use std::path::Path;

use anyhow::anyhow;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::Pos;

use crate::model::Runtime;

pub(super) const WIDTH: u32 = 900;
pub(super) const HEIGHT: u32 = 500;
pub(super) const FONT: &str = "sans-serif";

/// Okabe–Ito, readable with the common colour-vision deficiencies, then three more.
pub(super) const PALETTE: [RGBColor; 11] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(213, 94, 0),
    RGBColor(86, 180, 233),
    RGBColor(204, 121, 167),
    RGBColor(0, 0, 0),
    RGBColor(153, 153, 153),
    RGBColor(140, 86, 30),
    RGBColor(100, 40, 140),
    RGBColor(190, 170, 40),
];

/// A runtime keeps its colour in every chart; other names take theirs by position.
pub(super) fn colour(name: &str, index: usize) -> RGBColor {
    let i = Runtime::ALL
        .iter()
        .position(|r| r.name() == name)
        .unwrap_or(index);
    PALETTE[i % PALETTE.len()]
}

pub(super) fn err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("could not draw: {e:?}")
}

/// Draws a chart's legend at `at`, in the one style every chart uses.
pub(super) fn legend<'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, CT>,
    at: SeriesLabelPosition,
) -> anyhow::Result<()> {
    chart
        .configure_series_labels()
        .position(at)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font((FONT, 13))
        .draw()
        .map_err(err)
}

/// Renders with `draw` into an SVG string and writes it atomically to `path`.
pub(super) fn render(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        draw(&root)?;
        root.present().map_err(err)?;
    }
    super::write_atomically(path, svg.as_bytes())
        .map_err(|e| e.context(format!("could not write the plot {}", path.display())))
}

/// An empty chart that says so.
pub(super) fn no_data(root: &DrawingArea<SVGBackend, Shift>, title: &str) -> anyhow::Result<()> {
    root.titled(&format!("{title} (no data)"), (FONT, 18))
        .map_err(err)?;
    Ok(())
}

/// Draws `text` at pixel `at` on the whole drawing area, outside any chart's clipping.
pub(super) fn label(
    root: &DrawingArea<SVGBackend, Shift>,
    text: &str,
    at: (i32, i32),
    pos: Pos,
) -> anyhow::Result<()> {
    let style = TextStyle::from((FONT, 13).into_font()).pos(pos);
    root.draw(&Text::new(text.to_string(), at, style))
        .map_err(err)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::model::run::TimelineEntry;

    /// A timeline entry submitted at 0.
    pub(super) fn entry(
        task: usize,
        worker: &str,
        start: f64,
        end: f64,
        ok: bool,
    ) -> TimelineEntry {
        TimelineEntry {
            task,
            worker: worker.into(),
            submit_ms: 0.0,
            start_ms: start,
            end_ms: end,
            ok,
        }
    }

    /// The text of the SVG at `path`, checked well formed, on one line.
    pub(super) fn svg(path: &Path) -> String {
        let text = std::fs::read_to_string(path).unwrap();
        assert!(
            text.trim_start().starts_with("<svg"),
            "{}",
            &text[..80.min(text.len())]
        );
        assert!(text.trim_end().ends_with("</svg>"));
        assert_eq!(
            text.matches("<text").count(),
            text.matches("</text>").count()
        );
        // plotters puts a text's content on a line of its own.
        text.replace('\n', "")
    }

    #[test]
    fn empty_and_nan_inputs_still_make_a_valid_svg() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.svg");
        wall_chart(&p, "nothing", &[]).unwrap();
        assert!(svg(&p).contains("nothing (no data)"));
        for rows in [Rows::Workers, Rows::Tasks] {
            let t = |tasks| Timeline {
                title: "no tasks",
                tasks,
                rows,
                io_task: None,
            };
            timeline_chart(&p, &t(&[])).unwrap();
            assert!(svg(&p).contains("no tasks (no data)"));
            timeline_chart(&p, &t(&[entry(0, "1:1", f64::NAN, 1.0, true)])).unwrap();
            svg(&p);
        }
        spectrum_chart(&p, "none", &[]).unwrap();
        assert!(svg(&p).contains("none (no data)"));
        let nan = [WallSeries {
            runtime: "smol".into(),
            points: vec![WallPoint {
                workers: 1,
                median_s: f64::NAN,
                min_s: f64::NAN,
                max_s: 1.0,
            }],
        }];
        wall_chart(&p, "nan", &nan).unwrap();
        svg(&p);
        spectrum_chart(
            &p,
            "nan",
            &[SpectrumSeries {
                name: "x".into(),
                samples: 2,
                points: vec![(0.5, f64::NAN), (0.9, 2.0)],
            }],
        )
        .unwrap();
        svg(&p);
    }
}
