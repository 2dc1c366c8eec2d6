//! What a run's work needs at run time: the embedded server (or the probe of one elsewhere),
//! the out-dir for pages, and the open-file limit; and removing them after the run.

use crate::{clean, plan, server, workload};

/// A run's work with what it needs at run time: the embedded server and the out-dir.
pub(super) struct Prepared {
    /// The work, with its URLs and out-dir filled in.
    pub(super) work: workload::Work,
    /// Reads the server's `/stats` around the measured repeats (downloads from a server of
    /// ours).
    pub(super) probe: Option<server::stats::Probe>,
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
    pub(super) fn finish(self) {
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
/// of its writes (see [`crate::interrupt`]) may still write its page between `remove_dir_all`'s
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
pub(super) fn prepare(run: &mut plan::RunPlan) -> anyhow::Result<Prepared> {
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
pub fn raise_fd_limit() {
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
