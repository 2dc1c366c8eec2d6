//! A comparison's plan: the runtimes, worker counts and task counts to sweep, the cells they
//! make, and each cell's child run.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::output::Output;
use crate::model::Runtime;
use crate::model::runtime::Limits;
use crate::server::ServeOptions;

/// A checked comparison: what to sweep and the child command line of the workload.
#[derive(Debug, Clone)]
pub struct ComparePlan {
    /// `cpu`, `io` or `sleep`.
    pub kind: String,
    /// The runtimes, in the order given.
    pub runtimes: Vec<Runtime>,
    /// Worker counts to sweep.
    pub workers: Vec<usize>,
    /// Task counts to sweep.
    pub tasks: Vec<usize>,
    /// Measured child runs per cell.
    pub repeat: usize,
    /// Unmeasured runs inside each child before it measures.
    pub warmup: usize,
    /// The child's subcommand and workload options (`cpu --workload comp --iters ...`).
    pub child_args: Vec<String>,
    /// The embedded server to start once for every cell, for downloads without `--urls`.
    pub server: Option<ServeOptions>,
    /// Where the comparison goes, and in what format.
    pub output: Output,
    /// No progress bar.
    pub quiet: bool,
    /// Exit 1 when any task or cell failed.
    pub strict: bool,
    /// Where to write SVG plots after the sweep, if anywhere.
    pub plots: Option<PathBuf>,
    /// Every task in flight at once (`--scale`).
    pub scale: bool,
    /// The threads and processes a cell may hold; cells over them are skipped.
    pub limits: Limits,
}

/// One cell of the grid: a runtime at a worker count and a task count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Cell {
    /// The runtime's name.
    pub runtime: &'static str,
    /// `--workers`.
    pub workers: usize,
    /// `--tasks`.
    pub tasks: usize,
}

impl ComparePlan {
    /// Every cell, in the order they run, skipped ones included. `serial` ignores `--workers`,
    /// so it runs once per task count, at 1 worker, and serves as every worker count's
    /// baseline. With `--scale`, thread-per-task and process-per-task also run once per task
    /// count, with as many workers as tasks.
    pub fn cells(&self) -> Vec<Cell> {
        let mut cells = Vec::new();
        for &tasks in &self.tasks {
            for (i, &workers) in self.workers.iter().enumerate() {
                for &rt in &self.runtimes {
                    let scaled = self.scale && rt.creates_unit_per_task();
                    if rt.is_baseline() || scaled {
                        if i == 0 {
                            cells.push(Cell {
                                runtime: rt.name(),
                                workers: if scaled { tasks } else { 1 },
                                tasks,
                            });
                        }
                        continue;
                    }
                    cells.push(Cell {
                        runtime: rt.name(),
                        workers,
                        tasks,
                    });
                }
            }
        }
        cells
    }

    /// Units the cell would hold over a limit, and why it is over; such a cell is skipped.
    pub fn over_limit(&self, cell: Cell) -> Option<(usize, String)> {
        let rt = Runtime::from_name(cell.runtime)?;
        self.limits.exceeded(rt, cell.workers, cell.tasks)
    }

    /// The child's full argument list for one cell (program name not included).
    pub fn cell_args(&self, cell: Cell, server_url: Option<&str>) -> Vec<String> {
        let mut args = self.child_args.clone();
        if let Some(url) = server_url {
            args.extend(["--server-url".into(), url.into()]);
        }
        let in_flight_is_concurrency =
            Runtime::from_name(cell.runtime).is_some_and(Runtime::in_flight_is_concurrency);
        if self.scale && in_flight_is_concurrency {
            // An io child already defaults to every task in flight; saying it puts the figure
            // in each record's parameters and keeps the sweep's meaning if that default moves.
            args.extend(["--concurrency".into(), cell.tasks.to_string()]);
        }
        args.extend([
            "--runtime".into(),
            cell.runtime.into(),
            "--workers".into(),
            cell.workers.to_string(),
            "--tasks".into(),
            cell.tasks.to_string(),
            "--warmup".into(),
            self.warmup.to_string(),
            "--format".into(),
            "json".into(),
        ]);
        args
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Format;
    use crate::plan::output::Output;

    fn plan(runtimes: &[Runtime], workers: &[usize]) -> ComparePlan {
        ComparePlan {
            kind: "cpu".into(),
            runtimes: runtimes.to_vec(),
            workers: workers.to_vec(),
            tasks: vec![8],
            repeat: 2,
            warmup: 0,
            child_args: vec!["io".into()],
            server: None,
            output: Output {
                format: Format::Json,
                path: None,
            },
            quiet: true,
            strict: false,
            plots: None,
            scale: false,
            limits: Limits::DEFAULT,
        }
    }

    #[test]
    fn serial_runs_once_per_task_count() {
        let cells = plan(&[Runtime::Serial, Runtime::Threads], &[1, 2, 4]).cells();
        let serial: Vec<_> = cells.iter().filter(|c| c.runtime == "serial").collect();
        assert_eq!(serial.len(), 1);
        assert_eq!(serial[0].workers, 1);
        assert_eq!(cells.len(), 4);
    }

    #[test]
    fn a_scale_sweep_gives_every_task_its_own_unit() {
        let mut p = plan(
            &[
                Runtime::TokioCt,
                Runtime::ThreadPerTask,
                Runtime::ProcessPerTask,
            ],
            &[1, 2],
        );
        p.scale = true;
        p.tasks = vec![10, 1000];
        p.limits = Limits {
            max_threads: 500,
            max_processes: 5,
        };
        let cells = p.cells();
        // tokio-ct at each worker count; the per-task runtimes once per task count.
        assert_eq!(cells.len(), 2 * 2 + 2 * 2);
        for c in cells.iter().filter(|c| c.runtime != "tokio-ct") {
            assert_eq!(c.workers, c.tasks, "{c:?}");
        }
        let ct = cells.iter().find(|c| c.runtime == "tokio-ct").unwrap();
        let args = p.cell_args(*ct, None).join(" ");
        assert!(
            args.contains("--concurrency 10 --runtime tokio-ct --workers 1"),
            "{args}"
        );
        let tpt = cells
            .iter()
            .find(|c| c.runtime == "thread-per-task")
            .unwrap();
        assert!(
            !p.cell_args(*tpt, None)
                .contains(&"--concurrency".to_string())
        );
        // Over the limits: threads at 1000 units, processes at both counts.
        let over: Vec<(&str, usize)> = cells
            .iter()
            .filter(|&&c| p.over_limit(c).is_some())
            .map(|c| (c.runtime, c.tasks))
            .collect();
        assert_eq!(
            over,
            [
                ("process-per-task", 10),
                ("thread-per-task", 1000),
                ("process-per-task", 1000)
            ]
        );
        assert_eq!(p.over_limit(*tpt), None, "10 threads are within 500");
    }

    #[test]
    fn cell_args_name_the_cell_and_ask_for_json() {
        let p = plan(&[Runtime::Smol], &[2]);
        let args = p.cell_args(p.cells()[0], Some("http://127.0.0.1:9"));
        let joined = args.join(" ");
        assert!(joined.starts_with("io --server-url http://127.0.0.1:9 --runtime smol"));
        assert!(joined.ends_with("--workers 2 --tasks 8 --warmup 0 --format json"));
    }
}
