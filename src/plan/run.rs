//! A single measured run's plan: the runtime, the work, how tasks are submitted and repeated,
//! and the serial baseline it is compared against, all checked before any work.
//!
//! Why one file over 500 lines: `RunPlan::check` is the one place a run's combination of
//! options is judged (each rule a few lines, with the message it gives), and the baseline's
//! match against the run belongs beside it; apart, a reader could not see every rule a run
//! must pass.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::output::Output;
use crate::Error;
use crate::clock::duration_arg;
use crate::model::Runtime;
use crate::model::run::{PythonInfo, RUN_SCHEMA, RunRecord};
use crate::model::runtime::ASYNC_STD_THREAD_COUNT_VAR;
use crate::protocol::Fault;
use crate::server::ServeOptions;
use crate::workload::download::Connections;
use crate::workload::{CpuWork, Sleep};

pub use crate::model::runtime::Limits;

/// A single measured run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunPlan {
    /// Which runtime runs the tasks.
    pub runtime: Runtime,
    /// `--workers` as given (or the default).
    pub workers: usize,
    /// Tasks per repeat (for a mix, its IO and CPU tasks together).
    pub tasks: usize,
    /// What each task does.
    pub work: WorkPlan,
    /// `--concurrency` as given: most IO tasks in flight on async runtimes.
    pub concurrency: Option<usize>,
    /// The workload's parameters as the record shows them ([`RunPlan::work_params`]).
    pub params: BTreeMap<String, serde_json::Value>,
    /// Unmeasured runs first.
    pub warmup: usize,
    /// Measured runs.
    pub repeat: usize,
    /// A serial run of the same workload to compute speed-up against.
    pub baseline: Option<Baseline>,
    /// Where and how to write the record.
    pub output: Output,
    /// Worker faults to stage (`--inject-fault`, for tests of recovery); empty in real runs.
    pub faults: Vec<Fault>,
    /// Whether a failed task makes the exit code 1.
    pub strict: bool,
    /// Whether tokio runtimes instrument every task with tokio-metrics.
    pub tokio_metrics: bool,
    /// Tasks submitted per second on a fixed schedule (`--rate`, open loop); `None` submits
    /// every task at once (closed loop).
    pub rate: Option<f64>,
    /// Most OS threads and processes the run may hold for its tasks.
    pub limits: Limits,
    /// `--python` as given: the interpreter of the Python runtimes (`None`: `python3`).
    pub python_path: Option<PathBuf>,
    /// What that interpreter said it is, once [`RunPlan::check`] has asked it (Python
    /// runtimes only).
    pub python: Option<PythonInfo>,
    /// The CPUs the measuring process is pinned to (`--client-cpus`); `None` leaves it be.
    pub client_cpus: Option<Vec<usize>>,
}

/// What the tasks of a run do, before run-time resources (server, out-dir) exist.
#[derive(Debug, Clone, PartialEq)]
pub enum WorkPlan {
    /// A CPU loop.
    Cpu(CpuWork),
    /// Download and rewrite pages.
    Download(Box<DownloadPlan>),
    /// Wait.
    Sleep(Sleep),
    /// CPU tasks and IO tasks together.
    Mixed(MixedPlan),
}

/// A checked mixed workload: CPU tasks interleaved with IO tasks.
#[derive(Debug, Clone, PartialEq)]
pub struct MixedPlan {
    /// What each CPU task runs.
    pub cpu: CpuWork,
    /// What each IO task does: a download or a sleep, never another mix.
    pub io: Box<WorkPlan>,
    /// IO tasks per run (the run's other tasks are CPU tasks).
    pub io_tasks: usize,
}

