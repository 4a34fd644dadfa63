//! `TestApp`: the real server in this process, on port 0, with a manual clock.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use kruimel::clock::Clock;
use kruimel::config::{self, Config, TokenHash};
use kruimel::http::Listeners;
use serde_json::Value;
use tokio::sync::oneshot;

use crate::backends::Backend;

pub const SITE: &str = "gemeente.example";
pub const TOKEN: &str = "test-token-7d1f";
pub const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
pub const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36";

/// A configuration for tests: two sites, a trusted loopback proxy, fast
/// flushes; a variable in `extra_env` overrides the default of that name.
pub fn test_config(data_dir: &std::path::Path, extra_env: &[(&str, &str)]) -> Config {
    try_test_config(data_dir, extra_env).expect("test configuration is valid")
}

/// As `test_config`, for configurations that may be wrong.
pub fn try_test_config(
    data_dir: &std::path::Path,
    extra_env: &[(&str, &str)],
) -> Result<Config, config::ConfigError> {
    let mut env: Vec<(String, String)> = vec![
        (
            "KRUIMEL_SERVER__DATA_DIR".into(),
            data_dir.display().to_string(),
        ),
        (
            "KRUIMEL_SERVER__TRUSTED_PROXIES".into(),
            r#"["127.0.0.1/32", "::1/128"]"#.into(),
        ),
        ("KRUIMEL_AGGREGATE__FLUSH_INTERVAL_MS".into(), "20".into()),
        (
            "KRUIMEL_SITES".into(),
            format!(
                r#"[{{ id = "{SITE}", hostnames = ["{SITE}", "www.{SITE}"], tokens = ["{}"] }}, {{ id = "other.example", tokens = ["{}"] }}]"#,
                TokenHash::of_token(TOKEN).stored_form(),
                TokenHash::of_token(TOKEN).stored_form()
            ),
        ),
    ];
    env.extend(
        extra_env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    config::load(None, env)
}

pub struct TestApp {
    pub backend: Backend,
    /// Settings a reload reads on top of those the server started with.
    pub reload_env: Arc<Mutex<Vec<(String, String)>>>,
    pub public: SocketAddr,
    pub admin: SocketAddr,
    pub clock: Clock,
    pub client: reqwest::Client,
    /// Kept so the directory lives as long as the server.
    _data_dir: tempfile::TempDir,
    /// Dropping it shuts the server down.
    _stop: oneshot::Sender<()>,
    /// The server task; it ends after the aggregator's final flush.
    server: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp::spawn_on(Backend::Embedded).await
    }

    pub async fn spawn_with(extra_env: &[(&str, &str)], start: &str) -> TestApp {
        TestApp::spawn_on_with(Backend::Embedded, extra_env, start).await
    }

    pub async fn spawn_on(backend: Backend) -> TestApp {
        TestApp::spawn_on_with(backend, &[], "2026-11-23T10:00:00Z").await
    }

    pub async fn spawn_on_with(
        backend: Backend,
        extra_env: &[(&str, &str)],
        start: &str,
    ) -> TestApp {
        let data_dir = tempfile::tempdir().unwrap();
        TestApp::spawn_in(backend, data_dir, extra_env, start).await
    }

    /// Stops the server and starts it again on the same data and backend.
    pub async fn restart(self, extra_env: &[(&str, &str)], start: &str) -> TestApp {
        let backend = self.backend.clone();
        let data_dir = self.stop().await;
        TestApp::spawn_in(backend, data_dir, extra_env, start).await
    }

    pub async fn spawn_in(
        backend: Backend,
        data_dir: tempfile::TempDir,
        extra_env: &[(&str, &str)],
        start: &str,
    ) -> TestApp {
        let backend_env = backend.env();
        let mut env: Vec<(&str, &str)> = backend_env
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        env.extend_from_slice(extra_env);
        let config = test_config(data_dir.path(), &env);
        let reload_env: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
        let source = {
            let start_env: Vec<(String, String)> = env
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .collect();
            let reload_env = reload_env.clone();
            let data_dir = data_dir.path().to_owned();
            Box::new(move || {
                let mut now = start_env.clone();
                now.extend(reload_env.lock().unwrap().iter().cloned());
                let pairs: Vec<(&str, &str)> = now
                    .iter()
                    .map(|(name, value)| (name.as_str(), value.as_str()))
                    .collect();
                try_test_config(&data_dir, &pairs)
            })
        };
        let public = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let admin = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (public_address, admin_address) =
            (public.local_addr().unwrap(), admin.local_addr().unwrap());
        let clock = Clock::manual(start.parse().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(kruimel::startup::run_with_clock(
            config,
            source,
            Listeners { public, admin },
            async move {
                let _ = stopped.await;
            },
            clock.clone(),
        ));
        let app = TestApp {
            backend,
            reload_env,
            public: public_address,
            admin: admin_address,
            clock,
            client: reqwest::Client::new(),
            _data_dir: data_dir,
            _stop: stop,
            server,
        };
        wait_ready(&app.client, app.admin).await;
        app
    }

    /// Shuts the server down and waits until it has stopped, so its final
    /// flush is on disk; returns the data directory to start again in.
    pub async fn stop(self) -> tempfile::TempDir {
        let TestApp {
            _data_dir: data_dir,
            _stop: stop,
            server,
            ..
        } = self;
        let _ = stop.send(());
        tokio::time::timeout(Duration::from_secs(10), server)
            .await
            .expect("server stops within ten seconds")
            .expect("server task did not panic")
            .expect("server stopped cleanly");
        data_dir
    }

    /// The server's data directory (the users file and audit log live there).
    pub fn data_dir(&self) -> &std::path::Path {
        self._data_dir.path()
    }

    pub fn set_time(&self, at: &str) {
        self.clock.set(at.parse::<Timestamp>().unwrap());
    }

    /// Sends a pageview from `ip` (through the trusted loopback proxy).
    pub async fn pageview(
        &self,
        ip: &str,
        agent: &str,
        url: &str,
        referrer: Option<&str>,
    ) -> reqwest::Response {
        let body =
            serde_json::json!({ "n": "pageview", "u": url, "d": SITE, "r": referrer, "w": 1280 });
        self.send(ip, agent, &body.to_string()).await
    }

    pub async fn send(&self, ip: &str, agent: &str, body: &str) -> reqwest::Response {
        self.client
            .post(format!("http://{}/api/event", self.public))
            .header("content-type", "text/plain")
            .header("x-forwarded-for", ip)
            .header("user-agent", agent)
            .body(body.to_owned())
            .send()
            .await
            .unwrap()
    }

    pub async fn stats(&self, endpoint: &str, query: &str) -> Value {
        let response = self.stats_response(endpoint, query).await;
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, 200, "{endpoint}?{query}: {body}");
        body
    }

    pub async fn stats_response(&self, endpoint: &str, query: &str) -> reqwest::Response {
        self.client
            .get(format!(
                "http://{}/api/v1/stats/{endpoint}?site_id={SITE}&{query}",
                self.public
            ))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
    }

    /// One aggregate metric over a query.
    pub async fn metric(&self, metric: &str, query: &str) -> Value {
        let body = self
            .stats("aggregate", &format!("metrics={metric}&{query}"))
            .await;
        body["results"][metric]["value"].clone()
    }

    /// Waits until the aggregator has stored `events` events over the period.
    pub async fn wait_for_events(&self, events: i64, query: &str) {
        let mut seen = Value::Null;
        // Generous: under a full suite on two cores a flush can take seconds.
        for _ in 0..1_500 {
            seen = self.metric("events", query).await;
            if seen.as_i64() == Some(events) {
                // One more flush so visit metrics written with them are in too.
                tokio::time::sleep(Duration::from_millis(60)).await;
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("expected {events} events, store has {seen}");
    }

    pub async fn metrics_text(&self) -> String {
        get_text(&self.client, &format!("http://{}/metrics", self.admin)).await
    }

    /// One unlabelled sample from `/metrics`.
    pub async fn sample(&self, name: &str) -> f64 {
        sample(&self.metrics_text().await, name)
    }
}

/// The value of an unlabelled sample in a Prometheus text exposition.
pub fn sample(exposition: &str, name: &str) -> f64 {
    exposition
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("{name} is not in /metrics"))
        .trim()
        .parse()
        .unwrap()
}

/// Sum of `metric` over breakdown rows, keyed by the property's field.
pub fn rows(body: &Value, field: &str, metric: &str) -> Vec<(String, i64)> {
    body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row[field].as_str().unwrap().to_owned(),
                row[metric].as_i64().unwrap(),
            )
        })
        .collect()
}

/// Polls `/readyz` on the admin listener until it answers 200 (at most 5 s).
pub async fn wait_ready(client: &reqwest::Client, admin: SocketAddr) {
    wait_readiness(client, admin, 200).await;
}

/// Polls `/readyz` until it answers `status` (at most 5 s); returns its body.
pub async fn wait_readiness(client: &reqwest::Client, admin: SocketAddr, status: u16) -> Value {
    for _ in 0..500 {
        let answer = client.get(format!("http://{admin}/readyz")).send().await;
        if let Ok(response) = answer
            && response.status() == status
        {
            return response.json().await.unwrap_or(Value::Null);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("server at {admin} never answered /readyz with {status}");
}

/// GETs a URL, with a bearer token when one is given, and parses the JSON body.
pub async fn get_json(client: &reqwest::Client, url: &str, token: Option<&str>) -> Value {
    let mut request = client.get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap().json().await.unwrap()
}

/// GETs a URL and returns the body as text.
pub async fn get_text(client: &reqwest::Client, url: &str) -> String {
    client.get(url).send().await.unwrap().text().await.unwrap()
}
