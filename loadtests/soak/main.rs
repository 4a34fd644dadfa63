//! Load for the soak and visitor-flood tests (`loadtests/soak.sh`,
//! `loadtests/flood.sh`), with the server watched while it runs.
//!
//! `soak paced` sends beacons at a fixed rate for a fixed time, over
//! keep-alive connections that each keep to their own schedule (a
//! beacon every connections ÷ rate seconds), so the rate stays put when
//! the server slows down. Visits come from a day with a million visitors
//! (see `day.rs`).
//!
//! `soak flood` sends one pageview from each of N distinct visitors as
//! fast as the connections allow, while a probe on its own thread sends
//! a few beacons a second as a normal client and times them.
//!
//! Both print a `SAMPLE` line every few seconds (the load's rate and
//! latency over the interval; the server's resident memory, open file
//! descriptors, hot visitors, evictions, shed beacons and readiness) and
//! `RESULT` lines at the end; the scripts read and check them.
// Not a library: `pub` here is how its modules reach each other.
#![allow(unreachable_pub)]
#![forbid(unsafe_code)]

mod audience;
mod day;
mod http;
mod load;
#[allow(dead_code)] // the seed example's tables; this one uses some of them
#[path = "../seed/population.rs"]
mod population;
mod watch;
#[allow(dead_code)] // Zipf weights are the seed's
#[path = "../seed/weighted.rs"]
mod weighted;

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(about = "Soak and visitor-flood load for Kruimel, with the server watched")]
struct Cli {
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Subcommand)]
enum Mode {
    /// Beacons at a fixed rate from a day's population of visitors.
    Paced {
        #[command(flatten)]
        common: Common,
        /// Beacons per second.
        #[arg(long)]
        rate: f64,
        /// How long to send.
        #[arg(long)]
        seconds: u64,
        /// Distinct visitors in the day the run compresses.
        #[arg(long, default_value_t = 1_000_000)]
        day_visitors: u64,
    },
    /// One pageview from each of `visitors` distinct visitors, flat out.
    Flood {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        visitors: u64,
        /// Beacons per second of the normal client probing the server.
        #[arg(long, default_value_t = 50)]
        probe_rate: u64,
    },
}

#[derive(Args)]
struct Common {
    /// Kruimel's public listener (beacons).
    #[arg(long)]
    target: SocketAddr,
    /// Kruimel's admin listener (`/metrics`, `/readyz`).
    #[arg(long)]
    admin: SocketAddr,
    /// Kruimel's process id, for `/proc`.
    #[arg(long)]
    pid: u32,
    /// Keep-alive connections that send the load.
    #[arg(long, default_value_t = 64)]
    connections: u64,
    /// Seconds between samples.
    #[arg(long, default_value_t = 5)]
    sample_seconds: u64,
}

impl Common {
    fn settings(&self) -> load::Settings {
        load::Settings {
            target: self.target,
            server: watch::Server {
                pid: self.pid,
                admin: self.admin,
            },
            connections: self.connections,
            sample_every: Duration::from_secs(self.sample_seconds),
        }
    }
}

#[tokio::main]
async fn main() {
    match Cli::parse().mode {
        Mode::Paced {
            common,
            rate,
            seconds,
            day_visitors,
        } => {
            let day = day::Day::new(day_visitors, day_visitors as f64 / seconds as f64);
            load::paced(common.settings(), day, rate, Duration::from_secs(seconds)).await;
        }
        Mode::Flood {
            common,
            visitors,
            probe_rate,
        } => load::flood(common.settings(), visitors, probe_rate).await,
    }
}
