//! The shipped JSON Schemas (`docs/schema/`) describe the records the tool really writes: runs
//! of every workload kind and a comparison validate against them, and a record missing a
//! contract field does not.

use crate::common::{compare_into, read_json, run_json};
use serde_json::Value;

fn validator(name: &str) -> jsonschema::Validator {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs/schema")
        .join(format!("{name}.json"));
    jsonschema::validator_for(&read_json(&path)).expect("the shipped schema compiles")
}

fn assert_valid(v: &jsonschema::Validator, record: &Value, what: &str) {
    let errors: Vec<String> = v.iter_errors(record).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{what}: {errors:?}");
}

#[test]
fn real_records_validate_against_the_shipped_schemas() {
    let run = validator("run");
    for args in [
        "cpu --runtime threads --workload noop --tasks 4 --format json",
        "io --runtime smol --workload sleep --sleep 5ms --tasks 3 --format json",
        "io --runtime tokio-mt --tasks 3 --writes 1 --latency 1ms --format json",
        "mixed --runtime tokio+rayon --tasks 5 --cpu-tasks 2 --cpu-iters 1000 --sleep 2ms --rate 500 --format json",
        "cpu --runtime process-pool --workers 2 --tasks 3 --workload noop --inject-fault kill@1 --format json",
    ] {
        let record = run_json(&args.split_whitespace().collect::<Vec<_>>());
        assert_valid(&run, &record, args);
        // The contract's names are required: without one the record is not valid.
        let mut cut = record.clone();
        cut.as_object_mut().unwrap().remove("latency_ms");
        assert!(
            !run.is_valid(&cut),
            "{args}: a record without latency_ms passed"
        );
    }

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("c.json");
    let (_, compare) = compare_into(
        &out,
        "cpu --runtimes serial,threads --workers 2 --tasks 2 --workload noop --repeat 1",
    );
    assert_valid(&validator("compare"), &compare, "compare");
    let mut cut = compare.clone();
    cut.as_object_mut().unwrap().remove("verdict");
    assert!(!validator("compare").is_valid(&cut));
}
