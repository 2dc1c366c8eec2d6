//! The command line: clap definitions and their translation into a checked [`Plan`].
//!
//! This is the only module that knows clap. Parse errors are turned into one line that names
//! the input, so a bad argument reads the same as every other bad input.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::builder::PossibleValuesParser;
use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Args, Parser, Subcommand};

use crate::Error;
use crate::measure::machine::logical_cores;
use crate::model::Runtime;
use std::time::Duration;

use crate::plan::ComparePlan;
use crate::plan::{
    Baseline, DownloadPlan, Format, Limits, Loaded, MAX_DURATION, MAX_PAGE_SIZE, MixedPlan, Output,
    Plan, ReportPlan, RunPlan, Source, StudyPlan, WorkPlan, check_dir_target, check_out_dir,
    read_urls,
};
use crate::protocol::Fault;
use crate::server::{LatencyDist, ServeOptions};
use crate::workload::{CpuKind, CpuWork, Sleep};

const EXAMPLES: &str = "\
Examples:
  asyncstudy io --runtime tokio-mt
  asyncstudy io --runtime threads --workers 16 --tasks 16
  asyncstudy cpu --runtime rayon --workers 4 --workload comp
  asyncstudy cpu --runtime tokio-ct --format markdown
  asyncstudy cpu --runtime process-pool --workers 2 --tasks 8
  asyncstudy runtimes";

const IO_EXAMPLES: &str = "\
Examples:
  asyncstudy io --runtime tokio-mt
  asyncstudy io --runtime threads --workers 8 --writes 50
  asyncstudy io --runtime smol --tasks 1000 --latency 100ms --page-size 16KiB
  asyncstudy io --runtime tokio-mt --error-rate 0.1 --reset-rate 0.05 --timeout 2s
  asyncstudy io --runtime threads --urls urls.txt          # real pages: needs the internet
  asyncstudy io --runtime tokio-ct --workload sleep --tasks 100 --sleep 1s
  asyncstudy io --runtime tokio-mt --workload sleep --blocking --tasks 8";

const MIXED_EXAMPLES: &str = "\
Examples:
  asyncstudy mixed --runtime tokio-mt                  # CPU inline in async tasks
  asyncstudy mixed --runtime tokio-blocking            # CPU in spawn_blocking
  asyncstudy mixed --runtime tokio+rayon               # CPU on a rayon pool beside tokio
  asyncstudy mixed --runtime threads --workers 16      # everything on OS threads
  asyncstudy mixed --runtime smol --io download --tasks 50 --cpu-tasks 8
  asyncstudy mixed --runtime tokio-mt --rate 200/s     # IO and CPU tasks arriving over time
  asyncstudy compare mixed --runtimes tokio-mt,tokio-ct,smol,async-std,tokio-blocking,tokio+rayon,threads,process-pool

--tasks counts the IO tasks, --cpu-tasks the CPU tasks; the two kinds are interleaved
evenly and submitted together. The IO tasks' latency is the headline: where the CPU work
runs decides how long IO tasks wait for a thread that is busy computing.";

const SERVE_EXAMPLES: &str = "\
Examples:
  asyncstudy serve --latency 50ms --page-size 64KiB
  asyncstudy serve --bind 127.0.0.1:8080 --latency-dist lognormal --error-rate 0.05
  sleep infinity | asyncstudy serve &      # keep stdin open to run it in the background";

const CPU_EXAMPLES: &str = "\
Examples:
  asyncstudy cpu --runtime tokio-mt
  asyncstudy cpu --runtime rayon --workers 4 --workload comp --repeat 5
  asyncstudy cpu --runtime serial --tasks 8 --output serial.json
  asyncstudy cpu --runtime threads --tasks 8 --baseline serial.json --format markdown
  asyncstudy cpu --runtime smol --workload noop --tasks 100000
  asyncstudy cpu --runtime process-per-task --workload noop --tasks 200";

