//! Fuzzes the worker protocol's frame decoder with arbitrary pipe bytes, as both sides read
//! them: it must return a message, a clean end or an error, never panic or allocate past the
//! frame limit; and a decoded message must survive being written and read again.

#![no_main]

use asyncstudy::protocol::{Done, MAX_FRAME, Ready, ToWorker, read_frame, write_frame};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let mut input = bytes;
    if let Ok(Some(message)) = read_frame::<_, ToWorker>(&mut input) {
        let len = u32::from_le_bytes(bytes[..4].try_into().unwrap()) as usize;
        assert!(len <= MAX_FRAME);
        let mut again = Vec::new();
        write_frame(&mut again, &message).unwrap();
        let back: ToWorker = read_frame(&mut &again[..]).unwrap().unwrap();
        assert_eq!(back, message);
    }
    let mut input = bytes;
    if let Ok(Some(done)) = read_frame::<_, Done>(&mut input) {
        let mut again = Vec::new();
        write_frame(&mut again, &done).unwrap();
        let back: Done = read_frame(&mut &again[..]).unwrap().unwrap();
        assert_eq!(back, done);
    }
    let mut input = bytes;
    if let Ok(Some(ready)) = read_frame::<_, Ready>(&mut input) {
        let mut again = Vec::new();
        write_frame(&mut again, &ready).unwrap();
        let back: Ready = read_frame(&mut &again[..]).unwrap().unwrap();
        assert_eq!(back, ready);
    }
});
