//! Chunked body framing on arbitrary bytes, split in two at a position
//! given by the first byte: consumption never exceeds the input, and the
//! split never changes the outcome.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ringway_http1::{BodyDecoder, BodyError, BodyFraming, ChunkEvent, ChunkedDecoder};

/// (bytes consumed, done, payload length) after feeding `pieces` in turn.
fn advance(pieces: &[&[u8]]) -> Result<(usize, bool, u64), BodyError> {
    let mut dec = BodyDecoder::with_limits(BodyFraming::Chunked, 64, 128);
    let mut total = 0;
    for piece in pieces {
        let p = dec.advance(piece)?;
        assert!(p.consumed <= piece.len());
        total += p.consumed;
        if p.done {
            return Ok((total, true, dec.payload_len()));
        }
        assert_eq!(p.consumed, piece.len(), "unfinished bodies take everything");
    }
    Ok((total, false, dec.payload_len()))
}

/// The same through `ChunkedDecoder::decode`, which holds back incomplete
/// trailers: the caller re-presents unconsumed bytes.
fn decode(pieces: &[&[u8]]) -> Result<(usize, bool, u64), BodyError> {
    let mut dec = ChunkedDecoder::with_limits(64, 128);
    let (mut buf, mut total) = (Vec::new(), 0);
    for piece in pieces {
        buf.extend_from_slice(piece);
        loop {
            let (n, event) = dec.decode(&buf)?;
            assert!(n <= buf.len());
            if let ChunkEvent::Data(r) | ChunkEvent::Trailers(r) = &event {
                assert!(r.start <= r.end && r.end <= n);
            }
            buf.drain(..n);
            total += n;
            match event {
                ChunkEvent::Done => return Ok((total, true, dec.payload_len())),
                ChunkEvent::NeedMore => break,
                ChunkEvent::Data(_) | ChunkEvent::Trailers(_) => {}
            }
        }
    }
    let complete = total + buf.len();
    Ok((complete, false, dec.payload_len()))
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, body)) = data.split_first() else {
        return;
    };
    let (a, b) = body.split_at(usize::from(first) % (body.len() + 1));
    let whole = advance(&[body]);
    assert_eq!(advance(&[a, b]), whole);
    assert_eq!(decode(&[body]), whole);
    assert_eq!(decode(&[a, b]), whole);
});
