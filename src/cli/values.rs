//! The value parsers of the command line (counts, lists, durations, sizes, rates) and the one
//! line a clap error becomes.

use std::time::Duration;

use clap::CommandFactory;
use clap::error::{ContextKind, ContextValue, ErrorKind};

use super::args::{Cli, ConnectionsList, CpuList, List, RepeatCount};
use crate::plan::MAX_DURATION;
use crate::workload::download::Connections;

pub(super) fn list(s: &str) -> Result<List, String> {
    let mut out = Vec::new();
    for part in s.split(',') {
        let n = at_least_one(part.trim()).map_err(|e| format!("{e} ({part:?})"))?;
        if out.contains(&n) {
            return Err(format!("{n} is listed twice"));
        }
        out.push(n);
    }
    Ok(List(out))
}

/// `new`, `reuse`, or both comma-separated, each once.
pub(super) fn connections_list(s: &str) -> Result<ConnectionsList, String> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim) {
        let c =
            Connections::from_name(part).ok_or_else(|| format!("{part:?} is not new or reuse"))?;
        if out.contains(&c) {
            return Err(format!("{part} is listed twice"));
        }
        out.push(c);
    }
    Ok(ConnectionsList(out))
}

/// CPUs this process may run on, as `taskset -c` lists them.
pub(super) fn cpu_list(s: &str) -> Result<CpuList, String> {
    crate::cpus::parse(s).map(CpuList)
}

/// The base URL of an `asyncstudy serve`: http(s), a host, no credentials, nothing after the
/// port; given back without a trailing slash.
pub(super) fn server_url(s: &str) -> Result<String, String> {
    let url = url::Url::parse(s).map_err(|e| format!("not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err("not an http(s) URL with a host, such as http://10.0.0.2:8080".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("a URL with credentials (user:password@) is refused".into());
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err("give the server's base URL alone: the pages are at /page/N under it".into());
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

pub(super) fn at_least_one(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err("not a whole number".into()),
    }
}

pub(super) fn at_least_one_u64(s: &str) -> Result<u64, String> {
    at_least_one(s).map(|n| n as u64)
}

pub(super) fn at_least_one_u32(s: &str) -> Result<u32, String> {
    at_least_one(s).and_then(|n| u32::try_from(n).map_err(|_| "too large".into()))
}

/// A duration such as `100ms`, `2s` or `1m 30s`, at most [`MAX_DURATION`].
pub(super) fn duration(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s)
        .map_err(|e| format!("{e} (expected a duration such as 100ms, 2s, 1m)"))?;
    if d > MAX_DURATION {
        return Err(format!(
            "over the limit of {} days",
            MAX_DURATION.as_secs() / 86_400
        ));
    }
    Ok(d)
}

/// A byte size such as `16KiB`, `10MiB`, `64KB` or `1000`.
pub(super) fn size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| "expected a size such as 16KiB, 10MiB or 1000".to_string())?;
    let mult: u64 = match unit.trim() {
        "" | "B" => 1,
        "KB" | "kB" => 1_000,
        "KiB" | "K" | "k" => 1 << 10,
        "MB" => 1_000_000,
        "MiB" | "M" => 1 << 20,
        "GB" => 1_000_000_000,
        "GiB" | "G" => 1 << 30,
        other => {
            return Err(format!(
                "unknown unit {other:?} (B, KB, KiB, MB, MiB, GB, GiB)"
            ));
        }
    };
    n.checked_mul(mult).ok_or_else(|| "too large".to_string())
}

/// Tasks per second, `100` or `100/s`: a positive finite number.
pub(super) fn per_second(s: &str) -> Result<f64, String> {
    let n = s.trim().strip_suffix("/s").unwrap_or(s.trim());
    match n.parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(r),
        _ => Err("expected tasks per second, a number above 0 such as 100 or 100/s".into()),
    }
}

/// `--repeat` of a comparison: `auto`, or a count of at least 1.
pub(super) fn repeat(s: &str) -> Result<RepeatCount, String> {
    if s.trim() == "auto" {
        return Ok(RepeatCount::Auto);
    }
    at_least_one(s.trim())
        .map(RepeatCount::Fixed)
        .map_err(|e| format!("{e} (expected auto or a count such as 5)"))
}

/// A minimum effect: `3%` or `0.03`, above 0 and below 1.
pub(super) fn effect(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let value = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map(|p| p / 100.0),
        None => t.parse::<f64>(),
    };
    match value {
        Ok(e) if e > 0.0 && e < 1.0 => Ok(e),
        _ => Err("expected a relative difference above 0 and below 1, such as 3% or 0.03".into()),
    }
}

