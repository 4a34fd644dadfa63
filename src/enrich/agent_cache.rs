//! A bounded memo of user-agent classes.
//!
//! Classifying a user agent (woothee, then the bot list) was the largest
//! single cost on the request path, and real traffic repeats a few thousand
//! user agents. The memo is keyed by a 64-bit hash of the header and holds
//! only the classes: the user agent itself is not kept. It lives in memory,
//! per process, and is cleared shard by shard when full.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::Mutex;

use super::agent::{Agent, AgentClassifier};

/// Shards keep request threads from queueing on one lock.
const SHARDS: usize = 16;

pub(crate) struct AgentCache {
    classifier: AgentClassifier,
    shards: Vec<Mutex<HashMap<u64, Agent, foldhash::fast::FixedState>>>,
    per_shard: usize,
    hasher: foldhash::fast::FixedState,
}

impl AgentCache {
    pub(crate) fn new(classifier: AgentClassifier, capacity: usize) -> AgentCache {
        AgentCache {
            classifier,
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            per_shard: (capacity / SHARDS).max(1),
            // A seed of the process's own, so entries cannot be aimed at.
            hasher: foldhash::fast::FixedState::with_seed(rand::random()),
        }
    }

    pub(crate) fn classify(&self, user_agent: &str) -> Agent {
        let hash = self.hasher.hash_one(user_agent);
        let shard = &self.shards[(hash % SHARDS as u64) as usize];
        let lock = || shard.lock().unwrap_or_else(|poison| poison.into_inner());
        if let Some(agent) = lock().get(&hash) {
            return *agent;
        }
        let agent = self.classifier.classify(user_agent);
        let mut memo = lock();
        if memo.len() >= self.per_shard {
            memo.clear();
        }
        memo.insert(hash, agent);
        agent
    }
}

#[cfg(test)]
impl AgentCache {
    fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| shard.lock().map_or(0, |memo| memo.len()))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enrich::agent::Device;

    const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

    #[test]
    fn cached_answers_equal_fresh_ones() {
        let cache = AgentCache::new(AgentClassifier::new(), 64);
        let fresh = AgentClassifier::new().classify(FIREFOX);
        assert_eq!(cache.classify(FIREFOX), fresh);
        assert_eq!(cache.classify(FIREFOX), fresh, "from the memo");
        assert!(
            matches!(cache.classify(FIREFOX), Agent::Human(classes) if classes.device == Device::Desktop)
        );
        assert_eq!(cache.classify("curl/8.5.0"), Agent::Bot);
    }

    #[test]
    fn the_memo_stays_within_its_capacity() {
        let cache = AgentCache::new(AgentClassifier::new(), 32);
        for version in 0..1_000 {
            cache.classify(&format!(
                "Mozilla/5.0 (X11; Linux x86_64; rv:{version}.0) Gecko/20100101 Firefox/{version}.0"
            ));
        }
        assert!(cache.len() <= 32, "{} entries", cache.len());
        assert!(cache.len() > 0);
    }
}
