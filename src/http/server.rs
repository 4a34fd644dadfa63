//! Accept loops for the two listeners, with limits and graceful shutdown.
//!
//! Each connection is served by hyper's HTTP/1 machinery with a header read
//! timeout and a bounded read buffer (oversized headers are refused). On
//! shutdown a listener stops accepting, and in-flight requests get until
//! the drain deadline to finish.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::Request;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::{AppState, Response, Route, admin, public};

/// Bound listeners, so tests can bind port 0 and containers can pass sockets.
pub struct Listeners {
    pub public: TcpListener,
    pub admin: TcpListener,
}

/// Which face of the server a listener shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Face {
    Public,
    Admin,
}

/// Largest request head accepted; hyper answers 431 past it.
const MAX_HEAD_BYTES: usize = 16 * 1024;

pub(crate) struct Timeouts {
    pub header: Duration,
    pub drain: Duration,
}

pub(crate) async fn serve(
    listener: TcpListener,
    face: Face,
    state: Arc<AppState>,
    timeouts: Timeouts,
    mut shutdown: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(timeouts.header)
        .max_buf_size(MAX_HEAD_BYTES.max(8192));
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    let state = state.clone();
                    let service = service_fn(move |request| dispatch(state.clone(), request, peer, face));
                    let connection = builder.serve_connection(TokioIo::new(stream), service);
                    let watched = graceful.watch(connection);
                    tokio::spawn(async move {
                        // Client errors (resets, timeouts, bad requests) end only their connection.
                        let _ = watched.await;
                    });
                }
                Err(error) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            _ = shutdown.changed() => break,
        }
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(timeouts.drain) => {
            tracing::warn!(face = ?face, "drain deadline passed with requests in flight");
        }
    }
}

async fn dispatch(
    state: Arc<AppState>,
    request: Request<Incoming>,
    peer: SocketAddr,
    face: Face,
) -> Result<Response, Infallible> {
    let started = Instant::now();
    let route = match face {
        Face::Public => public::route_of(&request),
        Face::Admin => admin::route_of(&request),
    };
    let response = match face {
        Face::Public => {
            let tls = super::dashboard::auth::over_tls(&state, peer, request.headers());
            let mut response = public::handle(state.clone(), request, peer, route).await;
            // Every answer, not only the dashboard's: a browser that once
            // reached the script or the privacy page over TLS keeps to it.
            if tls {
                response.headers_mut().insert(
                    hyper::header::STRICT_TRANSPORT_SECURITY,
                    hyper::header::HeaderValue::from_static("max-age=31536000"),
                );
            }
            response
        }
        Face::Admin => admin::handle(state.clone(), request, peer, route).await,
    };
    let status = response.status();
    let elapsed = started.elapsed();
    state
        .request_counters
        .count(route, status, elapsed.as_secs_f64());
    // Route, status and latency only: never the path, query, client or agent.
    // Beacons are many: their lines are at trace level, the rest at debug.
    let (name, code, micros) = (route.as_str(), status.as_u16(), elapsed.as_micros() as u64);
    if route == Route::Event {
        tracing::trace!(route = name, status = code, micros, "request");
    } else {
        tracing::debug!(route = name, status = code, micros, "request");
    }
    Ok(response)
}
