//! A minimal HTTP/1.1 client: keep-alive connections that send one
//! prepared request at a time and read just enough of the answer to know
//! its status and whether Kruimel dropped the beacon.
//!
//! Hand-written rather than a full client because the load generator
//! shares two cores with the server: building and parsing here costs a
//! few microseconds per beacon, and nothing is pooled or retried behind
//! the caller's back.

use std::io;
use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What the server answered to one request.
pub struct Answer {
    pub status: u16,
    /// The answer carried `X-Kruimel-Dropped`: a bot, a privacy signal or
    /// a shed beacon, answered 202 but not counted.
    pub dropped: bool,
}

impl Answer {
    /// Answered 202 without a drop reason: the server promised to count it.
    pub fn is_counted(&self) -> bool {
        self.status == 202 && !self.dropped
    }
}

pub struct Connection {
    stream: TcpStream,
    buffer: Vec<u8>,
}

impl Connection {
    pub async fn open(addr: SocketAddr) -> io::Result<Connection> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Connection {
            stream,
            buffer: Vec::with_capacity(1024),
        })
    }

    /// Writes `request` and reads its whole answer; the connection stays
    /// open for the next request.
    pub async fn exchange(&mut self, request: &[u8]) -> io::Result<Answer> {
        self.stream.write_all(request).await?;
        let head_end = loop {
            if let Some(end) = find(&self.buffer, b"\r\n\r\n") {
                break end + 4;
            }
            self.read_more().await?;
        };
        let head = Head::parse(&self.buffer[..head_end])?;
        while self.buffer.len() < head_end + head.content_length {
            self.read_more().await?;
        }
        self.buffer.drain(..head_end + head.content_length);
        Ok(Answer {
            status: head.status,
            dropped: head.dropped,
        })
    }

    async fn read_more(&mut self) -> io::Result<()> {
        let mut chunk = [0u8; 4096];
        let read = self.stream.read(&mut chunk).await?;
        if read == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        self.buffer.extend_from_slice(&chunk[..read]);
        Ok(())
    }
}

struct Head {
    status: u16,
    content_length: usize,
    dropped: bool,
}

impl Head {
    fn parse(head: &[u8]) -> io::Result<Head> {
        let invalid = || io::Error::new(io::ErrorKind::InvalidData, "not an HTTP/1.1 answer");
        let text = std::str::from_utf8(head).map_err(|_| invalid())?;
        let mut lines = text.split("\r\n");
        let status = lines
            .next()
            .and_then(|line| line.strip_prefix("HTTP/1.1 "))
            .and_then(|rest| rest.get(..3))
            .and_then(|code| code.parse().ok())
            .ok_or_else(invalid)?;
        let mut parsed = Head {
            status,
            content_length: 0,
            dropped: false,
        };
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            if name.eq_ignore_ascii_case("content-length") {
                parsed.content_length = value.trim().parse().map_err(|_| invalid())?;
            } else if name.eq_ignore_ascii_case("x-kruimel-dropped") {
                parsed.dropped = true;
            }
        }
        Ok(parsed)
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// `GET path` on a fresh connection that the server closes: the status
/// and the body (the admin listener's `/metrics` and `/readyz`).
pub async fn get(addr: SocketAddr, path: &str) -> io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(addr).await?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await?;
    let head_end = find(&answer, b"\r\n\r\n").map_or(answer.len(), |end| end + 4);
    let head = Head::parse(&answer[..head_end])?;
    Ok((
        head.status,
        String::from_utf8_lossy(&answer[head_end..]).into_owned(),
    ))
}
