//! What `/proc` says about processes and the machine: peak memory, a process's start time,
//! the memory available, the load average. A leaf every layer may read, so the executors, the measuring code,
//! the checks of a plan and `clean` read `/proc` one way.

/// This process image's peak resident set size (`VmHWM`), if `/proc` says.
pub fn peak_rss_bytes() -> Option<u64> {
    vm_hwm("/proc/self/status")
}

/// A live process's peak resident set size (`VmHWM`), if `/proc` says.
pub fn peak_rss_of(pid: u32) -> Option<u64> {
    vm_hwm(&format!("/proc/{pid}/status"))
}

/// `VmHWM` of the status file at `path`, in bytes.
fn vm_hwm(path: &str) -> Option<u64> {
    let status = std::fs::read_to_string(path).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Memory the kernel says can be given to a new program without swapping (`MemAvailable` of
/// `/proc/meminfo`), in bytes; `None` where it does not say.
pub fn available_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The machine's load average over the last minute (the first field of `/proc/loadavg`):
/// how many threads were running or waiting to run, on average.
pub fn load_average() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// A process's start time in clock ticks since boot, if it is alive.
pub fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces and parentheses) are plain;
    // starttime is field 22, the 20th after the name.
    stat.rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(19)?
        .parse()
        .ok()
}
