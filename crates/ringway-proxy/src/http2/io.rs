//! The byte stream the `h2` server runs over: the connection's poll-style
//! stream, preceded by the bytes already read while the protocol was
//! detected, with every byte read shown to the trailers scanner.

use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use monoio::io::poll_io::{AsyncRead, AsyncWrite, ReadBuf};
use ringway_h2wire::FrameScanner;

use super::trailers::TrailerAudit;

/// Trailers blocks longer than this are not counted (and so refused):
/// far beyond any header list size a listener allows.
const MAX_TRAILERS_BLOCK: usize = 1024 * 1024;

/// Yields `prefix` before reading from `inner`; writes go straight through.
#[derive(Debug)]
pub(crate) struct Prefixed<T> {
    prefix: Vec<u8>,
    pos: usize,
    inner: T,
    scanner: FrameScanner,
    audit: Rc<TrailerAudit>,
}

impl<T> Prefixed<T> {
    /// `prefix` starts with the client's preface.
    pub(crate) fn new(prefix: Vec<u8>, inner: T, audit: Rc<TrailerAudit>) -> Self {
        Self {
            prefix,
            pos: 0,
            inner,
            scanner: FrameScanner::new(MAX_TRAILERS_BLOCK),
            audit,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Prefixed<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        if let Some(rest) = this.prefix.get(this.pos..).filter(|r| !r.is_empty()) {
            let n = rest.len().min(buf.remaining());
            buf.put_slice(&rest[..n]);
            this.pos += n;
            if this.pos == this.prefix.len() {
                this.prefix = Vec::new();
                this.pos = 0;
            }
        } else {
            let read = Pin::new(&mut this.inner).poll_read(cx, buf);
            if !matches!(read, Poll::Ready(Ok(()))) {
                return read;
            }
        }
        let audit = &this.audit;
        let new = buf.filled().get(before..).unwrap_or_default();
        this.scanner.feed(new, &mut |found| audit.record(found));
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Prefixed<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
