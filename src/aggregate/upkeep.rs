//! The aggregator's upkeep at its ticks: retention (aggregates, consent
//! counts and expired consent receipts), the per-site gauges read back
//! from the store, and what the daily cap on distinct values did.

use super::Running;
use super::distinct::{Property, Seeded};
use crate::sites::{Moment, Sites};
use crate::store::{Dim, Granularity, RowPrefix};

impl Running {
    /// Each site's visitors of its local day so far, from the store (on
    /// Redis: of every instance together).
    pub(super) fn publish_visitors_today(&mut self, sites: &Sites, moments: &[Moment]) {
        for site in sites.iter() {
            let today = moments[site.idx.index()].day;
            let totals = RowPrefix {
                site: site.id.as_str().to_owned(),
                filter: (Dim::None, String::new()),
                breakdown: Dim::None,
                granularity: Granularity::Day,
            };
            match self.parts.store.scan(&totals, today, today) {
                Ok(rows) => {
                    let visitors = rows.first().map_or(0, |row| row.counts.visitors);
                    self.parts
                        .metrics
                        .site_visitors_today
                        .with_label_values(&[site.id.as_str()])
                        .set(visitors);
                }
                Err(error) => tracing::debug!(%error, "visitors today unavailable"),
            }
        }
    }

    /// Counts the values the daily cap turned into "(other)", and logs
    /// each site and property that reached its cap today, once.
    pub(super) fn report_capped(&mut self, sites: &Sites) {
        let capped = self.cap.take_capped();
        for (property, count) in Property::ALL.iter().zip(capped) {
            if count > 0 {
                self.parts.metrics.values_capped(*property).inc_by(count);
            }
        }
        for (site, property) in self.cap.take_newly_full() {
            let site = sites.iter().find(|s| s.idx.index() == site);
            tracing::warn!(
                site = site.map_or("", |s| s.id.as_str()),
                property = property.as_str(),
                "distinct values of the day reached the cap; new ones count under (other)"
            );
        }
    }

    /// Starts the daily cap of each site with the values its current
    /// day already holds in the store (unfiltered breakdown rows).
    pub(super) fn seed_cap(&mut self, sites: &Sites, moments: &[Moment]) {
        const SEEDED: [(Dim, Option<Property>); 8] = [
            (Dim::Page, Some(Property::Page)),
            (Dim::Referrer, Some(Property::Referrer)),
            (Dim::Source, Some(Property::Source)),
            (Dim::UtmSource, Some(Property::UtmSource)),
            (Dim::UtmMedium, Some(Property::UtmMedium)),
            (Dim::UtmCampaign, Some(Property::UtmCampaign)),
            (Dim::EventName, Some(Property::EventName)),
            (Dim::EventProp, None),
        ];
        for site in sites.iter() {
            let today = moments[site.idx.index()].day;
            for (dim, property) in SEEDED {
                let prefix = RowPrefix {
                    site: site.id.as_str().to_owned(),
                    filter: (Dim::None, String::new()),
                    breakdown: dim,
                    granularity: Granularity::Day,
                };
                let cap = &mut self.cap;
                let seeded = self
                    .parts
                    .store
                    .scan_each(&prefix, today, today, |_, text, _| {
                        let (idx, day) = (site.idx, today);
                        match (property, text.split_once('\0')) {
                            (Some(property), _) => cap.seed(idx, day, property, Seeded::Text(text)),
                            (None, Some((key, value))) => seed_prop(cap, (idx, day), key, value),
                            (None, None) => {}
                        }
                    });
                if let Err(error) = seeded {
                    tracing::warn!(site = %site.id, %error, "the day's values could not be read for the cap");
                }
            }
        }
    }

    pub(super) fn retain(&mut self, sites: &Sites, moments: &[Moment]) {
        if let Some(now) = moments.first().map(|moment| moment.unix) {
            self.expire_receipts(now);
        }
        for site in sites.iter() {
            let today = moments[site.idx.index()].day;
            let first_kept_day = today - i32::try_from(site.retention_days).unwrap_or(i32::MAX);
            if let Err(error) = self
                .parts
                .store
                .purge_tallies(site.id.as_str(), first_kept_day)
            {
                self.parts.metrics.store_errors.inc();
                tracing::error!(site = %site.id, %error, "retention of consent counts failed");
            }
            let purged = self.parts.store.purge(
                site.id.as_str(),
                first_kept_day,
                first_kept_day.saturating_mul(24),
            );
            match purged {
                Ok(removed) if removed > 0 => {
                    tracing::info!(site = %site.id, removed, "retention removed old rows");
                }
                Ok(_) => {}
                Err(error) => {
                    self.parts.metrics.store_errors.inc();
                    tracing::error!(site = %site.id, %error, "retention failed");
                }
            }
        }
    }

    /// Deletes consent receipts whose retention ended (promise 6).
    fn expire_receipts(&mut self, now: i64) {
        match self.parts.store.purge_receipts(now) {
            Ok(removed) => {
                self.parts.metrics.receipts_expired.inc_by(removed);
                if removed > 0 {
                    tracing::info!(removed, "retention removed expired consent receipts");
                }
            }
            Err(error) => {
                self.parts.metrics.store_errors.inc();
                tracing::error!(%error, "retention of consent receipts failed");
            }
        }
    }
}

/// A stored property: its key, and its value as the set it was counted in.
/// The event is not in the row, so a `url` or `path` value is taken for a
/// link target or 404 path and for a custom value both: the cap fills
/// sooner, never later.
fn seed_prop(
    cap: &mut super::distinct::DistinctCap,
    (site, day): (crate::sites::SiteIdx, i32),
    key: &str,
    value: &str,
) {
    match key {
        "url" => cap.seed(site, day, Property::LinkTarget, Seeded::Text(value)),
        "path" => cap.seed(site, day, Property::NotFoundPath, Seeded::Text(value)),
        _ => {}
    }
    cap.seed(site, day, Property::PropKey, Seeded::Text(key));
    cap.seed(site, day, Property::PropValue, Seeded::Pair(key, value));
}
