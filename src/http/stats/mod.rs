//! Counts read back: the stats API (`query`), its downloads as CSV and zip
//! (`export`) and the consent choices per banner version (`consent`), with
//! who may read them (`access`). Its OpenAPI document is `openapi.json`.

pub(super) mod access;
pub(super) mod consent;
pub(super) mod export;
pub(super) mod query;