/// Runs the same workloads under every mainstream Rust concurrency model and shows, with
/// measured numbers, where async, threads or processes win.
#[derive(Debug, Parser)]
#[command(name = "asyncstudy", version, after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a CPU-bound workload on one runtime and report latency, CPU, memory and threads.
    #[command(after_help = CPU_EXAMPLES)]
    Cpu(CpuArgs),
    /// Run an IO-bound workload (download and rewrite pages, or sleep) on one runtime.
    #[command(after_help = IO_EXAMPLES)]
    Io(IoArgs),
    /// Run CPU tasks and IO tasks together and report the IO tasks' latency under CPU load.
    #[command(after_help = MIXED_EXAMPLES)]
    Mixed(MixedArgs),
    /// Run the embedded HTTP server until its stdin closes (io starts one by itself).
    #[command(after_help = SERVE_EXAMPLES)]
    Serve(ServeArgs),
    /// List every runtime: what runs the tasks and what --workers sets.
    #[command(after_help = RUNTIMES_EXAMPLES)]
    Runtimes(FormatArgs),
    /// Compare runtimes across worker and task counts, each run in a fresh process, with a verdict.
    #[command(subcommand, after_help = COMPARE_EXAMPLES)]
    Compare(CompareKind),
    /// Re-render a saved run or comparison (table, Markdown, CSV, JSON, SVG plots, HDR logs).
    #[command(after_help = REPORT_EXAMPLES)]
    Report(ReportArgs),
    /// Run the seeds' experiments and write docs/STUDY.md with tables, plots and verdicts.
    #[command(after_help = STUDY_EXAMPLES)]
    Study(StudyArgs),
    /// Remove the temporary out-dirs of io runs that were killed (SIGKILL) before they could.
    #[command(after_help = CLEAN_EXAMPLES)]
    Clean {
        /// List what would be removed, and remove nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Print a shell completion script.
    #[command(after_help = COMPLETIONS_EXAMPLES)]
    Completions {
        /// The shell.
        #[arg(value_parser = ["bash", "zsh", "fish"])]
        shell: String,
    },
    /// Serve tasks over stdin and stdout for a parent asyncstudy (process runtimes start it).
    #[command(hide = true)]
    Worker,
}

const COMPARE_EXAMPLES: &str = "\
Examples:
  asyncstudy compare cpu --runtimes serial,threads,rayon,tokio-mt --workers 1,2,4
  asyncstudy compare io --runtimes all --workers 1,2,4,8 --output results.json
  asyncstudy compare io --runtimes serial,threads,tokio-mt --workers 2,4,8,16 --writes 50
  asyncstudy compare sleep --runtimes threads,tokio-mt,smol --tasks 100,1000 --sleep 100ms
  asyncstudy compare cpu --runtimes threads,process-pool --repeat 5 --format markdown
  asyncstudy compare sleep --scale --runtimes tokio-mt,smol,thread-per-task,process-per-task --tasks 100,1000,10000,100000 --sleep 1s --plots img

Every cell (runtime x workers x tasks) and repeat runs in a fresh asyncstudy process;
repeats are interleaved across cells. serial runs once per task count and is every
worker count's baseline. A cell is noisy (~) when its runs' wall times spread by more
than 20% of their median; a winner whose range overlaps the runner-up's is a tie.

--scale (sleep and io) puts every task in flight at once: async runtimes get
--concurrency = tasks on their --workers threads, thread-per-task and process-per-task
get --workers = tasks. The table adds memory per unit, spawn time per unit and makespan
over the ideal; a cell over --max-threads or --max-processes is skipped with a message.";

const RUNTIMES_EXAMPLES: &str = "\
Examples:
  asyncstudy runtimes
  asyncstudy runtimes --format markdown
  asyncstudy runtimes --format json --output runtimes.json";

const REPORT_EXAMPLES: &str = "\
Examples:
  asyncstudy report results.json
  asyncstudy report results.json --format markdown --plots docs/img
  asyncstudy report run.json --hdr hdr/     # HdrHistogram interval logs";

const STUDY_EXAMPLES: &str = "\
Examples:
  asyncstudy study               # writes docs/STUDY.md and docs/img/*.svg
  asyncstudy study --out /tmp/study";

