//! The server's Prometheus metrics, in its own registry.
//!
//! Labels come from closed enums (route, status class, drop reason) or
//! from the configuration (site ids), never from paths, referrers, user
//! agents or anything a client chose.

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};

use crate::ingest::DropReason;
use crate::ingest::admission::ShedCause;

pub(crate) struct Metrics {
    registry: Registry,
    pub(crate) beacons_accepted: IntCounter,
    beacons_dropped: IntCounterVec,
    pub(crate) beacons_shed: IntCounter,
    pub(crate) beacons_invalid: IntCounterVec,
    pub(crate) http_requests: IntCounterVec,
    pub(crate) queue_depth: IntGauge,
    pub(crate) hot_visitors: IntGauge,
    pub(crate) hot_credits: IntGauge,
    pub(crate) visitors_evicted: IntCounter,
    pub(crate) flush_seconds: Histogram,
    pub(crate) flush_keys: Histogram,
    pub store_errors: IntCounter,
    pub(crate) salt_rotations: IntCounter,
    pub(crate) redis_backlog: IntGauge,
    pub(crate) redis_dropped: IntCounter,
    redis_shed: IntCounterVec,
    pub(crate) http_duration: HistogramVec,
    pub salt_age: IntGauge,
    pub(crate) geoip_build: IntGauge,
    pub(crate) site_pageviews: IntCounterVec,
    pub(crate) site_visitors_today: IntGaugeVec,
    pub ready: IntGauge,
    pub(crate) consent_choices: IntCounterVec,
    pub(crate) consent_capped: IntCounterVec,
    pub(crate) receipts_erased: IntCounter,
    pub(crate) receipts_expired: IntCounter,
    pub(crate) rollup_months: IntCounter,
    pub sealed_rows: IntCounter,
    pub(crate) rollup_pending: IntGauge,
    values_capped: IntCounterVec,
    pub(crate) site_stored_bytes: IntGaugeVec,
    pub(crate) site_max_bytes: IntGaugeVec,
    /// Chains of hops from a trusted proxy that were not addresses, by header.
    pub(crate) forwarded_malformed: IntCounterVec,
    /// The standard `process_*` metrics, without the `kruimel_` prefix.
    process: Registry,
}

impl Metrics {
    /// Per-site series that would otherwise appear only at their first
    /// event, exported at 0 from the start, so alerts and dashboards see
    /// them and `increase()` counts the first one.
    pub(crate) fn expose_sites(&self, sites: &crate::sites::Sites) {
        for site in sites.iter() {
            self.consent_capped.with_label_values(&[site.id.as_str()]);
        }
    }