/// A share between 0 and 1.
pub(super) fn rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
        _ => Err("expected a number from 0 to 1".into()),
    }
}

/// A clap error as one line: clap's first line, completed with the argument it names, the
/// values it accepts and its suggestion, which clap would put on lines of their own.
pub(super) fn one_line(e: &clap::Error) -> String {
    if e.kind() == ErrorKind::MissingRequiredArgument {
        if let Some(msg) = missing(e) {
            return msg;
        }
    }
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
    if let Some(ContextValue::Strings(valid)) = e
        .get(ContextKind::ValidValue)
        .filter(|v| !matches!(v, ContextValue::Strings(v) if v.is_empty()))
    {
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

/// A missing required argument as one line that names the command, the argument and how to
/// see its choices: `asyncstudy cpu needs --runtime <RUNTIME>; see `asyncstudy runtimes` for
/// the choices`. `None` when the error does not say which.
fn missing(e: &clap::Error) -> Option<String> {
    let Some(ContextValue::Strings(args)) = e.get(ContextKind::InvalidArg) else {
        return None;
    };
    // The usage line names the command: "Usage: asyncstudy cpu [OPTIONS] --runtime <RUNTIME>".
    let usage = match e.get(ContextKind::Usage) {
        Some(ContextValue::StyledStr(s)) => s.to_string(),
        _ => return None,
    };
    let path: Vec<&str> = usage
        .trim()
        .trim_start_matches("Usage:")
        .split_whitespace()
        .take_while(|w| !w.starts_with(['-', '<', '[']))
        .collect();
    let mut command = Cli::command();
    // Arguments render as the error shows them only once the command is built.
    command.build();
    for name in path.iter().skip(1) {
        command = command.find_subcommand(name)?.clone();
    }
    let hints: Vec<String> = args
        .iter()
        .map(|shown| {
            let arg = command.get_arguments().find(|a| a.to_string() == *shown);
            let choices: Vec<String> = arg
                .map(|a| a.get_possible_values())
                .unwrap_or_default()
                .iter()
                .filter(|v| !v.is_hide_set())
                .map(|v| v.get_name().to_string())
                .collect();
            match arg.and_then(|a| a.get_long()) {
                // Twelve runtimes need more than a list: the listing says what each one is.
                Some("runtime") => "see `asyncstudy runtimes` for the choices".to_string(),
                _ if !choices.is_empty() => format!("the choices: {}", choices.join(", ")),
                _ => format!("see `{} --help`", path.join(" ")),
            }
        })
        .collect();
    Some(format!(
        "{} needs {}; {}",
        path.join(" "),
        args.join(" and "),
        hints.join("; ")
    ))
}

#[cfg(test)]
mod tests {
    use crate::Error;
    use crate::cli::parse;
    use crate::cli::tests::bad;

    #[test]
    fn a_missing_argument_is_named_with_where_its_choices_are() {
        for (args, want) in [
            (
                &["mixed"][..],
                "asyncstudy mixed needs --runtime <RUNTIME>; see `asyncstudy runtimes` for the choices",
            ),
            (
                &["io", "--tasks", "3"],
                "asyncstudy io needs --runtime <RUNTIME>; see `asyncstudy runtimes` for the choices",
            ),
            (
                &["report"],
                "asyncstudy report needs <FILE>; see `asyncstudy report --help`",
            ),
            (
                &["completions"],
                "asyncstudy completions needs <SHELL>; the choices: bash, zsh, fish",
            ),
        ] {
            assert_eq!(bad(args), want, "{args:?}");
        }
        // A flag given without its value still says what it takes, and no empty list of
        // choices.
        let msg = bad(&["compare", "cpu", "--runtimes"]);
        assert_eq!(
            msg,
            "a value is required for '--runtimes <LIST>' but none was supplied"
        );
    }

    #[test]
    fn a_command_without_its_subcommand_is_its_help() {
        for (args, lists) in [
            (
                &[][..],
                ["cpu", "io", "mixed", "compare", "report", "runtimes"],
            ),
            (
                &["compare"][..],
                ["cpu", "io", "sleep", "mixed", "Usage:", "--help"],
            ),
        ] {
            let all = std::iter::once("asyncstudy").chain(args.iter().copied());
            let Err(Error::Usage(help)) = parse(all) else {
                panic!("{args:?}: expected its help")
            };
            assert!(help.contains("Usage: asyncstudy"), "{help}");
            for want in lists {
                assert!(help.contains(want), "{args:?}: {want} missing from {help}");
            }
        }
    }
}