const CLEAN_EXAMPLES: &str = "\
Examples:
  asyncstudy clean --dry-run     # list the stale temporary out-dirs in $TMPDIR
  asyncstudy clean               # remove those whose run is provably dead

A run's temporary out-dir names its owner (pid and start time); a directory without that
marker, or whose owner is alive, is left alone.";

const COMPLETIONS_EXAMPLES: &str = "\
Examples:
  asyncstudy completions bash > ~/.local/share/bash-completion/completions/asyncstudy
  asyncstudy completions zsh > ~/.zfunc/_asyncstudy
  asyncstudy completions fish > ~/.config/fish/completions/asyncstudy.fish";

/// `compare`'s workloads.
#[derive(Debug, Subcommand)]
enum CompareKind {
    /// Compare runtimes on a CPU-bound workload.
    #[command(after_help = COMPARE_EXAMPLES)]
    Cpu(CompareCpu),
    /// Compare runtimes on downloads (the embedded server, started once for every cell).
    #[command(after_help = COMPARE_EXAMPLES)]
    Io(CompareIo),
    /// Compare runtimes on sleep tasks (io --workload sleep).
    #[command(after_help = COMPARE_EXAMPLES)]
    Sleep(CompareIo),
    /// Compare where CPU work goes beside IO tasks (mixed): the IO tasks' latency per runtime.
    #[command(after_help = COMPARE_EXAMPLES)]
    Mixed(CompareMixed),
}

#[derive(Debug, Args)]
struct CompareCpu {
    #[command(flatten)]
    sweep: SweepArgs,
    #[command(flatten)]
    work: CpuWorkArgs,
}

#[derive(Debug, Args)]
struct CompareIo {
    #[command(flatten)]
    sweep: SweepArgs,
    /// download: GET a page and rewrite it to a file (seed 001); sleep: wait (seed 002).
    #[arg(long, default_value = "download", value_parser = ["download", "sleep"])]
    workload: String,
    #[command(flatten)]
    work: IoWorkArgs,
    /// Every task in flight at once: async runtimes get --concurrency = tasks, thread-per-task
    /// and process-per-task --workers = tasks; the table adds memory and spawn time per unit.
    #[arg(long, conflicts_with_all = ["concurrency", "blocking"])]
    scale: bool,
}

#[derive(Debug, Args)]
struct CompareMixed {
    #[command(flatten)]
    sweep: SweepArgs,
    #[command(flatten)]
    work: MixedWorkArgs,
}

/// What a comparison sweeps.
#[derive(Debug, Args)]
struct SweepArgs {
    /// Runtimes to compare: all (with --scale, all that can give each task its own unit), or a
    /// comma-separated list (see `asyncstudy runtimes`).
    #[arg(long, value_name = "LIST", default_value = "all")]
    runtimes: String,

    /// Worker counts to sweep, comma-separated [default: logical cores].
    #[arg(long, short, allow_hyphen_values = true, value_name = "LIST", value_parser = list)]
    workers: Option<List>,

    /// Task counts to sweep, comma-separated [default: cpu 4 x logical cores; io 16; sleep 4].
    #[arg(long, short, allow_hyphen_values = true, value_name = "LIST", value_parser = list)]
    tasks: Option<List>,

    /// Measured runs per cell, each in a fresh process.
    #[arg(long, allow_negative_numbers = true, value_name = "N", default_value_t = 3, value_parser = at_least_one)]
    repeat: usize,

    /// Unmeasured runs inside each child before it measures.
    #[arg(long, value_name = "N", default_value_t = 0)]
    warmup: usize,

    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,

    /// Exit with code 1 if any task or any run failed.
    #[arg(long)]
    strict: bool,

    /// Also write SVG plots into DIR after the sweep.
    #[arg(long, value_name = "DIR")]
    plots: Option<PathBuf>,

    #[command(flatten)]
    how: HowArgs,

    #[command(flatten)]
    out: FormatArgs,
}

