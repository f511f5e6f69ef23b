//! The frame scanner and the field counter on arbitrary bytes: no panic,
//! and the scanner finds the same trailers however the bytes are cut.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringway_h2wire::{FrameScanner, Trailers, count_fields};

fn scan(data: &[u8], piece: usize) -> Vec<Trailers> {
    let mut scanner = FrameScanner::new(4096);
    let mut found = Vec::new();
    for chunk in data.chunks(piece.max(1)) {
        scanner.feed(chunk, &mut |t| found.push(t));
    }
    found
}

fuzz_target!(|data: &[u8]| {
    let _ = count_fields(data);
    let Some((&cut, rest)) = data.split_first() else {
        return;
    };
    assert_eq!(scan(rest, rest.len()), scan(rest, usize::from(cut % 17) + 1));
});
