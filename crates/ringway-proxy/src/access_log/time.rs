//! `START_TIME` rendered in a compiled [`TimeFormat`] (UTC).

use std::fmt::Write as _;
use std::time::SystemTime;

use ringway_config::model::log_format::{TimeFormat, TimePiece};

use super::default::civil_from_days;

const WEEKDAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

pub(super) fn write(out: &mut String, format: &TimeFormat, t: SystemTime) {
    let since = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let days = (secs / 86_400) as i64;
    let (year, month, day) = civil_from_days(days);
    let rem = secs % 86_400;
    let (hour, minute, second) = (rem / 3600, (rem / 60) % 60, rem % 60);
    let nanos = since.subsec_nanos();
    let month_name = MONTHS[(month as usize - 1) % 12];
    let weekday = WEEKDAYS[((days + 4).rem_euclid(7)) as usize];
    for piece in format.pieces() {
        let _ = match piece {
            TimePiece::Text(s) => {
                out.push_str(s);
                Ok(())
            }
            TimePiece::Year => write!(out, "{year:04}"),
            TimePiece::Year2 => write!(out, "{:02}", year.rem_euclid(100)),
            TimePiece::Month => write!(out, "{month:02}"),
            TimePiece::Day => write!(out, "{day:02}"),
            TimePiece::DaySpace => write!(out, "{day:>2}"),
            TimePiece::DayOfYear => write!(out, "{:03}", day_of_year(year, month, day)),
            TimePiece::Hour => write!(out, "{hour:02}"),
            TimePiece::Hour12 => write!(out, "{:02}", (hour + 11) % 12 + 1),
            TimePiece::Minute => write!(out, "{minute:02}"),
            TimePiece::Second => write!(out, "{second:02}"),
            TimePiece::AmPm => write!(out, "{}", if hour < 12 { "AM" } else { "PM" }),
            TimePiece::WeekdayShort => write!(out, "{}", &weekday[..3]),
            TimePiece::WeekdayLong => write!(out, "{weekday}"),
            TimePiece::MonthShort => write!(out, "{}", &month_name[..3]),
            TimePiece::MonthLong => write!(out, "{month_name}"),
            TimePiece::Offset => write!(out, "+0000"),
            TimePiece::ZoneName => write!(out, "UTC"),
            TimePiece::EpochSeconds => write!(out, "{secs}"),
            TimePiece::Fraction(digits) => {
                let digits = u32::from((*digits).clamp(1, 9));
                let value = nanos / 10u32.pow(9 - digits);
                write!(out, "{value:0width$}", width = digits as usize)
            }
        };
    }
}

fn day_of_year(year: i64, month: u32, day: u32) -> u32 {
    const BEFORE: [u32; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    BEFORE[(month as usize - 1) % 12] + day + u32::from(leap && month > 2)
}