impl WorkPlan {
    /// The workload's kind in records: `cpu`, `io`, `sleep` or `mixed`.
    pub fn kind(&self) -> &'static str {
        match self {
            WorkPlan::Cpu(_) => "cpu",
            WorkPlan::Download(_) => "io",
            WorkPlan::Sleep(_) => "sleep",
            WorkPlan::Mixed(_) => "mixed",
        }
    }

    /// The workload's name in records.
    pub fn name(&self) -> &'static str {
        match self {
            WorkPlan::Cpu(w) => w.kind.name(),
            WorkPlan::Download(_) => "download",
            WorkPlan::Sleep(_) => "sleep",
            WorkPlan::Mixed(_) => "mixed",
        }
    }

    /// Loop steps per task, for CPU work.
    pub fn iters(&self) -> Option<u64> {
        match self {
            WorkPlan::Cpu(w) => Some(w.iters),
            WorkPlan::Mixed(m) => Some(m.cpu.iters),
            _ => None,
        }
    }

    /// Whether tasks wait on IO: their in-flight limit is `--concurrency`, or every task.
    pub fn is_io(&self) -> bool {
        !matches!(self, WorkPlan::Cpu(_))
    }
}

/// A checked download workload.
#[derive(Debug, Clone, PartialEq)]
pub struct DownloadPlan {
    /// Where pages come from.
    pub source: Source,
    /// Writes per page.
    pub writes: u32,
    /// `--out-dir`, created and checked writable; `None` for a temporary directory.
    pub out_dir: Option<PathBuf>,
    /// Keep the files afterwards (`--keep`); a given `--out-dir` is always kept.
    pub keep: bool,
    /// Largest body accepted.
    pub max_page_size: u64,
    /// Per-request limit.
    pub timeout: Duration,
    /// A new connection per request, or kept ones.
    pub connections: Connections,
}

/// Where a download's pages come from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// The embedded server, started for the run with these options.
    Embedded(ServeOptions),
    /// The URLs of a `--urls` file, in order.
    Urls {
        /// The file, as given.
        path: PathBuf,
        /// Its URLs.
        urls: Vec<String>,
    },
    /// An embedded server that is already running (shared by a comparison's cells); task i
    /// fetches `/page/i` from it.
    Running {
        /// Its base URL.
        url: String,
        /// What it serves.
        server: ServeOptions,
        /// The certificate it serves, with TLS.
        cert: Option<PathBuf>,
    },
    /// An `asyncstudy serve` someone else started, possibly on another host (`--server`);
    /// task i fetches `/page/i` from it.
    Remote {
        /// Its base URL, `http(s)://HOST:PORT`.
        url: String,
        /// The one certificate to trust for https (`--server-cert`); without it the Mozilla
        /// roots.
        cert: Option<PathBuf>,
    },
}

impl Source {
    /// Whether the pages come over https from a server of ours.
    pub fn tls(&self) -> bool {
        match self {
            Source::Embedded(s) | Source::Running { server: s, .. } => s.tls,
            Source::Remote { url, .. } => url.starts_with("https://"),
            Source::Urls { .. } => false,
        }
    }
}

/// The serial run a speed-up is computed against.
#[derive(Debug, Clone, PartialEq)]
pub struct Baseline {
    /// The record it was read from.
    pub path: PathBuf,
    /// Its median wall time.
    pub wall_s: f64,
}

impl RunPlan {
    /// A plan of `tasks` tasks of `work` with every other option at its default: the serial
    /// runtime, one worker, one warm-up and one measured run, the record as JSON on stdout.
    /// Comparisons and the study start from it and set what they sweep.
    pub fn new(work: WorkPlan, tasks: usize) -> RunPlan {
        let params = RunPlan::work_params(&work, None, tasks);
        RunPlan {
            runtime: Runtime::Serial,
            workers: 1,
            tasks,
            work,
            concurrency: None,
            params,
            warmup: 1,
            repeat: 1,
            baseline: None,
            output: Output {
                format: super::output::Format::Json,
                path: None,
                wide: false,
            },
            faults: Vec::new(),
            strict: false,
            tokio_metrics: true,
            rate: None,
            limits: Limits::DEFAULT,
            python_path: None,
            python: None,
            client_cpus: None,
        }
    }

