//! Response times of the stats API on a seeded site (`loadtests/seed.sh`),
//! as a client on the same machine sees them: from sending the request to
//! reading the last byte of the answer, over one kept-alive connection.
//!
//! Each query runs a few times to warm up, then `--runs` times; the table
//! gives p50, p95 and max in milliseconds. A trivial endpoint
//! (`/api/openapi.json`) is measured in the same run as the floor. The
//! dashboard's overview (aggregate with comparison, daily timeseries, ten
//! top-10 breakdowns) is measured call by call, as a sequential whole, and
//! as a browser would send it: all at once over six connections.
//!
//! Usage: `cargo run --release --example stats_bench -- --url http://HOST:PORT
//! --site SITE --token TOKEN --end YYYY-MM-DD --page /some/page`; see
//! `loadtests/stats_bench.sh`, which starts the server on the seeded data.

#![forbid(unsafe_code)]

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;

#[derive(Parser)]
struct Args {
    /// The server's public listener.
    #[arg(long)]
    url: String,
    #[arg(long)]
    site: String,
    /// A stats API token of the site.
    #[arg(long)]
    token: String,
    /// The last seeded day: every period ends there (`date=`).
    #[arg(long)]
    end: String,
    /// A page to filter by.
    #[arg(long)]
    page: String,
    /// Measured runs per query.
    #[arg(long, default_value_t = 20)]
    runs: usize,
    /// Unmeasured runs first.
    #[arg(long, default_value_t = 3)]
    warmup: usize,
}

const HEADLINE: &str = "visitors,visits,pageviews,bounce_rate,visit_duration";

/// The panels of the dashboard's overview, as breakdown properties.
const OVERVIEW_PANELS: [&str; 10] = [
    "event:page",
    "visit:entry_page",
    "visit:exit_page",
    "visit:source",
    "visit:referrer",
    "visit:utm_source",
    "visit:country",
    "visit:browser",
    "visit:os",
    "visit:device",
];

struct Query {
    name: String,
    path: String,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // One connection for the sequential runs; six for the parallel overview.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(8)
        .tcp_nodelay(true)
        .build()?;
    let bench = Bench {
        client,
        base: args.url.trim_end_matches('/').to_owned(),
        token: args.token.clone(),
        runs: args.runs,
        warmup: args.warmup,
    };
    let site = urlencode(&args.site);
    let end = &args.end;
    let page = urlencode(&format!("event:page=={}", args.page));
    let stats = |endpoint: &str, rest: &str| {
        format!("/api/v1/stats/{endpoint}?site_id={site}&date={end}&{rest}")
    };
    let year = "period=12mo";
    let mut queries = vec![Query {
        name: "trivial: GET /api/openapi.json".into(),
        path: "/api/openapi.json".into(),
    }];
    let mut add = |name: String, path: String| queries.push(Query { name, path });
    add(
        "12 months: aggregate, compare previous".into(),
        stats(
            "aggregate",
            &format!("{year}&metrics={HEADLINE}&compare=previous_period"),
        ),
    );
    for interval in ["month", "day"] {
        add(
            format!("12 months: timeseries by {interval}"),
            stats(
                "timeseries",
                &format!("{year}&interval={interval}&metrics={HEADLINE}"),
            ),
        );
    }
    for property in [
        "event:page",
        "visit:source",
        "visit:country",
        "event:props:url",
        "event:props:path",
    ] {
        add(
            format!("12 months: breakdown {property}"),
            stats(
                "breakdown",
                &format!("{year}&property={property}&limit=100"),
            ),
        );
    }
    add(
        "12 months, page filter: aggregate, compare".into(),
        stats(
            "aggregate",
            &format!("{year}&metrics={HEADLINE}&compare=previous_period&filters={page}"),
        ),
    );
    add(
        "12 months, page filter: timeseries by day".into(),
        stats(
            "timeseries",
            &format!("{year}&interval=day&metrics=visitors,pageviews&filters={page}"),
        ),
    );
    for property in ["visit:source", "visit:country"] {
        add(
            format!("12 months, page filter: breakdown {property}"),
            stats(
                "breakdown",
                &format!("{year}&property={property}&limit=100&filters={page}"),
            ),
        );
    }
    add(
        "7 days: timeseries by hour".into(),
        stats(
            "timeseries",
            &format!("period=7d&interval=hour&metrics={HEADLINE}"),
        ),
    );

    println!("| query | p50 ms | p95 ms | max ms | answer bytes |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    for query in &queries {
        let (times, bytes) = bench.measure(&query.path).await?;
        row(&query.name, &times, bytes);
    }

