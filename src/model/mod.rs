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
pub mod server;
pub mod task;

pub use run::RunRecord;
pub use runtime::{Kind, Runtime};
pub use task::{OsThread, TaskError, TaskRecord};

/// The JSON Schema of the `asyncstudy.run/1` record, generated from [`RunRecord`] and shipped
/// as `docs/schema/run.json`.
pub fn run_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(RunRecord)).expect("a schema is JSON")
}

/// The JSON Schema of the `asyncstudy.compare/1` record, generated from
/// [`compare::CompareRecord`] and shipped as `docs/schema/compare.json`.
pub fn compare_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(compare::CompareRecord)).expect("a schema is JSON")
}

#[cfg(test)]
mod tests {
    // The shipped schemas are the ones the types generate. `UPDATE_SCHEMAS=1 cargo test`
    // rewrites them after a change to the records; review the diff like any contract change.
    #[test]
    fn the_shipped_schemas_are_generated_from_the_types() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/schema");
        for (name, schema) in [
            ("run", super::run_schema()),
            ("compare", super::compare_schema()),
        ] {
            let path = dir.join(format!("{name}.json"));
            let text = serde_json::to_string_pretty(&schema).unwrap() + "\n";
            if std::env::var_os("UPDATE_SCHEMAS").is_some() {
                std::fs::write(&path, &text).unwrap();
            }
            let shipped = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                shipped == text,
                "{} is not what the types generate: run UPDATE_SCHEMAS=1 cargo test",
                path.display()
            );
        }
    }
}