    pub(crate) fn new() -> Metrics {
        let registry =
            Registry::new_custom(Some("kruimel".to_owned()), None).expect("a valid metric prefix");
        let metrics = Metrics {
            beacons_accepted: IntCounter::new(
                "beacons_accepted_total",
                "Beacons counted (answered 202 without a drop reason).",
            )
            .expect("valid metric"),
            beacons_dropped: IntCounterVec::new(
                Opts::new(
                    "beacons_dropped_total",
                    "Beacons deliberately not counted, by reason.",
                ),
                &["reason"],
            )
            .expect("valid metric"),
            beacons_shed: IntCounter::new(
                "beacons_shed_total",
                "Beacons answered 202 but shed because the aggregator queue was full or, on Redis, the hits waiting for it reached their bound.",
            )
            .expect("valid metric"),
            beacons_invalid: IntCounterVec::new(
                Opts::new("beacons_invalid_total", "Malformed beacons, by error code."),
                &["code"],
            )
            .expect("valid metric"),
            http_requests: IntCounterVec::new(
                Opts::new(
                    "http_requests_total",
                    "HTTP requests by route and status class.",
                ),
                &["route", "status"],
            )
            .expect("valid metric"),
            queue_depth: IntGauge::new(
                "aggregator_queue_depth",
                "Hits waiting for the aggregator.",
            )
            .expect("valid metric"),
            hot_visitors: IntGauge::new("hot_visitors", "Visitors held in the hot state.")
                .expect("valid metric"),
            hot_credits: IntGauge::new(
                "hot_credits",
                "Counting-scope fingerprints the hot state's visitors hold together.",
            )
            .expect("valid metric"),
            visitors_evicted: IntCounter::new(
                "hot_visitors_evicted_total",
                "Visitors evicted from the hot state because it reached its cap on visitors or credits.",
            )
            .expect("valid metric"),
            flush_seconds: Histogram::with_opts(HistogramOpts::new(
                "flush_duration_seconds",
                "Time to write one batch of count deltas to the store.",
            ))
            .expect("valid metric"),
            flush_keys: Histogram::with_opts(
                HistogramOpts::new("flush_batch_keys", "Counters written per flush.")
                    .buckets(prometheus::exponential_buckets(1.0, 4.0, 10).expect("valid buckets")),
            )
            .expect("valid metric"),
            store_errors: IntCounter::new("store_errors_total", "Failed store operations.")
                .expect("valid metric"),
            salt_rotations: IntCounter::new("salt_rotations_total", "Daily salts created.")
                .expect("valid metric"),
            redis_backlog: IntGauge::new(
                "redis_backlog_hits",
                "Hits waiting to be resolved against the shared state in Redis.",
            )
            .expect("valid metric"),
            redis_dropped: IntCounter::new(
                "redis_backlog_dropped_total",
                "Hits answered 202 but dropped because Redis refused their batch five times (a script error, a key of another type, out of memory).",
            )
            .expect("valid metric"),
            redis_shed: IntCounterVec::new(
                Opts::new(
                    "redis_shed_total",
                    "Hits shed at the door (answered 202 with the drop header) because the hits queued and waiting for Redis reached store.redis.max_backlog, by cause: the writer behind a Redis that answers, or Redis away.",
                ),
                &["cause"],
            )
            .expect("valid metric"),
            http_duration: HistogramVec::new(
                HistogramOpts::new(
                    "http_request_duration_seconds",
                    "Time from a request's head to its response, by route.",
                )
                .buckets(vec![
                    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025,
                    0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                ]),
                &["route"],
            )
            .expect("valid metric"),
            salt_age: IntGauge::new(
                "salt_age_seconds",
                "Age of the oldest salt in use; past a day plus the visit timeout, rotation is stuck.",
            )
            .expect("valid metric"),
            geoip_build: IntGauge::new(
                "geoip_build_timestamp_seconds",
                "When the loaded country database was built (0: none loaded).",
            )
            .expect("valid metric"),
            site_pageviews: IntCounterVec::new(
                Opts::new(
                    "site_pageviews_total",
                    "Pageviews handed to the aggregator, per configured site.",
                ),
                &["site"],
            )
            .expect("valid metric"),
            site_visitors_today: IntGaugeVec::new(
                Opts::new(
                    "site_visitors_today",
                    "Visitors stored for the site's current local day.",
                ),
                &["site"],
            )
            .expect("valid metric"),
            ready: IntGauge::new(
                "ready",
                "1 when /readyz would answer ready, 0 when not; taken at each scrape.",
            )
            .expect("valid metric"),
            consent_choices: IntCounterVec::new(
                Opts::new(
                    "consent_choices_total",
                    "Consent choices recorded in receipts, by method.",
                ),
                &["method"],
            )
            .expect("valid metric"),
            consent_capped: IntCounterVec::new(
                Opts::new(
                    "consent_choices_capped_total",
                    "Consent choices not stored because the site reached consent.max_choices_per_day.",
                ),
                &["site"],
            )
            .expect("valid metric"),
            receipts_erased: IntCounter::new(
                "consent_receipts_erased_total",
                "Consent receipts erased at the visitor's request.",
            )
            .expect("valid metric"),
            receipts_expired: IntCounter::new(
                "consent_receipts_expired_total",
                "Consent receipts deleted by the retention job.",
            )
            .expect("valid metric"),
            rollup_months: IntCounter::new(
                "rollup_months_total",
                "Finished months whose daily rows were summed into monthly rows.",
            )
            .expect("valid metric"),
            sealed_rows: IntCounter::new(
                "store_sealed_rows_total",
                "Open rows of finished days moved into sealed, compact days (embedded store).",
            )
            .expect("valid metric"),
            rollup_pending: IntGauge::new(
                "rollup_pending_months",
                "Finished months waiting to be rolled up (read by day until then).",
            )
            .expect("valid metric"),
            values_capped: IntCounterVec::new(
                Opts::new(
                    "values_capped_total",
                    "Values counted under \"(other)\" because their site reached the day's cap of distinct values of that property.",
                ),
                &["property"],
            )
            .expect("valid metric"),
            site_stored_bytes: IntGaugeVec::new(
                Opts::new(
                    "site_stored_bytes",
                    "Bytes of the site's counts at rest, as last measured (keys and values; see README).",
                ),
                &["site"],
            )
            .expect("valid metric"),
            site_max_bytes: IntGaugeVec::new(
                Opts::new(
                    "site_max_bytes",
                    "The site's budget of bytes at rest (sites[].max_bytes); 0 when it has none.",
                ),
                &["site"],
            )
            .expect("valid metric"),
            forwarded_malformed: IntCounterVec::new(
                Opts::new(
                    "forwarded_for_malformed_total",
                    "Requests from a trusted proxy whose forwarding header held a hop that is not an address; the proxy's own address was used.",
                ),
                &["header"],
            )
            .expect("valid metric"),
            registry,
            process: Registry::new(),
        };
        metrics.register_all();
        for reason in DropReason::ALL {
            if reason != DropReason::Overloaded {
                metrics
                    .beacons_dropped
                    .with_label_values(&[reason.as_str()]);
            }
        }
        for cause in ShedCause::ALL {
            metrics.redis_shed.with_label_values(&[cause.as_str()]);
        }
        for property in crate::aggregate::distinct::Property::ALL {
            metrics.values_capped(property);
        }
        for method in crate::consent::Method::ALL {
            metrics
                .consent_choices
                .with_label_values(&[method.as_str()]);
        }
        for header in crate::config::ForwardingHeader::ALL {
            metrics
                .forwarded_malformed
                .with_label_values(&[header.as_str()]);
        }
        metrics
    }

