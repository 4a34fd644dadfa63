//! Each site's bytes at rest, against its budget (`sites[].max_bytes`).
//!
//! Measured on the roll-up's thread, at start and then hourly, by reading
//! every row of the site (`Store::site_bytes`): exact for what it counts,
//! and the read is a snapshot that holds no writer up. Between two
//! measurements a site grows by at most what the daily caps on distinct
//! values let it gain in an hour. The figures are published as gauges,
//! which `/readyz` reads for its warning; a site over its budget does not
//! make the instance unready (see `http::admin`).

use crate::metrics::Metrics;
use crate::sites::{Site, Sites};
use crate::store::Store;

/// Measures every site and publishes its bytes and budget.
pub(crate) fn measure(store: &Store, sites: &Sites, metrics: &Metrics) {
    for site in sites.iter() {
        let id = site.id.as_str();
        match store.site_bytes(id) {
            Ok(bytes) => {
                let bytes = i64::try_from(bytes).unwrap_or(i64::MAX);
                metrics
                    .site_stored_bytes
                    .with_label_values(&[id])
                    .set(bytes);
                if over_budget(site, bytes) {
                    tracing::warn!(
                        site = id,
                        bytes,
                        budget = site.max_bytes,
                        "site over its storage budget"
                    );
                }
            }
            Err(error) => {
                metrics.store_errors.inc();
                tracing::error!(site = id, %error, "measuring the site's stored bytes failed");
            }
        }
        let budget = site
            .max_bytes
            .map_or(0, |b| i64::try_from(b).unwrap_or(i64::MAX));
        metrics.site_max_bytes.with_label_values(&[id]).set(budget);
    }
}

/// Whether `bytes` is past the site's budget, if it has one.
pub(crate) fn over_budget(site: &Site, bytes: i64) -> bool {
    site.max_bytes
        .is_some_and(|budget| u64::try_from(bytes).unwrap_or(0) > budget)
}

/// The sites over their budget as last measured.
pub(crate) fn sites_over_budget<'a>(sites: &'a Sites, metrics: &Metrics) -> Vec<&'a Site> {
    sites
        .iter()
        .filter(|site| site.max_bytes.is_some())
        .filter(|site| {
            let measured = metrics
                .site_stored_bytes
                .get_metric_with_label_values(&[site.id.as_str()])
                .map_or(0, |gauge| gauge.get());
            over_budget(site, measured)
        })
        .collect()
}
