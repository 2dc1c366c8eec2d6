//! The command line as clap types: what each subcommand takes, with its help. Nothing else in
//! the crate knows clap; `cli` turns these into plans.
//!
//! Why one file over 500 lines: it is the command line's one declaration, a struct per
//! subcommand and the option groups they share, each field with its help; split, a reader
//! would look in several files for one command's flags.

use std::path::PathBuf;
use std::time::Duration;

use clap::builder::PossibleValuesParser;
use clap::{Args, Parser, Subcommand};

use super::examples::*;
use super::values::*;
use crate::model::Runtime;
use crate::model::runtime::Limits;
use crate::plan::{Format, Repeat};
use crate::protocol::Fault;
use crate::server::LatencyDist;
use crate::workload::CpuKind;
use crate::workload::download::Connections;

/// Runs the same workloads under every mainstream Rust concurrency model and shows, with
/// measured numbers, where async, threads or processes win.
#[derive(Debug, Parser)]
#[command(name = "asyncstudy", version, after_help = EXAMPLES)]
pub(super) struct Cli {
    #[command(subcommand)]
    pub(super) command: Command,
}

#[derive(Debug, Subcommand)]
pub(super) enum Command {
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

/// `compare`'s workloads.
#[derive(Debug, Subcommand)]
pub(super) enum CompareKind {
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
pub(super) struct CompareCpu {
    #[command(flatten)]
    pub(super) sweep: SweepArgs,
    #[command(flatten)]
    pub(super) work: CpuWorkArgs,
}

#[derive(Debug, Args)]
pub(super) struct CompareIo {
    #[command(flatten)]
    pub(super) sweep: SweepArgs,
    /// download: GET a page and rewrite it to a file (seed 001); sleep: wait (seed 002).
    #[arg(long, default_value = "download", value_parser = ["download", "sleep"])]
    pub(super) workload: String,
    #[command(flatten)]
    pub(super) work: IoWorkArgs,
    /// Every task in flight at once: async runtimes get --concurrency = tasks, thread-per-task
    /// and process-per-task --workers = tasks; the table adds memory and spawn time per unit.
    #[arg(long, conflicts_with_all = ["concurrency", "blocking"])]
    pub(super) scale: bool,
}

#[derive(Debug, Args)]
pub(super) struct CompareMixed {
    #[command(flatten)]
    pub(super) sweep: SweepArgs,
    #[command(flatten)]
    pub(super) work: MixedWorkArgs,
}

/// What a comparison sweeps.
#[derive(Debug, Args)]
pub(super) struct SweepArgs {
    /// Runtimes to compare: all (every Rust runtime; with --scale, all that can give each task
    /// its own unit), python (the four Python ones), or a comma-separated list (see
    /// `asyncstudy runtimes`).
    #[arg(long, value_name = "LIST", default_value = "all")]
    pub(super) runtimes: String,

    /// Worker counts to sweep, comma-separated [default: logical cores].
    #[arg(long, short, allow_hyphen_values = true, value_name = "LIST", value_parser = list)]
    pub(super) workers: Option<List>,

    /// Task counts to sweep, comma-separated [default: cpu 4 x logical cores; io 16; sleep 4].
    #[arg(long, short, allow_hyphen_values = true, value_name = "LIST", value_parser = list)]
    pub(super) tasks: Option<List>,

    /// Measured runs per cell, each in a fresh process, in interleaved rounds: auto runs 3
    /// rounds, then more of the groups whose verdict is still undecided, until none is, or
    /// --max-repeat, or --budget; N runs N rounds.
    #[arg(long, allow_negative_numbers = true, value_name = "auto|N", default_value = "auto", value_parser = repeat)]
    pub(super) repeat: RepeatCount,

    /// With --repeat auto: the most rounds any cell runs.
    #[arg(long, allow_negative_numbers = true, value_name = "N", default_value_t = Repeat::DEFAULT_MAX, value_parser = at_least_one)]
    pub(super) max_repeat: usize,

    /// With --repeat auto: no round starts that is expected to end after this much time.
    #[arg(long, value_name = "D", default_value = "2m", value_parser = duration)]
    pub(super) budget: Duration,

