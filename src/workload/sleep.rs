//! Seed 002's `long_io`: a task that only waits.
//!
//! Async runtimes wait on their own timer, so one thread can hold any number of waiting tasks;
//! with `blocking` they call `std::thread::sleep` instead, which holds their executor thread for
//! the whole wait: the mistake this workload exists to show.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Outcome, TaskResult};

/// A wait of `duration`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sleep {
    /// How long each task waits.
    pub duration: Duration,
    /// Whether async runtimes block their thread (`std::thread::sleep`) instead of awaiting
    /// their timer.
    pub blocking: bool,
}

impl Sleep {
    /// The wait as a blocking call, for runtimes whose tasks own a thread.
    pub fn run_blocking(&self) -> TaskResult {
        std::thread::sleep(self.duration);
        Ok(Outcome::NONE)
    }

    /// The wait in an async task, on the runtime's own `timer`; with `blocking`,
    /// `std::thread::sleep` instead, which holds the executor thread on purpose.
    pub async fn run_async<F: std::future::Future<Output = ()>>(
        self,
        timer: impl FnOnce(Duration) -> F,
    ) -> TaskResult {
        if self.blocking {
            std::thread::sleep(self.duration);
        } else {
            timer(self.duration).await;
        }
        Ok(Outcome::NONE)
    }
}
