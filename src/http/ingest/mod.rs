//! What the public listener takes in from every page: beacons (`event`),
//! the script that sends them (`script`), the client's address behind
//! proxies (`client_ip`), the per-network rate limit (`rate_limit`), the
//! daily cap on a site's stored values (`daily_cap`) and CORS (`cors`).

pub(crate) mod client_ip;
pub(super) mod cors;
pub(super) mod daily_cap;
pub(crate) mod event;
pub mod rate_limit;
pub mod script;