    /// A verdict calls a win when the paired 95% interval is wholly beyond this relative
    /// difference, and a tie when it lies wholly within it (memory: at least 10% and 1 MiB).
    #[arg(long, value_name = "E", default_value = "3%", value_parser = effect)]
    pub(super) min_effect: f64,

    /// Unmeasured runs inside each child before it measures.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub(super) warmup: usize,

    /// No progress bar.
    #[arg(long, short)]
    pub(super) quiet: bool,

    /// Exit with code 1 if any task or any run failed.
    #[arg(long)]
    pub(super) strict: bool,

    /// Also write SVG plots into DIR after the sweep.
    #[arg(long, value_name = "DIR")]
    pub(super) plots: Option<PathBuf>,

    #[command(flatten)]
    pub(super) how: SubmitArgs,

    #[command(flatten)]
    pub(super) out: FormatArgs,
}

/// How tasks are submitted and watched, shared by runs and sweeps (a sweep passes them on to
/// every child run).
#[derive(Debug, Args)]
pub(super) struct SubmitArgs {
    /// Submit tasks open loop at R per second (`100` or `100/s`) instead of all at once.
    /// Latency then runs from each task's scheduled time, so time a task spent waiting for a
    /// busy runtime counts even when nothing could be sent (the coordinated-omission
    /// correction, as in wrk2); the record also gives the raw latency, from when a worker or
    /// in-flight slot took the task, which is what a closed-loop load generator would report.
    /// Above capacity the two part ways: raw stays near the service time while corrected grows
    /// with the backlog.
    #[arg(long, value_name = "R", allow_hyphen_values = true, value_parser = per_second)]
    pub(super) rate: Option<f64>,

    /// Do not give each tokio task its own tokio-metrics monitor (about 330 bytes per task in
    /// flight, which matters when measuring memory per task at scale).
    #[arg(long)]
    pub(super) no_tokio_metrics: bool,

    /// The interpreter of the Python runtimes (py-serial, py-threads, py-processes,
    /// py-asyncio): a path, or a name looked up on PATH. Its version goes in the record.
    #[arg(long, value_name = "PATH", default_value = None)]
    pub(super) python: Option<PathBuf>,

    #[command(flatten)]
    pub(super) limits: LimitArgs,
}

/// Ceilings on the threads and processes a run's tasks may hold, shared by runs and sweeps.
#[derive(Debug, Args)]
pub(super) struct LimitArgs {
    /// Most threads thread-per-task may hold at once: a larger --workers is refused (a sweep
    /// skips the cell). Each Rust thread maps 4 regions, and vm.max_map_count is often 65530.
    #[arg(long, allow_negative_numbers = true, value_name = "N", default_value_t = Limits::DEFAULT_MAX_THREADS, value_parser = at_least_one)]
    pub(super) max_threads: usize,

    /// Most worker processes process-per-task may hold at once: a larger --workers is refused
    /// (a sweep skips the cell). Each holds a process, a proxy thread and two open files.
    #[arg(long, allow_negative_numbers = true, value_name = "N", default_value_t = Limits::DEFAULT_MAX_PROCESSES, value_parser = at_least_one)]
    pub(super) max_processes: usize,
}

/// `--repeat` of a comparison.
#[derive(Debug, Clone, Copy)]
pub(super) enum RepeatCount {
    /// Rounds until the verdict is decided.
    Auto,
    /// This many rounds.
    Fixed(usize),
}

/// A comma-separated list of counts.
#[derive(Debug, Clone)]
pub(super) struct List(pub(super) Vec<usize>);

/// `--connections`: one way, or for `compare io` a list of them.
#[derive(Debug, Clone)]
pub(super) struct ConnectionsList(pub(super) Vec<Connections>);

/// A list of CPUs this process may run on.
#[derive(Debug, Clone)]
pub(super) struct CpuList(pub(super) Vec<usize>);

#[derive(Debug, Args)]
pub(super) struct ReportArgs {
    /// A JSON record written by cpu, io or compare (--format json or --output FILE.json).
    #[arg(value_name = "FILE")]
    pub(super) file: PathBuf,

    /// Write SVG plots (wall time across workers, timelines, latency spectra) into DIR.
    #[arg(long, value_name = "DIR")]
    pub(super) plots: Option<PathBuf>,

    /// Write the histograms as HdrHistogram interval logs (.hlog) into DIR.
    #[arg(long, value_name = "DIR")]
    pub(super) hdr: Option<PathBuf>,

