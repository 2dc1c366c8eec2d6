//! The command line: clap definitions and their translation into a checked [`Plan`].
//!
//! This is the only module that knows clap. Parse errors are turned into one line that names
//! the input, so a bad argument reads the same as every other bad input.
//!
//! Why one file over 500 lines: each subcommand's arguments become its plan here, a function
//! each, beside the parse-error handling they share.

mod args;
mod examples;
mod values;

use std::ffi::OsString;

use clap::Parser;
use clap::error::ErrorKind;

use args::*;
use values::one_line;

use crate::Error;
use crate::measure::machine::logical_cores;
use crate::model::Runtime;
use std::time::Duration;

use crate::plan::{
    Baseline, DownloadPlan, Format, Limits, MAX_PAGE_SIZE, MixedPlan, Output, Plan, ReportPlan,
    RunPlan, SavedRecord, Source, StudyPlan, WorkPlan, check_dir_target, check_out_dir, read_urls,
};
use crate::plan::{ComparePlan, Repeat};
use crate::server::{LatencyDist, ServeOptions};
use crate::workload::download::tls::Trust;
use crate::workload::{CpuKind, CpuWork, Sleep};

/// Parses `args` (program name first) into a checked plan.
///
/// `Ok(None)` means help or the version was asked for and has been printed. A command given
/// without the subcommand it needs is [`Error::Usage`], its help to print on stderr.
pub fn parse<I, T>(args: I) -> Result<Option<Plan>, Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            // Printing can only fail on a closed stdout, where there is nobody left to tell.
            let _ = e.print();
            return Ok(None);
        }
        // A command that needs a subcommand, given without one (`asyncstudy`, `asyncstudy
        // compare`): its help, which lists them, rather than its first line as an error.
        Err(e) if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            return Err(Error::Usage(e.to_string()));
        }
        Err(e) => return Err(Error::BadInput(one_line(&e))),
    };
    let plan = match cli.command {
        Command::Cpu(args) => Plan::Run(Box::new(cpu_plan(args)?)),
        Command::Io(args) => Plan::Run(Box::new(io_plan(args)?)),
        Command::Mixed(args) => Plan::Run(Box::new(mixed_plan(args)?)),
        Command::Serve(args) => Plan::Serve(ServeOptions {
            cert_out: args.cert_out,
            cert_names: args.cert_name,
            cpus: args.cpus.map(|c| c.0),
            ..args.server.options(args.bind)?
        }),
        Command::Runtimes(out) => Plan::Runtimes(out.output()?),
        Command::Worker => Plan::Worker,
        Command::Compare(kind) => Plan::Compare(Box::new(compare_plan(kind)?)),
        Command::Report(args) => {
            for (flag, dir) in [("--plots", &args.plots), ("--hdr", &args.hdr)] {
                if let Some(dir) = dir {
                    check_dir_target(flag, dir)?;
                }
            }
            let output = args.out.output()?;
            if let Some(out) = &output.path {
                if *out == args.file || crate::files::same_file(out, &args.file) {
                    return Err(Error::BadInput(format!(
                        "--output {}: is the record being reported; writing there would replace it",
                        out.display()
                    )));
                }
            }
            Plan::Report(Box::new(ReportPlan {
                record: SavedRecord::read(&args.file)?,
                output,
                plots: args.plots,
                hdr: args.hdr,
            }))
        }
        Command::Study(args) => {
            check_dir_target("--out", &args.out)?;
            Plan::Study(StudyPlan {
                out: args.out,
                quiet: args.quiet,
                python: args.python,
            })
        }
        Command::Completions { shell } => Plan::Print(completions(&shell)),
        Command::Clean { dry_run } => Plan::Clean { dry_run },
    };
    Ok(Some(plan))
}

