//! Pages and visit attributions shared by the open visits that hold them.
//!
//! A million open visits hold far fewer distinct entry pages, sources and
//! browsers: most visits enter on a few pages from a few sources. Each
//! visit holds a pointer to one shared copy instead of its own texts, so
//! a visit costs about 64 bytes rather than about 450. The tables hold
//! only what some visit still holds: `prune` forgets the rest, so they
//! are bounded by the open visits, as the visits are by the cap.

use std::collections::HashSet;
use std::sync::Arc;

use crate::sessions::VisitAttrs;

#[derive(Default)]
pub(super) struct Interned {
    pages: HashSet<Arc<str>, foldhash::fast::RandomState>,
    attributions: HashSet<Arc<VisitAttrs>, foldhash::fast::RandomState>,
}

impl Interned {
    /// The shared copy of `page`.
    pub(super) fn page(&mut self, page: &str) -> Arc<str> {
        if let Some(shared) = self.pages.get(page) {
            return shared.clone();
        }
        let shared: Arc<str> = Arc::from(page);
        self.pages.insert(shared.clone());
        shared
    }

    /// The shared copy of `attrs`.
    pub(super) fn attributions(&mut self, attrs: VisitAttrs) -> Arc<VisitAttrs> {
        if let Some(shared) = self.attributions.get(&attrs) {
            return shared.clone();
        }
        let shared = Arc::new(attrs);
        self.attributions.insert(shared.clone());
        shared
    }

    /// Forgets what nothing else holds any more (attributions first: they
    /// hold their entry pages).
    pub(super) fn prune(&mut self) {
        self.attributions
            .retain(|attrs| Arc::strong_count(attrs) > 1);
        self.pages.retain(|page| Arc::strong_count(page) > 1);
    }

    /// Distinct pages and attributions held.
    #[cfg(test)]
    pub(super) fn len(&self) -> (usize, usize) {
        (self.pages.len(), self.attributions.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enrich::agent::Device;
    use crate::enrich::country::Country;
    use crate::privacy::url::Campaign;

    fn attrs(entry_page: Arc<str>, source: &str) -> VisitAttrs {
        VisitAttrs {
            entry_page,
            source: source.to_owned(),
            referrer: None,
            campaign: Campaign::default(),
            country: Country::UNKNOWN,
            device: Device::Desktop,
        }
    }

    #[test]
    fn equal_texts_share_one_copy_until_nothing_holds_it() {
        let mut interned = Interned::default();
        let home = interned.page("/");
        let first = interned.attributions(attrs(home.clone(), "Google"));
        let home_again = interned.page("/");
        let second = interned.attributions(attrs(home_again, "Google"));
        let other = interned.attributions(attrs(home.clone(), "Bing"));
        assert!(
            Arc::ptr_eq(&first, &second),
            "one copy of equal attributions"
        );
        assert!(!Arc::ptr_eq(&first, &other));
        assert!(Arc::ptr_eq(&first.entry_page, &home), "one copy of a page");
        assert_eq!(interned.len(), (1, 2));
        drop((first, second));
        interned.prune();
        assert_eq!(interned.len(), (1, 1), "the attribution no visit holds");
        drop((other, home));
        interned.prune();
        assert_eq!(interned.len(), (0, 0), "and then its page");
    }
}