    #[command(flatten)]
    pub(super) out: FormatArgs,
}

#[derive(Debug, Args)]
pub(super) struct StudyArgs {
    /// Where STUDY.md and its img/ directory go.
    #[arg(long, value_name = "DIR", default_value = "docs")]
    pub(super) out: PathBuf,

    /// No progress bars.
    #[arg(long, short)]
    pub(super) quiet: bool,

    /// The interpreter of the section that runs the seeds' own Python models.
    #[arg(long, value_name = "PATH")]
    pub(super) python: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(super) struct CpuArgs {
    #[command(flatten)]
    pub(super) run: RunArgs,

    #[command(flatten)]
    pub(super) work: CpuWorkArgs,
}

/// What each CPU task does, shared by `cpu` and `compare cpu`.
#[derive(Debug, Args)]
pub(super) struct CpuWorkArgs {
    /// The loop each task runs: spin (seed 000), comp (seed 002), cos (seed 001), noop.
    #[arg(long, default_value = "comp", value_parser = PossibleValuesParser::new(CpuKind::ALL.map(CpuKind::name)))]
    pub(super) workload: String,

    /// Loop steps per task [default: spin 20,000,000 and comp 5,000,000 as in the seeds; cos 2,000,000, a fifth of seed 001's 10^7].
    #[arg(long, allow_negative_numbers = true, value_name = "N", value_parser = at_least_one_u64)]
    pub(super) iters: Option<u64>,
}

#[derive(Debug, Args)]
pub(super) struct IoArgs {
    #[command(flatten)]
    pub(super) run: RunArgs,

    /// download: GET a page and rewrite it to a file (seed 001); sleep: wait (seed 002).
    #[arg(long, default_value = "download", value_parser = ["download", "sleep"])]
    pub(super) workload: String,

    #[command(flatten)]
    pub(super) work: IoWorkArgs,
}

#[derive(Debug, Args)]
pub(super) struct MixedArgs {
    #[command(flatten)]
    pub(super) run: RunArgs,

    #[command(flatten)]
    pub(super) work: MixedWorkArgs,
}

/// What a mixed run's tasks do, shared by `mixed` and `compare mixed`.
#[derive(Debug, Args)]
pub(super) struct MixedWorkArgs {
    /// The IO half: sleep (wait on the runtime's timer) or download (from the embedded server
    /// or --urls).
    #[arg(long, default_value = "sleep", value_parser = ["sleep", "download"])]
    pub(super) io: String,

    /// CPU tasks submitted among the IO tasks (--tasks counts the IO tasks) [default: 4 x logical cores].
    #[arg(long, allow_negative_numbers = true, value_name = "N", value_parser = at_least_one)]
    pub(super) cpu_tasks: Option<usize>,

    /// The loop each CPU task runs: spin, comp, cos, noop.
    #[arg(long, default_value = "comp", value_parser = PossibleValuesParser::new(CpuKind::ALL.map(CpuKind::name)))]
    pub(super) cpu_workload: String,

    /// Loop steps per CPU task [default: as for `cpu`].
    #[arg(long, allow_negative_numbers = true, value_name = "N", value_parser = at_least_one_u64)]
    pub(super) cpu_iters: Option<u64>,

    #[command(flatten)]
    pub(super) io_work: IoWorkArgs,
}

/// What each IO task does, shared by `io`, `mixed` and their comparisons.
#[derive(Debug, Args)]
pub(super) struct IoWorkArgs {
    /// Most tasks in flight for async runtimes [default: every task]. Runtimes whose tasks hold
    /// a thread or a process run as many as they have --workers.
    #[arg(long, short, allow_negative_numbers = true, value_name = "N", value_parser = at_least_one)]
    pub(super) concurrency: Option<usize>,

    /// A file of http(s) URLs, one per line (# comments); tasks cycle through them. Without it
    /// the embedded server is started for the run and task i fetches /page/i.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "tls",
        help_heading = "Download"
    )]
    pub(super) urls: Option<PathBuf>,

    /// Times each page is written to its file, as the seed's 50 rewrites.
    #[arg(long, allow_negative_numbers = true, value_name = "N", default_value_t = 50, value_parser = at_least_one_u32, help_heading = "Download")]
    pub(super) writes: u32,

