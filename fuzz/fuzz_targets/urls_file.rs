//! Fuzzes the urls-file parser: any text either parses into http(s) URLs, one per kept line,
//! or is rejected in one line naming the file (and the line, when a line is bad).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let kept = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .count();
    match asyncstudy::plan::parse_urls("urls.txt", text) {
        Ok(urls) => {
            assert_eq!(urls.len(), kept);
            for u in urls {
                // The url crate accepts any case of the scheme.
                let lower = u.to_ascii_lowercase();
                assert!(
                    lower.starts_with("http:") || lower.starts_with("https:"),
                    "{u}"
                );
            }
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(!msg.contains('\n'), "{msg}");
            assert!(msg.starts_with("urls.txt:") || msg == "--urls urls.txt: no URLs in it");
        }
    }
});
