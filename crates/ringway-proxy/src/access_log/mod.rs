//! Per-listener access logs, buffered per worker.
//!
//! Lines are formatted into a per-worker buffer and written to the file when
//! the buffer fills or on the worker's periodic flush, so a request never
//! waits on the disk. A listener may have several logs; each has its
//! format (Envoy's default line, ringway's JSON, or an Envoy format string
//! or dictionary compiled at load) and its filter.

use std::cell::RefCell;
use std::fs::{File, OpenOptions};
use std::io::{self, Write as _};
use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use ringway_config::model::{AccessLog, AccessLogFormat, LogFilter};

mod capture;
mod custom;
mod default;
mod time;

pub use capture::{Captured, Needs};

/// Flush once this many bytes are buffered.
const FLUSH_BYTES: usize = 16 * 1024;

/// The access logs of one listener on one worker.
#[derive(Debug)]
pub struct AccessLoggers {
    logs: Vec<AccessLogger>,
    /// What the codecs capture for the logs' operators.
    pub needs: Needs,
}

#[derive(Debug)]
struct AccessLogger {
    format: AccessLogFormat,
    filter: Option<LogFilter>,
    file: RefCell<File>,
    pending: RefCell<String>,
}

/// The downstream connection a request came on.
#[derive(Debug, Clone, Copy)]
pub struct ConnInfo {
    /// The peer's address.
    pub peer: SocketAddr,
    /// The address the connection was accepted on, when the logs need it.
    pub local: Option<SocketAddr>,
    /// Unique within the process (the worker's index in the top 16 bits).
    pub id: u64,
}

/// What one access log line reports. Strings are `-` when absent.
#[derive(Debug)]
pub struct Entry<'a> {
    pub start: SystemTime,
    /// The request's own fields.
    pub line: LogLine<'a>,
    pub status: u16,
    pub flags: &'a str,
    pub bytes_received: u64,
    pub bytes_sent: u64,
    pub duration: Duration,
    pub upstream_service_time: Option<Duration>,
    pub upstream_host: &'a str,
}

/// The request's own fields in its access-log line, as its codec read
/// them; `-` when absent.
#[derive(Debug, Clone, Copy)]
pub struct LogLine<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub protocol: &'a str,
    pub authority: &'a str,
    pub user_agent: &'a str,
    pub forwarded_for: &'a str,
    pub request_id: &'a str,
    /// The cluster the request was forwarded to; `-` when none.
    pub cluster: &'a str,
    pub conn: Option<&'a ConnInfo>,
    /// The headers the formats name (see [`Needs`]).
    pub captured: Option<&'a Captured>,
}

// === impl AccessLoggers ===

impl AccessLoggers {
    /// Opens every log's file; the first that cannot be opened fails all.
    pub fn open(configs: &[AccessLog]) -> io::Result<Self> {
        let logs = configs
            .iter()
            .map(|c| {
                AccessLogger::open(c)
                    .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", c.path.display())))
            })
            .collect::<io::Result<Vec<_>>>()?;
        let formats = || configs.iter().map(|c| &c.format);
        Ok(Self {
            needs: Needs::new(formats()),
            logs,
        })
    }

    pub fn log(&self, entry: &Entry<'_>) {
        for log in &self.logs {
            log.log(entry, &self.needs);
        }
    }

    pub fn flush(&self) {
        for log in &self.logs {
            log.flush();
        }
    }
}

// === impl AccessLogger ===

impl AccessLogger {
    fn open(config: &AccessLog) -> io::Result<Self> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&config.path)?;
        Ok(Self {
            format: config.format.clone(),
            filter: config.filter.clone(),
            file: RefCell::new(file),
            pending: RefCell::new(String::with_capacity(FLUSH_BYTES * 2)),
        })
    }

    fn log(&self, entry: &Entry<'_>, needs: &Needs) {
        if let Some(filter) = &self.filter {
            let flag = (entry.flags != "-").then_some(entry.flags);
            let ms = u64::try_from(entry.duration.as_millis()).unwrap_or(u64::MAX);
            if !filter.matches(entry.status, ms, flag) {
                return;
            }
        }
        let full = {
            let mut out = self.pending.borrow_mut();
            match &self.format {
                AccessLogFormat::Text => default::format_text(&mut out, entry),
                AccessLogFormat::Json => default::format_json(&mut out, entry),
                AccessLogFormat::TextFormat(t) => custom::text(&mut out, t, entry, needs),
                AccessLogFormat::JsonFormat(j) => custom::json(&mut out, j, entry, needs),
            }
            out.len() >= FLUSH_BYTES
        };
        if full {
            self.flush();
        }
    }

    fn flush(&self) {
        let mut pending = self.pending.borrow_mut();
        if pending.is_empty() {
            return;
        }
        if let Err(err) = self.file.borrow_mut().write_all(pending.as_bytes()) {
            tracing::warn!(%err, "access log write failed");
        }
        pending.clear();
    }
}

impl Drop for AccessLogger {
    fn drop(&mut self) {
        self.flush();
    }
}

#[cfg(test)]
pub(crate) fn example_entry() -> Entry<'static> {
    Entry {
        start: SystemTime::UNIX_EPOCH + Duration::from_millis(1_795_363_638_123),
        line: LogLine {
            method: "GET",
            path: "/a\"b",
            protocol: "HTTP/1.1",
            authority: "x",
            user_agent: "curl/8",
            forwarded_for: "-",
            request_id: "abc",
            cluster: "backend",
            conn: None,
            captured: None,
        },
        status: 503,
        flags: "UF",
        bytes_received: 0,
        bytes_sent: 19,
        duration: Duration::from_millis(3),
        upstream_service_time: None,
        upstream_host: "127.0.0.1:1",
    }
}