    /// Where pages are written [default: a temporary directory, removed afterwards].
    #[arg(long, value_name = "DIR", help_heading = "Download")]
    pub(super) out_dir: Option<PathBuf>,

    /// Keep the temporary directory and print where it is.
    #[arg(long, help_heading = "Download")]
    pub(super) keep: bool,

    /// Limit on connecting, asking and reading one page.
    #[arg(long, value_name = "DURATION", default_value = "20s", value_parser = duration, help_heading = "Download")]
    pub(super) timeout: Duration,

    /// A larger page fails its task (too_large).
    #[arg(long, value_name = "SIZE", default_value = "10MiB", value_parser = size, help_heading = "Download")]
    pub(super) max_page_size: u64,

    /// How long each sleep task waits [default: 2s as in seed 002; mixed: 10ms].
    #[arg(long, value_name = "DURATION", value_parser = duration, help_heading = "Sleep")]
    pub(super) sleep: Option<Duration>,

    /// Async runtimes sleep with std::thread::sleep, blocking their executor thread, instead
    /// of awaiting their timer (tokio-blocking moves it to spawn_blocking).
    #[arg(long, help_heading = "Sleep")]
    pub(super) blocking: bool,

    /// new: a new connection per request, as the seed's urlopen; reuse: connections kept alive,
    /// one client per runtime (async) or per process (threads, processes), as real clients do.
    /// `compare io` takes both, new,reuse, and compares each runtime both ways.
    #[arg(long, value_name = "HOW", default_value = "new", value_parser = connections_list, help_heading = "Download")]
    pub(super) connections: ConnectionsList,

    /// An `asyncstudy serve` running elsewhere (`serve --bind 0.0.0.0:8080` on another host),
    /// instead of the embedded server: task i fetches URL/page/i, and its /stats gives the
    /// server's cost.
    #[arg(long = "server", value_name = "URL", value_parser = server_url, conflicts_with_all = ["urls", "server_url", "tls", "server_cpus", "page_size", "latency", "latency_dist", "error_rate", "reset_rate", "stall_rate", "seed"], help_heading = "Download")]
    pub(super) remote: Option<String>,

    /// The certificate (PEM) an https --server serves, trusted alone; without it the Mozilla
    /// roots are (as for real pages).
    #[arg(long, value_name = "FILE", help_heading = "Download")]
    pub(super) server_cert: Option<PathBuf>,

    /// Pin the measuring process (and the worker processes it starts) to these CPUs, e.g. 1 or
    /// 0-1 (sched_setaffinity).
    #[arg(long, value_name = "LIST", value_parser = cpu_list)]
    pub(super) client_cpus: Option<CpuList>,

    /// Pin the embedded server to these CPUs, e.g. 0 (sched_setaffinity).
    #[arg(long, value_name = "LIST", value_parser = cpu_list, help_heading = "Embedded server")]
    pub(super) server_cpus: Option<CpuList>,

    #[command(flatten)]
    pub(super) server: ServerArgs,

    /// An embedded server already running (compare starts one for all its cells).
    #[arg(long, value_name = "URL", hide = true, conflicts_with = "urls")]
    pub(super) server_url: Option<String>,
}

/// The embedded server's behaviour, shared by `serve` and `io`.
#[derive(Debug, Args)]
pub(super) struct ServerArgs {
    /// Bytes per page.
    #[arg(long, value_name = "SIZE", default_value = "16KiB", value_parser = size, help_heading = "Embedded server")]
    pub(super) page_size: u64,

    /// Mean delay before the server answers.
    #[arg(long, value_name = "DURATION", default_value = "50ms", value_parser = duration, help_heading = "Embedded server")]
    pub(super) latency: Duration,

    /// How delays vary around --latency: fixed, uniform (0..2x), exp, lognormal (sigma 1).
    #[arg(long, value_name = "DIST", default_value = "fixed", value_parser = PossibleValuesParser::new(LatencyDist::ALL.map(LatencyDist::name)), help_heading = "Embedded server")]
    pub(super) latency_dist: String,

    /// Share of requests answered 503.
    #[arg(long, value_name = "RATE", default_value_t = 0.0, value_parser = rate, help_heading = "Embedded server")]
    pub(super) error_rate: f64,

