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
use crate::executor::Runtime;
use crate::measure::machine::logical_cores;
use crate::plan::{Baseline, Format, Output, Plan, RunPlan};
use crate::protocol::Fault;
use crate::workload::{CpuKind, CpuWork};

const EXAMPLES: &str = "\
Examples:
  asyncstudy cpu --runtime rayon --workers 4 --workload comp
  asyncstudy cpu --runtime tokio-ct --format markdown
  asyncstudy cpu --runtime process-pool --workers 2 --tasks 8
  asyncstudy runtimes";

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
    /// List every runtime: what runs the tasks and what --workers sets.
    Runtimes(FormatArgs),
    /// Serve tasks over stdin and stdout for a parent asyncstudy (process runtimes start it).
    #[command(hide = true)]
    Worker,
}

#[derive(Debug, Args)]
struct CpuArgs {
    /// The runtime that runs the tasks (see `asyncstudy runtimes`).
    #[arg(long, short, value_parser = PossibleValuesParser::new(Runtime::ALL.map(Runtime::name)))]
    runtime: String,

    /// Threads or processes doing the work (in-flight tasks for tokio-ct) [default: logical cores].
    #[arg(long, short, value_name = "N", value_parser = at_least_one)]
    workers: Option<usize>,

    /// Tasks per run [default: 4 x logical cores, the same for every runtime].
    #[arg(long, short, value_name = "N", value_parser = at_least_one)]
    tasks: Option<usize>,

    /// The loop each task runs: spin (seed 000), comp (seed 002), cos (seed 001), noop.
    #[arg(long, default_value = "comp", value_parser = PossibleValuesParser::new(CpuKind::ALL.map(CpuKind::name)))]
    workload: String,

    /// Loop steps per task [default: spin 20,000,000 and comp 5,000,000 as in the seeds; cos 2,000,000, a fifth of seed 001's 10^7].
    #[arg(long, value_name = "N", value_parser = at_least_one_u64)]
    iters: Option<u64>,

    /// Unmeasured runs before the measured ones.
    #[arg(long, value_name = "N", default_value_t = 0)]
    warmup: usize,

    /// Measured runs; the record reports the median wall time and merges their histograms.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = at_least_one)]
    repeat: usize,

    /// A serial run's JSON record of the same workload and tasks, to show speed-up and efficiency.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,

    /// Break a worker process at the start of a task, to test recovery: kill, exit, close or
    /// garbage, e.g. `kill@3`. Repeatable. Process runtimes only.
    #[arg(long, value_name = "KIND@TASK", hide = true)]
    inject_fault: Vec<Fault>,

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
        Command::Cpu(args) => Plan::Cpu(cpu_plan(args)?),
        Command::Runtimes(out) => Plan::Runtimes(out.output()?),
        Command::Worker => Plan::Worker,
    };
    Ok(Some(plan))
}

fn cpu_plan(args: CpuArgs) -> Result<RunPlan, Error> {
    // Both values come from a PossibleValuesParser built from the same lists.
    let runtime = Runtime::from_name(&args.runtime).expect("clap checked the runtime name");
    let kind = CpuKind::from_name(&args.workload).expect("clap checked the workload name");
    let work = CpuWork {
        kind,
        iters: args.iters.unwrap_or(kind.default_iters()),
    };
    let cores = logical_cores();
    let tasks = args.tasks.unwrap_or(4 * cores);
    let output = args.out.output()?;
    let baseline = args
        .baseline
        .map(|path| Baseline::load(&path, &work, tasks))
        .transpose()?;
    RunPlan {
        runtime,
        workers: args.workers.unwrap_or(cores),
        tasks,
        work,
        warmup: args.warmup,
        repeat: args.repeat,
        baseline,
        output,
        faults: args.inject_fault,
    }
    .check()
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
        let Ok(Some(Plan::Cpu(plan))) = parse(["asyncstudy", "cpu", "--runtime", "smol"]) else {
            panic!("a valid command line")
        };
        assert_eq!(plan.workers, logical_cores());
        assert_eq!(plan.tasks, 4 * logical_cores());
        assert_eq!(
            plan.work,
            CpuWork {
                kind: CpuKind::Comp,
                iters: 5_000_000
            }
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
