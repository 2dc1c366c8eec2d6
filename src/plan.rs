//! The checked, typed plan of what to do, built from the command line before any work starts.
//!
//! `cli.rs` turns arguments into values of the right types; this module checks what depends
//! on more than one argument or on the file system (an output directory that exists, a
//! baseline that matches the run), so every bad input is reported before a task runs.

use std::path::{Path, PathBuf};

use crate::Error;
use crate::executor::ASYNC_STD_THREAD_COUNT_VAR;
use crate::model::Runtime;
use crate::model::run::{RUN_SCHEMA, RunRecord};
use crate::protocol::Fault;
use std::collections::BTreeMap;
use std::time::Duration;

use crate::server::ServeOptions;
use crate::workload::{CpuWork, Sleep};

/// What the tool was asked to do.
#[derive(Debug)]
pub enum Plan {
    /// Run a workload (`cpu` or `io`) on one runtime and report it.
    Run(Box<RunPlan>),
    /// Run the embedded HTTP server until stdin closes.
    Serve(ServeOptions),
    /// List the runtimes.
    Runtimes(Output),
    /// Serve tasks as a worker process over stdin and stdout (the hidden `worker` subcommand).
    Worker,
    /// Sweep runtimes, workers and tasks in child processes (`compare`).
    Compare(Box<crate::compare::ComparePlan>),
    /// Re-render a saved run or comparison (`report`).
    Report(Box<ReportPlan>),
    /// Run the seeds' experiments and write the study docs (`study`).
    Study(StudyPlan),
    /// Print this text to stdout (shell completions).
    Print(String),
    /// Remove the temporary out-dirs of killed runs (`clean`).
    Clean {
        /// Only list them.
        dry_run: bool,
    },
}

/// `report`: a loaded record and where its renderings go.
#[derive(Debug)]
pub struct ReportPlan {
    /// The record as loaded.
    pub record: Loaded,
    /// The rendering of the record.
    pub output: Output,
    /// Where SVG plots go.
    pub plots: Option<PathBuf>,
    /// Where HdrHistogram interval logs go.
    pub hdr: Option<PathBuf>,
}

/// `study`: where the docs go, and whether to show progress.
#[derive(Debug, Clone)]
pub struct StudyPlan {
    /// The docs directory (STUDY.md and img/).
    pub out: PathBuf,
    /// No progress bars.
    pub quiet: bool,
}

/// A saved record, whichever kind it is.
#[derive(Debug)]
pub enum Loaded {
    /// One run (`asyncstudy.run/1`).
    Run(Box<RunRecord>),
    /// A comparison (`asyncstudy.compare/1`).
    Compare(Box<crate::model::compare::CompareRecord>),
}

impl Loaded {
    /// Reads a record from `path`; anything that is not one of ours is bad input.
    pub fn read(path: &Path) -> Result<Loaded, Error> {
        let shown = path.display();
        let cannot = |e: String| Error::BadInput(format!("{shown}: cannot read: {e}"));
        let mut input =
            crate::files::Bounded::open(path, crate::files::RECORD_LIMIT).map_err(cannot)?;
        let parsed = serde_json::from_reader(std::io::BufReader::new(&mut input));
        input.check().map_err(cannot)?;
        let value: serde_json::Value =
            parsed.map_err(|e| Error::BadInput(format!("{shown}: not valid JSON: {e}")))?;
        let schema = value
            .get("schema")
            .and_then(|s| s.as_str())
            .unwrap_or("")
            .to_string();
        let shape = |e: serde_json::Error| {
            Error::BadInput(format!("{shown}: not a complete {schema} record: {e}"))
        };
        let contradicts =
            |why: String| Error::BadInput(format!("{shown}: contradicts itself: {why}"));
        match schema.as_str() {
            RUN_SCHEMA => {
                let r: RunRecord = serde_json::from_value(value).map_err(shape)?;
                match r.contradiction() {
                    Some(why) => Err(contradicts(why)),
                    None => Ok(Loaded::Run(Box::new(r))),
                }
            }
            crate::model::compare::COMPARE_SCHEMA => {
                let c: crate::model::compare::CompareRecord =
                    serde_json::from_value(value).map_err(shape)?;
                for (i, r) in c.runs.iter().enumerate() {
                    if let Some(why) = r.contradiction() {
                        return Err(contradicts(format!("run {}: {why}", i + 1)));
                    }
                }
                Ok(Loaded::Compare(Box::new(c)))
            }
            "" => Err(Error::BadInput(format!(
                "{shown}: not an asyncstudy record (no \"schema\" field)"
            ))),
            other => Err(Error::BadInput(format!(
                "{shown}: not an asyncstudy record (schema {other:?}; expected {RUN_SCHEMA} or {})",
                crate::model::compare::COMPARE_SCHEMA
            ))),
        }
    }
}

