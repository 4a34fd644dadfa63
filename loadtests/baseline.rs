//! The floor Kruimel's ingest throughput is measured against.
//!
//! A bare hyper 1 HTTP/1.1 server on the same tokio multi-thread runtime that
//! Kruimel uses. For every request it reads the body to the end and answers
//! `202` with `{}` as `application/json`, exactly the shape of a counted
//! beacon. It does no routing, parsing, privacy work or counting, so
//! `kruimel / baseline` in the load-test report is the share of raw HTTP
//! throughput that survives all of Kruimel's work.
//!
//! It deliberately does nothing else: no limits, no timeouts, no graceful
//! shutdown. `loadtests/run.sh` starts it and kills it.
//!
//! Usage: `cargo run --release --example baseline -- [LISTEN_ADDR]`
//! (default `127.0.0.1:8089`).

#![forbid(unsafe_code)]

use std::convert::Infallible;
use std::error::Error;
use std::net::SocketAddr;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

const DEFAULT_LISTEN: &str = "127.0.0.1:8089";

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let listen: SocketAddr = match std::env::args().nth(1) {
        Some(address) => address.parse()?,
        None => DEFAULT_LISTEN.parse()?,
    };
    let listener = TcpListener::bind(listen).await?;
    eprintln!("baseline listening on {}", listener.local_addr()?);

    loop {
        let stream = match listener.accept().await {
            Ok((stream, _peer)) => stream,
            // Running out of file descriptors under load is transient: keep serving.
            Err(error) => {
                eprintln!("accept failed: {error}");
                continue;
            }
        };
        // Responses are one small write; without this Nagle would add latency
        // that has nothing to do with the server's work. Failing to set it only
        // costs latency, so it is not a reason to stop serving.
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let connection = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service_fn(accept_beacon));
            // A client closing its connection mid-request is normal under load.
            let _ = connection.await;
        });
    }
}

/// Reads the whole body, as Kruimel must before it can parse a beacon, and
/// answers like a counted beacon.
async fn accept_beacon(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let status = match request.into_body().collect().await {
        Ok(_body) => StatusCode::ACCEPTED,
        Err(_aborted) => StatusCode::BAD_REQUEST,
    };
    let mut response = Response::new(Full::new(Bytes::from_static(b"{}")));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(response)
}