/// The completion script for `shell`, generated from the same clap definition that parses.
fn completions(shell: &str) -> String {
    use clap::CommandFactory;
    use clap_complete::Shell;
    let shell = match shell {
        "zsh" => Shell::Zsh,
        "fish" => Shell::Fish,
        _ => Shell::Bash,
    };
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "asyncstudy", &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn compare_plan(kind: CompareKind) -> Result<ComparePlan, Error> {
    let client_cpus = client_cpus(&kind);
    // Swept only for downloads, and only when there are two ways; one is the template's.
    let connections = match &kind {
        CompareKind::Io(a) if a.workload != "sleep" && a.work.connections.0.len() > 1 => {
            a.work.connections.0.clone()
        }
        _ => Vec::new(),
    };
    let (name, sweep, work, tasks, concurrency, scale) = match kind {
        CompareKind::Cpu(a) => (
            "cpu",
            a.sweep,
            WorkPlan::Cpu(a.work.work()),
            4 * logical_cores(),
            None,
            false,
        ),
        CompareKind::Io(a) if a.workload != "sleep" => {
            let work = io_work("download", &a.work, SEED_SLEEP)?;
            ("io", a.sweep, work, 16, a.work.concurrency, a.scale)
        }
        CompareKind::Io(a) | CompareKind::Sleep(a) => {
            one_way_of_connecting(&a.work)?;
            let work = io_work("sleep", &a.work, SEED_SLEEP)?;
            ("sleep", a.sweep, work, 4, a.work.concurrency, a.scale)
        }
        CompareKind::Mixed(a) => {
            one_way_of_connecting(&a.work.io_work)?;
            let (work, tasks) = a.work.work(MIXED_IO_TASKS)?;
            (
                "mixed",
                a.sweep,
                work,
                tasks,
                a.work.io_work.concurrency,
                false,
            )
        }
    };
    let runtimes = swept_runtimes(&sweep.runtimes, scale)?;
    if let Some(dir) = &sweep.plots {
        check_dir_target("--plots", dir)?;
    }
    let swept = sweep
        .tasks
        .clone()
        .map(|l| l.0)
        .unwrap_or(vec![match &work {
            WorkPlan::Mixed(m) => m.io_tasks,
            _ => tasks,
        }]);
    let mut template = compare_template(work, tasks, swept[0], &sweep);
    template.concurrency = concurrency;
    template.params = RunPlan::work_params(&template.work, concurrency, template.tasks);
    template.client_cpus = client_cpus;
    let plan = ComparePlan {
        kind: name.into(),
        template,
        runtimes,
        workers: sweep.workers.map(|l| l.0).unwrap_or(vec![logical_cores()]),
        tasks: swept,
        connections,
        repeat: match sweep.repeat {
            RepeatCount::Fixed(n) => Repeat::Fixed(n),
            RepeatCount::Auto => Repeat::Auto {
                max: sweep.max_repeat,
                budget: sweep.budget,
            },
        },
        min_effect: sweep.min_effect,
        output: sweep.out.output()?,
        quiet: sweep.quiet,
        strict: sweep.strict,
        plots: sweep.plots,
        scale,
    };
    check_cells(&plan)?;
    Ok(plan)
}

/// Each cell's child: the work and how it is submitted, one measured run, JSON on stdout. Its
/// task count is the first cell's, `first` as `--tasks` counts it; every cell sets its own.
fn compare_template(mut work: WorkPlan, tasks: usize, first: usize, sweep: &SweepArgs) -> RunPlan {
    let tasks = match &mut work {
        WorkPlan::Mixed(m) => {
            // --tasks counts a mix's IO tasks; its CPU tasks stay.
            let all = tasks - m.io_tasks + first;
            m.io_tasks = first;
            all
        }
        _ => first,
    };
    let mut template = RunPlan::new(work, tasks);
    template.warmup = sweep.warmup;
    template.rate = sweep.how.rate;
    template.tokio_metrics = !sweep.how.no_tokio_metrics;
    template.limits = sweep.how.limits.limits();
    template.python_path = sweep.how.python.clone();
    template
}

/// The runtimes `--runtimes` names; with `--scale`, `all` and `python` keep those that can
/// hold a unit per task, and a named one that cannot is bad input.
fn swept_runtimes(names: &str, scale: bool) -> Result<Vec<Runtime>, Error> {
    let mut runtimes = runtime_list(names)?;
    if scale {
        if ["all", "python"].contains(&names.trim()) {
            runtimes.retain(|&rt| rt.scales());
        }
        if let Some(rt) = runtimes.iter().find(|&&rt| !rt.scales()) {
            let scaling: Vec<&str> = Runtime::ALL
                .into_iter()
                .filter(|&rt| rt.scales())
                .map(Runtime::name)
                .collect();
            return Err(Error::BadInput(format!(
                "--runtimes: {} cannot run one unit per task with --scale (its --workers N means {}); leave it out, or pick from: {}",
                rt.name(),
                rt.workers_mean(),
                scaling.join(", ")
            )));
        }
    }
    Ok(runtimes)
}

/// Refuses a comparison whose every cell is over a limit, and checks every child's plan here
/// first, so a bad combination is reported before the first cell runs, not by every child in
/// turn. Cells over a limit are skipped, not run, so they are not checked.
fn check_cells(plan: &ComparePlan) -> Result<(), Error> {
    let cells = plan.cells();
    if let Some((first, (units, why))) = cells
        .first()
        .and_then(|&c| Some((c, plan.over_limit(c)?)))
        .filter(|_| cells.iter().all(|&c| plan.over_limit(c).is_some()))
    {
        return Err(Error::BadInput(format!(
            "every cell is over a limit, the first {} at {units} units: {why}",
            first.runtime
        )));
    }
    for cell in cells.into_iter().filter(|&c| plan.over_limit(c).is_none()) {
        plan.cell_plan(cell, None).check()?;
    }
    Ok(())
}

/// The CPUs every child of a comparison is pinned to (`--client-cpus`).
fn client_cpus(kind: &CompareKind) -> Option<Vec<usize>> {
    match kind {
        CompareKind::Cpu(_) => None,
        CompareKind::Io(a) | CompareKind::Sleep(a) => a.work.client_cpus.clone(),
        CompareKind::Mixed(a) => a.work.io_work.client_cpus.clone(),
    }
    .map(|c| c.0)
}

/// `all` (the Rust runtimes), `python` (the Python ones) or a comma-separated list of runtime
/// names.
fn runtime_list(s: &str) -> Result<Vec<Runtime>, Error> {
    match s.trim() {
        "all" => return Ok(Runtime::rust().collect()),
        "python" => return Ok(Runtime::python().collect()),
        _ => {}
    }
    let mut out = Vec::new();
    for name in s.split(',').map(str::trim) {
        let rt = Runtime::from_name(name).ok_or_else(|| {
            Error::BadInput(format!(
                "--runtimes: unknown runtime {name:?} (expected all, python, or a list of: {})",
                Runtime::ALL.map(Runtime::name).join(", ")
            ))
        })?;
        if out.contains(&rt) {
            return Err(Error::BadInput(format!(
                "--runtimes: {name} is listed twice"
            )));
        }
        out.push(rt);
    }
    Ok(out)
}

fn cpu_plan(args: CpuArgs) -> Result<RunPlan, Error> {
    let work = WorkPlan::Cpu(args.work.work());
    let tasks = args.run.tasks.unwrap_or(4 * logical_cores());
    run_plan(args.run, work, tasks, None)
}

fn io_plan(
    IoArgs {
        run,
        workload,
        work,
    }: IoArgs,
) -> Result<RunPlan, Error> {
    let tasks = run
        .tasks
        .unwrap_or(if workload == "sleep" { 4 } else { 16 });
    one_way_of_connecting(&work)?;
    let plan = io_work(&workload, &work, SEED_SLEEP)?;
    let mut run = run_plan(run, plan, tasks, work.concurrency)?;
    run.client_cpus = work.client_cpus.map(|c| c.0);
    Ok(run)
}

/// The sleep of seed 002's `long_io`.
const SEED_SLEEP: Duration = Duration::from_secs(2);

/// A mixed run's sleep: short, so the IO tasks' latency shows the CPU work, not the wait.
const MIXED_SLEEP: Duration = Duration::from_millis(10);

/// IO tasks in a mixed run unless --tasks says otherwise.
const MIXED_IO_TASKS: usize = 100;

fn mixed_plan(MixedArgs { mut run, work }: MixedArgs) -> Result<RunPlan, Error> {
    one_way_of_connecting(&work.io_work)?;
    let (plan, tasks) = work.work(run.tasks.unwrap_or(MIXED_IO_TASKS))?;
    // --tasks counts IO tasks here; the run record counts every task.
    run.tasks = Some(tasks);
    let mut run = run_plan(run, plan, tasks, work.io_work.concurrency)?;
    run.client_cpus = work.io_work.client_cpus.clone().map(|c| c.0);
    Ok(run)
}

impl MixedWorkArgs {
    /// The mix of `io_tasks` IO tasks with the CPU tasks, and the tasks in all.
    fn work(&self, io_tasks: usize) -> Result<(WorkPlan, usize), Error> {
        let cpu_tasks = self.cpu_tasks.unwrap_or(4 * logical_cores());
        let io = io_work(&self.io, &self.io_work, MIXED_SLEEP)?;
        let plan = WorkPlan::Mixed(MixedPlan {
            cpu: cpu_work(&self.cpu_workload, self.cpu_iters),
            io: Box::new(io),
            io_tasks,
        });
        Ok((plan, io_tasks + cpu_tasks))
    }
}

/// The IO work `workload` (download or sleep) of `args`, checked.
fn io_work(workload: &str, args: &IoWorkArgs, default_sleep: Duration) -> Result<WorkPlan, Error> {
    if workload == "sleep" {
        return Ok(WorkPlan::Sleep(Sleep {
            duration: args.sleep.unwrap_or(default_sleep),
            blocking: args.blocking,
        }));
    }
    let source = source(args)?;
    if let Some(available) = crate::procfs::available_memory() {
        if args.max_page_size > available / 2 {
            return Err(Error::BadInput(format!(
                "--max-page-size {}: more than half this machine's available memory ({} MiB); a task holds its whole page",
                crate::files::human_bytes(args.max_page_size),
                available >> 20
            )));
        }
    }
    if let Some(dir) = &args.out_dir {
        check_out_dir(dir)?;
    }
    Ok(WorkPlan::Download(Box::new(DownloadPlan {
        source,
        writes: args.writes,
        out_dir: args.out_dir.clone(),
        keep: args.keep,
        max_page_size: args.max_page_size,
        timeout: args.timeout,
        // The first way; a comparison that sweeps them sets each cell's own.
        connections: args.connections.0[0],
    })))
}

/// Refuses more than one `--connections` where only `compare io` downloads take a list.
fn one_way_of_connecting(args: &IoWorkArgs) -> Result<(), Error> {
    match args.connections.0.as_slice() {
        [_] => Ok(()),
        many => Err(Error::BadInput(format!(
            "--connections {}: a run connects one way; `compare io` compares both",
            many.iter().map(|c| c.name()).collect::<Vec<_>>().join(",")
        ))),
    }
}

/// Where a download's pages come from: a urls file, a server someone else runs (`--server`),
/// the comparison's shared server, or an embedded server started for the run.
fn source(args: &IoWorkArgs) -> Result<Source, Error> {
    let cert = match &args.server_cert {
        Some(path) => {
            let url = args.remote.as_ref().or(args.server_url.as_ref());
            if !url.is_some_and(|u| u.starts_with("https://")) {
                return Err(Error::BadInput(format!(
                    "--server-cert {}: only for an https --server",
                    path.display()
                )));
            }
            Trust::read(path).map_err(|why| {
                Error::BadInput(format!("--server-cert {}: {why}", path.display()))
            })?;
            Some(path.clone())
        }
        None => None,
    };
    if let Some(path) = &args.urls {
        return Ok(Source::Urls {
            path: path.clone(),
            urls: read_urls(path)?,
        });
    }
    if let Some(url) = &args.remote {
        return Ok(Source::Remote {
            url: url.clone(),
            cert,
        });
    }
    let server = ServeOptions {
        cpus: args.server_cpus.clone().map(|c| c.0),
        ..args.server.options(ServeOptions::new().bind)?
    };
    Ok(match &args.server_url {
        Some(url) => Source::Running {
            url: url.clone(),
            server: ServeOptions {
                cpus: None,
                ..server
            },
            cert,
        },
        None => Source::Embedded(server),
    })
}

fn run_plan(
    args: RunArgs,
    work: WorkPlan,
    tasks: usize,
    concurrency: Option<usize>,
) -> Result<RunPlan, Error> {
    // The value comes from a PossibleValuesParser built from the same list.
    let runtime = Runtime::from_name(&args.runtime).expect("clap checked the runtime name");
    let output = args.out.output()?;
    if let (Some(out), Some(base)) = (&output.path, &args.baseline) {
        if out == base || crate::files::same_file(out, base) {
            return Err(Error::BadInput(format!(
                "--output {}: is the --baseline file; the run would replace the baseline",
                out.display()
            )));
        }
    }
    let params = RunPlan::work_params(&work, concurrency, tasks);
    let baseline = args
        .baseline
        .map(|path| Baseline::load(&path, &work, tasks, &params, args.how.rate))
        .transpose()?;
    RunPlan {
        runtime,
        workers: args.workers.unwrap_or(logical_cores()),
        tasks,
        work,
        concurrency,
        params,
        warmup: args.warmup,
        repeat: args.repeat,
        baseline,
        output,
        faults: args.inject_fault,
        strict: args.strict,
        tokio_metrics: !args.how.no_tokio_metrics,
        rate: args.how.rate,
        limits: args.how.limits.limits(),
        python_path: args.how.python.clone(),
        python: None,
        client_cpus: None,
    }
    .check()
}

impl CpuWorkArgs {
    fn work(&self) -> CpuWork {
        cpu_work(&self.workload, self.iters)
    }
}

/// CPU work of the loop named `name` (checked by clap) with `iters` steps or its default.
fn cpu_work(name: &str, iters: Option<u64>) -> CpuWork {
    // The value comes from a PossibleValuesParser built from the same list.
    let kind = CpuKind::from_name(name).expect("clap checked the workload name");
    CpuWork {
        kind,
        iters: iters.unwrap_or(kind.default_iters()),
    }
}

impl LimitArgs {
    fn limits(&self) -> Limits {
        Limits {
            max_threads: self.max_threads,
            max_processes: self.max_processes,
        }
    }
}

impl ServerArgs {
    fn options(&self, bind: std::net::SocketAddr) -> Result<ServeOptions, Error> {
        let total = self.error_rate + self.reset_rate + self.stall_rate;
        if total > 1.0 {
            return Err(Error::BadInput(format!(
                "--error-rate + --reset-rate + --stall-rate is {total}, more than 1"
            )));
        }
        if self.page_size > MAX_PAGE_SIZE {
            return Err(Error::BadInput(format!(
                "--page-size {}: over the limit of {} (the server builds each answer in memory)",
                crate::files::human_bytes(self.page_size),
                crate::files::human_bytes(MAX_PAGE_SIZE)
            )));
        }
        Ok(ServeOptions {
            bind,
            page_size: self.page_size as usize,
            latency: self.latency,
            latency_dist: LatencyDist::from_name(&self.latency_dist)
                .expect("clap checked the distribution"),
            error_rate: self.error_rate,
            reset_rate: self.reset_rate,
            stall_rate: self.stall_rate,
            seed: self.seed,
            tls: self.tls,
            ..ServeOptions::new()
        })
    }
}

impl FormatArgs {
    fn output(self) -> Result<Output, Error> {
        let format = self
            .format
            .as_deref()
            .map(|f| Format::from_name(f).expect("clap checked the format"));
        Ok(Output {
            wide: self.wide,
            ..Output::new(format, self.output)?
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bad-input message `args` give, for this module's tests and `values.rs`'s.
    pub(super) fn bad(args: &[&str]) -> String {
        match parse(std::iter::once("asyncstudy").chain(args.iter().copied())) {
            Err(Error::BadInput(msg)) => msg,
            other => panic!("expected bad input for {args:?}, got {other:?}"),
        }
    }

    #[test]
    fn bad_arguments_are_one_line_naming_the_input() {
        let cases: [(&[&str], &str); 6] = [
            (
                &["cpu", "--runtime", "rayon", "--workers", "0"],
                "invalid value '0' for '--workers <N>': must be at least 1",
            ),
            (
                &["cpu", "--runtime", "rayon", "--tasks", "0"],
                "invalid value '0' for '--tasks <N>': must be at least 1",
            ),
            (
                &["cpu", "--runtime", "rayon", "--tasks", "ten"],
                "invalid value 'ten' for '--tasks <N>': not a whole number",
            ),
            (
                &["cpu", "--runtime", "goroutines"],
                "invalid value 'goroutines' for '--runtime <RUNTIME>'",
            ),
            (
                &["cpu", "--runtime", "rayon", "--workload", "fib"],
                "invalid value 'fib' for '--workload <WORKLOAD>'",
            ),
            (
                &["cpu"],
                "asyncstudy cpu needs --runtime <RUNTIME>; see `asyncstudy runtimes` for the choices",
            ),
        ];
        for (args, want) in cases {
            let msg = bad(args);
            assert!(msg.starts_with(want), "{args:?}: {msg}");
            assert!(!msg.contains('\n'), "{args:?}: {msg}");
        }
        assert!(
            bad(&["cpu", "--runtime", "goroutines"]).contains("expected one of: serial, threads")
        );
        assert!(bad(&["cpu", "--runtime", "toko-mt"]).contains("did you mean 'tokio-mt'?"));
    }

    #[test]
    fn defaults_follow_the_machine_and_the_seed() {
        let Ok(Some(Plan::Run(plan))) = parse(["asyncstudy", "cpu", "--runtime", "smol"]) else {
            panic!("a valid command line")
        };
        assert_eq!(plan.workers, logical_cores());
        assert_eq!(plan.tasks, 4 * logical_cores());
        assert_eq!(
            plan.work,
            WorkPlan::Cpu(CpuWork {
                kind: CpuKind::Comp,
                iters: 5_000_000
            })
        );
        assert_eq!((plan.warmup, plan.repeat), (0, 1));
        assert_eq!(
            plan.output,
            Output {
                format: Format::Table,
                path: None,
                wide: false,
            }
        );
    }
}
