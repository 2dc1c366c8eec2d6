//! A run's timeline: a line from start to end per task (seed 000's scatter of which worker ran
//! what, when).
//!
//! A runtime whose task holds its worker from start to end (a pool thread, a process) gets a
//! row per worker, grouped by process. A runtime whose tasks interleave on a thread (an async
//! executor, where a hundred tasks share two threads) gets a row per task, sorted by start and
//! coloured by the thread that started it, with its wait from submission to start: a row per
//! thread would be one solid bar. A mixed run's CPU and IO tasks are coloured apart. The legend
//! sits in a column of its own right of the plot, where it never hides a task. The two layouts
//! share their drawing (frame, classes, legend), which keeps them in one file of about 500 lines.

use std::path::Path;

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{FONT, PALETTE, WIDTH, err, label, no_data, render};

use crate::model::run::TimelineEntry;

/// Most timeline entries a plot with a row per worker draws, whatever the record holds.
pub const TIMELINE_PLOT_CAP: usize = 2_000;

/// Most tasks a plot with a row per task draws: beyond a few hundred a row is under two pixels.
pub const TASK_ROWS_CAP: usize = 400;

/// A run's timeline, as a plot draws it.
pub struct Timeline<'a> {
    /// The chart's title.
    pub title: &'a str,
    /// The run's tasks.
    pub tasks: &'a [TimelineEntry],
    /// What a row is.
    pub rows: Rows,
    /// For a mixed run, which tasks (by index) are IO tasks, to colour them apart from the CPU
    /// tasks.
    pub io_task: Option<&'a dyn Fn(usize) -> bool>,
}

/// What a timeline's rows are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rows {
    /// One per worker thread or process: each task holds its worker from start to end.
    Workers,
    /// One per task, sorted by start: tasks interleave on their threads.
    Tasks,
}

/// Draws `t` at `path`.
pub fn timeline_chart(path: &Path, t: &Timeline) -> anyhow::Result<()> {
    match t.rows {
        Rows::Workers => worker_rows(path, t),
        Rows::Tasks => task_rows(path, t),
    }
}

type Chart<'a> = ChartContext<'a, SVGBackend<'a>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;
type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// The width of the legend's column, right of the plot.
const LEGEND_WIDTH: u32 = 220;

/// One entry of the legend: a name beside a line of its colour and width, or a cross.
struct Entry {
    name: String,
    colour: RGBColor,
    width: u32,
    cross: bool,
}

impl Entry {
    fn line(name: impl Into<String>, colour: RGBColor, width: u32) -> Entry {
        Entry {
            name: name.into(),
            colour,
            width,
            cross: false,
        }
    }
}

/// The tasks with every time a number, the first `cap` of them, and the title, which says so
/// when the cap cut some off.
fn drawable<'a>(t: &Timeline<'a>, cap: usize, order: &str) -> (String, Vec<&'a TimelineEntry>) {
    let mut tasks: Vec<&TimelineEntry> = t
        .tasks
        .iter()
        .filter(|e| e.start_ms.is_finite() && e.end_ms.is_finite() && e.submit_ms.is_finite())
        .collect();
    if t.rows == Rows::Tasks {
        tasks.sort_by(|a, b| a.start_ms.total_cmp(&b.start_ms).then(a.task.cmp(&b.task)));
    }
    // A record from elsewhere may hold millions of entries; a plot of them would be gigabytes.
    if tasks.len() > cap {
        let title = format!("{} (first {cap} of {} tasks{order})", t.title, tasks.len());
        tasks.truncate(cap);
        (title, tasks)
    } else {
        (t.title.to_string(), tasks)
    }
}

/// `pid:tid` as numbers, for sorting threads by process.
fn worker_key(worker: &str) -> (u64, u64) {
    let (pid, tid) = worker.split_once(':').unwrap_or((worker, ""));
    (pid.parse().unwrap_or(0), tid.parse().unwrap_or(0))
}

/// A worker as labels name it.
fn worker_name((pid, tid): (u64, u64)) -> String {
    format!("pid {pid} · tid {tid}")
}

/// The milliseconds the plot starts at (the first submission) and spans.
fn span(tasks: &[&TimelineEntry]) -> (f64, f64) {
    let origin = tasks
        .iter()
        .map(|t| t.submit_ms)
        .fold(f64::INFINITY, f64::min);
    let end = tasks
        .iter()
        .map(|t| t.end_ms)
        .fold(f64::NEG_INFINITY, f64::max);
    (origin, (end - origin).max(1e-3))
}

