use super::*;

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len();
    let mut out = vec![(len >> 16) as u8, (len >> 8) as u8, len as u8, kind, flags];
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

const DATA: u8 = 0x0;
const SETTINGS: u8 = 0x4;
const END_STREAM: u8 = 0x1;

/// `:path` (static index 4) as a literal without indexing, then
/// `x-trailer: 1` with a literal name: two fields.
const PSEUDO_TRAILERS: &[u8] = b"\x04\x05/evil\x00\x09x-trailer\x011";

fn connection(trailers: &[u8]) -> Vec<u8> {
    let mut bytes = PREFACE.to_vec();
    bytes.extend(frame(SETTINGS, 0, 0, b""));
    bytes.extend(frame(HEADERS, END_HEADERS, 1, b"\x83\x86\x84\x41\x01a"));
    bytes.extend(frame(DATA, 0, 1, b"abc"));
    bytes.extend(frame(HEADERS, END_HEADERS, 3, b"\x82\x86\x84\x41\x01a"));
    bytes.extend(trailers);
    bytes
}

fn scan_in_pieces(bytes: &[u8], piece: usize) -> Vec<Trailers> {
    let mut scanner = FrameScanner::new(1024);
    let mut found = Vec::new();
    for chunk in bytes.chunks(piece) {
        scanner.feed(chunk, &mut |t| found.push(t));
    }
    found
}

#[test]
fn finds_trailers_however_the_bytes_are_cut() {
    let bytes = connection(&frame(
        HEADERS,
        END_HEADERS | END_STREAM,
        1,
        PSEUDO_TRAILERS,
    ));
    for piece in [1, 2, 7, 9, 10, 64, bytes.len()] {
        assert_eq!(
            scan_in_pieces(&bytes, piece),
            [Trailers {
                stream_id: 1,
                fields: Some(2)
            }],
            "pieces of {piece}"
        );
    }
}

#[test]
fn request_heads_are_not_trailers() {
    let bytes = connection(&[]);
    assert_eq!(scan_in_pieces(&bytes, 5), []);
}

#[test]
fn continuation_padding_and_priority() {
    // PADDED (pad 3) and PRIORITY on the HEADERS, the block split across a
    // CONTINUATION.
    let mut payload = vec![3u8];
    payload.extend_from_slice(&[0, 0, 0, 0, 16]);
    payload.extend_from_slice(&PSEUDO_TRAILERS[..4]);
    payload.extend_from_slice(&[0, 0, 0]);
    let mut trailers = frame(HEADERS, END_STREAM | PADDED | PRIORITY, 3, &payload);
    trailers.extend(frame(CONTINUATION, END_HEADERS, 3, &PSEUDO_TRAILERS[4..]));
    let bytes = connection(&trailers);
    assert_eq!(
        scan_in_pieces(&bytes, 3),
        [Trailers {
            stream_id: 3,
            fields: Some(2)
        }]
    );
}

#[test]
fn oversized_and_malformed_blocks_are_uncounted() {
    let big = vec![0x82u8; 2000];
    let bytes = connection(&frame(HEADERS, END_HEADERS | END_STREAM, 1, &big));
    assert_eq!(
        scan_in_pieces(&bytes, 100),
        [Trailers {
            stream_id: 1,
            fields: None
        }]
    );
    let bytes = connection(&frame(HEADERS, END_HEADERS | END_STREAM, 1, b"\x40\x05ab"));
    assert_eq!(
        scan_in_pieces(&bytes, 100),
        [Trailers {
            stream_id: 1,
            fields: None
        }]
    );
}
