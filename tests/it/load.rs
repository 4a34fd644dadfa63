//! A steady stream of beacons from several clients, for fault and hostile
//! traffic tests: each client sends one pageview after another and the
//! load records when each was answered as counted (202, no drop reason).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::helpers::{FIREFOX, SITE};

pub struct Load {
    running: Arc<AtomicBool>,
    counted: Arc<Mutex<Vec<Instant>>>,
    clients: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    /// Starts `clients` clients sending to the public listener at `public`.
    /// A client stops at its first connection error (the server is gone).
    pub fn start(public: SocketAddr, clients: usize) -> Load {
        let running = Arc::new(AtomicBool::new(true));
        let counted = Arc::new(Mutex::new(Vec::new()));
        let http = reqwest::Client::new();
        let clients = (0..clients)
            .map(|client| {
                let (running, counted, http) = (running.clone(), counted.clone(), http.clone());
                tokio::spawn(async move {
                    let mut index = 0usize;
                    while running.load(Ordering::Relaxed) {
                        index += 1;
                        let body = serde_json::json!({
                            "n": "pageview",
                            "u": format!("https://{SITE}/p{}", index % 13),
                            "d": SITE,
                        });
                        let answer = http
                            .post(format!("http://{public}/api/event"))
                            .header("content-type", "text/plain")
                            .header(
                                "x-forwarded-for",
                                // A new /24 every 250 beacons: load from
                                // many people, not one network's flood
                                // (which the ingest rate limit drops).
                                format!("81.{client}.{}.{}", (index / 250) % 250, index % 250),
                            )
                            .header("user-agent", FIREFOX)
                            .body(body.to_string())
                            .send()
                            .await;
                        match answer {
                            Ok(response)
                                if response.status() == 202
                                    && !response.headers().contains_key("x-kruimel-dropped") =>
                            {
                                counted.lock().unwrap().push(Instant::now());
                            }
                            Ok(_) => {}
                            Err(_) => return,
                        }
                    }
                })
            })
            .collect();
        Load {
            running,
            counted,
            clients,
        }
    }

    /// Beacons answered as counted so far.
    pub fn counted(&self) -> usize {
        self.counted.lock().unwrap().len()
    }

    /// Stops the clients, waits for them, and returns when each beacon
    /// answered as counted was answered.
    pub async fn stop(self) -> Vec<Instant> {
        self.running.store(false, Ordering::Relaxed);
        for client in self.clients {
            client.await.unwrap();
        }
        std::mem::take(&mut *self.counted.lock().unwrap())
    }
}