/// Renders a timeline `height` pixels tall: `title` over the plot and the legend's column.
/// `draw` draws the plot in the area it is given and returns the legend's entries.
fn render_with_legend(
    path: &Path,
    title: &str,
    height: u32,
    empty: bool,
    draw: impl FnOnce(&Area, &Area) -> anyhow::Result<Vec<Entry>>,
) -> anyhow::Result<()> {
    render(path, (WIDTH + LEGEND_WIDTH, height), |root| {
        if empty {
            return no_data(root, title);
        }
        let body = root.titled(title, (FONT, 16)).map_err(err)?;
        let (plot, side) = body.split_horizontally(WIDTH);
        let entries = draw(root, &plot)?;
        for (i, e) in entries.iter().enumerate() {
            let y = 40 + 20 * i as i32;
            if e.cross {
                side.draw(&Cross::new((14, y), 4, BLACK.stroke_width(2)))
            } else {
                side.draw(&PathElement::new(
                    vec![(6, y), (22, y)],
                    e.colour.stroke_width(e.width.clamp(1, 6)),
                ))
            }
            .map_err(err)?;
            let style =
                TextStyle::from((FONT, 13).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
            side.draw(&Text::new(e.name.clone(), (30, y), style))
                .map_err(err)?;
        }
        Ok(())
    })
}

/// A chart of `rows` rows over `span` ms, its y axis left to hand-drawn labels.
fn frame<'a>(
    area: &Area<'a>,
    span: f64,
    rows: usize,
    label_width: u32,
    y_desc: &str,
) -> anyhow::Result<Chart<'a>> {
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(label_width)
        .build_cartesian_2d(0.0..span * 1.02, -0.5..rows as f64 - 0.5)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .max_light_lines(0)
        .y_labels(0)
        .x_desc("ms since the first task was submitted")
        .y_desc(y_desc)
        .label_style((FONT, 13))
        .draw()
        .map_err(err)?;
    Ok(chart)
}

/// What a task is, for its colour: with `io_task`, a CPU or an IO task; failed either way.
fn class(e: &TimelineEntry, io_task: Option<&dyn Fn(usize) -> bool>) -> (&'static str, RGBColor) {
    match io_task {
        _ if !e.ok => ("failed task", PALETTE[3]),
        Some(is_io) if is_io(e.task) => ("IO task", PALETTE[0]),
        Some(_) => ("CPU task", PALETTE[2]),
        None => ("task", PALETTE[0]),
    }
}

/// A line from start to end for the task `e` at `y`.
fn task_line(e: &TimelineEntry, origin: f64, y: f64, style: ShapeStyle) -> PathElement<(f64, f64)> {
    PathElement::new(
        vec![(e.start_ms - origin, y), (e.end_ms - origin, y)],
        style,
    )
}

/// Draws every task of `tasks` at row `y_of` as a line in its class's colour, and with `marks`
/// a dot at each end; returns a legend entry per class, failed last.
fn draw_classes(
    chart: &mut Chart,
    tasks: &[&TimelineEntry],
    io_task: Option<&dyn Fn(usize) -> bool>,
    (origin, width): (f64, u32),
    y_of: &dyn Fn(usize, &TimelineEntry) -> f64,
    marks: bool,
) -> anyhow::Result<Vec<Entry>> {
    let mut classes: Vec<(&str, RGBColor)> = Vec::new();
    for e in tasks {
        let c = class(e, io_task);
        if !classes.contains(&c) {
            classes.push(c);
        }
    }
    classes.sort_by_key(|&(name, _)| (name == "failed task", name));
    for &(name, c) in &classes {
        let these: Vec<(usize, &TimelineEntry)> = tasks
            .iter()
            .copied()
            .enumerate()
            .filter(|(_, e)| class(e, io_task).0 == name)
            .collect();
        let lines = these
            .iter()
            .map(|&(i, e)| task_line(e, origin, y_of(i, e), c.stroke_width(width)));
        chart.draw_series(lines).map_err(err)?;
        if marks {
            let dots = these.iter().flat_map(|&(i, e)| {
                let y = y_of(i, e);
                [e.start_ms - origin, e.end_ms - origin]
                    .map(|x| Circle::new((x, y), 3, BLACK.filled()))
            });
            chart.draw_series(dots).map_err(err)?;
        }
    }
    Ok(classes
        .into_iter()
        .map(|(name, c)| Entry::line(name, c, 4))
        .collect())
}

