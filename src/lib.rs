//! asyncstudy runs the same workloads under every mainstream Rust concurrency model and shows,
//! with measured numbers, where async, threads or processes win.
//!
//! A run flows one way through the modules:
//!
//! - [`cli`] is the only module that knows clap. It turns arguments into a [`plan::Plan`],
//!   whose constructors in [`plan`] check everything that can be checked before work starts.
//! - [`workload`] says what a task does (the seed notebooks' CPU loops, in [`workload::cpu`]),
//!   and [`executor`] runs a batch of tasks on one runtime, one file per runtime family, each
//!   returning a [`model::task::TaskRecord`] per task.
//! - [`measure`] drives an executor through warm-up and measured repeats, reads CPU, memory,
//!   context switches and thread counts around each repeat ([`measure::rusage`]), and
//!   summarizes it all into the [`model::run::RunRecord`] of the JSON contract, with HDR
//!   histograms ([`measure::histogram`]) and the machine's facts ([`measure::machine`]).
//!   Timestamps are `CLOCK_MONOTONIC` nanoseconds from [`clock`].
//! - [`executor::process`] runs tasks in worker processes: the same binary started with a
//!   hidden `worker` subcommand, spoken to in the frames of [`protocol`]. [`interrupt`] turns
//!   Ctrl-C and SIGTERM into a flag, so every child is reaped before exit, and bounds how long
//!   a run still waits for its running tasks after one (the grace period).
//! - [`report`] formats records (table, Markdown, CSV, JSON, SVG plots, HdrHistogram logs),
//!   one file per format, and is the one place that writes output, atomically to files.
//! - [`compare`] sweeps runtimes, worker and task counts with one child `asyncstudy` per run;
//!   [`verdict`] summarizes its cells and names winners from the measured figures only;
//!   [`study`] runs the seeds' experiments as comparisons and writes them up.
//! - [`server`] is the embedded HTTP server the IO study downloads from.

#![warn(missing_docs)]

pub mod analysis;
pub mod child;
pub mod clean;
pub mod cli;
pub mod clock;
pub mod cpus;
pub mod executor;
pub mod files;
pub mod interrupt;
pub mod measure;
pub mod model;
pub mod plan;
pub mod procfs;
pub mod protocol;
pub mod report;
pub mod server;
pub mod study;
pub mod sweep;
pub mod workload;

use plan::Plan;

/// Why the tool stopped short.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input was wrong; nothing ran. Exit code 2.
    #[error("{0}")]
    BadInput(String),
    /// A command was given without the subcommand it needs: its help (usage and subcommands),
    /// to print as it is on stderr. Exit code 2.
    #[error("{0}")]
    Usage(String),
    /// Something broke while running or writing. Exit code 1.
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

/// How a completed command went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Everything succeeded.
    Ok,
    /// The run completed and was reported, but some tasks failed and `--strict` was given.
    /// Exit code 1.
    TasksFailed,
    /// A signal stopped the run; what finished was reported. Exit code 128 + the signal.
    Interrupted(i32),
}

/// Locks the file `output` goes to, if it is a file, for as long as the lock is held: a second
/// run writing the same file is refused before any work (see [`files::OutputLock`]).
fn lock(flag: &str, path: Option<&std::path::Path>) -> Result<Option<files::OutputLock>, Error> {
    match path {
        Some(path) => files::OutputLock::acquire(path)
            .map_err(|why| Error::BadInput(format!("{flag} {}: {why}", path.display()))),
        None => Ok(None),
    }
}

