//! Dashboard accounts: users and their roles per site, passwords, second
//! factors, sign-in sessions, lockout, and the audit log.
//!
//! Users live in a TOML file (`users.toml` in the data directory by
//! default) that `kruimel user` edits and the server re-reads when it
//! changes; passwords are argon2id hashes, second factors TOTP secrets.
//! Sessions are kept in the store, so every instance sharing it knows
//! them and a restart keeps them.
//! Invariant: no password, session token or TOTP secret is logged; the
//! audit log records the truncated network, never a full address.

pub(crate) mod audit;
pub(crate) mod lockout;
pub mod manage;
pub(crate) mod password;
pub(crate) mod sessions;
pub mod totp;
pub(crate) mod users;

pub(crate) use sessions::{LoginSession, LoginSessions};
pub(crate) use users::{Role, User, UsersFile};
