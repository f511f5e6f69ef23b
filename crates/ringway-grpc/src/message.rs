//! The `grpc-message` trailer's percent-encoding.

/// Appends `message` percent-encoded for `grpc-message`: bytes outside
/// printable ASCII (0x20..=0x7E) and `%` itself become `%XX` of their UTF-8
/// encoding.
pub fn encode_message(message: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in message.as_bytes() {
        if (0x20..=0x7e).contains(&b) && b != b'%' {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(s: &str) -> String {
        let mut out = String::new();
        encode_message(s, &mut out);
        out
    }

    #[test]
    fn encodes() {
        assert_eq!(enc("no healthy upstream"), "no healthy upstream");
        assert_eq!(enc("100%"), "100%25");
        assert_eq!(enc("a\nb"), "a%0Ab");
        assert_eq!(enc("caf\u{e9}"), "caf%C3%A9");
        assert_eq!(enc(""), "");
    }
}
