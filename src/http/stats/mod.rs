//! Counts read back: the stats API (`query`), which writes each answer as
//! JSON (`json`) or CSV (`csv`), the zip of every panel (`export`) and the
//! consent choices per banner version (`consent`), with who may read them
//! (`access`). Its OpenAPI document is `openapi.json`.

pub(super) mod access;
pub(super) mod consent;
pub(super) mod csv;
pub(super) mod export;
pub(super) mod json;
pub(super) mod query;