/// Checks that `dir` is a directory or can be made one, before any work.
pub fn check_dir_target(flag: &str, dir: &Path) -> Result<(), Error> {
    if dir.exists() && !dir.is_dir() {
        return Err(Error::BadInput(format!(
            "{flag} {}: exists and is not a directory",
            dir.display()
        )));
    }
    let mut up = dir;
    while !up.exists() {
        match up.parent() {
            Some(p) if !p.as_os_str().is_empty() => up = p,
            _ => return Ok(()),
        }
    }
    if !up.is_dir() {
        return Err(Error::BadInput(format!(
            "{flag} {}: {} is not a directory",
            dir.display(),
            up.display()
        )));
    }
    // A read-only file system is found now, not after the work.
    tempfile::tempfile_in(up).map_err(|e| {
        Error::BadInput(format!(
            "{flag} {}: cannot write in {}: {}",
            dir.display(),
            up.display(),
            crate::files::os_reason(e)
        ))
    })?;
    Ok(())
}

/// A single measured run.
#[derive(Debug)]
pub struct RunPlan {
    /// Which runtime runs the tasks.
    pub runtime: Runtime,
    /// `--workers` as given (or the default).
    pub workers: usize,
    /// Tasks per repeat.
    pub tasks: usize,
    /// What each task does.
    pub work: WorkPlan,
    /// Most tasks in flight for async runtimes (`--concurrency`); `None` for no limit.
    pub in_flight: Option<usize>,
    /// The workload's parameters as the record shows them.
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
}

/// What the tasks of a run do, before run-time resources (server, out-dir) exist.
#[derive(Debug, Clone, PartialEq)]
pub enum WorkPlan {
    /// A CPU loop.
    Cpu(CpuWork),
    /// Download and rewrite pages.
    Download(DownloadPlan),
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
}

/// Where a download's pages come from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// The embedded server, started for the run with these options.
    Embedded(ServeOptions),
    /// The URLs of a `--urls` file, in order.
    Urls(Vec<String>),
    /// An embedded server that is already running at this base URL (shared by a comparison's
    /// cells); task i fetches `/page/i` from it.
    Running(String),
}

/// Reads a urls file: one http(s) URL per line, blank lines and `#` comments skipped.
pub fn read_urls(path: &Path) -> Result<Vec<String>, Error> {
    let shown = path.display();
    let bytes = crate::files::read_bounded(path, crate::files::URLS_LIMIT)
        .map_err(|e| Error::BadInput(format!("--urls {shown}: {e}")))?;
    let text = String::from_utf8(bytes)
        .map_err(|e| Error::BadInput(format!("--urls {shown}: not UTF-8 text ({e})")))?;
    parse_urls(&shown.to_string(), &text)
}

/// Parses the text of a urls file named `name` (for messages).
pub fn parse_urls(name: &str, text: &str) -> Result<Vec<String>, Error> {
    let mut urls = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = || Error::BadInput(format!("{name}:{}: not a URL: {line:?}", i + 1));
        // The url crate drops control characters around and inside a URL (NUL, tab, newline)
        // before parsing, so such a line would parse as one URL and be kept as another.
        if line.chars().any(char::is_control) {
            return Err(bad());
        }
        let url = url::Url::parse(line).map_err(|_| bad())?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(bad());
        }
        // Clients disagree on credentials in a URL (sent as Basic auth or dropped), so no
        // client is given any; the line is named without them.
        if !url.username().is_empty() || url.password().is_some() {
            let mut shown = url.clone();
            let _ = shown.set_password(None);
            let _ = shown.set_username("***");
            return Err(Error::BadInput(format!(
                "{name}:{}: a URL with credentials (user:password@) is refused: \"{shown}\"",
                i + 1
            )));
        }
        urls.push(line.to_string());
    }
    if urls.is_empty() {
        return Err(Error::BadInput(format!("--urls {name}: no URLs in it")));
    }
    Ok(urls)
}

/// Creates `dir` if needed and checks a file can be written in it.
pub fn check_out_dir(dir: &Path) -> Result<(), Error> {
    let bad = |why: String| Error::BadInput(format!("--out-dir {}: {why}", dir.display()));
    std::fs::create_dir_all(dir).map_err(|e| bad(format!("cannot be created: {e}")))?;
    tempfile::tempfile_in(dir).map_err(|e| bad(format!("cannot be written: {e}")))?;
    Ok(())
}

/// The serial run a speed-up is computed against.
#[derive(Debug, Clone, PartialEq)]
pub struct Baseline {
    /// Its median wall time.
    pub wall_s: f64,
}

/// How results are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A readable terminal table.
    Table,
    /// Markdown tables, ready for docs.
    Markdown,
    /// CSV with a header row.
    Csv,
    /// The JSON run record.
    Json,
}