    fn register_all(&self) {
        let collectors: Vec<Box<dyn prometheus::core::Collector>> = vec![
            Box::new(self.beacons_accepted.clone()),
            Box::new(self.beacons_dropped.clone()),
            Box::new(self.beacons_shed.clone()),
            Box::new(self.beacons_invalid.clone()),
            Box::new(self.http_requests.clone()),
            Box::new(self.queue_depth.clone()),
            Box::new(self.hot_visitors.clone()),
            Box::new(self.hot_credits.clone()),
            Box::new(self.visitors_evicted.clone()),
            Box::new(self.flush_seconds.clone()),
            Box::new(self.flush_keys.clone()),
            Box::new(self.store_errors.clone()),
            Box::new(self.salt_rotations.clone()),
            Box::new(self.redis_backlog.clone()),
            Box::new(self.redis_dropped.clone()),
            Box::new(self.redis_shed.clone()),
            Box::new(self.http_duration.clone()),
            Box::new(self.salt_age.clone()),
            Box::new(self.geoip_build.clone()),
            Box::new(self.site_pageviews.clone()),
            Box::new(self.site_visitors_today.clone()),
            Box::new(self.ready.clone()),
            Box::new(self.consent_choices.clone()),
            Box::new(self.consent_capped.clone()),
            Box::new(self.receipts_erased.clone()),
            Box::new(self.receipts_expired.clone()),
            Box::new(self.rollup_months.clone()),
            Box::new(self.sealed_rows.clone()),
            Box::new(self.values_capped.clone()),
            Box::new(self.site_stored_bytes.clone()),
            Box::new(self.site_max_bytes.clone()),
            Box::new(self.rollup_pending.clone()),
            Box::new(self.forwarded_malformed.clone()),
        ];
        for collector in collectors {
            self.registry
                .register(collector)
                .expect("metric names are unique");
        }
        #[cfg(target_os = "linux")]
        self.process
            .register(Box::new(
                prometheus::process_collector::ProcessCollector::for_self(),
            ))
            .expect("process metrics register once");
    }

    pub(crate) fn dropped(&self, reason: DropReason) {
        self.beacons_dropped
            .with_label_values(&[reason.as_str()])
            .inc();
    }

    /// A hit shed for want of admission budget on the Redis path: counted
    /// as shed, and under its cause.
    pub(crate) fn shed_for_redis(&self, cause: ShedCause) {
        self.beacons_shed.inc();
        self.redis_shed.with_label_values(&[cause.as_str()]).inc();
    }

    /// Values of `property` counted under "(other)" by the daily cap.
    pub(crate) fn values_capped(
        &self,
        property: crate::aggregate::distinct::Property,
    ) -> IntCounter {
        self.values_capped.with_label_values(&[property.as_str()])
    }

    /// The Prometheus text exposition of every metric.
    pub(crate) fn render(&self) -> String {
        let mut buffer = Vec::new();
        let mut families = self.registry.gather();
        families.extend(self.process.gather());
        if let Err(error) = TextEncoder::new().encode(&families, &mut buffer) {
            tracing::error!(%error, "metrics encoding failed");
        }
        String::from_utf8(buffer).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}
