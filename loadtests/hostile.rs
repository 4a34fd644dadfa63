//! Hostile traffic and a normal client, for `loadtests/hostile.sh`.
//!
//! `hostile normal ADDR SECONDS RATE` sends RATE beacons a second, paced,
//! over keep-alive connections, and prints the latency of each answer:
//! `NORMAL sent=… ok=… failed=… p50_us=… p99_us=… max_us=…` (ok = 202).
//!
//! `hostile ATTACK ADDR SECONDS` runs one attack until SECONDS pass and
//! prints `ATTACK name=… connections=… answers=<status:count,…> closed=…`:
//! - `slowloris`: 500 connections sending a header line every 100 ms;
//! - `slow-body`: 500 connections declaring 200 bytes and sending one;
//! - `idle`: 2,000 connections sending nothing;
//! - `big-headers`: 8 connections at a time with a 32 KiB header;
//! - `many-headers`: 8 connections at a time with 1,000 headers;
//! - `pipelined`: 8 connections each sending 100 beacons in one write;
//! - `invalid`: 8 connections at a time sending bytes that are not HTTP.
//!
//! Each attacking connection is opened again once the server has closed
//! it, so the pressure lasts as long as the attack.

#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
const SITE: &str = "load.example";

fn beacon(index: usize) -> String {
    let body = format!(
        r#"{{"n":"pageview","u":"https://{SITE}/pagina/{}","d":"{SITE}"}}"#,
        index % 50
    );
    format!(
        "POST /api/event HTTP/1.1\r\nHost: {SITE}\r\nContent-Type: text/plain\r\nUser-Agent: {AGENT}\r\n\
         X-Forwarded-For: 81.204.{}.{}\r\nContent-Length: {}\r\n\r\n{body}",
        index % 200,
        index % 250,
        body.len()
    )
}

#[derive(Default)]
struct Tally {
    connections: u64,
    closed: u64,
    answers: BTreeMap<String, u64>,
}

type Shared = Arc<Mutex<Tally>>;

fn record(tally: &Shared, answer: &[u8]) {
    let text = String::from_utf8_lossy(answer);
    let mut tally = tally.lock().unwrap();
    tally.closed += 1;
    let mut found = false;
    for (index, _) in text.match_indices("HTTP/1.1 ") {
        let status = text[index + 9..].chars().take(3).collect::<String>();
        *tally.answers.entry(status).or_default() += 1;
        found = true;
    }
    if !found {
        *tally.answers.entry("none".to_owned()).or_default() += 1;
    }
}

/// Reads until the server closes, or until `until`.
async fn read_to_close(stream: &mut TcpStream, until: Instant) -> Vec<u8> {
    let mut answer = Vec::new();
    let left = until.saturating_duration_since(Instant::now());
    let _ = tokio::time::timeout(left, stream.read_to_end(&mut answer)).await;
    answer
}

/// One attacking connection, opened again and again until `until`.
async fn attacker(attack: String, addr: SocketAddr, until: Instant, tally: Shared) {
    let big = format!("X-Big: {}\r\n", "a".repeat(32 * 1024));
    let many: String = (0..1_000).map(|n| format!("X-H{n}: v\r\n")).collect();
    while Instant::now() < until {
        let Ok(mut stream) = TcpStream::connect(addr).await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        tally.lock().unwrap().connections += 1;
        let answer = match attack.as_str() {
            "slowloris" => {
                let _ = stream
                    .write_all(b"POST /api/event HTTP/1.1\r\nHost: x\r\n")
                    .await;
                let mut answer = Vec::new();
                for line in 0.. {
                    if Instant::now() >= until
                        || stream
                            .write_all(format!("X-Slow-{line}: a\r\n").as_bytes())
                            .await
                            .is_err()
                    {
                        break;
                    }
                    let mut buffer = [0u8; 4096];
                    match tokio::time::timeout(Duration::from_millis(100), stream.read(&mut buffer))
                        .await
                    {
                        Err(_) => continue,
                        Ok(Ok(0)) | Ok(Err(_)) => break,
                        Ok(Ok(read)) => {
                            answer.extend_from_slice(&buffer[..read]);
                            break;
                        }
                    }
                }
                answer
            }
            "slow-body" => {
                let head = "POST /api/event HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 200\r\n\r\n{";
                let _ = stream.write_all(head.as_bytes()).await;
                read_to_close(&mut stream, until).await
            }
            "idle" => read_to_close(&mut stream, until).await,
            "big-headers" | "many-headers" | "invalid" => {
                let request = match attack.as_str() {
                    "big-headers" => format!("GET /api/event HTTP/1.1\r\nHost: x\r\n{big}\r\n"),
                    "many-headers" => format!("GET /api/event HTTP/1.1\r\nHost: x\r\n{many}\r\n"),
                    _ => "\u{16}\u{3}\u{1}garbage GET / HTTP/9.9\r\n\r\n".to_owned(),
                };
                let _ = stream.write_all(request.as_bytes()).await;
                read_to_close(&mut stream, until).await
            }
            "pipelined" => {
                let requests: String = (0..100).map(beacon).collect::<String>()
                    + "GET /api/event HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
                let _ = stream.write_all(requests.as_bytes()).await;
                read_to_close(&mut stream, until).await
            }
            other => panic!("unknown attack {other}"),
        };
        record(&tally, &answer);
    }
}