/// Carries out a checked plan and writes its results.
pub fn run(plan: Plan) -> Result<Status, Error> {
    // Held until the results are written, so two runs never silently write one file.
    let _lock = match &plan {
        Plan::Run(run) => lock("--output", run.output.path.as_deref())?,
        Plan::Compare(c) => lock("--output", c.output.path.as_deref())?,
        Plan::Report(r) => lock("--output", r.output.path.as_deref())?,
        Plan::Study(s) => {
            std::fs::create_dir_all(&s.out).map_err(|e| {
                Error::BadInput(format!("--out {}: cannot be created: {e}", s.out.display()))
            })?;
            lock("--out", Some(&s.out.join("STUDY.md")))?
        }
        _ => None,
    };
    match plan {
        Plan::Run(mut run) => {
            // From here Ctrl-C and SIGTERM stop the run instead of killing the tool: queued
            // tasks are recorded as cut short, running ones get the grace period and are then
            // cut short too, the server and the temporary out-dir are removed, and what
            // finished is reported (exit 130 or 143). A second signal exits at once.
            interrupt::watch().map_err(|e| {
                Error::Failed(anyhow::anyhow!(
                    "could not take over Ctrl-C and SIGTERM: {e}"
                ))
            })?;
            let prepared = prepare(&mut run)?;
            // After the server started, so it does not inherit the client's CPUs.
            pin_client(run.client_cpus.as_deref())?;
            let record = measure::measure(&run, prepared.work.clone(), prepared.probe.as_ref())?;
            // Stop the server and remove the pages before writing: nothing outlives the run.
            prepared.finish();
            report::show_run(&record, &run.output)?;
            if let Some(path) = &run.output.path {
                eprintln!("asyncstudy: wrote {}", path.display());
            }
            Ok(if let Some(sig) = interrupt::requested() {
                Status::Interrupted(sig)
            } else if run.strict && record.tasks.failed > 0 {
                Status::TasksFailed
            } else {
                Status::Ok
            })
        }
        Plan::Serve(opts) => {
            raise_fd_limit();
            server::serve(&opts)?;
            Ok(Status::Ok)
        }
        Plan::Runtimes(output) => {
            report::show_runtimes(&output)?;
            Ok(Status::Ok)
        }
        Plan::Worker => {
            executor::process::serve()?;
            Ok(Status::Ok)
        }
        Plan::Compare(plan) => run_compare(&plan),
        Plan::Report(plan) => {
            report::report(&plan)?;
            Ok(Status::Ok)
        }
        Plan::Study(plan) => study::run(&plan),
        Plan::Print(text) => {
            report::emit(&plan::Output::stdout(), &text)?;
            Ok(Status::Ok)
        }
        Plan::Clean { dry_run } => {
            let tmp = std::env::temp_dir();
            let swept = clean::clean(&tmp, dry_run)?;
            let verb = if dry_run { "would remove" } else { "removed" };
            let mut text = String::new();
            for s in &swept {
                text.push_str(&match s {
                    clean::Swept::Removed(dir, why) => {
                        format!("{verb} {} ({why})\n", dir.display())
                    }
                    clean::Swept::Kept(dir, why) => format!("kept {} ({why})\n", dir.display()),
                });
            }
            if swept.is_empty() {
                text = format!("no temporary out-dirs in {}\n", tmp.display());
            }
            report::emit(&plan::Output::stdout(), &text)?;
            Ok(Status::Ok)
        }
    }
}

/// Pins this process, and the threads and processes it starts from now on, to `cpus`.
fn pin_client(cpus: Option<&[usize]>) -> Result<(), Error> {
    let Some(cpus) = cpus else {
        return Ok(());
    };
    cpus::pin_process(cpus).map_err(|e| {
        Error::Failed(anyhow::anyhow!(
            "--client-cpus {}: could not pin this process: {e}",
            cpus::show(cpus)
        ))
    })
}

