//! Envoy's access-log format strings ("command operators"), compiled once
//! at load into a list of pieces: plain text and operators such as
//! `%REQ(USER-AGENT):20%` or `%START_TIME(%s.%3f)%`. The proxy interprets
//! the pieces for each request; nothing is parsed on the request path.
//!
//! Unknown operators are refused, as Envoy refuses them.

use std::fmt;

use serde::{Serialize, Serializer};

mod operator;
mod time;

pub use operator::{HeaderRef, Operator};
pub use time::{TimeFormat, TimePiece};

/// A compiled format string.
#[derive(Debug, Clone, PartialEq)]
pub struct LogFormat {
    /// The text it was compiled from (shown by `/config_dump`).
    source: String,
    pieces: Vec<Piece>,
}

/// One piece of a compiled format string.
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    /// Written as is (`%%` already turned into `%`).
    Text(String),
    /// A command operator, its value cut to `max_len` characters when set
    /// (Envoy's `:Z`).
    Op {
        op: Operator,
        max_len: Option<usize>,
    },
}

/// Why a format string was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FormatError {
    /// A `%` at this byte offset starts no complete `%NAME(ARG):Z%`.
    Unterminated { at: usize },
    /// No such command operator.
    UnknownOperator { name: String },
    /// An operator Envoy has and ringway does not provide.
    Unsupported { name: String },
    /// The operator's argument or length is wrong.
    BadArgument { name: String, reason: String },
    /// A `START_TIME(...)` format ringway cannot render.
    BadTimeFormat { spec: String },
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unterminated { at } => write!(
                f,
                "the `%` at byte {at} starts no complete command operator \
                 (`%NAME%`, `%NAME(ARG)%` or `%NAME(ARG):LEN%`; `%%` for a literal `%`)"
            ),
            Self::UnknownOperator { name } => {
                write!(f, "unknown command operator `%{name}%`")
            }
            Self::Unsupported { name } => write!(
                f,
                "the command operator `%{name}%` is not supported by ringway (README.md, \"Access logs\", lists those it has)"
            ),
            Self::BadArgument { name, reason } => write!(f, "`%{name}%`: {reason}"),
            Self::BadTimeFormat { spec } => write!(
                f,
                "`%START_TIME%`: the time format specifier `{spec}` is not supported"
            ),
        }
    }
}

impl std::error::Error for FormatError {}

// === impl LogFormat ===

impl LogFormat {
    /// Compiles `source`.
    pub fn parse(source: &str) -> Result<Self, FormatError> {
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut rest = source;
        while let Some(pos) = rest.find('%') {
            text.push_str(&rest[..pos]);
            let at = source.len() - rest.len() + pos;
            let after = &rest[pos + 1..];
            if let Some(tail) = after.strip_prefix('%') {
                text.push('%');
                rest = tail;
                continue;
            }
            let (op, max_len, tail) = operator_at(after, at)?;
            if !text.is_empty() {
                pieces.push(Piece::Text(std::mem::take(&mut text)));
            }
            pieces.push(Piece::Op { op, max_len });
            rest = tail;
        }
        text.push_str(rest);
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        Ok(Self {
            source: source.to_owned(),
            pieces,
        })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn pieces(&self) -> &[Piece] {
        &self.pieces
    }

    /// The one operator this format is, when it is nothing else (a JSON
    /// value that keeps its type).
    pub fn single_operator(&self) -> Option<&Operator> {
        match self.pieces.as_slice() {
            [Piece::Op { op, max_len: None }] => Some(op),
            _ => None,
        }
    }

    /// Every operator, in order.
    pub fn operators(&self) -> impl Iterator<Item = &Operator> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Op { op, .. } => Some(op),
            Piece::Text(_) => None,
        })
    }
}

impl Serialize for LogFormat {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.source)
    }
}

/// The operator that `after` (the text after a `%`) starts with, its
/// length limit, and the text after its closing `%`.
fn operator_at(after: &str, at: usize) -> Result<(Operator, Option<usize>, &str), FormatError> {
    let unterminated = || FormatError::Unterminated { at };
    let name_len = after
        .bytes()
        .take_while(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_')
        .count();
    if name_len == 0 {
        return Err(unterminated());
    }
    let (name, mut rest) = after.split_at(name_len);
    let mut arg = None;
    if let Some(open) = rest.strip_prefix('(') {
        let close = open.find(')').ok_or_else(unterminated)?;
        arg = Some(&open[..close]);
        rest = &open[close + 1..];
    }
    let mut max_len = None;
    if let Some(len) = rest.strip_prefix(':') {
        let digits = len.bytes().take_while(u8::is_ascii_digit).count();
        let bad = |reason: &str| FormatError::BadArgument {
            name: name.to_owned(),
            reason: reason.to_owned(),
        };
        if digits == 0 {
            return Err(bad("`:` must be followed by a maximum length"));
        }
        let n = len[..digits]
            .parse::<usize>()
            .map_err(|_| bad("the maximum length is too large"))?;
        max_len = Some(n);
        rest = &len[digits..];
    }
    let rest = rest.strip_prefix('%').ok_or_else(unterminated)?;
    let op = Operator::parse(name, arg)?;
    Ok((op, max_len, rest))
}

#[cfg(test)]
mod tests;
