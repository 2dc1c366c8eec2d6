//! The layout holds: the crate's top-level modules form layers, each using only the ones below
//! it, read from the `crate::` paths of their code (tests left out), so the layers stay true
//! as code is added. The README's Layout section lists the same order.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The top-level modules from the bottom layer up; `lib.rs` and `main.rs` sit above them all.
const LAYERS: &[&str] = &[
    "clock",
    "cpus",
    "files",
    "procfs",
    "interrupt",
    "child",
    "model",
    "analysis",
    "workload",
    "server",
    "protocol",
    "plan",
    "executor",
    "measure",
    "report",
    "sweep",
    "study",
    "clean",
    "command",
    "cli",
];

/// Every top-level module's uses of other top-level modules, outside its tests.
fn uses() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(&src).unwrap();
            let top = rel.iter().next().unwrap().to_string_lossy();
            let top = top.trim_end_matches(".rs").to_string();
            // A `tests.rs` is a test module (`#[cfg(test)] mod tests;`), free like the
            // `#[cfg(test)]` tail of a file.
            if top == "lib" || top == "main" || path.file_name().is_some_and(|n| n == "tests.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            // Tests sit at the end of a file and may borrow helpers from anywhere.
            let code = text.split("#[cfg(test)]").next().unwrap_or("");
            let deps = out.entry(top.clone()).or_default();
            for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
                for (i, _) in line.match_indices("crate::") {
                    let name: String = line[i + 7..]
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    // `crate::Error` and `crate::Status` are lib.rs's outcome types.
                    if name != top && name.chars().next().is_some_and(|c| c.is_lowercase()) {
                        deps.insert(name);
                    }
                }
            }
        }
    }
    out
}

#[test]
fn every_module_uses_only_the_layers_below_it() {
    let uses = uses();
    let layer = |m: &str| LAYERS.iter().position(|l| *l == m);
    for (module, deps) in &uses {
        let at = layer(module).unwrap_or_else(|| {
            panic!("src/{module} is not in the layers: add it to LAYERS and the README")
        });
        for dep in deps {
            let below = layer(dep).unwrap_or_else(|| panic!("{module} uses unknown {dep}"));
            assert!(
                below < at,
                "{module} (layer {at}) uses {dep} (layer {below}), which is not below it"
            );
        }
    }
    // The bottom of the house is data: the model uses nothing of the crate.
    assert!(uses["model"].is_empty(), "model uses {:?}", uses["model"]);
    assert_eq!(uses.len(), LAYERS.len(), "{:?}", uses.keys());
}

#[test]
fn the_readme_lists_the_layers_in_order() {
    let readme = include_str!("../../README.md");
    let section = readme
        .split("## Layout")
        .nth(1)
        .expect("the README has a Layout section");
    let mut at = 0;
    for m in LAYERS.iter().rev() {
        let name = format!("`src/{m}");
        let found = section[at..].find(&name).unwrap_or_else(|| {
            panic!("the README's Layout lists {name} out of order or not at all")
        });
        at += found;
    }
}
