//! What `kruimel user` does: change the users file, and write each change
//! to the audit log (actor `cli`, origin `local`). Sessions of a user
//! whose password changed or who was removed end when the server next
//! reads the file (`http::dashboard` checks the user on every request).

use std::collections::BTreeMap;

use super::audit::{AuditLog, Entry};
use super::users::{Role, User, Users, UsersError, is_name};
use super::{password, totp};
use crate::config::Config;

#[derive(Debug, thiserror::Error)]
pub enum ManageError {
    #[error(transparent)]
    Users(#[from] UsersError),
    #[error(transparent)]
    Password(#[from] password::PasswordError),
    #[error("no site {0:?} is configured")]
    UnknownSite(String),
    #[error("{0:?} is not SITE=ROLE with ROLE viewer or admin")]
    Grant(String),
    #[error("user {0:?} exists already; use `kruimel user passwd` or `grant`")]
    Exists(String),
    #[error("user {0:?}: names are 1 to 64 of a-z, 0-9, '.', '_', '-' and '@'")]
    Name(String),
    #[error("audit log: {0}")]
    Audit(std::io::Error),
}

/// The users file and audit log a configuration names.
pub struct Manager<'a> {
    config: &'a Config,
    users: Users,
    audit: AuditLog,
}

impl<'a> Manager<'a> {
    pub fn open(config: &'a Config) -> Result<Manager<'a>, ManageError> {
        Ok(Manager {
            config,
            users: Users::load(&config.users_file())?,
            audit: AuditLog::open(&config.audit_log()).map_err(ManageError::Audit)?,
        })
    }

    fn save(&self, action: &str, object: &str) -> Result<(), ManageError> {
        self.users.save(&self.config.users_file())?;
        self.audit.record(&Entry {
            time: jiff::Timestamp::now()
                .round(jiff::Unit::Second)
                .unwrap_or_default()
                .to_string(),
            action,
            object,
            result: "ok",
            origin: "local".to_owned(),
            actor: "cli",
        });
        Ok(())
    }

    /// `SITE=ROLE` → the pair, for a configured site.
    pub(crate) fn grant_of(&self, text: &str) -> Result<(String, Role), ManageError> {
        let (site, role) = text
            .split_once('=')
            .ok_or_else(|| ManageError::Grant(text.to_owned()))?;
        let role = Role::parse(role).ok_or_else(|| ManageError::Grant(text.to_owned()))?;
        if !self
            .config
            .sites
            .iter()
            .any(|configured| configured.id == site)
        {
            return Err(ManageError::UnknownSite(site.to_owned()));
        }
        Ok((site.to_owned(), role))
    }

    pub fn add(
        &mut self,
        name: &str,
        password: &str,
        grants: &[String],
    ) -> Result<(), ManageError> {
        if !is_name(name) {
            return Err(ManageError::Name(name.to_owned()));
        }
        if self.users.get(name).is_some() {
            return Err(ManageError::Exists(name.to_owned()));
        }
        let sites = grants
            .iter()
            .map(|grant| self.grant_of(grant))
            .collect::<Result<BTreeMap<_, _>, _>>()?;
        self.users.put(User {
            name: name.to_owned(),
            password: password::hash(password)?,
            totp: None,
            sites,
            unlocked_at: None,
        })?;
        self.save("user_add", name)
    }

    pub fn set_password(&mut self, name: &str, password: &str) -> Result<(), ManageError> {
        let hash = password::hash(password)?;
        self.users.get_mut(name)?.password = hash;
        self.save("user_password", name)
    }

    pub fn grant(&mut self, name: &str, grant: &str) -> Result<(), ManageError> {
        let (site, role) = self.grant_of(grant)?;
        self.users.get_mut(name)?.sites.insert(site, role);
        self.save("user_grant", &format!("{name} {grant}"))
    }

    pub fn revoke(&mut self, name: &str, site: &str) -> Result<(), ManageError> {
        self.users.get_mut(name)?.sites.remove(site);
        self.save("user_revoke", &format!("{name} {site}"))
    }

    /// Gives the user a new second factor; returns its `otpauth://` URI.
    pub fn enable_totp(&mut self, name: &str) -> Result<String, ManageError> {
        let secret = totp::new_secret();
        let uri = totp::uri(&secret, name).unwrap_or_default();
        self.users.get_mut(name)?.totp = Some(secret);
        self.save("user_totp_on", name)?;
        Ok(uri)
    }

    pub fn disable_totp(&mut self, name: &str) -> Result<(), ManageError> {
        self.users.get_mut(name)?.totp = None;
        self.save("user_totp_off", name)
    }

    /// Lifts every sign-in lock on the user, from every network, at once:
    /// the server reads the moment from the users file.
    pub fn unlock(&mut self, name: &str, now: i64) -> Result<(), ManageError> {
        self.users.get_mut(name)?.unlocked_at = Some(now);
        self.save("user_unlock", name)
    }

    pub fn remove(&mut self, name: &str) -> Result<(), ManageError> {
        self.users.remove(name)?;
        self.save("user_remove", name)
    }

    /// One line per user: name, second factor, roles.
    pub fn list(&self) -> Vec<String> {
        self.users
            .iter()
            .map(|user| {
                let sites: Vec<String> = user
                    .sites
                    .iter()
                    .map(|(site, role)| format!("{site}={}", role.as_str()))
                    .collect();
                format!(
                    "{}\t{}\t{}",
                    user.name,
                    if user.totp.is_some() { "totp" } else { "-" },
                    sites.join(",")
                )
            })
            .collect()
    }
}