/// Runs a comparison, keeping its output file current after every child run.
fn run_compare(plan: &plan::ComparePlan) -> Result<Status, Error> {
    let out = &plan.output;
    let outcome = sweep::run(plan, |record| match &out.path {
        Some(path) => {
            report::write_atomically(path, report::render_compare(record, out.format)?.as_bytes())
        }
        None => Ok(()),
    })?;
    let record = &outcome.record;
    match &out.path {
        None => report::show_compare(record, out)?,
        Some(path) => {
            // The file holds the chosen format; the terminal still gets the table.
            let terminal = plan::Output {
                wide: out.wide,
                ..plan::Output::stdout()
            };
            report::show_compare(record, &terminal)?;
            eprintln!("asyncstudy: wrote {}", path.display());
        }
    }
    if let Some(dir) = &plan.plots {
        let written = report::compare_plots(record, dir)?;
        eprintln!(
            "asyncstudy: wrote {} plots in {}",
            written.len(),
            dir.display()
        );
    }
    if let Some(sig) = outcome.interrupted {
        return Ok(Status::Interrupted(sig));
    }
    if record.runs.is_empty() {
        let why = record
            .failures
            .first()
            .map(|f| f.reason.clone())
            .unwrap_or_else(|| "no run finished".into());
        return Err(Error::Failed(anyhow::anyhow!(
            "every run failed; the first: {why}"
        )));
    }
    let failed = !record.failures.is_empty() || record.summary.iter().any(|c| c.tasks_failed > 0);
    Ok(if plan.strict && failed {
        Status::TasksFailed
    } else {
        Status::Ok
    })
}

/// A run's work with what it needs at run time: the embedded server and the out-dir.
struct Prepared {
    work: workload::Work,
    /// Reads the server's `/stats` around the measured repeats (downloads from a server of
    /// ours).
    probe: Option<server::stats::Probe>,
    server: Option<server::EmbeddedServer>,
    temp_dir: Option<tempfile::TempDir>,
    keep: bool,
}

impl Prepared {
    /// Work that needs nothing started.
    fn plain(work: workload::Work) -> Prepared {
        Prepared {
            work,
            probe: None,
            server: None,
            temp_dir: None,
            keep: false,
        }
    }

    /// Stops the server and removes a temporary out-dir unless `--keep` asked for it.
    fn finish(self) {
        drop(self.server);
        if let Some(dir) = self.temp_dir {
            if self.keep {
                // Kept, it is the user's now: nothing for `clean` to find.
                let _ = std::fs::remove_file(dir.path().join(clean::OWNER_FILE));
                eprintln!("asyncstudy: kept the pages in {}", dir.keep().display());
            } else {
                remove_out_dir(&dir.keep());
            }
        }
    }
}

