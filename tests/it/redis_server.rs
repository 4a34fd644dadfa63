//! Real `redis-server` processes for the tests that need Redis: a standalone
//! server (volatile, or persistent across `stop` and `start_again`) and a
//! cluster of three masters (`cluster`), each node on a free loopback port in
//! its own temporary directory, and a type-aware `dump` of what they store.
//!
//! It never skips: without `redis-server` on PATH the test panics with the
//! command that installs it, because a skipped Redis test in CI is a failure.
//! It never touches a developer's own Redis either.
//!
//! Synchronous on purpose, so `#[test]` and `#[tokio::test]` can both use it:
//! every call is short, and blocking a current-thread runtime only pauses the
//! in-process server, which never waits on the harness.

mod cluster;
mod dump;

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

pub use cluster::RedisCluster;
pub use dump::DumpedKey;

const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);
const LOG_FILE: &str = "redis-server.log";
const INSTALL_HINT: &str = "install it with `apt-get install redis-server redis-tools` \
    (Debian/Ubuntu; `.ci/run` does this); Redis tests never skip";
/// Redis Cluster listens on the client port plus this for its node-to-node bus.
const CLUSTER_BUS_OFFSET: u16 = 10_000;

#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    Volatile,
    Persistent,
    ClusterNode,
}

impl Kind {
    /// Directives as `redis.conf` names them, passed as `--name value`.
    fn settings(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Kind::Volatile => &[("save", ""), ("appendonly", "no")],
            Kind::Persistent => &[
                ("save", ""),
                ("appendonly", "yes"),
                ("appendfsync", "always"),
            ],
            Kind::ClusterNode => &[
                ("save", ""),
                ("appendonly", "no"),
                ("cluster-enabled", "yes"),
                ("cluster-config-file", "nodes.conf"),
                ("cluster-node-timeout", "2000"),
            ],
        }
    }
}

/// A `redis-server` child process; dropping it kills the process.
pub struct RedisServer {
    kind: Kind,
    port: u16,
    /// `None` between `stop` and `start_again`.
    child: Option<Child>,
    dir: TempDir,
}

impl RedisServer {
    /// A server that keeps nothing on disk.
    pub fn start() -> RedisServer {
        RedisServer::launch(Kind::Volatile)
    }

    /// A server whose append-only file is fsynced on every write, so keys
    /// survive `stop` and `start_again`.
    pub fn start_persistent() -> RedisServer {
        RedisServer::launch(Kind::Persistent)
    }

    fn launch(kind: Kind) -> RedisServer {
        // The port is free when chosen, but another test can bind it before
        // redis-server does; a lost race tries again in a fresh directory.
        for _attempt in 0..5 {
            let dir = tempfile::tempdir().expect("a temporary directory for redis-server");
            let port = free_port(kind);
            let mut child = spawn_server(kind, port, dir.path());
            match wait_until_ready(&mut child, port) {
                Ok(()) => {
                    return RedisServer {
                        kind,
                        port,
                        child: Some(child),
                        dir,
                    };
                }
                Err(_) if read_log(dir.path()).contains("Address already in use") => {
                    kill(&mut child);
                }
                Err(failure) => {
                    kill(&mut child);
                    panic_with_log(&failure, port, dir.path());
                }
            }
        }
        panic!("redis-server lost the race for a free port five times in a row");
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn url(&self) -> String {
        url(self.port)
    }

    /// SIGTERM, then wait for a clean exit; a persistent server has synced
    /// every write by then.
    pub fn stop(&mut self) {
        let mut child = self.child.take().expect("stop: the server is not running");
        let status = terminate(&mut child);
        if !status.success() {
            let failure = format!("exited with {status} on SIGTERM");
            panic_with_log(&failure, self.port, self.dir.path());
        }
    }

    /// Starts the stopped server again on the same port and directory.
    pub fn start_again(&mut self) {
        assert!(
            self.child.is_none(),
            "start_again: the server is still running"
        );
        let mut child = spawn_server(self.kind, self.port, self.dir.path());
        if let Err(failure) = wait_until_ready(&mut child, self.port) {
            kill(&mut child);
            panic_with_log(&failure, self.port, self.dir.path());
        }
        self.child = Some(child);
    }

    /// A fresh connection, for seeding or reading what `dump` does not cover.
    pub fn connection(&self) -> redis::Connection {
        redis::Client::open(self.url())
            .and_then(|client| client.get_connection())
            .unwrap_or_else(|error| panic!("connecting to {}: {error}", self.url()))
    }

    /// Kruimel's Redis store on this server, with the default settings.
    pub fn open_store(&self) -> kruimel::store::RedisStore {
        kruimel::store::RedisStore::open(&kruimel::config::RedisConfig {
            urls: vec![self.url()],
            ..kruimel::config::RedisConfig::default()
        })
        .unwrap_or_else(|error| panic!("opening the store on {}: {error}", self.url()))
    }

    pub fn flushall(&self) {
        redis::cmd("FLUSHALL")
            .exec(&mut self.connection())
            .expect("FLUSHALL");
    }

    /// Every key with every value component, sorted by key; within a hash or
    /// set the order is whatever Redis answers.
    pub fn dump(&self) -> Vec<DumpedKey> {
        dump::every_key(&mut self.connection())
    }

    /// The key's remaining time to live in milliseconds, as PTTL answers:
    /// -1 for a key without expiry, -2 for a missing key.
    pub fn ttl_ms(&self, key: &str) -> i64 {
        redis::cmd("PTTL")
            .arg(key)
            .query(&mut self.connection())
            .expect("PTTL")
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            kill(child);
        }
    }
}

fn url(port: u16) -> String {
    format!("redis://127.0.0.1:{port}/")
}

