//! Fuzzes the URL-to-file-name mapping: whatever the URL, the result is one plain, safe file
//! name that stays inside the out-dir.

#![no_main]

use std::path::{Component, Path};

use libfuzzer_sys::fuzz_target;

fuzz_target!(|url: &str| {
    let name = asyncstudy::workload::download::file_name(url);
    assert!(!name.is_empty() && name.len() <= 255, "{name}");
    assert!(
        name.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)),
        "{name}"
    );
    assert!(!name.starts_with('.'), "{name}");
    let out = Path::new("/out-dir");
    assert_eq!(out.join(&name).parent(), Some(out));
    let parts: Vec<Component> = Path::new(&name).components().collect();
    assert!(matches!(parts[..], [Component::Normal(_)]), "{name}");
});
