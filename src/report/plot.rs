//! SVG plots with plotters' SVG backend: wall time across worker counts (the seeds' bar
//! charts), a run's timeline (seed 000's scatter), latency percentile spectra, and the cost
//! per unit against units of a scale sweep.
//!
//! The SVG backend writes text as `<text>` elements and, with no font feature, sizes it by
//! estimate, so plotting needs no system fonts. Axis labels that must sit on exact positions
//! (worker counts, worker rows, percentiles) are drawn by hand at their pixel positions,
//! because plotters chooses its own tick positions on continuous axes.

use std::path::Path;

use anyhow::anyhow;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::model::Runtime;
use crate::model::run::TimelineEntry;

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

/// One curve of a percentile spectrum.
pub struct SpectrumSeries {
    /// The legend's name (a runtime's name picks its colour).
    pub name: String,
    /// Tasks the curve stands on, shown in the legend: a curve of 8 tasks has no p99.
    pub samples: u64,
    /// (quantile in [0, 1), milliseconds), rising.
    pub points: Vec<(f64, f64)>,
}

/// One runtime's cost per unit across the unit counts of a sweep.
pub struct ScaleSeries {
    /// The legend's name (a runtime's name picks its colour).
    pub name: String,
    /// One point per unit count.
    pub points: Vec<ScalePoint>,
}

/// What one cell's units cost; a figure the cell lacks is `None`.
pub struct ScalePoint {
    /// Units (tasks) of the cell.
    pub units: usize,
    /// Memory per unit in flight, KiB.
    pub kib_per_unit: Option<f64>,
    /// Time to spawn all units over the units, µs.
    pub spawn_us_per_unit: Option<f64>,
}

pub(super) const WIDTH: u32 = 900;
const HEIGHT: u32 = 500;
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
fn colour(name: &str, index: usize) -> RGBColor {
    let i = Runtime::ALL
        .iter()
        .position(|r| r.name() == name)
        .unwrap_or(index);
    PALETTE[i % PALETTE.len()]
}

pub(super) fn err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("could not draw: {e:?}")
}

/// Renders with `draw` into an SVG string and writes it atomically to `path`.
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

/// Two panels, memory per unit over spawn time per unit, against units on log axes: one line
/// per runtime.
pub fn scale_chart(path: &Path, title: &str, series: &[ScaleSeries]) -> anyhow::Result<()> {
    let mut units: Vec<usize> = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.units))
        .filter(|&u| u > 0)
        .collect();
    units.sort_unstable();
    units.dedup();
    render(path, (WIDTH, 2 * HEIGHT - 100), |root| {
        if units.is_empty() {
            return no_data(root, title);
        }
        let body = root.titled(title, (FONT, 18)).map_err(err)?;
        let panels = body.split_evenly((2, 1));
        scale_panel(
            root,
            &panels[0],
            "memory per unit in flight (KiB, log)",
            series,
            &units,
            |p| p.kib_per_unit,
        )?;
        scale_panel(
            root,
            &panels[1],
            "time to spawn all units, per unit (µs, log)",
            series,
            &units,
            |p| p.spawn_us_per_unit,
        )?;
        Ok(())
    })
}

