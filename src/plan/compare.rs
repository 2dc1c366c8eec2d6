//! A comparison's plan: the runtimes, worker counts and task counts to sweep (and, for
//! downloads, the ways of connecting), the cells they make, and each cell's child run, which is
//! the comparison's template run with the cell's runtime, workers and tasks, rendered by the
//! one renderer [`RunPlan::to_args`].

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::output::Output;
use super::run::{RunPlan, Source, WorkPlan};
use crate::model::Runtime;
use crate::model::runtime::Limits;
use crate::server::ServeOptions;
use crate::workload::download::Connections;

/// A checked comparison: what to sweep, and the run every cell makes of it.
#[derive(Debug, Clone, PartialEq)]
pub struct ComparePlan {
    /// `cpu`, `io`, `sleep` or `mixed`.
    pub kind: String,
    /// Every cell's child run but its runtime, workers and tasks: the work, how tasks are
    /// submitted, the warm-up, one measured run, the record as JSON on stdout.
    pub template: RunPlan,
    /// The runtimes, in the order given.
    pub runtimes: Vec<Runtime>,
    /// Worker counts to sweep.
    pub workers: Vec<usize>,
    /// Task counts to sweep, as `--tasks` counts them (a mix's IO tasks).
    pub tasks: Vec<usize>,
    /// Ways of connecting to sweep (`--connections new,reuse`), for downloads; empty when the
    /// template's one way is every cell's.
    pub connections: Vec<Connections>,
    /// How many measured child runs each cell gets.
    pub repeat: Repeat,
    /// The relative difference a verdict calls a win beyond, and a tie within (`--min-effect`).
    pub min_effect: f64,
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
}

/// The embedded server a comparison started for all its cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Shared {
    /// Its base URL.
    pub url: String,
    /// The certificate it serves, with TLS.
    pub cert: Option<PathBuf>,
}

/// How many rounds a comparison runs: every cell once per round, rounds interleaved.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Repeat {
    /// `--repeat N`: N rounds of every cell.
    Fixed(usize),
    /// `--repeat auto`: [`Repeat::MIN_ROUNDS`] rounds, then more of the groups with an
    /// undecided verdict, until none is left, `max` rounds (`--max-repeat`) or the budget
    /// (`--budget`) is reached.
    Auto {
        /// The most rounds a cell runs.
        max: usize,
        /// No round starts that is expected to end after this much time from the start.
        budget: Duration,
    },
}

impl Repeat {
    /// Rounds every cell runs under `auto` before any is left out.
    pub const MIN_ROUNDS: usize = 3;
    /// `--max-repeat` unless given.
    pub const DEFAULT_MAX: usize = 20;

    /// Rounds every cell runs whatever the verdicts say.
    pub fn min_rounds(self) -> usize {
        match self {
            Repeat::Fixed(n) => n,
            Repeat::Auto { max, .. } => Repeat::MIN_ROUNDS.min(max),
        }
    }

    /// The most rounds any cell runs.
    pub fn max_rounds(self) -> usize {
        match self {
            Repeat::Fixed(n) => n,
            Repeat::Auto { max, .. } => max,
        }
    }

    /// The command-line arguments that give this back.
    pub fn to_args(self) -> Vec<String> {
        match self {
            Repeat::Fixed(n) => vec!["--repeat".into(), n.to_string()],
            Repeat::Auto { max, budget } => vec![
                "--repeat".into(),
                "auto".into(),
                "--max-repeat".into(),
                max.to_string(),
                "--budget".into(),
                // Seconds, so a command line copied from a document is one word per value.
                if budget.subsec_nanos() == 0 {
                    format!("{}s", budget.as_secs())
                } else {
                    format!("{}ms", budget.as_millis())
                },
            ],
        }
    }
}

