#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

/// A multi-chunk body with extensions (token, quoted with an escape, BWS,
/// valueless), upper- and lower-case hex, trailers, then a pipelined request.
const BODY: &[u8] = b"4;ext=val\r\nWiki\r\n\
5 ; a = \"q\\\"x;y\" ; b\r\npedia\r\n\
e\r\n in\r\n\r\nchunks.\r\n\
00A;n\r\n0123456789\r\n\
0;last=\"\"\r\nExpires: never\r\nX-Trailer: a\tb \r\n\r\n";
const PAYLOAD: &[u8] = b"Wikipedia in\r\n\r\nchunks.0123456789";
const TRAILERS: &[u8] = b"Expires: never\r\nX-Trailer: a\tb \r\n";
const NEXT: &[u8] = b"GET / HTTP/1.1\r\n";

#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    payload: Vec<u8>,
    trailers: Option<Vec<u8>>,
    /// Total bytes consumed when the body completed.
    consumed: Option<usize>,
    error: Option<BodyError>,
}

/// Feeds `input` to `decode` in pieces ending at `cuts` (then the rest),
/// keeping unconsumed bytes buffered as a connection would.
fn decode_in_pieces(input: &[u8], cuts: &[usize], dec: &mut ChunkedDecoder) -> Outcome {
    let mut out = Outcome {
        payload: Vec::new(),
        trailers: None,
        consumed: None,
        error: None,
    };
    let mut buf = Vec::new();
    let mut fed = 0;
    let mut total = 0;
    for &cut in cuts.iter().chain([input.len()].iter()) {
        let cut = cut.clamp(fed, input.len());
        buf.extend_from_slice(&input[fed..cut]);
        fed = cut;
        loop {
            let (n, event) = match dec.decode(&buf) {
                Ok(r) => r,
                Err(e) => {
                    out.error = Some(e);
                    return out;
                }
            };
            assert!(n <= buf.len(), "consumed {n} of {}", buf.len());
            match &event {
                ChunkEvent::Data(r) => {
                    assert!(r.end <= n && !r.is_empty());
                    out.payload.extend_from_slice(&buf[r.clone()]);
                }
                ChunkEvent::Trailers(r) => {
                    assert!(r.end <= n);
                    assert!(out.trailers.is_none(), "trailers reported twice");
                    out.trailers = Some(buf[r.clone()].to_vec());
                }
                ChunkEvent::Done | ChunkEvent::NeedMore => {}
            }
            buf.drain(..n);
            total += n;
            if event == ChunkEvent::Done {
                assert!(dec.is_done());
                out.consumed = Some(total);
                return out;
            }
            if event == ChunkEvent::NeedMore {
                break;
            }
        }
    }
    out
}

fn decode_split(input: &[u8], cuts: &[usize]) -> Outcome {
    decode_in_pieces(input, cuts, &mut ChunkedDecoder::new())
}

fn whole() -> Vec<u8> {
    [BODY, NEXT].concat()
}

#[test]
fn one_shot_decoding() {
    let input = whole();
    let out = decode_split(&input, &[]);
    assert_eq!(out.error, None);
    assert_eq!(out.payload, PAYLOAD);
    assert_eq!(out.trailers.as_deref(), Some(TRAILERS));
    assert_eq!(out.consumed, Some(BODY.len()));
    let mut dec = ChunkedDecoder::new();
    let _ = decode_in_pieces(&input, &[], &mut dec);
    assert_eq!(dec.payload_len(), PAYLOAD.len() as u64);
    assert_eq!(dec.decode(NEXT), Ok((0, ChunkEvent::Done)));
}

#[test]
fn every_single_split_point_matches_one_shot() {
    let input = whole();
    let expected = decode_split(&input, &[]);
    for cut in 0..=input.len() {
        assert_eq!(decode_split(&input, &[cut]), expected, "split at {cut}");
    }
}

#[test]
fn byte_by_byte_matches_one_shot() {
    let input = whole();
    let cuts: Vec<usize> = (0..=input.len()).collect();
    assert_eq!(decode_split(&input, &cuts), decode_split(&input, &[]));
}

#[test]
fn random_splits_match_one_shot() {
    let input = whole();
    let expected = decode_split(&input, &[]);
    let mut rng = fastrand::Rng::with_seed(0x5eed);
    for _ in 0..2000 {
        let mut cuts: Vec<usize> = (0..rng.usize(1..12))
            .map(|_| rng.usize(0..=input.len()))
            .collect();
        cuts.sort_unstable();
        assert_eq!(decode_split(&input, &cuts), expected, "cuts {cuts:?}");
    }
}