/// How tasks are submitted and watched, shared by runs and sweeps (a sweep passes them on to
/// every child run).
#[derive(Debug, Args)]
struct HowArgs {
    /// Submit tasks open loop at R per second (`100` or `100/s`) instead of all at once.
    /// Latency then runs from each task's scheduled time, so time a task spent waiting for a
    /// busy runtime counts even when nothing could be sent (the coordinated-omission
    /// correction, as in wrk2); the record also gives the raw latency, from when a worker or
    /// in-flight slot took the task, which is what a closed-loop load generator would report.
    /// Above capacity the two part ways: raw stays near the service time while corrected grows
    /// with the backlog.
    #[arg(long, value_name = "R", allow_hyphen_values = true, value_parser = per_second)]
    rate: Option<f64>,

    /// Do not give each tokio task its own tokio-metrics monitor (about 330 bytes per task in
    /// flight, which matters when measuring memory per task at scale).
    #[arg(long)]
    no_tokio_metrics: bool,

    #[command(flatten)]
    limits: LimitArgs,
}

/// Ceilings on the threads and processes a run's tasks may hold, shared by runs and sweeps.
#[derive(Debug, Args)]
struct LimitArgs {
    /// Most threads thread-per-task may hold at once: a larger --workers is refused (a sweep
    /// skips the cell). Each Rust thread maps 4 regions, and vm.max_map_count is often 65530.
    #[arg(long, allow_negative_numbers = true, value_name = "N", default_value_t = Limits::DEFAULT_MAX_THREADS, value_parser = at_least_one)]
    max_threads: usize,

    /// Most worker processes process-per-task may hold at once: a larger --workers is refused
    /// (a sweep skips the cell). Each holds a process, a proxy thread and two open files.
    #[arg(long, allow_negative_numbers = true, value_name = "N", default_value_t = Limits::DEFAULT_MAX_PROCESSES, value_parser = at_least_one)]
    max_processes: usize,
}

impl LimitArgs {
    fn limits(&self) -> Limits {
        Limits {
            max_threads: self.max_threads,
            max_processes: self.max_processes,
        }
    }
}

/// A comma-separated list of counts.
#[derive(Debug, Clone)]
struct List(Vec<usize>);

fn list(s: &str) -> Result<List, String> {
    let mut out = Vec::new();
    for part in s.split(',') {
        let n = at_least_one(part.trim()).map_err(|e| format!("{e} ({part:?})"))?;
        if out.contains(&n) {
            return Err(format!("{n} is listed twice"));
        }
        out.push(n);
    }
    Ok(List(out))
}

#[derive(Debug, Args)]
struct ReportArgs {
    /// A JSON record written by cpu, io or compare (--format json or --output FILE.json).
    #[arg(value_name = "FILE")]
    file: PathBuf,

    /// Write SVG plots (wall time across workers, timelines, latency spectra) into DIR.
    #[arg(long, value_name = "DIR")]
    plots: Option<PathBuf>,

    /// Write the histograms as HdrHistogram interval logs (.hlog) into DIR.
    #[arg(long, value_name = "DIR")]
    hdr: Option<PathBuf>,

    #[command(flatten)]
    out: FormatArgs,
}

#[derive(Debug, Args)]
struct StudyArgs {
    /// Where STUDY.md and its img/ directory go.
    #[arg(long, value_name = "DIR", default_value = "docs")]
    out: PathBuf,

    /// No progress bars.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Debug, Args)]
struct CpuArgs {
    #[command(flatten)]
    run: RunArgs,

    #[command(flatten)]
    work: CpuWorkArgs,
}

/// What each CPU task does, shared by `cpu` and `compare cpu`.
#[derive(Debug, Args)]
struct CpuWorkArgs {
    /// The loop each task runs: spin (seed 000), comp (seed 002), cos (seed 001), noop.
    #[arg(long, default_value = "comp", value_parser = PossibleValuesParser::new(CpuKind::ALL.map(CpuKind::name)))]
    workload: String,

