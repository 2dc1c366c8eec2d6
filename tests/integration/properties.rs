//! Property tests of the three places that take input from outside: the urls-file parser, the
//! URL-to-file-name mapping, and the worker protocol's frame decoder. The same properties are
//! fuzzed by the cargo-fuzz targets in `fuzz/`; these run in `cargo test` on every change.

use std::path::{Component, Path};

use asyncstudy::plan::parse_urls;
use asyncstudy::protocol::{Done, FrameError, MAX_FRAME, ToWorker, read_frame, write_frame};
use asyncstudy::workload::download::file_name;
use proptest::prelude::*;

/// Text shaped like a urls file: lines that are URLs, near-URLs, comments, blanks and noise.
fn urls_file() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        "https?://[a-z0-9.-]{1,20}(:[0-9]{1,5})?(/[ -~]{0,30})?",
        "[a-z]{2,6}:/{0,3}[ -~]{0,20}",
        "#[ -~]{0,30}",
        "[ \t]{0,3}",
        "[\\x00-\\x1f]{0,2}https?://[a-z]{1,8}[\\x00\t]{0,2}",
        any::<String>(),
    ];
    prop::collection::vec(line, 0..12).prop_map(|lines| lines.join("\n"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// The parser never panics; it keeps exactly the http(s) lines that are not comments or
    /// blank, or names the first bad line by number.
    #[test]
    fn the_urls_parser_keeps_good_lines_or_names_the_bad_one(text in urls_file()) {
        let wanted: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        match parse_urls("urls.txt", &text) {
            Ok(urls) => {
                prop_assert_eq!(&urls, &wanted);
                for u in &urls {
                    let parsed = url::Url::parse(u).unwrap();
                    prop_assert!(matches!(parsed.scheme(), "http" | "https"));
                    // What is kept is what the URL parser saw: no control characters for it
                    // to drop (a fuzz finding).
                    prop_assert!(!u.chars().any(char::is_control), "{:?}", u);
                }
            }
            Err(e) => {
                let msg = e.to_string();
                prop_assert!(!msg.contains('\n'), "{}", msg);
                prop_assert!(
                    msg.starts_with("urls.txt:") || msg == "--urls urls.txt: no URLs in it",
                    "{}", msg
                );
                if wanted.is_empty() {
                    prop_assert_eq!(msg, "--urls urls.txt: no URLs in it");
                }
            }
        }
    }

    /// Whatever the URL, its file is one plain name inside the out-dir: no separator, no `.`
    /// or `..`, no NUL, not hidden, short enough for any file system, and only safe bytes.
    #[test]
    fn a_url_always_maps_to_one_safe_file_name(url in prop_oneof![
        any::<String>(),
        "[a-z]{3,5}://[ -~]{0,200}",
        "(\\.\\./|%2e%2e/|/|\\\\|\\.){0,20}[ -~]{0,10}",
        prop::collection::vec(any::<char>(), 0..6000).prop_map(|c| c.into_iter().collect()),
    ]) {
        let name = file_name(&url);
        prop_assert!(!name.is_empty() && name.len() <= 255, "{}", name);
        prop_assert!(
            name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)),
            "{}", name
        );
        prop_assert!(!name.starts_with('.'), "{}", name);
        let out = Path::new("/tmp/out-dir");
        let joined = out.join(&name);
        prop_assert_eq!(joined.parent(), Some(out));
        let parts: Vec<Component> = Path::new(&name).components().collect();
        prop_assert_eq!(parts.len(), 1);
        prop_assert!(matches!(parts[0], Component::Normal(_)));
        // The same URL always maps to the same name.
        prop_assert_eq!(file_name(&url), name);
    }

    /// Arbitrary bytes on a worker's pipe never panic the decoder, never allocate past the
    /// frame limit, and decode only when they are a whole frame of a real message.
    #[test]
    fn the_frame_decoder_takes_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let mut input = &bytes[..];
        match read_frame::<_, ToWorker>(&mut input) {
            Ok(None) => prop_assert!(bytes.is_empty()),
            Ok(Some(_)) => {
                let len = u32::from_le_bytes(bytes[..4].try_into().unwrap()) as usize;
                prop_assert!(len <= MAX_FRAME && 4 + len <= bytes.len());
            }
            Err(FrameError::TooLarge(n)) => prop_assert!(n > MAX_FRAME),
            Err(FrameError::Truncated { want, got, .. }) => prop_assert!(got < want),
            Err(FrameError::Decode(_)) | Err(FrameError::Io(_)) => {}
        }
    }

    /// A frame survives the pipe whole, and any cut of it is an error, never a message.
    #[test]
    fn frames_round_trip_and_a_cut_frame_is_an_error(
        task in any::<usize>(),
        start in any::<u64>(),
        cut_at in any::<prop::sample::Index>(),
    ) {
        let done = Done {
            task,
            worker: asyncstudy::model::task::OsThread { pid: 7, tid: 8 },
            start_ns: start,
            end_ns: start,
            bytes: 3,
            error: None,
        };
        let mut frame = Vec::new();
        write_frame(&mut frame, &done).unwrap();
        let mut whole = &frame[..];
        prop_assert_eq!(read_frame::<_, Done>(&mut whole).unwrap(), Some(done));
        let cut = cut_at.index(frame.len() - 1) + 1;
        if cut < frame.len() {
            let mut part = &frame[..cut];
            prop_assert!(read_frame::<_, Done>(&mut part).is_err());
        }
    }
}
