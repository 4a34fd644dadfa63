//! The `kruimel` binary as a separate process, for signals and logs.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use kruimel::config::TokenHash;

use crate::helpers::{SITE, TOKEN, get_json, get_text, wait_ready};

pub struct ServerProcess {
    child: Child,
    pub public: SocketAddr,
    pub admin: SocketAddr,
    pub client: reqwest::Client,
}

fn free_address() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

impl ServerProcess {
    /// Starts the binary with configuration from the environment only,
    /// its stdout and stderr going to `log`.
    pub async fn start(data_dir: &Path, log: &Path) -> ServerProcess {
        ServerProcess::start_with(data_dir, log, &[]).await
    }

    /// As `start`, with more settings (a backend, a flush interval).
    pub async fn start_with(
        data_dir: &Path,
        log: &Path,
        extra_env: &[(String, String)],
    ) -> ServerProcess {
        let server = ServerProcess::start_unready(data_dir, log, extra_env).await;
        server.wait_ready().await;
        server
    }

    /// As `start_with`, returning once the listeners answer, ready or not.
    pub async fn start_unready(
        data_dir: &Path,
        log: &Path,
        extra_env: &[(String, String)],
    ) -> ServerProcess {
        let (public, admin) = (free_address(), free_address());
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_kruimel"))
            .arg("serve")
            .env_clear()
            .env("KRUIMEL_SERVER__LISTEN", public.to_string())
            .env("KRUIMEL_SERVER__ADMIN_LISTEN", admin.to_string())
            .env("KRUIMEL_SERVER__DATA_DIR", data_dir)
            .env("KRUIMEL_SERVER__TRUSTED_PROXIES", r#"["127.0.0.1/32"]"#)
            .env("KRUIMEL_LOG__LEVEL", "info,kruimel=trace")
            .env("KRUIMEL_LOG__FORMAT", "json")
            .env(
                "KRUIMEL_SITES",
                format!(
                    r#"[{{ id = "{SITE}", tokens = ["{}"] }}]"#,
                    TokenHash::of_token(TOKEN).stored_form()
                ),
            )
            .envs(extra_env.iter().map(|(name, value)| (name, value)))
            .stdout(Stdio::from(log_file.try_clone().unwrap()))
            .stderr(Stdio::from(log_file))
            .spawn()
            .unwrap();
        let server = ServerProcess {
            child,
            public,
            admin,
            client: reqwest::Client::new(),
        };
        for _ in 0..500 {
            let answer = server
                .client
                .get(format!("http://{admin}/healthz"))
                .send()
                .await;
            if answer.is_ok() {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("kruimel did not listen on {admin}");
    }

    /// Waits until `/readyz` answers 200.
    pub async fn wait_ready(&self) {
        wait_ready(&self.client, self.admin).await;
    }

    pub async fn send(&self, ip: &str, agent: &str, url: &str) -> u16 {
        let body = serde_json::json!({ "n": "pageview", "u": url, "d": SITE }).to_string();
        self.send_body(ip, agent, body).await
    }

    /// Sends a beacon of any kind: `body` is its JSON text.
    pub async fn send_body(&self, ip: &str, agent: &str, body: String) -> u16 {
        self.client
            .post(format!("http://{}/api/event", self.public))
            .header("x-forwarded-for", ip)
            .header("user-agent", agent)
            .body(body)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    pub async fn pageviews(&self) -> i64 {
        let url = format!(
            "http://{}/api/v1/stats/aggregate?site_id={SITE}&period=7d&metrics=pageviews",
            self.public
        );
        let body = get_json(&self.client, &url, Some(TOKEN)).await;
        body["results"]["pageviews"]["value"].as_i64().unwrap()
    }

    /// A stats API answer for the test site.
    pub async fn stats(&self, endpoint: &str, query: &str) -> serde_json::Value {
        let url = format!(
            "http://{}/api/v1/stats/{endpoint}?site_id={SITE}&{query}",
            self.public
        );
        get_json(&self.client, &url, Some(TOKEN)).await
    }

    pub async fn metrics(&self) -> String {
        get_text(&self.client, &format!("http://{}/metrics", self.admin)).await
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// SIGKILL, then wait for the exit: no chance to flush.
    pub fn kill(mut self) -> ExitStatus {
        self.child.kill().unwrap();
        self.child.wait().unwrap()
    }

    /// SIGTERM, then wait for the exit.
    pub fn terminate(mut self) -> ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        for _ in 0..1000 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        self.child.kill().unwrap();
        panic!("kruimel did not exit within 10 s of SIGTERM");
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every file under `dir`, recursively; none when it does not exist.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    if !dir.exists() {
        return found;
    }
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}