    /// Loop steps per task [default: spin 20,000,000 and comp 5,000,000 as in the seeds; cos 2,000,000, a fifth of seed 001's 10^7].
    #[arg(long, allow_negative_numbers = true, value_name = "N", value_parser = at_least_one_u64)]
    iters: Option<u64>,
}

#[derive(Debug, Args)]
struct IoArgs {
    #[command(flatten)]
    run: RunArgs,

    /// download: GET a page and rewrite it to a file (seed 001); sleep: wait (seed 002).
    #[arg(long, default_value = "download", value_parser = ["download", "sleep"])]
    workload: String,

    #[command(flatten)]
    work: IoWorkArgs,
}

#[derive(Debug, Args)]
struct MixedArgs {
    #[command(flatten)]
    run: RunArgs,

    #[command(flatten)]
    work: MixedWorkArgs,
}

/// What a mixed run's tasks do, shared by `mixed` and `compare mixed`.
#[derive(Debug, Args)]
struct MixedWorkArgs {
    /// The IO half: sleep (wait on the runtime's timer) or download (from the embedded server
    /// or --urls).
    #[arg(long, default_value = "sleep", value_parser = ["sleep", "download"])]
    io: String,

    /// CPU tasks submitted among the IO tasks (--tasks counts the IO tasks) [default: 4 x logical cores].
    #[arg(long, allow_negative_numbers = true, value_name = "N", value_parser = at_least_one)]
    cpu_tasks: Option<usize>,

    /// The loop each CPU task runs: spin, comp, cos, noop.
    #[arg(long, default_value = "comp", value_parser = PossibleValuesParser::new(CpuKind::ALL.map(CpuKind::name)))]
    cpu_workload: String,

    /// Loop steps per CPU task [default: as for `cpu`].
    #[arg(long, allow_negative_numbers = true, value_name = "N", value_parser = at_least_one_u64)]
    cpu_iters: Option<u64>,

    #[command(flatten)]
    io_work: IoWorkArgs,
}

/// What each IO task does, shared by `io`, `mixed` and their comparisons.
#[derive(Debug, Args)]
struct IoWorkArgs {
    /// Most tasks in flight for async runtimes [default: every task]. Runtimes whose tasks hold
    /// a thread or a process run as many as they have --workers.
    #[arg(long, short, allow_negative_numbers = true, value_name = "N", value_parser = at_least_one)]
    concurrency: Option<usize>,

    /// A file of http(s) URLs, one per line (# comments); tasks cycle through them. Without it
    /// the embedded server is started for the run and task i fetches /page/i.
    #[arg(long, value_name = "FILE", help_heading = "Download")]
    urls: Option<PathBuf>,

    /// Times each page is written to its file, as the seed's 50 rewrites.
    #[arg(long, allow_negative_numbers = true, value_name = "N", default_value_t = 50, value_parser = at_least_one_u32, help_heading = "Download")]
    writes: u32,

    /// Where pages are written [default: a temporary directory, removed afterwards].
    #[arg(long, value_name = "DIR", help_heading = "Download")]
    out_dir: Option<PathBuf>,

    /// Keep the temporary directory and print where it is.
    #[arg(long, help_heading = "Download")]
    keep: bool,

    /// Limit on connecting, asking and reading one page.
    #[arg(long, value_name = "DURATION", default_value = "20s", value_parser = duration, help_heading = "Download")]
    timeout: Duration,

    /// A larger page fails its task (too_large).
    #[arg(long, value_name = "SIZE", default_value = "10MiB", value_parser = size, help_heading = "Download")]
    max_page_size: u64,

    /// How long each sleep task waits [default: 2s as in seed 002; mixed: 10ms].
    #[arg(long, value_name = "DURATION", value_parser = duration, help_heading = "Sleep")]
    sleep: Option<Duration>,

    /// Async runtimes sleep with std::thread::sleep, blocking their executor thread, instead
    /// of awaiting their timer (tokio-blocking moves it to spawn_blocking).
    #[arg(long, help_heading = "Sleep")]
    blocking: bool,

    #[command(flatten)]
    server: ServerArgs,