#[test]
fn empty_trailers_and_plain_last_chunk() {
    let out = decode_split(b"3\r\nabc\r\n0\r\n\r\n", &[]);
    assert_eq!(out.payload, b"abc");
    assert_eq!(out.trailers.as_deref(), Some(&b""[..]));
    assert_eq!(out.consumed, Some(13));
    let out = decode_split(b"0\r\n\r\n", &[]);
    assert_eq!((out.payload.len(), out.consumed), (0, Some(5)));
    let out = decode_split(b"000\r\n\r\n", &[2]);
    assert_eq!(out.consumed, Some(7));
}

#[test]
fn data_ranges_are_bounded_by_the_chunk() {
    let mut dec = ChunkedDecoder::new();
    assert_eq!(dec.decode(b"5\r\nab"), Ok((5, ChunkEvent::Data(3..5))));
    assert_eq!(dec.decode(b"cdefg"), Ok((3, ChunkEvent::Data(0..3))));
    assert_eq!(dec.decode(b"\r"), Ok((1, ChunkEvent::NeedMore)));
    assert_eq!(dec.decode(b"\n0\r\nX: y\r"), Ok((4, ChunkEvent::NeedMore)));
    // The trailer bytes are held until complete, then returned whole.
    assert_eq!(
        dec.decode(b"X: y\r\n\r\n"),
        Ok((8, ChunkEvent::Trailers(0..6)))
    );
    assert_eq!(dec.payload_len(), 5);
    assert!(dec.is_done());
}

#[test]
fn large_chunk_sizes() {
    let mut dec = ChunkedDecoder::new();
    assert_eq!(
        dec.decode(b"ffffffffffffffff\r\nab"),
        Ok((20, ChunkEvent::Data(18..20)))
    );
    assert_eq!(dec.payload_len(), 2);
    let mut dec = ChunkedDecoder::new();
    assert_eq!(
        dec.decode(b"000000000000000F\r\n"),
        Ok((18, ChunkEvent::NeedMore))
    );
}

#[rustfmt::skip]
const BAD: &[(&[u8], BodyError)] = {
    use BodyError::*;
    &[
        (b"\r\n", InvalidChunkSize),
        (b" 5\r\n", InvalidChunkSize),
        (b"\t5\r\n", InvalidChunkSize),
        (b"-5\r\n", InvalidChunkSize),
        (b"+5\r\n", InvalidChunkSize),
        (b"0x5\r\n", InvalidChunkSize),
        (b"5g\r\n", InvalidChunkSize),
        (b"g\r\n", InvalidChunkSize),
        (b";a\r\n", InvalidChunkSize),
        (b"5 \r\n", InvalidChunkExtension),
        (b"5 x\r\n", InvalidChunkExtension),
        (b"5;\r\n", InvalidChunkExtension),
        (b"5; \r\n", InvalidChunkExtension),
        (b"5;=x\r\n", InvalidChunkExtension),
        (b"5;a=\r\n", InvalidChunkExtension),
        (b"5;a \r\n", InvalidChunkExtension),
        (b"5;a b\r\n", InvalidChunkExtension),
        (b"5;a=b c\r\n", InvalidChunkExtension),
        (b"5;a=b \r\n", InvalidChunkExtension),
        (b"5;a=\"x\"y\r\n", InvalidChunkExtension),
        (b"5;a=\"x\r\n", InvalidChunkExtension),
        (b"5;a=\"x\\\r\n", InvalidChunkExtension),
        (b"5;a=\"\0\"\r\n", InvalidChunkExtension),
        (b"5;a(b\r\n", InvalidChunkExtension),
        (b"00000000000000001\r\n", ChunkSizeTooLong),
        (b"10000000000000000\r\n", ChunkSizeTooLong),
        (b"5\n", BareLf),
        (b"5;a\n", BareLf),
        (b"5;a=\"x\n", BareLf),
        (b"\n", BareLf),
        (b"5\rX", BareCr),
        (b"3\r\nabcX\r\n", MissingChunkDataCrlf),
        (b"3\r\nabc\n0\r\n\r\n", MissingChunkDataCrlf),
        (b"3\r\nabc\rX", MissingChunkDataCrlf),
        (b"3\r\nabcd\r\n0\r\n\r\n", MissingChunkDataCrlf),
        (b"3\r\nab\r\n0\r\n\r\n", MissingChunkDataCrlf),
        (b"0\r\n X: y\r\n\r\n", InvalidTrailer),
        (b"0\r\nX : y\r\n\r\n", InvalidTrailer),
        (b"0\r\n: y\r\n\r\n", InvalidTrailer),
        (b"0\r\nX(: y\r\n\r\n", InvalidTrailer),
        (b"0\r\nX\r\n\r\n", InvalidTrailer),
        (b"0\r\nX: a\0\r\n\r\n", InvalidTrailer),
        (b"0\r\nX: a\x7f\r\n\r\n", InvalidTrailer),
        (b"0\r\nX: a\r\n b\r\n\r\n", InvalidTrailer),
        (b"0\r\nX: a\nY: b\r\n\r\n", BareLf),
        (b"0\r\n\n", BareLf),
        (b"0\r\nX: a\rY\r\n\r\n", BareCr),
        (b"0\r\n\rX", BareCr),
    ]
};

