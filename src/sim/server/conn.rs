//! The simulator's connections, so that a fault can break one the way a network does: a
//! listener whose streams can be reset on purpose ([`Fault::Reset`]: a TCP RST before any
//! byte of the answer), and the layer that resets the connection an answer asked for.
//! A short read ([`Fault::ShortRead`]) needs no help from here: its body stream fails half
//! way, and hyper closes the connection short of the `Content-Length` it announced.
//!
//! [`Fault::Reset`]: crate::sim::Fault::Reset
//! [`Fault::ShortRead`]: crate::sim::Fault::ShortRead

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::extract::{ConnectInfo, Request};
use axum::middleware::Next;
use axum::response::Response;
use axum::serve::IncomingStream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// One connection's reset switch, shared by its stream and the requests it carries.
#[derive(Debug, Clone, Default)]
pub(crate) struct Conn {
    reset: Arc<AtomicBool>,
}

impl Conn {
    fn is_reset(&self) -> bool {
        self.reset.load(Ordering::Relaxed)
    }
}

impl Connected<IncomingStream<'_, Listener>> for Conn {
    fn connect_info(stream: IncomingStream<'_, Listener>) -> Self {
        stream.io().conn.clone()
    }
}

/// Marks a response whose connection must be reset instead of answered.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ResetConnection;

/// The layer over every route: when an answer carries [`ResetConnection`], throws the
/// switch of the connection it came on (a router served without connect info cannot reset,
/// and sends the empty answer instead).
pub(crate) async fn resets(request: Request, next: Next) -> Response {
    let conn = request
        .extensions()
        .get::<ConnectInfo<Conn>>()
        .map(|c| c.0.clone());
    let response = next.run(request).await;
    if response.extensions().get::<ResetConnection>().is_some() {
        if let Some(conn) = conn {
            conn.reset.store(true, Ordering::Relaxed);
        }
    }
    response
}

/// A TCP listener whose streams carry a [`Conn`].
#[derive(Debug)]
pub(crate) struct Listener {
    pub(crate) tcp: TcpListener,
}

impl axum::serve::Listener for Listener {
    type Io = Stream;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Stream, Self::Addr) {
        loop {
            match self.tcp.accept().await {
                Ok((tcp, addr)) => {
                    let conn = Conn::default();
                    return (Stream { tcp, conn }, addr);
                }
                // As axum's own listener: a failed accept (too many open files, a connection
                // gone before it was taken) is waited out, not fatal.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// A TCP stream that, once its switch is thrown, fails every read and write and, dropped,
/// sends an RST (zero linger) rather than a FIN.
#[derive(Debug)]
pub(crate) struct Stream {
    tcp: TcpStream,
    conn: Conn,
}

impl Stream {
    fn broken(&self) -> Option<io::Error> {
        if !self.conn.is_reset() {
            return None;
        }
        // A zero linger never blocks the drop (the reason tokio deprecates SO_LINGER): the
        // kernel discards what is unsent and resets the connection.
        #[allow(deprecated)]
        let _ = self.tcp.set_linger(Some(Duration::ZERO));
        Some(io::ErrorKind::ConnectionReset.into())
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if let Some(e) = self.broken() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if let Some(e) = self.broken() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.tcp).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if let Some(e) = self.broken() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.tcp).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(e) = self.broken() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(e) = self.broken() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}
