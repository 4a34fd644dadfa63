//! The enrich stage: what a beacon says about its visitor, in coarse classes.
//!
//! Owns the bot filter and user-agent classes (`agent`, memoised by
//! `agent_cache`), the country lookup
//! (`country`) and the referrer's source (`source`).
//! Invariant: the raw user agent and the referrer URL enter here and leave
//! only as classes (browser, OS, device) and a host with a source name.

pub mod agent;
pub(crate) mod agent_cache;
pub mod country;
pub(crate) mod source;
