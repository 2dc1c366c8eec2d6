//! CPU lists (`0,2-3`) and pinning a process to them with `sched_setaffinity`, for
//! `--client-cpus` and `--server-cpus`: a leaf every layer may use, so the command line checks
//! a list against the same set the pinning later uses.
//!
//! Pinning a process pins each of its threads as it is now (`/proc/self/task`); threads and
//! processes started afterwards inherit the mask, so a runtime built after the pinning runs
//! only on the listed CPUs, worker processes included.

use std::collections::BTreeSet;

/// The CPUs this process may run on now (its affinity mask), in order.
pub fn allowed() -> Vec<usize> {
    // SAFETY: an all-zero cpu_set_t is a valid empty set; sched_getaffinity writes at most
    // its size into it.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    let size = std::mem::size_of::<libc::cpu_set_t>();
    // SAFETY: `set` is a valid cpu_set_t of `size` bytes.
    if unsafe { libc::sched_getaffinity(0, size, &mut set) } != 0 {
        return (0..std::thread::available_parallelism().map_or(1, usize::from)).collect();
    }
    (0..libc::CPU_SETSIZE as usize)
        // SAFETY: `cpu` is below CPU_SETSIZE, inside the set.
        .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) })
        .collect()
}

/// Parses a CPU list as `taskset -c` takes it: numbers and ranges, comma-separated (`0`,
/// `0,1`, `2-3`), each CPU one this process may run on. The message names the reason alone.
pub fn parse(text: &str) -> Result<Vec<usize>, String> {
    let mut cpus = BTreeSet::new();
    for part in text.split(',').map(str::trim) {
        let number = |s: &str| {
            s.trim()
                .parse::<usize>()
                .map_err(|_| format!("{part:?} is not a CPU number or a range such as 0-1"))
        };
        let (low, high) = match part.split_once('-') {
            Some((a, b)) => (number(a)?, number(b)?),
            None => (number(part)?, number(part)?),
        };
        if low > high {
            return Err(format!("{part:?} is a range that runs backwards"));
        }
        cpus.extend(low..=high.min(low.saturating_add(libc::CPU_SETSIZE as usize)));
    }
    let allowed = allowed();
    if let Some(cpu) = cpus.iter().find(|c| !allowed.contains(c)) {
        return Err(format!(
            "CPU {cpu} is not one this process may run on ({})",
            show(&allowed)
        ));
    }
    Ok(cpus.into_iter().collect())
}

/// A CPU list as [`parse`] reads it, ranges folded: `0-3,6`.
pub fn show(cpus: &[usize]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < cpus.len() {
        let mut j = i;
        while j + 1 < cpus.len() && cpus[j + 1] == cpus[j] + 1 {
            j += 1;
        }
        parts.push(if j == i {
            cpus[i].to_string()
        } else {
            format!("{}-{}", cpus[i], cpus[j])
        });
        i = j + 1;
    }
    parts.join(",")
}

/// Pins every thread of this process to `cpus`; threads and processes started later inherit it.
pub fn pin_process(cpus: &[usize]) -> std::io::Result<()> {
    // SAFETY: an all-zero cpu_set_t is a valid empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    for &cpu in cpus.iter().filter(|&&c| c < libc::CPU_SETSIZE as usize) {
        // SAFETY: `cpu` is below CPU_SETSIZE, inside the set.
        unsafe { libc::CPU_SET(cpu, &mut set) };
    }
    let size = std::mem::size_of::<libc::cpu_set_t>();
    let mut tids: Vec<libc::pid_t> = std::fs::read_dir("/proc/self/task")
        .map(|dir| {
            dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    // The calling thread first, so at least it is pinned if /proc cannot be read.
    tids.insert(0, 0);
    for tid in tids {
        // SAFETY: `set` is a valid cpu_set_t of `size` bytes; a thread that has exited since
        // the listing fails with ESRCH, which is skipped.
        if unsafe { libc::sched_setaffinity(tid, size, &set) } != 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::ESRCH) {
                return Err(e);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_parse_fold_and_refuse_cpus_out_of_reach() {
        let first = allowed()[0];
        assert_eq!(parse(&first.to_string()).unwrap(), vec![first]);
        assert_eq!(show(&[0, 1, 2, 3, 6]), "0-3,6");
        assert_eq!(show(&[1]), "1");
        let all = allowed();
        assert_eq!(parse(&show(&all)).unwrap(), all);
        for bad in ["x", "1-0", "", "99999", "0-"] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        assert!(
            parse("99999")
                .unwrap_err()
                .contains("not one this process may run on")
        );
    }
}
