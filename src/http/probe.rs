//! `kruimel healthcheck`: asks a running server's admin listener for
//! `/healthz`, for container health checks in images without a shell or
//! an HTTP client. Plain HTTP/1.1 over a socket, with one deadline.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// Where to reach a listener bound to `listen`: an unspecified address
/// (`0.0.0.0`, `::`) is reached on the loopback address of its family.
pub fn reachable(listen: SocketAddr) -> SocketAddr {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, listen.port())
}

/// Ok when `GET /healthz` answers 200 within `timeout`.
pub fn healthz(admin: SocketAddr, timeout: Duration) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    let mut stream = TcpStream::connect_timeout(&admin, timeout)
        .map_err(|error| format!("cannot connect to {admin}: {error}"))?;
    let left = || {
        deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1))
    };
    stream
        .set_write_timeout(Some(left()))
        .and_then(|()| {
            stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: kruimel\r\nConnection: close\r\n\r\n")
        })
        .map_err(|error| format!("cannot send to {admin}: {error}"))?;
    let mut head = [0u8; 64];
    let mut read = 0;
    while read < 12 {
        stream
            .set_read_timeout(Some(left()))
            .map_err(|error| error.to_string())?;
        match stream.read(&mut head[read..]) {
            Ok(0) => break,
            Ok(count) => read += count,
            Err(error) => return Err(format!("no answer from {admin}: {error}")),
        }
    }
    let status_line = String::from_utf8_lossy(&head[..read]);
    match status_line.split_whitespace().nth(1) {
        Some("200") => Ok(()),
        Some(status) => Err(format!("{admin} answered {status}")),
        None => Err(format!("{admin} gave no HTTP answer")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unspecified_addresses_are_reached_on_loopback() {
        let any4: SocketAddr = "0.0.0.0:9090".parse().unwrap();
        let any6: SocketAddr = "[::]:9090".parse().unwrap();
        let given: SocketAddr = "10.1.2.3:9090".parse().unwrap();
        assert_eq!(reachable(any4).to_string(), "127.0.0.1:9090");
        assert_eq!(reachable(any6).to_string(), "[::1]:9090");
        assert_eq!(reachable(given), given);
    }

    #[test]
    fn a_closed_port_is_unhealthy() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        assert!(healthz(port, Duration::from_millis(500)).is_err());
    }

    #[test]
    fn a_listener_that_answers_something_else_is_unhealthy() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut socket, _) = listener.accept().unwrap();
            let mut request = [0u8; 256];
            let _ = socket.read(&mut request);
            socket
                .write_all(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n")
                .unwrap();
        });
        let answer = healthz(address, Duration::from_secs(2));
        server.join().unwrap();
        assert_eq!(answer, Err(format!("{address} answered 503")));
    }
}
