#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

/// Feeds `input` to a fresh decoder in pieces ending at `cuts`; returns
/// (bytes consumed in total, done, payload_len) or the error.
fn feed(
    framing: BodyFraming,
    input: &[u8],
    cuts: &[usize],
) -> Result<(usize, bool, u64), BodyError> {
    let mut dec = BodyDecoder::new(framing);
    let mut fed = 0;
    let mut total = 0;
    for &cut in cuts.iter().chain([input.len()].iter()) {
        let cut = cut.clamp(fed, input.len());
        let piece = &input[fed..cut];
        fed = cut;
        let p = dec.advance(piece)?;
        assert!(p.consumed <= piece.len());
        total += p.consumed;
        assert_eq!(p.done, dec.is_done());
        if p.done {
            return Ok((total, true, dec.payload_len()));
        }
        assert_eq!(
            p.consumed,
            piece.len(),
            "an unfinished body takes the whole piece"
        );
    }
    Ok((total, false, dec.payload_len()))
}

const CHUNKED: &[u8] = b"6;x=\"y\"\r\nhello \r\n5\r\nworld\r\n0\r\nT: v\r\n\r\nNEXT";

#[test]
fn empty_body_is_done_at_once() {
    let mut dec = BodyDecoder::new(BodyFraming::Empty);
    assert!(dec.is_done());
    assert_eq!(
        dec.advance(b"GET /"),
        Ok(Progress {
            consumed: 0,
            done: true
        })
    );
    assert_eq!(dec.payload_len(), 0);
}

#[test]
fn length_body_stops_at_its_end() {
    let input = b"0123456789NEXT";
    for cut in 0..=input.len() {
        assert_eq!(
            feed(BodyFraming::Length(10), input, &[cut]),
            Ok((10, true, 10)),
            "cut {cut}"
        );
    }
    assert_eq!(feed(BodyFraming::Length(0), input, &[]), Ok((0, true, 0)));
    assert_eq!(
        feed(BodyFraming::Length(20), input, &[3]),
        Ok((14, false, 14))
    );
    assert_eq!(
        feed(BodyFraming::Length(u64::MAX), input, &[]),
        Ok((14, false, 14))
    );
    let mut dec = BodyDecoder::new(BodyFraming::Length(2));
    assert_eq!(dec.advance(b"abc").map(|p| p.consumed), Ok(2));
    assert_eq!(
        dec.advance(b"c"),
        Ok(Progress {
            consumed: 0,
            done: true
        })
    );
}

#[test]
fn until_close_takes_everything() {
    let mut dec = BodyDecoder::new(BodyFraming::UntilClose);
    assert_eq!(
        dec.advance(b"abc"),
        Ok(Progress {
            consumed: 3,
            done: false
        })
    );
    assert_eq!(
        dec.advance(b""),
        Ok(Progress {
            consumed: 0,
            done: false
        })
    );
    assert_eq!(
        dec.advance(b"de"),
        Ok(Progress {
            consumed: 2,
            done: false
        })
    );
    assert_eq!(dec.payload_len(), 5);
    assert!(!dec.is_done());
}

#[test]
fn chunked_body_any_split_matches_one_shot() {
    let body_len = CHUNKED.len() - 4;
    let expected = Ok((body_len, true, 11));
    assert_eq!(feed(BodyFraming::Chunked, CHUNKED, &[]), expected);
    let every: Vec<usize> = (0..=CHUNKED.len()).collect();
    assert_eq!(feed(BodyFraming::Chunked, CHUNKED, &every), expected);
    for a in 0..=CHUNKED.len() {
        for b in a..=CHUNKED.len() {
            assert_eq!(
                feed(BodyFraming::Chunked, CHUNKED, &[a, b]),
                expected,
                "cuts {a} {b}"
            );
        }
    }
    let mut rng = fastrand::Rng::with_seed(7);
    for _ in 0..1000 {
        let mut cuts: Vec<usize> = (0..rng.usize(1..8))
            .map(|_| rng.usize(0..=CHUNKED.len()))
            .collect();
        cuts.sort_unstable();
        assert_eq!(
            feed(BodyFraming::Chunked, CHUNKED, &cuts),
            expected,
            "cuts {cuts:?}"
        );
    }
}

#[test]
fn chunked_body_after_done_consumes_nothing() {
    let mut dec = BodyDecoder::new(BodyFraming::Chunked);
    let p = dec.advance(CHUNKED).unwrap();
    assert!(p.done);
    assert_eq!(CHUNKED.get(p.consumed..), Some(&b"NEXT"[..]));
    assert_eq!(
        dec.advance(b"more"),
        Ok(Progress {
            consumed: 0,
            done: true
        })
    );
}

#[test]
fn chunked_errors_and_limits() {
    assert_eq!(
        feed(BodyFraming::Chunked, b"5\r\nhello\n", &[]),
        Err(BodyError::MissingChunkDataCrlf)
    );
    let mut dec = BodyDecoder::with_limits(BodyFraming::Chunked, 4, 64);
    assert_eq!(
        dec.advance(b"1;a\r"),
        Ok(Progress {
            consumed: 4,
            done: false
        })
    );
    assert_eq!(dec.advance(b"\n"), Err(BodyError::ChunkLineTooLong));
    assert_eq!(dec.advance(b"0\r\n\r\n"), Err(BodyError::ChunkLineTooLong));
    let mut dec = BodyDecoder::with_limits(BodyFraming::Chunked, 64, 4);
    assert_eq!(
        dec.advance(b"0\r\nA: b\r\n\r\n"),
        Err(BodyError::TrailersTooLarge)
    );
}
