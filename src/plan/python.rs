//! Checking the interpreter of a Python runtime before any work: that it starts, that it is
//! recent enough, and what it is (version, implementation, GIL, aiohttp), for the record; and
//! that it can do the run's work (aiohttp for py-asyncio downloads, no kept connections).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::run::{RunPlan, WorkPlan};
use crate::Error;
use crate::child::{Ask, Child};
use crate::model::Runtime;
use crate::model::run::PythonInfo;
use crate::workload::download::Connections;

/// The interpreter when `--python` is not given, looked up on `PATH`.
pub const DEFAULT: &str = "python3";

/// The oldest Python the harness runs on: `threading.get_native_id()` came in 3.8.
pub const MIN_VERSION: (u64, u64) = (3, 8);

/// What the interpreter is asked: one JSON line about itself.
const PROBE: &str = r#"
import json, platform, sys
try:
    # Found and versioned without importing it, which would cost a second of start-up.
    from importlib.metadata import version
    from importlib.util import find_spec
    aiohttp = version("aiohttp") if find_spec("aiohttp") else None
except Exception:
    aiohttp = None
gil = getattr(sys, "_is_gil_enabled", lambda: True)()
print(json.dumps({"version": platform.python_version(), "major": sys.version_info[0],
                  "minor": sys.version_info[1], "implementation": sys.implementation.name,
                  "gil": gil, "aiohttp": aiohttp}))
"#;

/// How long the probe may take: an interpreter that does not answer in this time is refused.
const PROBE_LIMIT: Duration = Duration::from_secs(30);

/// Asks `interpreter` (`--python`, or `python3` on `PATH`) what it is; the error is the one
/// line a user sees, naming it.
pub fn probe(interpreter: &Path) -> Result<PythonInfo, String> {
    let shown = interpreter.display();
    let mut child = Child::spawn(
        Command::new(interpreter)
            .arg("-c")
            .arg(PROBE)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    )
    .map_err(|e| format!("--python {shown}: cannot run it: {e}"))?;
    let mut stdout = child.take_stdout().expect("stdout was piped");
    let mut stderr = child.take_stderr().expect("stderr was piped");
    // Read both pipes to their end on threads of their own, so neither fills and blocks it.
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stdout, &mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut s);
        s
    });
    let status = child.reap_within(PROBE_LIMIT);
    if status.is_none() {
        child.stop(Ask::Terminate, Duration::from_millis(100));
    }
    let (out, err) = (
        out.join().unwrap_or_default(),
        err.join().unwrap_or_default(),
    );
    let Some(status) = status else {
        return Err(format!(
            "--python {shown}: did not answer within {}s",
            PROBE_LIMIT.as_secs()
        ));
    };
    let answer: Option<serde_json::Value> = out
        .lines()
        .last()
        .and_then(|l| serde_json::from_str(l).ok());
    let Some(answer) = answer.filter(|_| status.success()) else {
        let why = err.lines().last().unwrap_or("no answer").trim().to_string();
        return Err(format!(
            "--python {shown}: not a Python 3 interpreter the harness can use ({status}: {why})"
        ));
    };
    let n = |k: &str| {
        answer
            .get(k)
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0)
    };
    let s = |k: &str| answer.get(k).and_then(|v| v.as_str()).map(str::to_string);
    let version = s("version").unwrap_or_default();
    if (n("major"), n("minor")) < MIN_VERSION {
        return Err(format!(
            "--python {shown}: Python {version} is too old; the harness needs {}.{} or newer",
            MIN_VERSION.0, MIN_VERSION.1
        ));
    }
    Ok(PythonInfo {
        path: shown.to_string(),
        version,
        implementation: s("implementation").unwrap_or_default(),
        gil: answer
            .get("gil")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(true),
        aiohttp: s("aiohttp"),
    })
}

/// Asks the interpreter of a Python runtime what it is, and refuses one that cannot run
/// the work: missing, not Python, older than 3.8, or without aiohttp for `py-asyncio`
/// downloads.
pub(super) fn check(plan: &RunPlan) -> Result<PythonInfo, Error> {
    let path = plan.python_path.clone().unwrap_or_else(|| DEFAULT.into());
    let info = probe(&path).map_err(Error::BadInput)?;
    let download = match &plan.work {
        WorkPlan::Download(d) => Some(d),
        WorkPlan::Mixed(m) => match m.io.as_ref() {
            WorkPlan::Download(d) => Some(d),
            _ => None,
        },
        _ => None,
    };
    let downloads = download.is_some();
    if download.is_some_and(|d| d.connections != Connections::New) {
        return Err(Error::BadInput(format!(
            "--connections reuse: {} opens a new connection per request, as the seeds' urlopen does; kept connections are measured on the Rust runtimes",
            plan.runtime.name()
        )));
    }
    if plan.runtime == Runtime::PyAsyncio && downloads && info.aiohttp.is_none() {
        return Err(Error::BadInput(format!(
            "--runtime py-asyncio: its downloads need the aiohttp module, which {} (Python {}) cannot import; install it with `{} -m pip install aiohttp`",
            info.path, info.version, info.path
        )));
    }
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_machines_python_describes_itself_and_a_missing_one_is_one_line() {
        let info = probe(Path::new("python3")).unwrap();
        assert!(info.version.starts_with('3'), "{info:?}");
        assert!(!info.implementation.is_empty());
        let err = probe(Path::new("/nonexistent/python")).unwrap_err();
        assert!(
            err.starts_with("--python /nonexistent/python: cannot run it: No such file"),
            "{err}"
        );
        // A program that is not Python.
        let err = probe(Path::new("true")).unwrap_err();
        assert!(err.contains("not a Python 3 interpreter"), "{err}");
    }
}