/// A compact label for a log axis: no trailing zeros, no long fractions.
fn log_label(v: &f64) -> String {
    if *v >= 10.0 {
        format!("{v:.0}")
    } else if *v >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// One panel of [`scale_chart`]: `pick`'s figure of every series against units.
fn scale_panel(
    root: &DrawingArea<SVGBackend, Shift>,
    area: &DrawingArea<SVGBackend, Shift>,
    y_desc: &str,
    series: &[ScaleSeries],
    units: &[usize],
    pick: fn(&ScalePoint) -> Option<f64>,
) -> anyhow::Result<()> {
    // Log axes take positive values only.
    let ok = |v: &f64| v.is_finite() && *v > 0.0;
    let values: Vec<f64> = series
        .iter()
        .flat_map(|s| s.points.iter().filter_map(pick))
        .filter(ok)
        .collect();
    let (Some(lo), Some(hi)) = (
        values.iter().copied().reduce(f64::min),
        values.iter().copied().reduce(f64::max),
    ) else {
        return no_data(area, y_desc);
    };
    let (x0, x1) = (units[0] as f64, units[units.len() - 1] as f64);
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(
            (x0 / 1.5..x1 * 1.5).log_scale(),
            (lo / 2.0..hi * 2.0).log_scale(),
        )
        .map_err(err)?;
    // The unit counts swept are labelled by hand below; plotters' own log ticks would sit
    // beside them.
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .x_label_formatter(&|_| String::new())
        .max_light_lines(0)
        .x_desc("units (tasks, log)")
        .y_desc(y_desc)
        .y_label_formatter(&log_label)
        .label_style((FONT, 13))
        .draw()
        .map_err(err)?;
    for (i, s) in series.iter().enumerate() {
        let c = colour(&s.name, i);
        let line: Vec<(f64, f64)> = s
            .points
            .iter()
            .filter(|p| p.units > 0)
            .filter_map(|p| pick(p).filter(ok).map(|v| (p.units as f64, v)))
            .collect();
        if line.is_empty() {
            continue;
        }
        chart
            .draw_series(LineSeries::new(line.clone(), c.stroke_width(2)))
            .map_err(err)?
            .label(s.name.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 12, y)], c.stroke_width(2)));
        chart
            .draw_series(line.into_iter().map(|xy| Circle::new(xy, 4, c.filled())))
            .map_err(err)?;
    }
    legend(&mut chart, SeriesLabelPosition::UpperRight)?;
    for &u in units {
        let (px, py) = chart.backend_coord(&(u as f64, lo / 2.0));
        label(
            root,
            &u.to_string(),
            (px, py + 6),
            Pos::new(HPos::Center, VPos::Top),
        )?;
    }
    Ok(())
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

    fn svg(path: &Path) -> String {
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

    fn entry(task: usize, worker: &str, start: f64, end: f64, ok: bool) -> TimelineEntry {
        TimelineEntry {
            task,
            worker: worker.into(),
            submit_ms: 0.0,
            start_ms: start,
            end_ms: end,
            ok,
        }
    }

    #[test]
    fn each_chart_carries_its_title_names_and_labels() {
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

    #[test]
    fn the_scale_chart_has_both_panels_and_the_units_swept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("scale.svg");
        let series: Vec<ScaleSeries> = ["smol", "thread-per-task"]
            .iter()
            .enumerate()
            .map(|(i, rt)| ScaleSeries {
                name: rt.to_string(),
                points: [100, 1000, 10000]
                    .iter()
                    .map(|&u| ScalePoint {
                        units: u,
                        kib_per_unit: Some(0.5 + i as f64 * 8.0 + 1000.0 / u as f64),
                        // A missing figure leaves a gap, not a broken chart.
                        spawn_us_per_unit: (u < 10000).then_some(1.0 + i as f64 * 100.0),
                    })
                    .collect(),
            })
            .collect();
        scale_chart(&path, "sleep: cost per unit", &series).unwrap();
        let text = svg(&path);
        for want in [
            "sleep: cost per unit",
            "smol",
            "thread-per-task",
            ">100<",
            ">1000<",
            ">10000<",
            "memory per unit in flight (KiB, log)",
            "time to spawn all units, per unit (µs, log)",
        ] {
            assert!(text.contains(want), "{want} missing");
        }
        scale_chart(&path, "empty", &[]).unwrap();
        assert!(svg(&path).contains("empty (no data)"));
    }

    #[test]
    fn empty_and_nan_inputs_still_make_a_valid_svg() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.svg");
        wall_chart(&p, "nothing", &[]).unwrap();
        assert!(svg(&p).contains("nothing (no data)"));
        timeline_chart(&p, "no tasks", &[]).unwrap();
        assert!(svg(&p).contains("no tasks (no data)"));
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
        timeline_chart(&p, "nan", &[entry(0, "1:1", f64::NAN, 1.0, true)]).unwrap();
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
