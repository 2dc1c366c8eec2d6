//! Checking the interpreter of a Python runtime before any work: that it starts, that it is
//! recent enough, and what it is (version, implementation, GIL, aiohttp), for the record.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::child::{Ask, Child};
use crate::model::run::PythonInfo;

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
