//! Dashboard sign-in settings (`[dashboard]`).

use std::path::PathBuf;

use serde::Deserialize;

/// When the session cookie is marked `Secure`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecureCookies {
    /// When the request came over TLS: `X-Forwarded-Proto: https` from a
    /// trusted proxy.
    #[default]
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DashboardConfig {
    /// The users file; empty means `users.toml` in `server.data_dir`.
    pub(crate) users_file: Option<PathBuf>,
    /// The audit log; empty means `audit.log` in `server.data_dir`.
    pub(crate) audit_log: Option<PathBuf>,
    pub(crate) session_idle_minutes: u32,
    pub(crate) session_absolute_hours: u32,
    /// Administrators must have a second factor to sign in.
    pub(crate) require_totp_for_admins: bool,
    pub(crate) secure_cookies: SecureCookies,
}

impl Default for DashboardConfig {
    fn default() -> Self {
        DashboardConfig {
            users_file: None,
            audit_log: None,
            session_idle_minutes: 30,
            session_absolute_hours: 12,
            require_totp_for_admins: false,
            secure_cookies: SecureCookies::Auto,
        }
    }
}