    for period in ["12mo", "30d"] {
        let overview = overview_calls(&stats, period);
        println!();
        println!("Overview, period={period}: each call, then the set");
        println!();
        println!("| call | p50 ms | p95 ms | max ms | answer bytes |");
        println!("| --- | ---: | ---: | ---: | ---: |");
        for query in &overview {
            let (times, bytes) = bench.measure(&query.path).await?;
            row(&query.name, &times, bytes);
        }
        let paths: Vec<&str> = overview.iter().map(|q| q.path.as_str()).collect();
        let sequential = bench.measure_set(&paths, 1).await?;
        row(
            &format!("the {} calls one after another", paths.len()),
            &sequential,
            0,
        );
        let parallel = bench.measure_set(&paths, 6).await?;
        row(
            &format!("the {} calls at once, 6 connections", paths.len()),
            &parallel,
            0,
        );
    }
    Ok(())
}

/// The calls the dashboard's overview makes for one period.
fn overview_calls(stats: &dyn Fn(&str, &str) -> String, period: &str) -> Vec<Query> {
    let mut calls = vec![
        Query {
            name: "aggregate, compare previous".into(),
            path: stats(
                "aggregate",
                &format!(
                    "period={period}&metrics={HEADLINE},views_per_visit&compare=previous_period"
                ),
            ),
        },
        Query {
            name: "timeseries by day".into(),
            path: stats(
                "timeseries",
                &format!("period={period}&interval=day&metrics=visitors,pageviews"),
            ),
        },
    ];
    for property in OVERVIEW_PANELS {
        calls.push(Query {
            name: format!("top 10 {property}"),
            path: stats(
                "breakdown",
                &format!("period={period}&property={property}&limit=10"),
            ),
        });
    }
    calls
}

struct Bench {
    client: reqwest::Client,
    base: String,
    token: String,
    runs: usize,
    warmup: usize,
}

impl Bench {
    async fn get(&self, path: &str) -> anyhow::Result<usize> {
        let answer = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .with_context(|| path.to_owned())?;
        let status = answer.status();
        let body = answer.bytes().await?;
        if !status.is_success() {
            bail!("{status} for {path}: {}", String::from_utf8_lossy(&body));
        }
        Ok(body.len())
    }

    async fn measure(&self, path: &str) -> anyhow::Result<(Vec<Duration>, usize)> {
        for _ in 0..self.warmup {
            self.get(path).await?;
        }
        let mut times = Vec::with_capacity(self.runs);
        let mut bytes = 0;
        for _ in 0..self.runs {
            let started = Instant::now();
            bytes = self.get(path).await?;
            times.push(started.elapsed());
        }
        Ok((times, bytes))
    }

    /// Wall time of a whole set, `connections` calls in flight at a time.
    async fn measure_set(
        &self,
        paths: &[&str],
        connections: usize,
    ) -> anyhow::Result<Vec<Duration>> {
        let mut times = Vec::with_capacity(self.runs);
        for run in 0..self.warmup + self.runs {
            let started = Instant::now();
            for chunk in paths.chunks(connections) {
                let calls = chunk.iter().map(|path| self.get(path));
                for result in futures_join(calls).await {
                    result?;
                }
            }
            if run >= self.warmup {
                times.push(started.elapsed());
            }
        }
        Ok(times)
    }
}

/// Runs futures concurrently on this thread and collects their results.
async fn futures_join<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut pinned: Vec<_> = futures.map(Box::pin).collect();
    let mut results: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|context| {
        let mut pending = false;
        for (future, result) in pinned.iter_mut().zip(results.iter_mut()) {
            if result.is_none() {
                match future.as_mut().poll(context) {
                    std::task::Poll::Ready(output) => *result = Some(output),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        match pending {
            true => std::task::Poll::Pending,
            false => std::task::Poll::Ready(()),
        }
    })
    .await;
    results
        .into_iter()
        .map(|result| result.expect("every future finished"))
        .collect()
}

fn row(name: &str, times: &[Duration], bytes: usize) {
    let mut ms: Vec<f64> = times.iter().map(|t| t.as_secs_f64() * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() as f64 - 1.0) * q).round() as usize];
    let bytes = match bytes {
        0 => String::new(),
        bytes => bytes.to_string(),
    };
    println!(
        "| {name} | {:.2} | {:.2} | {:.2} | {bytes} |",
        at(0.5),
        at(0.95),
        ms[ms.len() - 1]
    );
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