async fn attack(attack: String, addr: SocketAddr, seconds: u64) {
    let connections = match attack.as_str() {
        "slowloris" | "slow-body" => 500,
        "idle" => 2_000,
        _ => 8,
    };
    let until = Instant::now() + Duration::from_secs(seconds);
    let tally = Shared::default();
    let tasks: Vec<_> = (0..connections)
        .map(|_| tokio::spawn(attacker(attack.clone(), addr, until, tally.clone())))
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let tally = tally.lock().unwrap();
    let answers: Vec<String> = tally
        .answers
        .iter()
        .map(|(status, count)| format!("{status}:{count}"))
        .collect();
    println!(
        "ATTACK name={attack} connections={} answers={} closed={}",
        tally.connections,
        answers.join(","),
        tally.closed
    );
}

/// Paced beacons over a few keep-alive connections; latency per answer.
async fn normal(addr: SocketAddr, seconds: u64, rate: u64) {
    const CONNECTIONS: u64 = 4;
    let until = Instant::now() + Duration::from_secs(seconds);
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let failed = Arc::new(Mutex::new(0u64));
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|connection| {
            let (latencies, failed) = (latencies.clone(), failed.clone());
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                let mut ticks =
                    tokio::time::interval(Duration::from_micros(1_000_000 * CONNECTIONS / rate));
                ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                let mut index = connection as usize;
                while Instant::now() < until {
                    ticks.tick().await;
                    index += CONNECTIONS as usize;
                    let request = beacon(index);
                    let body = request.split("\r\n\r\n").nth(1).unwrap().to_owned();
                    let started = Instant::now();
                    let answer = client
                        .post(format!("http://{addr}/api/event"))
                        .header("content-type", "text/plain")
                        .header("user-agent", AGENT)
                        .header(
                            "x-forwarded-for",
                            format!("81.205.{}.{}", index % 200, index % 250),
                        )
                        .timeout(Duration::from_secs(10))
                        .body(body)
                        .send()
                        .await;
                    match answer {
                        Ok(response) if response.status() == 202 => {
                            latencies
                                .lock()
                                .unwrap()
                                .push(started.elapsed().as_micros() as u64);
                        }
                        _ => *failed.lock().unwrap() += 1,
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let mut latencies = latencies.lock().unwrap().clone();
    latencies.sort_unstable();
    let at = |share: f64| {
        latencies
            .get(((latencies.len() as f64 * share) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    let failed = *failed.lock().unwrap();
    println!(
        "NORMAL sent={} ok={} failed={failed} p50_us={} p99_us={} max_us={}",
        latencies.len() as u64 + failed,
        latencies.len(),
        at(0.50),
        at(0.99),
        latencies.last().copied().unwrap_or(0)
    );
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: hostile normal ADDR SECONDS RATE | hostile ATTACK ADDR SECONDS";
    let (mode, addr, seconds) = match args.as_slice() {
        [mode, addr, seconds, ..] => (
            mode.clone(),
            addr.parse().expect(usage),
            seconds.parse().expect(usage),
        ),
        _ => panic!("{usage}"),
    };
    if mode == "normal" {
        let rate = args.get(3).and_then(|rate| rate.parse().ok()).expect(usage);
        normal(addr, seconds, rate).await;
    } else {
        attack(mode, addr, seconds).await;
    }
}
