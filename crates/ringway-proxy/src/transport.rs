//! The byte streams under the codecs, downstream and upstream: one
//! connection type, [`Stream`], plain TCP today. A TLS stream becomes one
//! more variant: the HTTP/1.1 code reads and writes it rent-style
//! ([`AsyncReadRent`], [`AsyncWriteRent`], split into owned halves), the
//! HTTP/2 code poll-style ([`PollStream`]), and the connection's ALPN
//! choice ([`Stream::alpn`]) picks the codec before any byte is sniffed.
//!
//! Every method dispatches with a `match` over the variants; with one
//! variant it compiles to the TCP call itself.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use monoio::BufResult;
use monoio::buf::{IoBuf, IoBufMut, IoVecBuf, IoVecBufMut};
use monoio::io::poll_io::{AsyncRead, AsyncWrite, ReadBuf};
use monoio::io::{
    AsyncReadRent, AsyncWriteRent, CancelHandle, CancelableAsyncReadRent, IntoPollIo,
    OwnedReadHalf, OwnedWriteHalf, Split,
};
use monoio::net::TcpStream;
use monoio::net::tcp::stream_poll::TcpStreamPoll;

/// A connection, downstream or upstream.
#[derive(Debug)]
pub(crate) enum Stream {
    Tcp(TcpStream),
}

/// The reading half of a split [`Stream`].
pub(crate) type StreamReader = OwnedReadHalf<Stream>;
/// The writing half of a split [`Stream`].
pub(crate) type StreamWriter = OwnedWriteHalf<Stream>;

/// A connection in poll-style form, for the `h2` crate.
#[derive(Debug)]
pub(crate) enum PollStream {
    Tcp(TcpStreamPoll),
}

/// Why no connection could be made.
#[derive(Debug)]
pub enum ConnectError {
    Timeout,
    Io(io::Error),
}

// === impl Stream ===

impl Stream {
    /// Connects to `address` within `timeout`, with Nagle off.
    pub(crate) async fn connect(
        address: SocketAddr,
        timeout: Duration,
    ) -> Result<Self, ConnectError> {
        let stream = match monoio::time::timeout(timeout, TcpStream::connect_addr(address)).await {
            Err(_) => return Err(ConnectError::Timeout),
            Ok(Err(err)) => return Err(ConnectError::Io(err)),
            Ok(Ok(stream)) => stream,
        };
        stream.set_nodelay(true).map_err(ConnectError::Io)?;
        Ok(Self::Tcp(stream))
    }

    /// An accepted connection.
    pub(crate) fn accepted(stream: TcpStream) -> Self {
        let _ = stream.set_nodelay(true);
        Self::Tcp(stream)
    }

    /// The protocol the peer and ringway agreed on during the handshake
    /// (TLS ALPN); `None` when there was no such choice.
    pub(crate) fn alpn(&self) -> Option<&[u8]> {
        match self {
            Self::Tcp(_) => None,
        }
    }

    /// The poll-style form of this connection, for `h2`.
    pub(crate) fn into_poll(self) -> io::Result<PollStream> {
        match self {
            Self::Tcp(stream) => stream.into_poll_io().map(PollStream::Tcp),
        }
    }
}

impl AsyncReadRent for Stream {
    #[inline]
    fn read<T: IoBufMut>(&mut self, buf: T) -> impl Future<Output = BufResult<usize, T>> {
        match self {
            Self::Tcp(stream) => stream.read(buf),
        }
    }

    #[inline]
    fn readv<T: IoVecBufMut>(&mut self, buf: T) -> impl Future<Output = BufResult<usize, T>> {
        match self {
            Self::Tcp(stream) => stream.readv(buf),
        }
    }
}

impl CancelableAsyncReadRent for Stream {
    #[inline]
    fn cancelable_read<T: IoBufMut>(
        &mut self,
        buf: T,
        c: CancelHandle,
    ) -> impl Future<Output = BufResult<usize, T>> {
        match self {
            Self::Tcp(stream) => stream.cancelable_read(buf, c),
        }
    }

    #[inline]
    fn cancelable_readv<T: IoVecBufMut>(
        &mut self,
        buf: T,
        c: CancelHandle,
    ) -> impl Future<Output = BufResult<usize, T>> {
        match self {
            Self::Tcp(stream) => stream.cancelable_readv(buf, c),
        }
    }
}

impl AsyncWriteRent for Stream {
    #[inline]
    fn write<T: IoBuf>(&mut self, buf: T) -> impl Future<Output = BufResult<usize, T>> {
        match self {
            Self::Tcp(stream) => stream.write(buf),
        }
    }

    #[inline]
    fn writev<T: IoVecBuf>(&mut self, buf: T) -> impl Future<Output = BufResult<usize, T>> {
        match self {
            Self::Tcp(stream) => stream.writev(buf),
        }
    }

    #[inline]
    fn flush(&mut self) -> impl Future<Output = io::Result<()>> {
        match self {
            Self::Tcp(stream) => stream.flush(),
        }
    }

    #[inline]
    fn shutdown(&mut self) -> impl Future<Output = io::Result<()>> {
        match self {
            Self::Tcp(stream) => stream.shutdown(),
        }
    }
}

// SAFETY: a `Stream`'s reads and writes are independent of each other,
// as `Split` requires, because each variant's are: `TcpStream` is `Split`.
// A TLS variant must keep this true (or not be split) before it is added.
#[allow(unsafe_code)]
unsafe impl Split for Stream {}

// === impl PollStream ===

impl AsyncRead for PollStream {
    #[inline]
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(stream) => Pin::new(stream).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for PollStream {
    #[inline]
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Tcp(stream) => Pin::new(stream).poll_write(cx, buf),
        }
    }

    #[inline]
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Tcp(stream) => Pin::new(stream).poll_write_vectored(cx, bufs),
        }
    }

    #[inline]
    fn is_write_vectored(&self) -> bool {
        match self {
            Self::Tcp(stream) => stream.is_write_vectored(),
        }
    }

    #[inline]
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(stream) => Pin::new(stream).poll_flush(cx),
        }
    }

    #[inline]
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(stream) => Pin::new(stream).poll_shutdown(cx),
        }
    }
}
