//! `asyncstudy cpu|io|mixed`: one measured run. Starts what the work needs (the embedded
//! server, the out-dir; see `prepare.rs`), measures it, removes what it started, and reports.

use super::prepare::prepare;
use crate::plan::RunPlan;
use crate::{Error, Status, cpus, interrupt, measure, report};

/// Carries out one run and writes its record.
pub fn run(mut run: RunPlan) -> Result<Status, Error> {
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