/// Removes a temporary out-dir, best effort. After a signal, a thread abandoned in the middle
/// of its writes (see [`interrupt`]) may still write its page between `remove_dir_all`'s
/// listing and its `rmdir`, which then fails with ENOTEMPTY: a few more tries remove the page
/// again, and once the directory is gone the thread's next write fails. A directory still left
/// does not fail the run, whose record is what it owes: it carries this run's owner marker, so
/// `asyncstudy clean` removes it once the process is gone.
fn remove_out_dir(dir: &std::path::Path) {
    let mut last = None;
    for _ in 0..100 {
        match std::fs::remove_dir_all(dir) {
            Ok(()) => return,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
            Err(e) => last = Some(e),
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    if let Some(e) = last {
        eprintln!(
            "asyncstudy: could not remove {} ({e}); `asyncstudy clean` will",
            dir.display()
        );
    }
}

/// Starts what the plan's work needs and records where it is in the plan's parameters.
fn prepare(run: &mut plan::RunPlan) -> anyhow::Result<Prepared> {
    let work = run.work.clone();
    prepare_work(run, &work)
}

/// [`prepare`] for `work`, the run's work or the IO half of a mixed run.
fn prepare_work(run: &mut plan::RunPlan, work: &plan::WorkPlan) -> anyhow::Result<Prepared> {
    use anyhow::Context;
    use plan::WorkPlan;
    use workload::{Download, Mixed, MixedIo, Work};
    let d = match work {
        WorkPlan::Mixed(m) => {
            let mut prepared = prepare_work(run, &m.io)?;
            let io = match prepared.work {
                Work::Download(d) => MixedIo::Download(d),
                Work::Sleep(s) => MixedIo::Sleep(s),
                // The CLI only builds a mix of CPU work with a download or a sleep.
                _ => anyhow::bail!("a mixed run's IO half must be a download or a sleep"),
            };
            prepared.work = Work::Mixed(Mixed {
                cpu: m.cpu,
                io,
                io_tasks: m.io_tasks,
                tasks: run.tasks,
            });
            return Ok(prepared);
        }
        WorkPlan::Cpu(w) => return Ok(Prepared::plain(Work::Cpu(*w))),
        WorkPlan::Sleep(s) => {
            // Thousands of sleeping tasks may each hold a thread or a process.
            raise_fd_limit();
            return Ok(Prepared::plain(Work::Sleep(*s)));
        }
        WorkPlan::Download(d) => d,
    };
    raise_fd_limit();
    let (urls, probe, server) = pages(run, &d.source)?;
    let mut temp_dir = None;
    let dir = match &d.out_dir {
        Some(dir) => dir.clone(),
        None => {
            let temp = tempfile::Builder::new()
                .prefix(clean::TEMP_PREFIX)
                .tempdir()
                .context("could not create a temporary directory for the pages")?;
            // If this run is killed before it can remove the directory, `clean` can prove it
            // is ours and dead.
            clean::mark(temp.path())
                .context("could not mark the temporary directory as this run's")?;
            let path = temp.path().to_path_buf();
            temp_dir = Some(temp);
            path
        }
    };
    if d.keep || d.out_dir.is_some() {
        run.params
            .insert("out_dir".into(), dir.display().to_string().into());
    }
    let trust = probe.as_ref().map(|p| p.trust.clone()).unwrap_or_default();
    Ok(Prepared {
        work: Work::Download(
            Download::new(urls, d.writes, dir, d.max_page_size, d.timeout)
                .with_clients(trust, d.connections),
        ),
        probe,
        server,
        temp_dir,
        keep: d.keep,
    })
}

/// The URLs a download's tasks fetch from `source`, the probe of its server if it is one of
/// ours, and the embedded server started for the run, if one was; where the server is goes in
/// the plan's parameters.
fn pages(
    run: &mut plan::RunPlan,
    source: &plan::Source,
) -> anyhow::Result<(
    Vec<String>,
    Option<server::stats::Probe>,
    Option<server::EmbeddedServer>,
)> {
    use anyhow::Context;
    use plan::Source;
    let tasks = run.tasks;
    let page_urls =
        |base: &str| -> Vec<String> { (0..tasks).map(|i| format!("{base}/page/{i}")).collect() };
    Ok(match source {
        Source::Urls { urls, .. } => (urls.clone(), None, None),
        Source::Running { url, cert, .. } => {
            run.params.insert("server_url".into(), url.clone().into());
            let probe = probe("shared", url, cert.as_deref())?;
            (page_urls(url), Some(probe), None)
        }
        Source::Remote { url, cert } => {
            let probe = probe("remote", url, cert.as_deref())?;
            (page_urls(url), Some(probe), None)
        }
        Source::Embedded(opts) => {
            let exe = std::env::current_exe().context("could not find the asyncstudy binary")?;
            let started = server::EmbeddedServer::start(&exe, opts)?;
            run.params
                .insert("server_url".into(), started.url.clone().into());
            run.params.insert("server_pid".into(), started.pid().into());
            let probe = probe("embedded", &started.url, started.cert.as_deref())?;
            (page_urls(&started.url), Some(probe), Some(started))
        }
    })
}

/// The probe of a server of ours at `url` (`kind` as the record says), trusting `cert` alone
/// if given, which every client of the run then trusts too.
fn probe(
    kind: &'static str,
    url: &str,
    cert: Option<&std::path::Path>,
) -> anyhow::Result<server::stats::Probe> {
    let trust = match cert {
        Some(path) => workload::download::tls::Trust::read(path)
            .map_err(|why| anyhow::anyhow!("the certificate {}: {why}", path.display()))?,
        None => workload::download::tls::Trust::public_roots(),
    };
    Ok(server::stats::Probe {
        kind,
        url: url.to_string(),
        trust,
    })
}

/// Raises the soft limit on open files to the hard limit: a thousand downloads in flight hold
/// a socket and a file each, past the common soft limit of 1024.
fn raise_fd_limit() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid rlimit to read into and then pass back; a failure leaves the
    // limit as it was, which only matters for runs with very many tasks in flight.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}
