//! The data every layer shares, and nothing else: the runtimes and their kinds, what a task
//! and a run produced (the `asyncstudy.run/1` record), and a comparison (`asyncstudy.compare/1`).
//!
//! This is the bottom of the house: it depends on no other module of the crate, so any module
//! can read it first. Types here are plain data with serde; the few methods they have check or
//! describe the data itself, or (histograms) encode it.

pub mod compare;
pub mod histogram;
pub mod run;
pub mod runtime;
pub mod task;

pub use run::RunRecord;
pub use runtime::{Kind, Runtime};
pub use task::{OsThread, TaskError, TaskRecord};