    /// Share of requests whose connection is closed without an answer.
    #[arg(long, value_name = "RATE", default_value_t = 0.0, value_parser = rate, help_heading = "Embedded server")]
    pub(super) reset_rate: f64,

    /// Share of requests never answered (the client's --timeout ends them).
    #[arg(long, value_name = "RATE", default_value_t = 0.0, value_parser = rate, help_heading = "Embedded server")]
    pub(super) stall_rate: f64,

    /// Seed of the server's delays and faults, so runs repeat.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 1,
        help_heading = "Embedded server"
    )]
    pub(super) seed: u64,

    /// Serve https with a self-signed certificate made at start, which the clients trust alone.
    #[arg(long, help_heading = "Embedded server")]
    pub(super) tls: bool,
}

#[derive(Debug, Args)]
pub(super) struct ServeArgs {
    /// Address to listen on; a non-loopback address only if given here.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub(super) bind: std::net::SocketAddr,

    #[command(flatten)]
    pub(super) server: ServerArgs,

    /// With --tls, where to write the certificate (PEM) the clients must trust [default: a
    /// file in the temporary directory, removed when the server exits].
    #[arg(long, value_name = "FILE", requires = "tls")]
    pub(super) cert_out: Option<PathBuf>,

    /// With --tls, a host name or address the certificate is also for (repeatable); it is
    /// always for localhost, 127.0.0.1, ::1 and the --bind address.
    #[arg(long, value_name = "NAME", requires = "tls")]
    pub(super) cert_name: Vec<String>,

    /// Pin the server to these CPUs, e.g. 0 or 2-3 (sched_setaffinity).
    #[arg(long, value_name = "LIST", value_parser = cpu_list)]
    pub(super) cpus: Option<CpuList>,
}

/// What every measured run takes, CPU or IO.
#[derive(Debug, Args)]
pub(super) struct RunArgs {
    /// The runtime that runs the tasks (see `asyncstudy runtimes`).
    #[arg(long, short, value_parser = PossibleValuesParser::new(Runtime::ALL.map(Runtime::name)))]
    pub(super) runtime: String,

    /// Threads or processes doing the work (in-flight tasks for tokio-ct on cpu) [default: logical cores].
    #[arg(long, short, allow_negative_numbers = true, value_name = "N", value_parser = at_least_one)]
    pub(super) workers: Option<usize>,

    /// Tasks per run [default: cpu 4 x logical cores; io download 16, the seed's pages; sleep 4].
    #[arg(long, short, allow_negative_numbers = true, value_name = "N", value_parser = at_least_one)]
    pub(super) tasks: Option<usize>,

    /// Unmeasured runs before the measured ones.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub(super) warmup: usize,

    /// Measured runs; the record reports the median wall time and merges their histograms.
    #[arg(long, allow_negative_numbers = true, value_name = "N", default_value_t = 1, value_parser = at_least_one)]
    pub(super) repeat: usize,

    /// A serial run's JSON record of the same workload and tasks, to show speed-up and efficiency.
    #[arg(long, value_name = "FILE")]
    pub(super) baseline: Option<PathBuf>,

    /// Exit with code 1 if any task failed (by default failed tasks are recorded and the exit
    /// code is 0, as for a run that measured what happened).
    #[arg(long)]
    pub(super) strict: bool,

    /// Break a worker process at the start of a task, to test recovery: kill, exit, close or
    /// garbage, e.g. `kill@3`. Repeatable. Process runtimes only.
    #[arg(long, value_name = "KIND@TASK", hide = true)]
    pub(super) inject_fault: Vec<Fault>,

    #[command(flatten)]
    pub(super) how: SubmitArgs,

    #[command(flatten)]
    pub(super) out: FormatArgs,
}

#[derive(Debug, Args)]
pub(super) struct FormatArgs {
    /// Output format [default: from the --output extension (.json, .csv, .md), else table].
    #[arg(long, short, value_parser = PossibleValuesParser::new(Format::ALL.map(Format::name)))]
    pub(super) format: Option<String>,

    /// Write to FILE (atomically: a temporary file renamed into place) instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub(super) output: Option<PathBuf>,

    /// Every column of the table on a terminal. By default a terminal gets a compact set that
    /// fits its width (COLUMNS overrides it); a pipe or a file always gets every column.
    #[arg(long)]
    pub(super) wide: bool,
}
