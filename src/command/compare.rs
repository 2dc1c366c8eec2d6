//! `asyncstudy compare`: the sweep, its output file kept current after every child run, the
//! terminal's table, plots, and the exit status.

use crate::plan::{self, ComparePlan};
use crate::{Error, Status, report, sweep};

/// Runs a comparison, keeping its output file current after every child run.
pub fn run(plan: &ComparePlan) -> Result<Status, Error> {
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
