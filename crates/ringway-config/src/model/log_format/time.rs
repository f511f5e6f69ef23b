//! `START_TIME(...)` formats: the strftime specifiers of C++'s `put_time`
//! that a UTC time has, plus Envoy's `%s` and `%f`/`%1f`..`%9f`.

use super::FormatError;

/// A compiled time format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeFormat {
    pub(super) pieces: Vec<TimePiece>,
}

/// One piece of a time format. Times are UTC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimePiece {
    Text(String),
    /// `%Y`
    Year,
    /// `%y`
    Year2,
    /// `%m`
    Month,
    /// `%d`
    Day,
    /// `%e`: day of the month, space-padded.
    DaySpace,
    /// `%j`
    DayOfYear,
    /// `%H`
    Hour,
    /// `%I`
    Hour12,
    /// `%M`
    Minute,
    /// `%S`
    Second,
    /// `%p`
    AmPm,
    /// `%a`
    WeekdayShort,
    /// `%A`
    WeekdayLong,
    /// `%b` or `%h`
    MonthShort,
    /// `%B`
    MonthLong,
    /// `%z`: always `+0000`.
    Offset,
    /// `%Z`: always `UTC`.
    ZoneName,
    /// `%s`: seconds since the epoch.
    EpochSeconds,
    /// `%f` (9 digits) or `%1f`..`%9f`: fractional seconds, truncated.
    Fraction(u8),
}

// === impl TimeFormat ===

impl Default for TimeFormat {
    /// Envoy's default: `%Y-%m-%dT%H:%M:%S.%3fZ`.
    fn default() -> Self {
        use TimePiece::*;
        let t = |s: &str| Text(s.to_owned());
        Self {
            pieces: vec![
                Year,
                t("-"),
                Month,
                t("-"),
                Day,
                t("T"),
                Hour,
                t(":"),
                Minute,
                t(":"),
                Second,
                t("."),
                Fraction(3),
                t("Z"),
            ],
        }
    }
}

impl TimeFormat {
    pub fn parse(spec: &str) -> Result<Self, FormatError> {
        use TimePiece::*;
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut chars = spec.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                text.push(c);
                continue;
            }
            let bad = |s: &str| FormatError::BadTimeFormat { spec: s.to_owned() };
            let next = chars.next().ok_or_else(|| bad("%"))?;
            let piece = match next {
                '%' => {
                    text.push('%');
                    continue;
                }
                'n' => {
                    text.push('\n');
                    continue;
                }
                't' => {
                    text.push('\t');
                    continue;
                }
                'Y' => vec![Year],
                'y' => vec![Year2],
                'm' => vec![Month],
                'd' => vec![Day],
                'e' => vec![DaySpace],
                'j' => vec![DayOfYear],
                'H' => vec![Hour],
                'I' => vec![Hour12],
                'M' => vec![Minute],
                'S' => vec![Second],
                'p' => vec![AmPm],
                'a' => vec![WeekdayShort],
                'A' => vec![WeekdayLong],
                'b' | 'h' => vec![MonthShort],
                'B' => vec![MonthLong],
                'z' => vec![Offset],
                'Z' => vec![ZoneName],
                's' => vec![EpochSeconds],
                'f' => vec![Fraction(9)],
                'F' => vec![Year, Text("-".into()), Month, Text("-".into()), Day],
                'T' => vec![Hour, Text(":".into()), Minute, Text(":".into()), Second],
                'R' => vec![Hour, Text(":".into()), Minute],
                d @ '1'..='9' => match chars.next() {
                    Some('f') => vec![Fraction(d as u8 - b'0')],
                    Some(other) => return Err(bad(&format!("%{d}{other}"))),
                    None => return Err(bad(&format!("%{d}"))),
                },
                other => return Err(bad(&format!("%{other}"))),
            };
            if !text.is_empty() {
                pieces.push(Text(std::mem::take(&mut text)));
            }
            pieces.extend(piece);
        }
        if !text.is_empty() {
            pieces.push(Text(text));
        }
        Ok(Self { pieces })
    }

    pub fn pieces(&self) -> &[TimePiece] {
        &self.pieces
    }
}