/// One row per worker thread, grouped by process; a line from start to end per task.
fn worker_rows(path: &Path, t: &Timeline) -> anyhow::Result<()> {
    let (title, tasks) = drawable(t, TIMELINE_PLOT_CAP, "");
    let mut rows: Vec<(u64, u64)> = tasks.iter().map(|e| worker_key(&e.worker)).collect();
    rows.sort_unstable();
    rows.dedup();
    let height = (120 + 18 * rows.len() as u32).clamp(260, 4000);
    let (origin, span) = span(&tasks);
    render_with_legend(path, &title, height, rows.is_empty(), |root, plot| {
        let mut chart = frame(plot, span, rows.len(), 150, "")?;
        let row_of = |_: usize, e: &TimelineEntry| {
            rows.binary_search(&worker_key(&e.worker)).unwrap_or(0) as f64
        };
        let entries = draw_classes(&mut chart, &tasks, t.io_task, (origin, 4), &row_of, true)?;
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
        for (i, &worker) in rows.iter().enumerate() {
            let (px, py) = chart.backend_coord(&(0.0, i as f64));
            let at = Pos::new(HPos::Right, VPos::Center);
            label(root, &worker_name(worker), (px - 6, py), at)?;
        }
        Ok(entries)
    })
}

/// Most threads the legend of a row-per-task plot names; the rest are counted.
const LEGEND_THREADS: usize = 8;

/// One row per task, the first started at the top: a line from start to end coloured by the
/// thread that started it, with a cross at the end of a failed task (for a mix, coloured as a
/// CPU, IO or failed task), and a faint line for its wait before.
fn task_rows(path: &Path, t: &Timeline) -> anyhow::Result<()> {
    let (title, tasks) = drawable(t, TASK_ROWS_CAP, " by start");
    let n = tasks.len();
    // Rows as tall as fits in about 600 pixels, from 12 down to 2.
    let pitch = (600 / n.max(1)).clamp(2, 12) as u32;
    let height = (130 + pitch * n as u32).max(260);
    let stroke = (pitch * 7 / 10).max(1);
    let (origin, span) = span(&tasks);
    render_with_legend(path, &title, height, n == 0, |root, plot| {
        let y_desc = "tasks by start, the first at the top";
        let mut chart = frame(plot, span, n, 60, y_desc)?;
        let y_of = |i: usize, _: &TimelineEntry| (n - 1 - i) as f64;
        let mut entries = draw_waits(&mut chart, &tasks, origin, &y_of)?;
        // A mix's classes colour its failed tasks too; otherwise a cross marks them.
        let width = (origin, stroke);
        if t.io_task.is_some() {
            entries.extend(draw_classes(
                &mut chart, &tasks, t.io_task, width, &y_of, false,
            )?);
        } else {
            entries.extend(draw_threads(&mut chart, &tasks, width, &y_of)?);
            entries.extend(draw_failures(&mut chart, &tasks, origin, &y_of)?);
        }
        let mut ends = vec![(0, "1".to_string())];
        if n > 1 {
            ends.push((n - 1, n.to_string()));
        }
        for (i, text) in ends {
            let (px, py) = chart.backend_coord(&(0.0, y_of(i, tasks[i])));
            label(
                root,
                &text,
                (px - 6, py),
                Pos::new(HPos::Right, VPos::Center),
            )?;
        }
        Ok(entries)
    })
}

/// A faint line per task from its submission to its start, and its legend entry.
fn draw_waits(
    chart: &mut Chart,
    tasks: &[&TimelineEntry],
    origin: f64,
    y_of: &dyn Fn(usize, &TimelineEntry) -> f64,
) -> anyhow::Result<Vec<Entry>> {
    let faint = BLACK.mix(0.3);
    let waits: Vec<PathElement<(f64, f64)>> = tasks
        .iter()
        .enumerate()
        .filter(|(_, e)| e.start_ms > e.submit_ms)
        .map(|(i, e)| {
            let y = y_of(i, e);
            PathElement::new(
                vec![(e.submit_ms - origin, y), (e.start_ms - origin, y)],
                faint.stroke_width(1),
            )
        })
        .collect();
    if waits.is_empty() {
        return Ok(Vec::new());
    }
    chart.draw_series(waits).map_err(err)?;
    Ok(vec![Entry::line(
        "waiting to start",
        RGBColor(178, 178, 178),
        1,
    )])
}

