//! `mixed`: CPU tasks and IO tasks submitted together, to measure the IO tasks' latency under
//! CPU load.
//!
//! The two kinds are interleaved evenly through the task indices, so neither is submitted in
//! a block ahead of the other: with `io` of `t` tasks, task `i` is IO when
//! `⌊(i + 1)·io / t⌋ > ⌊i·io / t⌋`, and it is IO task number `⌊i·io / t⌋` (which picks its
//! page). Where a runtime runs the CPU part (inline in async tasks, `spawn_blocking`, a rayon
//! pool, OS threads, processes) is the runtime's placement; the record's headline is the IO
//! tasks' latency.

use serde::{Deserialize, Serialize};

use super::{CpuWork, Download, Sleep, TaskResult};

/// The IO half of a mixed run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MixedIo {
    /// Download and rewrite a page.
    Download(Download),
    /// Wait on the runtime's timer.
    Sleep(Sleep),
}

/// CPU tasks and IO tasks in one batch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Mixed {
    /// What each CPU task runs.
    pub cpu: CpuWork,
    /// What each IO task does.
    pub io: MixedIo,
    /// How many of the run's tasks are IO tasks.
    pub io_tasks: usize,
    /// All tasks of the run, CPU and IO.
    pub tasks: usize,
}

impl Mixed {
    /// Which IO task task `task` is, or `None` for a CPU task.
    pub fn io_index(&self, task: usize) -> Option<usize> {
        io_index(task, self.io_tasks, self.tasks)
    }

    /// Runs task `task` on the calling thread, blocking it for any IO.
    pub fn run(&self, task: usize) -> TaskResult {
        match (self.io_index(task), &self.io) {
            (None, _) => self.cpu.run(task),
            (Some(j), MixedIo::Download(d)) => d.run_blocking(j),
            (Some(_), MixedIo::Sleep(s)) => s.run_blocking(),
        }
    }
}

/// Which IO task task `task` of `tasks` is when `io_tasks` of them are IO, spread evenly;
/// `None` for a CPU task (and for any task past `tasks`).
pub fn io_index(task: usize, io_tasks: usize, tasks: usize) -> Option<usize> {
    if task >= tasks || tasks == 0 {
        return None;
    }
    // u128: task · io_tasks overflows u64 only for absurd counts, but costs nothing to avoid.
    let at = |i: usize| (i as u128 * io_tasks as u128 / tasks as u128) as usize;
    (at(task + 1) > at(task)).then(|| at(task))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_tasks_are_spread_evenly_and_numbered_in_order() {
        for (io, total) in [
            (0, 7),
            (1, 7),
            (3, 7),
            (7, 7),
            (100, 132),
            (5, 5),
            (2, 1000),
        ] {
            let indices: Vec<usize> = (0..total).filter_map(|i| io_index(i, io, total)).collect();
            assert_eq!(indices, (0..io).collect::<Vec<_>>(), "{io} of {total}");
            // No run of CPU tasks is much longer than the even share.
            if io > 0 {
                let mut gap = 0;
                let mut longest = 0;
                for i in 0..total {
                    if io_index(i, io, total).is_some() {
                        gap = 0;
                    } else {
                        gap += 1;
                        longest = longest.max(gap);
                    }
                }
                assert!(longest <= (total - io).div_ceil(io), "{io} of {total}");
            }
        }
        assert_eq!(io_index(7, 7, 7), None);
    }
}