    /// Most tasks in flight on async runtimes: for IO work `--concurrency`, or every task;
    /// for CPU work no limit (the runtimes' workers bound it).
    pub fn in_flight(&self) -> Option<usize> {
        if self.work.is_io() {
            Some(self.concurrency.unwrap_or(self.tasks))
        } else {
            self.concurrency
        }
    }

    /// The tasks `--tasks` counts: every task, or a mix's IO tasks.
    pub fn tasks_arg(&self) -> usize {
        match &self.work {
            WorkPlan::Mixed(m) => m.io_tasks,
            _ => self.tasks,
        }
    }

    /// The parameters a record shows for `work` with `concurrency`: everything about the work
    /// that is not its kind, name, iters or task count, which the record has fields for.
    pub fn work_params(
        work: &WorkPlan,
        concurrency: Option<usize>,
        tasks: usize,
    ) -> BTreeMap<String, serde_json::Value> {
        let mut p: BTreeMap<String, serde_json::Value> = BTreeMap::new();
        if let Some(c) = concurrency {
            p.insert("concurrency".into(), c.into());
        }
        let io = match work {
            WorkPlan::Cpu(_) => return p,
            WorkPlan::Mixed(m) => {
                p.insert("io".into(), m.io.name().into());
                p.insert("io_tasks".into(), m.io_tasks.into());
                p.insert("cpu_tasks".into(), tasks.saturating_sub(m.io_tasks).into());
                p.insert("cpu_workload".into(), m.cpu.kind.name().into());
                p.insert("cpu_iters".into(), m.cpu.iters.into());
                m.io.as_ref()
            }
            io => io,
        };
        match io {
            WorkPlan::Sleep(s) => {
                p.insert(
                    "sleep".into(),
                    humantime::format_duration(s.duration).to_string().into(),
                );
                p.insert("blocking".into(), s.blocking.into());
            }
            WorkPlan::Download(d) => download_params(d, &mut p),
            WorkPlan::Cpu(_) | WorkPlan::Mixed(_) => {}
        }
        p
    }