#[test]
fn refuses_bad_framing_at_every_split() {
    for (raw, want) in BAD {
        for cut in 0..=raw.len() {
            let out = decode_split(raw, &[cut]);
            assert_eq!(
                out.error,
                Some(*want),
                "{:?} split at {cut}",
                String::from_utf8_lossy(raw)
            );
        }
    }
}

#[test]
fn errors_are_sticky() {
    let mut dec = ChunkedDecoder::new();
    assert_eq!(dec.decode(b"z"), Err(BodyError::InvalidChunkSize));
    assert_eq!(dec.decode(b"0\r\n\r\n"), Err(BodyError::InvalidChunkSize));
    assert!(!dec.is_done());
}

#[test]
fn line_and_trailer_limits() {
    let line = b"1;aaaaaaaa\r\nx\r\n0\r\n\r\n";
    let out = decode_in_pieces(line, &[], &mut ChunkedDecoder::with_limits(12, 64));
    assert_eq!((out.error, out.payload.as_slice()), (None, &b"x"[..]));
    let out = decode_in_pieces(line, &[5], &mut ChunkedDecoder::with_limits(11, 64));
    assert_eq!(out.error, Some(BodyError::ChunkLineTooLong));

    let trailers = b"0\r\nA: 1\r\nB: 2\r\n\r\n";
    let section = trailers.len() - 3;
    let out = decode_in_pieces(trailers, &[], &mut ChunkedDecoder::with_limits(64, section));
    assert_eq!(out.trailers.as_deref(), Some(&b"A: 1\r\nB: 2\r\n"[..]));
    for cut in 0..=trailers.len() {
        let out = decode_in_pieces(
            trailers,
            &[cut],
            &mut ChunkedDecoder::with_limits(64, section - 1),
        );
        assert_eq!(out.error, Some(BodyError::TrailersTooLarge), "cut {cut}");
    }
}

#[test]
fn held_trailers_survive_a_caller_that_rewinds_less() {
    // If the caller presents fewer bytes than were held, the trailer section
    // is validated afresh instead of indexing past the input.
    let mut dec = ChunkedDecoder::new();
    assert_eq!(dec.decode(b"0\r\nAbc: d"), Ok((3, ChunkEvent::NeedMore)));
    assert_eq!(dec.decode(b"X"), Ok((0, ChunkEvent::NeedMore)));
    assert_eq!(
        dec.decode(b"X: 1\r\n\r\n"),
        Ok((8, ChunkEvent::Trailers(0..6)))
    );
}

/// `skim` (used by `BodyDecoder`) fed in pieces: (consumed when done, error).
fn skim_split(input: &[u8], cuts: &[usize]) -> (Option<usize>, Option<BodyError>) {
    let mut dec = ChunkedDecoder::new();
    let mut fed = 0;
    let mut total = 0;
    for &cut in cuts.iter().chain([input.len()].iter()) {
        let cut = cut.clamp(fed, input.len());
        let piece = &input[fed..cut];
        fed = cut;
        match dec.skim(piece) {
            Err(e) => return (None, Some(e)),
            Ok((n, true)) => return (Some(total + n), None),
            Ok((n, false)) => {
                assert_eq!(n, piece.len(), "an unfinished body takes the whole piece");
                total += n;
            }
        }
    }
    (None, None)
}

#[test]
fn skim_agrees_with_decode() {
    let input = whole();
    for cut in 0..=input.len() {
        assert_eq!(
            skim_split(&input, &[cut]),
            (Some(BODY.len()), None),
            "cut {cut}"
        );
    }
    for (raw, want) in BAD {
        for cut in 0..=raw.len() {
            assert_eq!(
                skim_split(raw, &[cut]),
                (None, Some(*want)),
                "{raw:?} cut {cut}"
            );
        }
    }
}
