//! The cost per unit against units of a scale sweep: memory and spawn time, log axes.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use plotters::coord::Shift;

use super::{FONT, HEIGHT, WIDTH, colour, err, label, legend, no_data, render};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::plot::tests::svg;

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
}