    /// The command line (without the program name) that parses back into this plan: the one
    /// renderer of a child run, tested by parsing what it renders. A comparison's cells are
    /// this with their runtime, workers and tasks.
    pub fn to_args(&self) -> Vec<String> {
        let mut a = self.work_args();
        a.extend([
            "--runtime".into(),
            self.runtime.name().into(),
            "--workers".into(),
            self.workers.to_string(),
            "--tasks".into(),
            self.tasks_arg().to_string(),
            "--warmup".into(),
            self.warmup.to_string(),
            "--repeat".into(),
            self.repeat.to_string(),
        ]);
        a.extend(self.how_args());
        for f in &self.faults {
            a.extend([
                "--inject-fault".into(),
                format!("{}@{}", f.kind.name(), f.task),
            ]);
        }
        if self.strict {
            a.push("--strict".into());
        }
        if let Some(b) = &self.baseline {
            a.extend(["--baseline".into(), b.path.display().to_string()]);
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

    /// The subcommand and the work's own arguments, which every cell of a comparison shares.
    pub fn work_args(&self) -> Vec<String> {
        let mut a: Vec<String> = Vec::new();
        let cpu = |a: &mut Vec<String>, w: &CpuWork, workload: &str, iters: &str| {
            a.extend([workload.to_string(), w.kind.name().into()]);
            // Without it a child takes the same default (for noop 0, which the flag refuses).
            if w.iters != w.kind.default_iters() {
                a.extend([iters.to_string(), w.iters.to_string()]);
            }
        };
        let io = match &self.work {
            WorkPlan::Cpu(w) => {
                a.push("cpu".into());
                cpu(&mut a, w, "--workload", "--iters");
                return a;
            }
            WorkPlan::Mixed(m) => {
                a.extend(["mixed".into(), "--io".into(), m.io.name().into()]);
                cpu(&mut a, &m.cpu, "--cpu-workload", "--cpu-iters");
                a.extend([
                    "--cpu-tasks".into(),
                    self.tasks.saturating_sub(m.io_tasks).to_string(),
                ]);
                m.io.as_ref()
            }
            io => {
                a.extend(["io".into(), "--workload".into(), io.name().into()]);
                io
            }
        };
        if let Some(c) = self.concurrency {
            a.extend(["--concurrency".into(), c.to_string()]);
        }
        match io {
            WorkPlan::Sleep(s) => {
                a.extend(["--sleep".into(), duration_arg(s.duration)]);
                if s.blocking {
                    a.push("--blocking".into());
                }
            }
            WorkPlan::Download(d) => download_args(d, &mut a),
            WorkPlan::Cpu(_) | WorkPlan::Mixed(_) => {}
        }
        a
    }

    /// How tasks are submitted and watched (`--rate`, the limits, tokio's monitors): what a
    /// comparison passes on to every child.
    pub fn how_args(&self) -> Vec<String> {
        let mut a: Vec<String> = Vec::new();
        if let Some(rate) = self.rate {
            a.extend(["--rate".into(), rate.to_string()]);
        }
        if self.limits.max_threads != Limits::DEFAULT_MAX_THREADS {
            a.extend(["--max-threads".into(), self.limits.max_threads.to_string()]);
        }
        if self.limits.max_processes != Limits::DEFAULT_MAX_PROCESSES {
            a.extend([
                "--max-processes".into(),
                self.limits.max_processes.to_string(),
            ]);
        }
        if !self.tokio_metrics {
            a.push("--no-tokio-metrics".into());
        }
        if let Some(python) = &self.python_path {
            a.extend(["--python".into(), python.display().to_string()]);
        }
        if let Some(cpus) = &self.client_cpus {
            a.extend(["--client-cpus".into(), crate::cpus::show(cpus)]);
        }
        a
    }
}

/// A download's own arguments: how pages are written, where they come from, how fetched.
fn download_args(d: &DownloadPlan, a: &mut Vec<String>) {
    a.extend([
        "--writes".into(),
        d.writes.to_string(),
        "--timeout".into(),
        duration_arg(d.timeout),
        "--max-page-size".into(),
        d.max_page_size.to_string(),
    ]);
    if let Some(dir) = &d.out_dir {
        a.extend(["--out-dir".into(), dir.display().to_string()]);
    }
    if d.keep {
        a.push("--keep".into());
    }
    if d.connections != Connections::New {
        a.extend(["--connections".into(), d.connections.name().into()]);
    }
    let cert = |a: &mut Vec<String>, cert: &Option<PathBuf>| {
        if let Some(path) = cert {
            a.extend(["--server-cert".into(), path.display().to_string()]);
        }
    };
    match &d.source {
        Source::Urls { path, .. } => a.extend(["--urls".into(), path.display().to_string()]),
        Source::Embedded(s) => {
            a.extend(s.page_args());
            if let Some(cpus) = &s.cpus {
                a.extend(["--server-cpus".into(), crate::cpus::show(cpus)]);
            }
        }
        Source::Running {
            url,
            server,
            cert: c,
        } => {
            a.extend(server.page_args());
            a.extend(["--server-url".into(), url.clone()]);
            cert(a, c);
        }
        Source::Remote { url, cert: c } => {
            a.extend(["--server".into(), url.clone()]);
            cert(a, c);
        }
    }
}

/// The parameters a record shows for a download: where its pages come from and how they are
/// fetched and written.
fn download_params(d: &DownloadPlan, p: &mut BTreeMap<String, serde_json::Value>) {
    let server = match &d.source {
        Source::Urls { path, .. } => {
            p.insert("urls".into(), path.display().to_string().into());
            None
        }
        Source::Embedded(s) => {
            p.insert("server".into(), "embedded".into());
            Some(s)
        }
        Source::Running { server, .. } => {
            p.insert("server".into(), "embedded, shared by a comparison".into());
            Some(server)
        }
        Source::Remote { url, .. } => {
            p.insert("server".into(), "remote".into());
            p.insert("server_url".into(), url.clone().into());
            None
        }
    };
    if !matches!(d.source, Source::Urls { .. }) {
        p.insert("tls".into(), d.source.tls().into());
    }
    p.insert("connections".into(), d.connections.name().into());
    if let Some(s) = server {
        p.insert("page_size".into(), s.page_size.into());
        p.insert(
            "latency".into(),
            format!(
                "{} {}",
                humantime::format_duration(s.latency),
                s.latency_dist.name()
            )
            .into(),
        );
        for (k, v) in [
            ("error_rate", s.error_rate),
            ("reset_rate", s.reset_rate),
            ("stall_rate", s.stall_rate),
        ] {
            if v > 0.0 {
                p.insert(k.into(), v.into());
            }
        }
    }
    p.insert("writes".into(), d.writes.into());
    p.insert(
        "timeout".into(),
        humantime::format_duration(d.timeout).to_string().into(),
    );
}

/// The longest duration any option takes: longer ones are refused before any work, since a
/// deadline past it is no deadline and one near `u64::MAX` seconds overflows the clock.
pub const MAX_DURATION: Duration = Duration::from_secs(7 * 24 * 3600);

/// Largest page the embedded server builds: it builds each answer in memory.
pub const MAX_PAGE_SIZE: u64 = 1 << 30;

/// Bytes a task costs the measuring process until the run is summarized: its record and its
/// runtime's bookkeeping, rounded up. Task counts whose records would not fit in half the
/// machine's available memory are refused.
pub const BYTES_PER_TASK: u64 = 512;

impl RunPlan {
    /// Checks the parts of a run that depend on each other or on the outside world.
    pub fn check(mut self) -> Result<RunPlan, Error> {
        if self.runtime.is_python() {
            self.python = Some(super::python::check(&self)?);
        }
        if let Some(fault) = self.faults.first() {
            if !self.runtime.uses_processes() || self.runtime.is_python() {
                return Err(Error::BadInput(format!(
                    "--inject-fault {}@{}: only process-pool and process-per-task run tasks in worker processes",
                    fault.kind.name(),
                    fault.task
                )));
            }
        }
        if self.runtime == Runtime::AsyncStd {
            let var = ASYNC_STD_THREAD_COUNT_VAR;
            if let Ok(value) = std::env::var(var) {
                if value.trim() != self.workers.to_string() {
                    return Err(Error::BadInput(format!(
                        "{var}={value} conflicts with --workers {}: unset it or make them equal",
                        self.workers
                    )));
                }
            }
        }
        if let Some((units, why)) = self.limits.exceeded(self.runtime, self.workers, self.tasks) {
            let holds = if self.runtime.creates_unit_per_task() {
                format!("run {units} tasks at once")
            } else {
                format!("start {units} workers")
            };
            return Err(Error::BadInput(format!(
                "--workers {}: {} would {holds}, {why}",
                self.workers,
                self.runtime.name()
            )));
        }
        let records = (self.tasks as u64)
            .saturating_mul(self.repeat.max(self.warmup) as u64)
            .saturating_mul(BYTES_PER_TASK);
        if let Some(available) = crate::procfs::available_memory() {
            if records > available / 2 {
                return Err(Error::BadInput(format!(
                    "--tasks {}: their records would need about {} MiB, more than half this machine's available memory ({} MiB)",
                    self.tasks,
                    records >> 20,
                    available >> 20
                )));
            }
        }
        if let Some(rate) = self.rate {
            let span = self.tasks.saturating_sub(1) as f64 / rate;
            if span > MAX_DURATION.as_secs_f64() {
                return Err(Error::BadInput(format!(
                    "--rate {rate}: submitting {} tasks would take {:.0} days, over the limit of {} days",
                    self.tasks,
                    span / 86_400.0,
                    MAX_DURATION.as_secs() / 86_400
                )));
            }
        }
        Ok(self)
    }
}

impl Baseline {
    /// Parameters a record carries that say where or how a run was made, not what work it
    /// did: a baseline may differ in these.
    const NOT_WORK: [&'static str; 5] = [
        "server_url",
        "server_pid",
        "out_dir",
        "concurrency",
        "server",
    ];

    /// Reads a serial run record and checks it measured the same work as this run: the same
    /// workload, tasks, iters, rate and every workload parameter in `params` (sleep, writes,
    /// page size, latency and its distribution, urls, faults, ...). The first that differs is
    /// named.
    pub fn load(
        path: &Path,
        work: &WorkPlan,
        tasks: usize,
        params: &BTreeMap<String, serde_json::Value>,
        rate: Option<f64>,
    ) -> Result<Baseline, Error> {
        let bad = |why: String| Error::BadInput(format!("--baseline {}: {why}", path.display()));
        let mut input =
            crate::files::Bounded::open(path, crate::files::RECORD_LIMIT).map_err(bad)?;
        let parsed = serde_json::from_reader(std::io::BufReader::new(&mut input));
        input.check().map_err(bad)?;
        let record: RunRecord = parsed.map_err(|e| bad(format!("not a run record: {e}")))?;
        if let Some(why) = record.contradiction() {
            return Err(bad(format!("contradicts itself: {why}")));
        }
        if record.schema != RUN_SCHEMA {
            return Err(bad(format!(
                "schema is {:?}, expected {RUN_SCHEMA:?}",
                record.schema
            )));
        }
        if !Runtime::from_name(&record.runtime).is_some_and(Runtime::is_baseline) {
            return Err(bad(format!(
                "runtime is {}, expected a serial run",
                record.runtime
            )));
        }
        if let Some((what, theirs, ours)) = first_difference(&record, work, tasks, params, rate) {
            return Err(bad(format!(
                "{what} differs: the baseline ran {theirs}, this run {ours}"
            )));
        }
        if record.tasks.failed > 0 {
            return Err(bad(format!("{} of its tasks failed", record.tasks.failed)));
        }
        Ok(Baseline {
            path: path.to_path_buf(),
            wall_s: record.wall_s,
        })
    }
}

/// The first thing that makes `record` other work than `work` x `tasks` with `params` and
/// `rate`: its name, the record's value and this run's.
fn first_difference(
    record: &RunRecord,
    work: &WorkPlan,
    tasks: usize,
    params: &BTreeMap<String, serde_json::Value>,
    rate: Option<f64>,
) -> Option<(String, String, String)> {
    let none = || "none".to_string();
    let shown = |v: Option<&serde_json::Value>| match v {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
        None => none(),
    };
    let w = &record.workload;
    let ours_name = format!("{} {}", work.kind(), work.name());
    let theirs_name = format!("{} {}", w.kind, w.name);
    if theirs_name != ours_name {
        return Some(("workload".into(), theirs_name, ours_name));
    }
    if w.tasks_per_run != tasks {
        return Some((
            "tasks".into(),
            w.tasks_per_run.to_string(),
            tasks.to_string(),
        ));
    }
    if w.iters != work.iters() {
        let show = |i: Option<u64>| i.map_or_else(none, |i| i.to_string());
        return Some(("iters".into(), show(w.iters), show(work.iters())));
    }
    let keys: std::collections::BTreeSet<&String> = w.params.keys().chain(params.keys()).collect();
    for key in keys {
        if Baseline::NOT_WORK.contains(&key.as_str()) {
            continue;
        }
        // A record from before a download named its connections and TLS fetched over plain
        // http, a new connection per request.
        let before_them = match key.as_str() {
            "connections" => Some("new".into()),
            "tls" => Some(false.into()),
            _ => None,
        };
        let ours = params.get(key);
        let theirs = w
            .params
            .get(key)
            .cloned()
            .or(before_them.filter(|_| ours.is_some()));
        if theirs.as_ref() != ours {
            return Some((key.clone(), shown(theirs.as_ref()), shown(ours)));
        }
    }
    let theirs_rate = record.open_loop.as_ref().map(|o| o.rate_per_s);
    if theirs_rate != rate {
        let show = |r: Option<f64>| r.map_or_else(|| "closed loop".into(), |r| format!("{r}/s"));
        return Some(("rate".into(), show(theirs_rate), show(rate)));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_download_baseline_from_before_connections_and_tls_fetched_plain_and_new() {
        let mut base = crate::report::tests::sample_record();
        base.workload.kind = "io".into();
        base.workload.name = "download".into();
        base.workload.iters = None;
        base.workload.tasks_per_run = 4;
        base.workload.params = [("writes".to_string(), 1.into())].into();
        let work = WorkPlan::Download(Box::new(DownloadPlan {
            source: Source::Embedded(ServeOptions::new()),
            writes: 1,
            out_dir: None,
            keep: false,
            max_page_size: 1 << 20,
            timeout: Duration::from_secs(1),
            connections: Connections::New,
        }));
        let ours = |connections: &str, tls: bool| -> BTreeMap<String, serde_json::Value> {
            [
                ("writes".to_string(), 1.into()),
                ("connections".to_string(), connections.into()),
                ("tls".to_string(), tls.into()),
            ]
            .into()
        };
        assert_eq!(
            first_difference(&base, &work, 4, &ours("new", false), None),
            None
        );
        let (what, theirs, _) =
            first_difference(&base, &work, 4, &ours("reuse", false), None).unwrap();
        assert_eq!((what.as_str(), theirs.as_str()), ("connections", "new"));
        let (what, ..) = first_difference(&base, &work, 4, &ours("new", true), None).unwrap();
        assert_eq!(what, "tls");
    }

    #[test]
    fn a_baseline_must_have_done_the_same_work() {
        let mut base = crate::report::tests::sample_record();
        base.runtime = "serial".into();
        base.tasks.ok = base.tasks.total;
        base.tasks.failed = 0;
        base.tasks.errors.clear();
        base.workload.kind = "sleep".into();
        base.workload.name = "sleep".into();
        base.workload.iters = None;
        base.workload.tasks_per_run = 4;
        let params = |sleep: &str| -> BTreeMap<String, serde_json::Value> {
            [
                ("sleep".to_string(), sleep.into()),
                ("blocking".to_string(), false.into()),
            ]
            .into()
        };
        base.workload.params = params("10ms");
        // Where the run was made is not work: a server's address or pid may differ.
        base.workload
            .params
            .insert("server_pid".into(), 4242.into());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("base.json");
        std::fs::write(&path, serde_json::to_string(&base).unwrap()).unwrap();
        let sleep = |ms: u64| {
            WorkPlan::Sleep(Sleep {
                duration: Duration::from_millis(ms),
                blocking: false,
            })
        };
        let load = |work: &WorkPlan, tasks, params: &_, rate| {
            Baseline::load(&path, work, tasks, params, rate).map_err(|e| e.to_string())
        };
        let ok = load(&sleep(10), 4, &params("10ms"), None).unwrap();
        assert_eq!(ok.wall_s, base.wall_s);
        let shown = path.display();
        for (got, want) in [
            (
                load(&sleep(300), 4, &params("300ms"), None),
                "sleep differs: the baseline ran 10ms, this run 300ms",
            ),
            (
                load(&sleep(10), 8, &params("10ms"), None),
                "tasks differs: the baseline ran 4, this run 8",
            ),
            (
                load(&sleep(10), 4, &params("10ms"), Some(50.0)),
                "rate differs: the baseline ran closed loop, this run 50/s",
            ),
            (
                load(
                    &WorkPlan::Cpu(CpuWork {
                        kind: crate::workload::CpuKind::Comp,
                        iters: 5,
                    }),
                    4,
                    &params("10ms"),
                    None,
                ),
                "workload differs: the baseline ran sleep sleep, this run cpu comp",
            ),
        ] {
            assert_eq!(got.unwrap_err(), format!("--baseline {shown}: {want}"));
        }
        let mut more = params("10ms");
        more.insert("writes".into(), 50.into());
        assert_eq!(
            load(&sleep(10), 4, &more, None).unwrap_err(),
            format!("--baseline {shown}: writes differs: the baseline ran none, this run 50")
        );
    }
}
