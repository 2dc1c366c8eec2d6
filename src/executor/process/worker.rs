//! The worker process's side: the binary started with the hidden `worker` subcommand reads its
//! setup, says it is ready, then runs one task per frame until its stdin closes.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::AsFd;

use anyhow::{Context, bail};

use crate::executor::{Job, run_task};
use crate::protocol::{Done, FaultKind, Ready, ToWorker, read_frame, write_frame};

/// The worker side: reads the setup, answers that it is ready, then runs tasks until stdin
/// closes.
///
/// Its stdout carries only frames; anything a task prints goes to stderr.
pub fn serve() -> anyhow::Result<()> {
    let mut input = io::stdin().lock();
    // A private handle on fd 1, unbuffered: `Stdout` is line-buffered and would split a frame
    // at any 0x0A byte of its length prefix.
    let mut out = File::from(
        io::stdout()
            .as_fd()
            .try_clone_to_owned()
            .context("worker: no stdout")?,
    );
    let setup = match read_frame::<_, ToWorker>(&mut input) {
        Ok(Some(ToWorker::Setup(setup))) => setup,
        Ok(None) => return Ok(()),
        Ok(Some(other)) => bail!("worker: expected a setup message first, got {other:?}"),
        Err(e) => bail!("worker: message from the parent: {e}"),
    };
    let job = Job::new(setup.work);
    match write_frame(
        &mut out,
        &Ready {
            pid: std::process::id(),
        },
    ) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(()),
        Err(e) => bail!("worker: could not say it is ready: {e}"),
    }
    loop {
        let task = match read_frame::<_, ToWorker>(&mut input) {
            Ok(Some(ToWorker::Run { task })) => task,
            // The parent closed the pipe: finished, or gone.
            Ok(None) => return Ok(()),
            Ok(Some(other)) => bail!("worker: expected a task, got {other:?}"),
            Err(e) => bail!("worker: message from the parent: {e}"),
        };
        if let Some(fault) = setup.faults.iter().find(|f| f.task == task) {
            stage(fault.kind, out, &mut input);
        }
        // The parent's submit time is not known here and not needed: it keeps its own.
        let record = run_task(&job, task, 0);
        let done = Done {
            task,
            worker: record.worker,
            start_ns: record.start_ns,
            end_ns: record.end_ns,
            bytes: record.bytes,
            error: record.error,
        };
        match write_frame(&mut out, &done) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(()),
            Err(e) => bail!("worker: could not answer: {e}"),
        }
    }
}

/// Breaks this worker the way `kind` says. Never returns: the worker dies, or waits for its
/// stdin to close (the parent kills it first) and then exits.
fn stage(kind: FaultKind, out: File, input: &mut impl Read) -> ! {
    match kind {
        FaultKind::Kill => {
            // SAFETY: raise has no memory effects; SIGKILL ends the process here.
            unsafe { libc::raise(libc::SIGKILL) };
        }
        FaultKind::Exit => std::process::exit(3),
        FaultKind::Close => {
            drop(out);
            // SAFETY: fd 1 is the protocol pipe and nothing in this process writes to it again.
            unsafe { libc::close(1) };
        }
        FaultKind::Garbage => {
            let mut out = out;
            let _ = io::Write::write_all(&mut out, b"this is not a frame");
        }
    }
    let _ = io::copy(input, &mut io::sink());
    std::process::exit(0)
}