/// One cell of the grid: a runtime at a worker count and a task count (and a way of
/// connecting, when the comparison sweeps them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Cell {
    /// The runtime's name.
    pub runtime: &'static str,
    /// `--workers`.
    pub workers: usize,
    /// `--tasks`.
    pub tasks: usize,
    /// `--connections`, when swept; `None`: the template's.
    pub connections: Option<Connections>,
}

impl Cell {
    /// A short name for progress lines: `smol w2 t64`, `smol w2 t64 reuse`.
    pub fn name(&self) -> String {
        let way = self.connections.map(|c| format!(" {}", c.name()));
        let (rt, w, t) = (self.runtime, self.workers, self.tasks);
        format!("{rt} w{w} t{t}{}", way.unwrap_or_default())
    }
}

impl ComparePlan {
    /// Every cell, in the order they run, skipped ones included. `serial` ignores `--workers`,
    /// so it runs once per task count, at 1 worker, and serves as every worker count's
    /// baseline. With `--scale`, thread-per-task and process-per-task also run once per task
    /// count, with as many workers as tasks.
    pub fn cells(&self) -> Vec<Cell> {
        let ways: Vec<Option<Connections>> = match self.connections.as_slice() {
            [] => vec![None],
            swept => swept.iter().copied().map(Some).collect(),
        };
        let mut cells = Vec::new();
        for &connections in &ways {
            for &tasks in &self.tasks {
                for (i, &workers) in self.workers.iter().enumerate() {
                    for &rt in &self.runtimes {
                        let scaled = self.scale && rt.creates_unit_per_task();
                        let workers = match (rt.is_baseline() || scaled, i) {
                            (false, _) => workers,
                            (true, 0) if scaled => tasks,
                            (true, 0) => 1,
                            (true, _) => continue,
                        };
                        cells.push(Cell {
                            runtime: rt.name(),
                            workers,
                            tasks,
                            connections,
                        });
                    }
                }
            }
        }
        cells
    }

    /// The threads and processes a cell may hold; cells over them are skipped.
    pub fn limits(&self) -> Limits {
        self.template.limits
    }

    /// The embedded server to start once for every cell, for downloads without `--urls`.
    pub fn server(&self) -> Option<&ServeOptions> {
        let download = match &self.template.work {
            WorkPlan::Download(d) => d,
            WorkPlan::Mixed(m) => match m.io.as_ref() {
                WorkPlan::Download(d) => d,
                _ => return None,
            },
            _ => return None,
        };
        match &download.source {
            Source::Embedded(s) => Some(s),
            _ => None,
        }
    }

    /// Units the cell would hold over a limit, and why it is over; such a cell is skipped.
    pub fn over_limit(&self, cell: Cell) -> Option<(usize, String)> {
        let rt = Runtime::from_name(cell.runtime)?;
        self.limits().exceeded(rt, cell.workers, cell.tasks)
    }

    /// The run a cell's child makes: the template with the cell's runtime, workers and tasks,
    /// fetching from the comparison's running server when there is one.
    pub fn cell_plan(&self, cell: Cell, server: Option<&Shared>) -> RunPlan {
        let mut plan = self.template.clone();
        plan.runtime = Runtime::from_name(cell.runtime).expect("cells come from runtimes");
        plan.workers = cell.workers;
        plan.tasks = cell.tasks;
        if let (Some(c), WorkPlan::Download(d)) = (cell.connections, &mut plan.work) {
            d.connections = c;
        }
        if let WorkPlan::Mixed(m) = &mut plan.work {
            // --tasks counts a mix's IO tasks; its CPU tasks stay as the template has them.
            plan.tasks = cell.tasks + self.template.tasks.saturating_sub(m.io_tasks);
            m.io_tasks = cell.tasks;
        }
        if self.scale && plan.runtime.in_flight_is_concurrency() {
            // An io child already defaults to every task in flight; saying it puts the figure
            // in each record's parameters and keeps the sweep's meaning if that default moves.
            plan.concurrency = Some(cell.tasks);
        }
        if let Some(shared) = server {
            let source = match &mut plan.work {
                WorkPlan::Download(d) => Some(&mut d.source),
                WorkPlan::Mixed(m) => match m.io.as_mut() {
                    WorkPlan::Download(d) => Some(&mut d.source),
                    _ => None,
                },
                _ => None,
            };
            if let Some(source) = source {
                if let Source::Embedded(server) = source {
                    *source = Source::Running {
                        url: shared.url.clone(),
                        // Pinned once when the comparison started it; a child has no say.
                        server: ServeOptions {
                            cpus: None,
                            ..server.clone()
                        },
                        cert: shared.cert.clone(),
                    };
                }
            }
        }
        plan.params = RunPlan::work_params(&plan.work, plan.concurrency, plan.tasks);
        plan
    }