    /// An embedded server already running (compare starts one for all its cells).
    #[arg(long, value_name = "URL", hide = true)]
    server_url: Option<String>,
}

/// The embedded server's behaviour, shared by `serve` and `io`.
#[derive(Debug, Args)]
struct ServerArgs {
    /// Bytes per page.
    #[arg(long, value_name = "SIZE", default_value = "16KiB", value_parser = size, help_heading = "Embedded server")]
    page_size: u64,

    /// Mean delay before the server answers.
    #[arg(long, value_name = "DURATION", default_value = "50ms", value_parser = duration, help_heading = "Embedded server")]
    latency: Duration,

    /// How delays vary around --latency: fixed, uniform (0..2x), exp, lognormal (sigma 1).
    #[arg(long, value_name = "DIST", default_value = "fixed", value_parser = PossibleValuesParser::new(LatencyDist::ALL.map(LatencyDist::name)), help_heading = "Embedded server")]
    latency_dist: String,

    /// Share of requests answered 503.
    #[arg(long, value_name = "RATE", default_value_t = 0.0, value_parser = rate, help_heading = "Embedded server")]
    error_rate: f64,

    /// Share of requests whose connection is closed without an answer.
    #[arg(long, value_name = "RATE", default_value_t = 0.0, value_parser = rate, help_heading = "Embedded server")]
    reset_rate: f64,

    /// Share of requests never answered (the client's --timeout ends them).
    #[arg(long, value_name = "RATE", default_value_t = 0.0, value_parser = rate, help_heading = "Embedded server")]
    stall_rate: f64,

    /// Seed of the server's delays and faults, so runs repeat.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 1,
        help_heading = "Embedded server"
    )]
    seed: u64,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address to listen on; a non-loopback address only if given here.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    bind: std::net::SocketAddr,

    #[command(flatten)]
    server: ServerArgs,
}

/// What every measured run takes, CPU or IO.
#[derive(Debug, Args)]
struct RunArgs {
    /// The runtime that runs the tasks (see `asyncstudy runtimes`).
    #[arg(long, short, value_parser = PossibleValuesParser::new(Runtime::ALL.map(Runtime::name)))]
    runtime: String,

    /// Threads or processes doing the work (in-flight tasks for tokio-ct on cpu) [default: logical cores].
    #[arg(long, short, allow_negative_numbers = true, value_name = "N", value_parser = at_least_one)]
    workers: Option<usize>,

    /// Tasks per run [default: cpu 4 x logical cores; io download 16, the seed's pages; sleep 4].
    #[arg(long, short, allow_negative_numbers = true, value_name = "N", value_parser = at_least_one)]
    tasks: Option<usize>,

    /// Unmeasured runs before the measured ones.
    #[arg(long, value_name = "N", default_value_t = 0)]
    warmup: usize,

    /// Measured runs; the record reports the median wall time and merges their histograms.
    #[arg(long, allow_negative_numbers = true, value_name = "N", default_value_t = 1, value_parser = at_least_one)]
    repeat: usize,

    /// A serial run's JSON record of the same workload and tasks, to show speed-up and efficiency.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,

    /// Exit with code 1 if any task failed (by default failed tasks are recorded and the exit
    /// code is 0, as for a run that measured what happened).
    #[arg(long)]
    strict: bool,

    /// Break a worker process at the start of a task, to test recovery: kill, exit, close or
    /// garbage, e.g. `kill@3`. Repeatable. Process runtimes only.
    #[arg(long, value_name = "KIND@TASK", hide = true)]
    inject_fault: Vec<Fault>,

    #[command(flatten)]
    how: HowArgs,

    #[command(flatten)]
    out: FormatArgs,
}

#[derive(Debug, Args)]
struct FormatArgs {
    /// Output format [default: from the --output extension (.json, .csv, .md), else table].
    #[arg(long, short, value_parser = PossibleValuesParser::new(Format::ALL.map(Format::name)))]
    format: Option<String>,

