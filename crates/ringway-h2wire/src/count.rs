//! Counting the field representations of an HPACK field block (RFC 7541
//! §6) without decoding them: each representation's length is known from
//! its prefix integers and string lengths, so no dynamic table is needed.

use std::fmt;

/// Why a field block could not be counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountError {
    /// The block ends inside a representation.
    Truncated,
    /// An integer does not fit in 32 bits.
    Overflow,
}

impl fmt::Display for CountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Truncated => "field block ends inside a representation",
            Self::Overflow => "integer too large in a field block",
        })
    }
}

impl std::error::Error for CountError {}

/// The number of field representations in `block` (dynamic table size
/// updates are not fields).
pub fn count_fields(block: &[u8]) -> Result<usize, CountError> {
    let mut reader = Reader { block, at: 0 };
    let mut fields = 0;
    while let Some(&first) = block.get(reader.at) {
        if first & 0x80 != 0 {
            // Indexed field line (§6.1).
            reader.integer(7)?;
            fields += 1;
        } else if first & 0xc0 == 0x40 {
            // Literal with incremental indexing (§6.2.1).
            reader.literal(6)?;
            fields += 1;
        } else if first & 0xe0 == 0x20 {
            // Dynamic table size update (§6.3).
            reader.integer(5)?;
        } else {
            // Literal without indexing or never indexed (§6.2.2, §6.2.3).
            reader.literal(4)?;
            fields += 1;
        }
    }
    Ok(fields)
}

struct Reader<'a> {
    block: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    /// A prefixed integer (§5.1) whose prefix is the low `bits` of the
    /// current byte.
    fn integer(&mut self, bits: u32) -> Result<u32, CountError> {
        let mask = (1u32 << bits) - 1;
        let first = *self.block.get(self.at).ok_or(CountError::Truncated)?;
        self.at += 1;
        let mut value = u32::from(first) & mask;
        if value < mask {
            return Ok(value);
        }
        let mut shift = 0u32;
        loop {
            let byte = *self.block.get(self.at).ok_or(CountError::Truncated)?;
            self.at += 1;
            let part = u32::from(byte & 0x7f)
                .checked_shl(shift)
                .filter(|p| p >> shift == u32::from(byte & 0x7f))
                .ok_or(CountError::Overflow)?;
            value = value.checked_add(part).ok_or(CountError::Overflow)?;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
            shift += 7;
            if shift > 28 {
                return Err(CountError::Overflow);
            }
        }
    }

    /// A string literal (§5.2): skipped.
    fn string(&mut self) -> Result<(), CountError> {
        let len = self.integer(7)? as usize;
        let end = self.at.checked_add(len).ok_or(CountError::Overflow)?;
        if end > self.block.len() {
            return Err(CountError::Truncated);
        }
        self.at = end;
        Ok(())
    }

    /// A literal field line whose name index has a `bits` prefix; index 0
    /// means a literal name follows.
    fn literal(&mut self, bits: u32) -> Result<(), CountError> {
        if self.integer(bits)? == 0 {
            self.string()?;
        }
        self.string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_every_kind_of_representation() {
        // RFC 7541 C.3.1: three indexed fields and one literal with
        // incremental indexing (indexed name).
        let c31 = b"\x82\x86\x84\x41\x0fwww.example.com";
        assert_eq!(count_fields(c31), Ok(4));
        // C.4.1, the same with a Huffman-coded value.
        let c41 = b"\x82\x86\x84\x41\x8c\xf1\xe3\xc2\xe5\xf2\x3a\x6b\xa0\xab\x90\xf4\xff";
        assert_eq!(count_fields(c41), Ok(4));
        // C.2.1: literal with a literal name; C.2.2: without indexing;
        // C.2.3: never indexed.
        assert_eq!(count_fields(b"\x40\x0acustom-key\x0dcustom-header"), Ok(1));
        assert_eq!(count_fields(b"\x04\x0c/sample/path"), Ok(1));
        assert_eq!(count_fields(b"\x10\x08password\x06secret"), Ok(1));
        // A table size update is not a field.
        assert_eq!(count_fields(b"\x20\x3f\xe1\x1f\x82"), Ok(1));
        assert_eq!(count_fields(b""), Ok(0));
    }

    #[test]
    fn multi_byte_integers_and_bad_blocks() {
        // Index 1337 with a 7-bit prefix: 0xff 0xba 0x0a.
        assert_eq!(count_fields(b"\xff\xba\x0a"), Ok(1));
        assert_eq!(count_fields(b"\xff\xba"), Err(CountError::Truncated));
        assert_eq!(count_fields(b"\x40\x05ab"), Err(CountError::Truncated));
        assert_eq!(
            count_fields(b"\xff\xff\xff\xff\xff\xff\x01"),
            Err(CountError::Overflow)
        );
    }
}
