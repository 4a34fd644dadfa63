//! The ingest stage: from a parsed beacon to hits for the aggregator.
//!
//! Owns the domain types a beacon becomes (`beacon`, `hit`) and the
//! pipeline that runs `privacy` and `enrich` over it and hands the result
//! to the aggregator without waiting (`pipeline`), within the budget of
//! hits on their way to Redis (`admission`).
//! Invariant: the request path never awaits storage; it does bounded CPU
//! work and a `try_send`.

pub(crate) mod admission;
pub mod beacon;
pub mod hit;
mod pipeline;

pub(crate) use pipeline::{DropReason, Outcome, Pipeline, PipelineParts};