    /// Write to FILE (atomically: a temporary file renamed into place) instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// Parses `args` (program name first) into a checked plan.
///
/// `Ok(None)` means help or the version was asked for and has been printed.
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
        Err(e) => return Err(Error::BadInput(one_line(&e))),
    };
    let plan = match cli.command {
        Command::Cpu(args) => Plan::Run(Box::new(cpu_plan(args)?)),
        Command::Io(args) => Plan::Run(Box::new(io_plan(args)?)),
        Command::Mixed(args) => Plan::Run(Box::new(mixed_plan(args)?)),
        Command::Serve(args) => Plan::Serve(args.server.options(args.bind)?),
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
                record: Loaded::read(&args.file)?,
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
            let work = io_work("sleep", &a.work, SEED_SLEEP)?;
            ("sleep", a.sweep, work, 4, a.work.concurrency, a.scale)
        }
        CompareKind::Mixed(a) => {
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
    let mut runtimes = runtime_list(&sweep.runtimes)?;
    if scale {
        if sweep.runtimes.trim() == "all" {
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
    if let Some(dir) = &sweep.plots {
        check_dir_target("--plots", dir)?;
    }
    // Each cell's child: the work and how it is submitted, one measured run, JSON on stdout.
    let mut template = RunPlan::new(work, tasks);
    template.concurrency = concurrency;
    template.params = RunPlan::work_params(&template.work, concurrency, tasks);
    template.warmup = sweep.warmup;
    template.rate = sweep.how.rate;
    template.tokio_metrics = !sweep.how.no_tokio_metrics;
    template.limits = sweep.how.limits.limits();
    let plan = ComparePlan {
        kind: name.into(),
        template,
        runtimes,
        workers: sweep.workers.map(|l| l.0).unwrap_or(vec![logical_cores()]),
        tasks: sweep.tasks.map(|l| l.0).unwrap_or(vec![if name == "mixed" {
            MIXED_IO_TASKS
        } else {
            tasks
        }]),
        repeat: sweep.repeat,
        output: sweep.out.output()?,
        quiet: sweep.quiet,
        strict: sweep.strict,
        plots: sweep.plots,
        scale,
    };
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
    // Every child's plan is checked here first, so a bad combination is reported before the
    // first cell runs, not by every child in turn. Cells over a limit are skipped, not run, so
    // they are not checked.
    for cell in cells.into_iter().filter(|&c| plan.over_limit(c).is_none()) {
        plan.cell_plan(cell, None).check()?;
    }
    Ok(plan)
}

/// `all` or a comma-separated list of runtime names.
fn runtime_list(s: &str) -> Result<Vec<Runtime>, Error> {
    if s.trim() == "all" {
        return Ok(Runtime::ALL.to_vec());
    }
    let mut out = Vec::new();
    for name in s.split(',').map(str::trim) {
        let rt = Runtime::from_name(name).ok_or_else(|| {
            Error::BadInput(format!(
                "--runtimes: unknown runtime {name:?} (expected all, or a list of: {})",
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
    let plan = io_work(&workload, &work, SEED_SLEEP)?;
    run_plan(run, plan, tasks, work.concurrency)
}

/// The sleep of seed 002's `long_io`.
const SEED_SLEEP: Duration = Duration::from_secs(2);

/// A mixed run's sleep: short, so the IO tasks' latency shows the CPU work, not the wait.
const MIXED_SLEEP: Duration = Duration::from_millis(10);

/// IO tasks in a mixed run unless --tasks says otherwise.
const MIXED_IO_TASKS: usize = 100;

fn mixed_plan(MixedArgs { mut run, work }: MixedArgs) -> Result<RunPlan, Error> {
    let (plan, tasks) = work.work(run.tasks.unwrap_or(MIXED_IO_TASKS))?;
    // --tasks counts IO tasks here; the run record counts every task.
    run.tasks = Some(tasks);
    run_plan(run, plan, tasks, work.io_work.concurrency)
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
    let source = match (&args.urls, &args.server_url) {
        (Some(path), _) => Source::Urls {
            path: path.clone(),
            urls: read_urls(path)?,
        },
        (None, server_url) => {
            let server = args.server.options(ServeOptions::new().bind)?;
            match server_url {
                Some(url) => Source::Running {
                    url: url.clone(),
                    server,
                },
                None => Source::Embedded(server),
            }
        }
    };
    if let Some(available) = crate::measure::machine::available_memory() {
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
    Ok(WorkPlan::Download(DownloadPlan {
        source,
        writes: args.writes,
        out_dir: args.out_dir.clone(),
        keep: args.keep,
        max_page_size: args.max_page_size,
        timeout: args.timeout,
    }))
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
        })
    }
}

impl FormatArgs {
    fn output(self) -> Result<Output, Error> {
        let format = self
            .format
            .as_deref()
            .map(|f| Format::from_name(f).expect("clap checked the format"));
        Output::new(format, self.output)
    }
}

fn at_least_one(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err("not a whole number".into()),
    }
}

fn at_least_one_u64(s: &str) -> Result<u64, String> {
    at_least_one(s).map(|n| n as u64)
}

fn at_least_one_u32(s: &str) -> Result<u32, String> {
    at_least_one(s).and_then(|n| u32::try_from(n).map_err(|_| "too large".into()))
}

/// A duration such as `100ms`, `2s` or `1m 30s`, at most [`MAX_DURATION`].
fn duration(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s)
        .map_err(|e| format!("{e} (expected a duration such as 100ms, 2s, 1m)"))?;
    if d > MAX_DURATION {
        return Err(format!(
            "over the limit of {} days",
            MAX_DURATION.as_secs() / 86_400
        ));
    }
    Ok(d)
}

/// A byte size such as `16KiB`, `10MiB`, `64KB` or `1000`.
fn size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| "expected a size such as 16KiB, 10MiB or 1000".to_string())?;
    let mult: u64 = match unit.trim() {
        "" | "B" => 1,
        "KB" | "kB" => 1_000,
        "KiB" | "K" | "k" => 1 << 10,
        "MB" => 1_000_000,
        "MiB" | "M" => 1 << 20,
        "GB" => 1_000_000_000,
        "GiB" | "G" => 1 << 30,
        other => {
            return Err(format!(
                "unknown unit {other:?} (B, KB, KiB, MB, MiB, GB, GiB)"
            ));
        }
    };
    n.checked_mul(mult).ok_or_else(|| "too large".to_string())
}

/// Tasks per second, `100` or `100/s`: a positive finite number.
fn per_second(s: &str) -> Result<f64, String> {
    let n = s.trim().strip_suffix("/s").unwrap_or(s.trim());
    match n.parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(r),
        _ => Err("expected tasks per second, a number above 0 such as 100 or 100/s".into()),
    }
}

