//! What machine a run was measured on.

use crate::model::run::Machine;

/// Reads the facts of the machine this process runs on.
pub fn detect() -> Machine {
    Machine {
        logical_cores: logical_cores(),
        cpu_model: cpu_model().unwrap_or_else(|| "unknown".into()),
        os: os_name(),
        kernel: kernel_release().unwrap_or_else(|| "unknown".into()),
    }
}

/// CPUs available to this process; 1 if unknown.
pub fn logical_cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

fn cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    info.lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|rest| rest.split_once(':'))
        .map(|(_, model)| model.trim().to_string())
}

fn os_name() -> String {
    std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("PRETTY_NAME="))
                .map(|v| v.trim_matches('"').to_string())
        })
        .unwrap_or_else(|| std::env::consts::OS.to_string())
}

fn kernel_release() -> Option<String> {
    // SAFETY: an all-zero utsname is valid, and uname only writes NUL-terminated strings into it.
    let mut uts: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: `uts` is a valid out-pointer.
    if unsafe { libc::uname(&mut uts) } != 0 {
        return None;
    }
    // SAFETY: the kernel NUL-terminates `release` within the array.
    let release = unsafe { std::ffi::CStr::from_ptr(uts.release.as_ptr()) };
    Some(release.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_this_machine() {
        let m = detect();
        // At least one, and no more than the CPUs this process may be scheduled on.
        // SAFETY: an all-zero cpu_set_t is a valid empty set, which sched_getaffinity fills.
        let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        // SAFETY: `set` is a valid out-pointer of the size passed; pid 0 is this thread.
        let got = unsafe { libc::sched_getaffinity(0, std::mem::size_of_val(&set), &mut set) };
        assert_eq!(got, 0);
        // SAFETY: `set` is an initialized cpu_set_t.
        let allowed = unsafe { libc::CPU_COUNT(&set) } as usize;
        assert!(
            (1..=allowed).contains(&m.logical_cores),
            "{m:?}, {allowed} allowed"
        );
        assert!(!m.kernel.is_empty() && m.kernel != "unknown", "{m:?}");
        assert!(!m.os.is_empty());
        // The kernel release looks like "6.1.0-...": it starts with a digit.
        assert!(
            m.kernel.starts_with(|c: char| c.is_ascii_digit()),
            "{}",
            m.kernel
        );
    }
}