    /// The child's full argument list for one cell (program name not included).
    pub fn cell_args(&self, cell: Cell, server: Option<&Shared>) -> Vec<String> {
        self.cell_plan(cell, server).to_args()
    }

    /// What every cell's command line shares: the work and how tasks are submitted.
    pub fn shared_args(&self) -> Vec<String> {
        let mut a = self.work_args();
        a.extend(self.template.how_args());
        a
    }

    /// The template's work arguments, without its way of connecting when the comparison
    /// sweeps them (each cell has its own).
    fn work_args(&self) -> Vec<String> {
        let mut a = self.template.work_args();
        if !self.connections.is_empty() {
            if let Some(at) = a.iter().position(|x| x == "--connections") {
                a.drain(at..at + 2);
            }
        }
        a
    }

    /// The `compare` command line (without the program name) that parses back into this plan.
    pub fn to_args(&self) -> Vec<String> {
        let mut a: Vec<String> = vec!["compare".into(), self.kind.clone()];
        // The work's arguments without their own subcommand (and, for `compare sleep`, the
        // workload it names).
        let work = self.work_args();
        let skip = match self.kind.as_str() {
            "sleep" => 3,
            _ => 1,
        };
        a.extend(work.into_iter().skip(skip));
        let list = |v: &[usize]| v.iter().map(usize::to_string).collect::<Vec<_>>().join(",");
        a.extend([
            "--runtimes".into(),
            self.runtimes
                .iter()
                .map(|r| r.name())
                .collect::<Vec<_>>()
                .join(","),
            "--workers".into(),
            list(&self.workers),
            "--tasks".into(),
            list(&self.tasks),
        ]);
        if !self.connections.is_empty() {
            let ways: Vec<&str> = self.connections.iter().map(|c| c.name()).collect();
            a.extend(["--connections".into(), ways.join(",")]);
        }
        a.extend(self.repeat.to_args());
        a.extend([
            "--min-effect".into(),
            self.min_effect.to_string(),
            "--warmup".into(),
            self.template.warmup.to_string(),
        ]);
        a.extend(self.template.how_args());
        if self.scale {
            a.push("--scale".into());
        }
        if self.quiet {
            a.push("--quiet".into());
        }
        if self.strict {
            a.push("--strict".into());
        }
        if let Some(dir) = &self.plots {
            a.extend(["--plots".into(), dir.display().to_string()]);
        }
        a.extend(["--format".into(), self.output.format.name().into()]);
        if let Some(path) = &self.output.path {
            a.extend(["--output".into(), path.display().to_string()]);
        }
        if self.output.wide {
            a.push("--wide".into());
        }
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Plan;
    use crate::workload::{CpuKind, CpuWork};

    fn plan(runtimes: &[Runtime], workers: &[usize]) -> ComparePlan {
        let work = WorkPlan::Cpu(CpuWork {
            kind: CpuKind::Comp,
            iters: 1000,
        });
        ComparePlan {
            kind: "cpu".into(),
            template: RunPlan::new(work, 8),
            runtimes: runtimes.to_vec(),
            workers: workers.to_vec(),
            tasks: vec![8],
            connections: Vec::new(),
            repeat: Repeat::Fixed(2),
            min_effect: 0.03,
            output: Output {
                format: super::super::Format::Json,
                path: None,
                wide: false,
            },
            quiet: true,
            strict: false,
            plots: None,
            scale: false,
        }
    }

    fn parse(args: Vec<String>) -> Plan {
        crate::cli::parse(std::iter::once("asyncstudy".to_string()).chain(args))
            .unwrap_or_else(|e| panic!("{e}"))
            .expect("not help")
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
    fn a_connections_sweep_runs_every_cell_each_way() {
        let Plan::Compare(p) = parse(
            "compare io --runtimes serial,smol,threads --workers 1,2 --connections new,reuse"
                .split_whitespace()
                .map(String::from)
                .collect(),
        ) else {
            panic!("not a comparison")
        };
        let cells = p.cells();
        // serial once, smol and threads at each worker count: 5 cells, each way.
        assert_eq!(cells.len(), 10);
        for way in [Connections::New, Connections::Reuse] {
            let mine: Vec<_> = cells
                .iter()
                .filter(|c| c.connections == Some(way))
                .collect();
            assert_eq!(mine.len(), 5, "{way:?}");
            for &&c in &mine {
                let WorkPlan::Download(d) = &p.cell_plan(c, None).work else {
                    panic!("not a download")
                };
                assert_eq!(d.connections, way, "{c:?}");
            }
        }
        // The shared command line leaves the way to each cell.
        assert!(!p.shared_args().contains(&"--connections".to_string()));
        // A comparison of one way keeps it in the template.
        let Plan::Compare(one) = parse(
            "compare io --runtimes smol --connections reuse"
                .split_whitespace()
                .map(String::from)
                .collect(),
        ) else {
            panic!("not a comparison")
        };
        assert!(one.connections.is_empty());
        assert!(one.cells().iter().all(|c| c.connections.is_none()));
        assert!(one.shared_args().contains(&"reuse".to_string()));
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
        p.kind = "sleep".into();
        p.template = RunPlan::new(
            WorkPlan::Sleep(crate::workload::Sleep {
                duration: std::time::Duration::from_millis(5),
                blocking: false,
            }),
            4,
        );
        p.scale = true;
        p.tasks = vec![10, 1000];
        p.template.limits = Limits {
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
        let ct_plan = p.cell_plan(*ct, None);
        assert_eq!(
            (ct_plan.concurrency, ct_plan.runtime, ct_plan.workers),
            (Some(10), Runtime::TokioCt, 1)
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
        let args = p.cell_args(p.cells()[0], None);
        let joined = args.join(" ");
        assert!(
            joined.starts_with("cpu --workload comp --iters 1000"),
            "{joined}"
        );
        assert!(
            joined.contains("--runtime smol --workers 2 --tasks 8 --warmup 1 --repeat 1"),
            "{joined}"
        );
        assert!(joined.ends_with("--format json"), "{joined}");
    }

    // The one renderer, checked the only way that matters: what it renders parses back into
    // the plan it rendered, for every kind of work and every option it carries.
    #[test]
    fn a_rendered_run_parses_back_into_the_same_plan() {
        let dir = tempfile::tempdir().unwrap();
        let urls = dir.path().join("urls.txt");
        std::fs::write(&urls, "http://a.example/\nhttps://b.example/x\n").unwrap();
        let urls = urls.display().to_string();
        let cert = dir.path().join("cert.pem");
        let id = crate::server::tls::identity("127.0.0.1:0".parse().unwrap(), &[]).unwrap();
        id.write_cert(&cert).unwrap();
        let cert = cert.display().to_string();
        let lines = [
            "cpu --runtime threads --workload noop --wide".to_string(),
            "cpu --runtime rayon --workers 3 --tasks 7 --workload spin --iters 1234 --warmup 0 --repeat 2 --rate 50/s --strict".into(),
            "io --runtime smol --tasks 5 --concurrency 2 --writes 3 --timeout 1500ms --max-page-size 2MiB --page-size 100 --latency 7ms --latency-dist exp --error-rate 0.25 --seed 9 --no-tokio-metrics".into(),
            format!("io --runtime threads --urls {urls} --keep --format csv"),
            "io --runtime tokio-ct --workload sleep --sleep 250ms --blocking --max-threads 40".into(),
            "mixed --runtime tokio+rayon --tasks 20 --cpu-tasks 3 --cpu-workload cos --cpu-iters 99 --sleep 3ms".into(),
            "mixed --runtime threads --io download --tasks 4 --cpu-workload noop --max-processes 9".into(),
            "cpu --runtime process-pool --workers 2 --tasks 3 --inject-fault kill@1 --inject-fault exit@2".into(),
            "io --runtime smol --tls --connections reuse --client-cpus 0 --server-cpus 0".into(),
            format!("io --runtime threads --server https://127.0.0.1:9 --server-cert {cert}"),
        ];
        for line in lines {
            let Plan::Run(first) = parse(line.split_whitespace().map(String::from).collect())
            else {
                panic!("{line}: not a run")
            };
            let rendered = first.to_args();
            let Plan::Run(again) = parse(rendered.clone()) else {
                panic!("{rendered:?}: not a run")
            };
            assert_eq!(again, first, "{line}\n rendered as {}", rendered.join(" "));
        }
    }

    #[test]
    fn a_rendered_comparison_and_its_cells_parse_back() {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("cert.pem");
        let id = crate::server::tls::identity("127.0.0.1:0".parse().unwrap(), &[]).unwrap();
        id.write_cert(&cert).unwrap();
        let lines = [
            "compare cpu --runtimes serial,threads --workers 1,2 --tasks 4,8 --workload noop --repeat 2 --wide",
            "compare cpu --runtimes threads,smol --workload noop --repeat auto --max-repeat 7 --budget 90s --min-effect 5%",
            "compare cpu --runtimes threads,smol --workload noop --min-effect 0.025",
            "compare io --runtimes smol,thread-per-task --workers 2 --tasks 10 --writes 2 --latency 3ms --scale",
            "compare sleep --runtimes tokio-mt,threads --workers 2 --sleep 5ms --rate 100 --warmup 2 --quiet",
            "compare mixed --runtimes tokio-mt,tokio+rayon --workers 2 --tasks 30 --cpu-tasks 2 --cpu-iters 1000 --no-tokio-metrics",
            "compare io --runtimes smol,threads --tls --connections reuse --client-cpus 0 --server-cpus 0",
            "compare io --runtimes tokio-mt --server http://127.0.0.1:9 --connections reuse",
            "compare io --runtimes serial,smol,threads --workers 1,2 --tls --connections reuse,new",
        ];
        for line in lines {
            let Plan::Compare(first) = parse(line.split_whitespace().map(String::from).collect())
            else {
                panic!("{line}: not a comparison")
            };
            let rendered = first.to_args();
            let Plan::Compare(again) = parse(rendered.clone()) else {
                panic!("{rendered:?}: not a comparison")
            };
            assert_eq!(again, first, "{line}\n rendered as {}", rendered.join(" "));
            for cell in first.cells() {
                let shared = first.server().map(|s| super::Shared {
                    url: if s.tls { "https" } else { "http" }.to_string() + "://127.0.0.1:1",
                    cert: s.tls.then(|| cert.clone()),
                });
                let child = first.cell_plan(cell, shared.as_ref());
                let Plan::Run(parsed) = parse(first.cell_args(cell, shared.as_ref())) else {
                    panic!("{cell:?}: not a run")
                };
                assert_eq!(*parsed, child, "{line}: {cell:?}");
            }
        }
    }
}