/// A share between 0 and 1.
fn rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
        _ => Err("expected a number from 0 to 1".into()),
    }
}

/// A clap error as one line: clap's first line, completed with the argument it names, the
/// values it accepts and its suggestion, which clap would put on lines of their own.
fn one_line(e: &clap::Error) -> String {
    let rendered = e.to_string();
    let mut lines = rendered.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or("invalid arguments");
    let mut msg = first.strip_prefix("error: ").unwrap_or(first).to_string();
    if msg.ends_with(':') {
        // e.g. "the following required arguments were not provided:" + one argument per line.
        let named: Vec<&str> = lines
            .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("tip:"))
            .collect();
        msg.push(' ');
        msg.push_str(&named.join(", "));
    }
    if let Some(ContextValue::Strings(valid)) = e.get(ContextKind::ValidValue) {
        msg.push_str(&format!(" (expected one of: {})", valid.join(", ")));
    }
    let suggestion = [
        ContextKind::SuggestedValue,
        ContextKind::SuggestedArg,
        ContextKind::SuggestedSubcommand,
    ]
    .into_iter()
    .find_map(|kind| match e.get(kind) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        Some(ContextValue::Strings(v)) => v.first().cloned(),
        _ => None,
    });
    if let Some(s) = suggestion {
        msg.push_str(&format!("; did you mean '{s}'?"));
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bad(args: &[&str]) -> String {
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
                "the following required arguments were not provided: --runtime <RUNTIME>",
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
                path: None
            }
        );
    }
}
