//! Connections to one Redis or one Redis Cluster, pooled.
//!
//! Every call is synchronous with a connect and response timeout: the
//! aggregator thread and the blocking threads of the stats API call in,
//! never a request handler. A connection that failed is dropped; the next
//! call connects afresh, so an outage heals without a restart.

use std::sync::Mutex;
use std::time::Duration;

use redis::cluster::{ClusterClient, ClusterConnection};
use redis::{Client, Connection, ConnectionLike, RedisResult, Value};

use crate::store::StoreError;

enum Target {
    Single(Client),
    Cluster(ClusterClient),
}

/// A connection to either kind of deployment.
pub enum Conn {
    Single(Connection),
    Cluster(Box<ClusterConnection>),
}

impl ConnectionLike for Conn {
    fn req_packed_command(&mut self, cmd: &[u8]) -> RedisResult<Value> {
        match self {
            Conn::Single(conn) => conn.req_packed_command(cmd),
            Conn::Cluster(conn) => conn.req_packed_command(cmd),
        }
    }

    fn req_packed_commands(
        &mut self,
        cmd: &[u8],
        offset: usize,
        count: usize,
    ) -> RedisResult<Vec<Value>> {
        match self {
            Conn::Single(conn) => conn.req_packed_commands(cmd, offset, count),
            Conn::Cluster(conn) => conn.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Single(conn) => conn.get_db(),
            Conn::Cluster(conn) => conn.get_db(),
        }
    }

    fn check_connection(&mut self) -> bool {
        match self {
            Conn::Single(conn) => conn.check_connection(),
            Conn::Cluster(conn) => conn.check_connection(),
        }
    }

    fn is_open(&self) -> bool {
        match self {
            Conn::Single(conn) => conn.is_open(),
            Conn::Cluster(conn) => conn.is_open(),
        }
    }
}

pub struct Pool {
    target: Target,
    timeout: Duration,
    idle: Mutex<Vec<Conn>>,
    /// Shown in errors and logs: host and port only, never a password.
    name: String,
    /// First part of every key.
    key_prefix: String,
}

/// Idle connections kept for reuse; more are opened when needed.
const MAX_IDLE: usize = 8;

impl Pool {
    /// Checks the URLs; connects lazily, so Redis may still be down.
    /// `rediss://` URLs connect with TLS, trusting the system's
    /// certificates (or the file `SSL_CERT_FILE` names).
    pub fn new(
        urls: &[String],
        cluster: bool,
        timeout: Duration,
        key_prefix: &str,
    ) -> Result<Pool, StoreError> {
        let invalid = |error: redis::RedisError| StoreError::Open {
            path: "redis".to_owned(),
            message: format!("invalid Redis URL: {error}"),
        };
        if urls.iter().any(|url| url.starts_with("rediss:")) {
            // The process-wide choice of TLS implementation; a second call
            // finds it made and changes nothing.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let target = if cluster {
            let client = ClusterClient::builder(urls.iter().map(String::as_str))
                .connection_timeout(timeout)
                .response_timeout(timeout)
                .build()
                .map_err(invalid)?;
            Target::Cluster(client)
        } else {
            let [url] = urls else {
                return Err(StoreError::Open {
                    path: "redis".to_owned(),
                    message: format!(
                        "expected one Redis URL, got {} (set `cluster = true` for several)",
                        urls.len()
                    ),
                });
            };
            Target::Single(Client::open(url.as_str()).map_err(invalid)?)
        };
        Ok(Pool {
            target,
            timeout,
            idle: Mutex::new(Vec::new()),
            name: urls
                .iter()
                .map(|url| host_of(url))
                .collect::<Vec<_>>()
                .join(","),
            key_prefix: key_prefix.to_owned(),
        })
    }

    /// What every key of a site starts with: the deployment's prefix and
    /// the site as Redis Cluster hash tag, so a site's keys share a slot.
    pub(crate) fn site_prefix(&self, site: &str) -> String {
        format!("{}:{{{site}}}:", self.key_prefix)
    }

    /// The deployment's key prefix (`kr`).
    pub fn key_prefix(&self) -> &str {
        &self.key_prefix
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    fn connect(&self) -> RedisResult<Conn> {
        match &self.target {
            Target::Single(client) => {
                let conn = client.get_connection_with_timeout(self.timeout)?;
                conn.set_read_timeout(Some(self.timeout))?;
                conn.set_write_timeout(Some(self.timeout))?;
                Ok(Conn::Single(conn))
            }
            Target::Cluster(client) => Ok(Conn::Cluster(Box::new(client.get_connection()?))),
        }
    }

    /// Runs `work` on a pooled connection; a connection that failed is
    /// not put back.
    pub fn with<T>(&self, work: impl FnOnce(&mut Conn) -> RedisResult<T>) -> Result<T, StoreError> {
        let pooled = self
            .idle
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .pop();
        let mut conn = match pooled {
            Some(conn) => conn,
            None => self.connect().map_err(|error| self.error(&error))?,
        };
        let result = work(&mut conn);
        let healthy = match &result {
            Ok(_) => true,
            Err(error) => {
                !(error.is_io_error()
                    || error.is_connection_dropped()
                    || error.is_timeout()
                    || error.is_unrecoverable_error())
            }
        };
        if healthy && conn.is_open() {
            let mut idle = self
                .idle
                .lock()
                .unwrap_or_else(|poison| poison.into_inner());
            if idle.len() < MAX_IDLE {
                idle.push(conn);
            }
        }
        result.map_err(|error| self.error(&error))
    }

    fn error(&self, error: &redis::RedisError) -> StoreError {
        use redis::{ErrorKind, ServerErrorKind};
        let message = format!("redis {}: {error}", self.name);
        match error.kind() {
            ErrorKind::Server(
                ServerErrorKind::ResponseError
                | ServerErrorKind::ExecAbort
                | ServerErrorKind::CrossSlot
                | ServerErrorKind::NoPerm,
            )
            | ErrorKind::Parse
            | ErrorKind::UnexpectedReturnType => StoreError::Rejected(message),
            // A key of another type where Kruimel expects its own.
            ErrorKind::Extension if error.code() == Some("WRONGTYPE") => {
                StoreError::Rejected(message)
            }
            _ => StoreError::Operation(message),
        }
    }
}

/// `host:port` of a Redis URL, without user or password.
fn host_of(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|url| {
            let host = url.host_str()?.to_owned();
            Some(match url.port() {
                Some(port) => format!("{host}:{port}"),
                None => host,
            })
        })
        .unwrap_or_else(|| "redis".to_owned())
}