impl Format {
    /// Every format, in the order help shows them.
    pub const ALL: [Format; 4] = [Format::Table, Format::Markdown, Format::Csv, Format::Json];

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Markdown => "markdown",
            Format::Csv => "csv",
            Format::Json => "json",
        }
    }

    /// Looks a format up by name.
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The format a file name implies: `.json`, `.csv`, `.md`; anything else is a table.
    pub fn for_path(path: &Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some("json") => Format::Json,
            Some("csv") => Format::Csv,
            Some("md" | "markdown") => Format::Markdown,
            _ => Format::Table,
        }
    }
}

/// Where results go and in which format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// The format.
    pub format: Format,
    /// A file to write atomically, or `None` for stdout.
    pub path: Option<PathBuf>,
}

impl Output {
    /// A table on stdout.
    pub fn stdout() -> Output {
        Output {
            format: Format::Table,
            path: None,
        }
    }

    /// Whether a progress bar may show: not when a machine format goes to stdout, where a
    /// script is reading.
    pub fn shows_progress(&self) -> bool {
        self.path.is_some() || self.format == Format::Table
    }

    /// Checks `--output` and picks the format: the one given, else the file's extension, else
    /// a table.
    pub fn new(format: Option<Format>, path: Option<PathBuf>) -> Result<Output, Error> {
        if let Some(path) = &path {
            let dir = dir_of(path);
            if !dir.is_dir() {
                let why = if dir.exists() {
                    format!("{} is not a directory", dir.display())
                } else {
                    format!("directory {} does not exist", dir.display())
                };
                return Err(Error::BadInput(format!(
                    "--output {}: {why}",
                    path.display()
                )));
            }
            crate::files::check_writable(path)
                .map_err(|why| Error::BadInput(format!("--output {}: {why}", path.display())))?;
        }
        let format = format
            .or(path.as_deref().map(Format::for_path))
            .unwrap_or(Format::Table);
        Ok(Output { format, path })
    }
}

pub use crate::files::dir_of;

pub use crate::model::runtime::Limits;

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
    pub fn check(self) -> Result<RunPlan, Error> {
        if let Some(fault) = self.faults.first() {
            if !self.runtime.uses_processes() {
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
        if let Some(available) = crate::measure::machine::available_memory() {
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
        let (theirs, ours) = (w.params.get(key), params.get(key));
        if theirs != ours {
            return Some((key.clone(), shown(theirs), shown(ours)));
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

    // The shipped list is parsed, never fetched: tests stay offline.
    #[test]
    fn shipped_urls_file_is_the_seed_list() {
        let urls = parse_urls("urls.txt", include_str!("../urls.txt")).unwrap();
        assert_eq!(urls.len(), 16);
        assert_eq!(urls[0], "http://www.poatek.com");
        assert!(urls.iter().all(|u| u.starts_with("http")));
    }

    // Found by the urls_file fuzz target: url::Url::parse drops these before parsing.
    #[test]
    fn a_line_with_control_characters_is_not_a_url() {
        for line in [
            "\0\0https://www.example.com\0",
            "http://a\tb/",
            "http://x/\u{7f}",
        ] {
            let text = format!("# list\nhttp://ok.example/\n{line}\n");
            let err = parse_urls("urls.txt", &text).unwrap_err().to_string();
            assert!(err.starts_with("urls.txt:3: not a URL: "), "{err}");
            assert!(!err.contains('\n'), "{err}");
        }
    }

    #[test]
    fn a_url_with_credentials_is_refused_without_showing_them() {
        for line in [
            "http://alice:secret@example.com/private",
            "https://secret@example.com/",
            "http://alice:secret@[::1]:8080/",
        ] {
            let text = format!("http://ok.example/\n{line}\n");
            let err = parse_urls("urls.txt", &text).unwrap_err().to_string();
            assert!(
                err.starts_with("urls.txt:2: a URL with credentials (user:password@) is refused: "),
                "{err}"
            );
            assert!(err.contains("***@"), "{err}");
            assert!(!err.contains("secret") && !err.contains("alice"), "{err}");
        }
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

    #[test]
    fn format_follows_flag_then_extension() {
        let out = Output::new(None, Some("x.json".into())).unwrap();
        assert_eq!(out.format, Format::Json);
        let out = Output::new(Some(Format::Csv), Some("x.json".into())).unwrap();
        assert_eq!(out.format, Format::Csv);
        assert_eq!(Output::new(None, None).unwrap().format, Format::Table);
        assert_eq!(Format::for_path(Path::new("a/b.md")), Format::Markdown);
    }

    #[test]
    fn output_in_a_missing_directory_is_bad_input() {
        let err = Output::new(None, Some("/no/such/dir/x.json".into())).unwrap_err();
        assert_eq!(
            err.to_string(),
            "--output /no/such/dir/x.json: directory /no/such/dir does not exist"
        );
    }
}