/// Each task's line in the colour of the thread that started it, and a legend entry per
/// thread (the ones past the legend's room counted).
fn draw_threads(
    chart: &mut Chart,
    tasks: &[&TimelineEntry],
    (origin, width): (f64, u32),
    y_of: &dyn Fn(usize, &TimelineEntry) -> f64,
) -> anyhow::Result<Vec<Entry>> {
    let mut threads: Vec<(u64, u64)> = tasks.iter().map(|e| worker_key(&e.worker)).collect();
    threads.sort_unstable();
    threads.dedup();
    let mut entries = Vec::new();
    for (k, &thread) in threads.iter().enumerate() {
        let c = PALETTE[k % PALETTE.len()];
        let lines = tasks
            .iter()
            .enumerate()
            .filter(|(_, e)| worker_key(&e.worker) == thread)
            .map(|(i, e)| task_line(e, origin, y_of(i, e), c.stroke_width(width)));
        chart.draw_series(lines).map_err(err)?;
        if threads.len() <= LEGEND_THREADS || k + 1 < LEGEND_THREADS {
            entries.push(Entry::line(format!("on {}", worker_name(thread)), c, 4));
        } else if k + 1 == LEGEND_THREADS {
            let more = format!("… and {} more threads", threads.len() - k);
            entries.push(Entry::line(more, c, 4));
        }
    }
    Ok(entries)
}

/// A cross at the end of every failed task, and its legend entry if there is one.
fn draw_failures(
    chart: &mut Chart,
    tasks: &[&TimelineEntry],
    origin: f64,
    y_of: &dyn Fn(usize, &TimelineEntry) -> f64,
) -> anyhow::Result<Vec<Entry>> {
    let failed: Vec<(f64, f64)> = tasks
        .iter()
        .enumerate()
        .filter(|(_, e)| !e.ok)
        .map(|(i, e)| (e.end_ms - origin, y_of(i, e)))
        .collect();
    if failed.is_empty() {
        return Ok(Vec::new());
    }
    let cross = |xy: (f64, f64)| Cross::new(xy, 4, BLACK.stroke_width(2));
    chart
        .draw_series(failed.into_iter().map(cross))
        .map_err(err)?;
    Ok(vec![Entry {
        name: "failed task".into(),
        colour: BLACK,
        width: 2,
        cross: true,
    }])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::plot::tests::{entry, svg};

    /// 20 tasks on two processes of two threads, the 8th failing.
    fn tasks() -> Vec<TimelineEntry> {
        (0..20)
            .map(|i| {
                let worker = ["10:10", "10:11", "20:20", "20:21"][i % 4];
                let start = (i / 4) as f64 * 10.0;
                entry(i, worker, start, start + 9.0, i != 7)
            })
            .collect()
    }

    fn draw(
        rows: Rows,
        tasks: &[TimelineEntry],
        io_task: Option<&dyn Fn(usize) -> bool>,
    ) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("timeline.svg");
        let t = Timeline {
            title: "timeline of a run",
            tasks,
            rows,
            io_task,
        };
        timeline_chart(&path, &t).unwrap();
        svg(&path)
    }

    #[test]
    fn a_row_per_worker_names_each_thread_and_the_failed_tasks() {
        let text = draw(Rows::Workers, &tasks(), None);
        for want in [
            "timeline of a run",
            "pid 10 · tid 11",
            "pid 20 · tid 21",
            "failed task",
        ] {
            assert!(text.contains(want), "{want} missing");
        }
    }

    #[test]
    fn a_row_per_task_colours_tasks_by_the_thread_that_started_them() {
        let text = draw(Rows::Tasks, &tasks(), None);
        for want in [
            "timeline of a run",
            "on pid 10 · tid 10",
            "on pid 20 · tid 21",
            "waiting to start",
            "failed task",
            "tasks by start, the first at the top",
            ">20<",
        ] {
            assert!(text.contains(want), "{want} missing");
        }
        // A line per task and one per wait, beside the legend's.
        assert!(text.matches("<polyline").count() >= 20 + 19, "{text}");
    }

    #[test]
    fn a_mix_colours_its_cpu_and_io_tasks_apart() {
        let is_io = |task: usize| task % 3 != 0;
        for rows in [Rows::Workers, Rows::Tasks] {
            let text = draw(rows, &tasks(), Some(&is_io));
            for want in ["CPU task", "IO task", "failed task"] {
                assert!(text.contains(want), "{rows:?}: {want} missing");
            }
            assert!(!text.contains("on pid"), "{rows:?}");
            assert_eq!(
                text.matches("failed task").count(),
                1,
                "{rows:?}: one legend entry"
            );
        }
    }

    #[test]
    fn a_large_run_is_capped_and_says_so() {
        let many: Vec<TimelineEntry> = (0..10_000)
            .map(|i| entry(i, ["1:1", "1:2"][i % 2], i as f64, i as f64 + 3.0, true))
            .collect();
        let text = draw(Rows::Tasks, &many, None);
        assert!(text.contains(&format!("(first {TASK_ROWS_CAP} of 10000 tasks by start)")));
        assert!(text.len() < 1 << 20, "{} bytes", text.len());
        let text = draw(Rows::Workers, &many, None);
        assert!(text.contains(&format!("(first {TIMELINE_PLOT_CAP} of 10000 tasks)")));
    }
}