/// A loopback port nothing listens on; a cluster node also needs the port
/// `CLUSTER_BUS_OFFSET` above it.
fn free_port(kind: Kind) -> u16 {
    for _attempt in 0..100 {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding a loopback port");
        let port = listener.local_addr().expect("a bound address").port();
        if kind != Kind::ClusterNode {
            return port;
        }
        let bus_is_free = port
            .checked_add(CLUSTER_BUS_OFFSET)
            .is_some_and(|bus| TcpListener::bind(("127.0.0.1", bus)).is_ok());
        if bus_is_free {
            return port;
        }
    }
    panic!("found no loopback port p with p + {CLUSTER_BUS_OFFSET} also free in 100 tries");
}

fn spawn_server(kind: Kind, port: u16, dir: &Path) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(LOG_FILE))
        .expect("redis-server log file");
    let mut command = Command::new("redis-server");
    command
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--daemonize", "no"])
        .arg("--dir")
        .arg(dir)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::from(log.try_clone().expect("redis-server log file")))
        .stderr(Stdio::from(log));
    for (name, value) in kind.settings() {
        command.arg(format!("--{name}")).arg(value);
    }
    spawn_or_explain(&mut command, "redis-server")
}

fn spawn_or_explain(command: &mut Command, program: &str) -> Child {
    command.spawn().unwrap_or_else(|error| match error.kind() {
        std::io::ErrorKind::NotFound => panic!("`{program}` is not on PATH: {INSTALL_HINT}"),
        _ => panic!("starting `{program}`: {error}"),
    })
}

/// Waits until this child, not some other process on the port, answers PING
/// and has finished loading its data.
fn wait_until_ready(child: &mut Child, port: u16) -> Result<(), String> {
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    let own_process = format!("process_id:{}\r\n", child.id());
    loop {
        if let Some(status) = child.try_wait().expect("polling redis-server") {
            return Err(format!("exited with {status} before answering PING"));
        }
        if ping_then_info(port)
            .is_some_and(|info| info.contains(&own_process) && info.contains("loading:0\r\n"))
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("did not answer PING within {STARTUP_TIMEOUT:?}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn ping_then_info(port: u16) -> Option<String> {
    let client = redis::Client::open(url(port)).ok()?;
    let mut connection = client
        .get_connection_with_timeout(Duration::from_millis(200))
        .ok()?;
    let pong: String = redis::cmd("PING").query(&mut connection).ok()?;
    (pong == "PONG").then_some(())?;
    redis::cmd("INFO").query(&mut connection).ok()
}

fn terminate(child: &mut Child) -> ExitStatus {
    let sent = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("running kill");
    assert!(sent.success(), "kill -TERM {} failed", child.id());
    wait_for_exit(child, STARTUP_TIMEOUT).unwrap_or_else(|| {
        kill(child);
        panic!("redis-server did not exit within {STARTUP_TIMEOUT:?} of SIGTERM");
    })
}

fn wait_for_exit(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().expect("polling a child process") {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

fn kill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

fn read_log(dir: &Path) -> String {
    std::fs::read_to_string(dir.join(LOG_FILE)).unwrap_or_default()
}

fn panic_with_log(failure: &str, port: u16, dir: &Path) -> ! {
    panic!(
        "redis-server on port {port} {failure}; its log:\n{}",
        read_log(dir)
    )
}

/// Runs one command given as words, for terse seeding in tests.
#[cfg(test)]
fn run(connection: &mut impl redis::ConnectionLike, words: &[&str]) {
    let mut command = redis::Cmd::new();
    for word in words {
        command.arg(*word);
    }
    command
        .exec(connection)
        .unwrap_or_else(|error| panic!("{words:?}: {error}"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_standalone_server_answers_set_and_get_on_its_own_port() {
        let server = RedisServer::start();
        assert_eq!(
            server.url(),
            format!("redis://127.0.0.1:{}/", server.port())
        );
        let mut connection = server.connection();
        run(&mut connection, &["SET", "greeting", "hallo"]);
        let value: String = redis::cmd("GET")
            .arg("greeting")
            .query(&mut connection)
            .unwrap();
        assert_eq!(value, "hallo");
    }

    #[test]
    fn a_persistent_server_keeps_keys_across_stop_and_start() {
        let mut server = RedisServer::start_persistent();
        let port = server.port();
        run(&mut server.connection(), &["SET", "kept", "yes"]);

        server.stop();
        assert!(
            ping_then_info(port).is_none(),
            "nothing answers while stopped"
        );
        server.start_again();

        assert_eq!(server.port(), port);
        let kept = vec![("kept".to_string(), vec![b"yes".to_vec()])];
        assert_eq!(server.dump(), kept);
    }

    #[test]
    fn a_volatile_server_forgets_keys_across_stop_and_start() {
        let mut server = RedisServer::start();
        run(&mut server.connection(), &["SET", "lost", "yes"]);
        server.stop();
        server.start_again();
        assert_eq!(server.dump(), Vec::<DumpedKey>::new());
    }

    #[test]
    fn ttl_ms_answers_like_pttl() {
        let server = RedisServer::start();
        let mut connection = server.connection();
        run(&mut connection, &["SET", "expiring", "x", "PX", "60000"]);
        run(&mut connection, &["SET", "lasting", "x"]);
        assert!((1..=60_000).contains(&server.ttl_ms("expiring")));
        assert_eq!(server.ttl_ms("lasting"), -1);
        assert_eq!(server.ttl_ms("missing"), -2);
    }

    #[test]
    #[should_panic(expected = "apt-get install redis-server redis-tools")]
    fn a_missing_binary_panics_with_how_to_install_it() {
        let mut child = spawn_or_explain(&mut Command::new("redis-server-absent"), "redis-server");
        kill(&mut child);
    }
}
