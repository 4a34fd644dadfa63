//! The users file: who may sign in to the dashboard, with which password
//! hash, second factor and role per site. `kruimel user` edits it; the
//! server re-reads it when it changes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::password;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Role {
    /// Reads the site's statistics.
    Viewer,
    /// Also manages the site (share links, its users' access).
    Admin,
}

impl Role {
    pub(crate) fn parse(text: &str) -> Option<Role> {
        match text {
            "viewer" => Some(Role::Viewer),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Admin => "admin",
        }
    }
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct User {
    pub name: String,
    /// argon2id, PHC string form.
    pub password: String,
    /// Base32 TOTP secret, when the user has a second factor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp: Option<String>,
    /// Site id → role.
    #[serde(default)]
    pub sites: BTreeMap<String, Role>,
    /// When an administrator last lifted a lockout (`kruimel user unlock`),
    /// in Unix seconds: sign-in failures and locks from before it are void.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) unlocked_at: Option<i64>,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("name", &self.name)
            .field("sites", &self.sites)
            .field("totp", &self.totp.is_some())
            .finish_non_exhaustive()
    }
}

impl User {
    /// A fingerprint of the password hash and the second factor: a session
    /// begun under other credentials is over (`http::dashboard_auth`).
    pub(crate) fn credential(&self) -> [u8; 8] {
        let mut hasher = blake3::Hasher::new();
        hasher.update(self.password.as_bytes());
        hasher.update(b"\0");
        hasher.update(self.totp.as_deref().unwrap_or("").as_bytes());
        let mut fingerprint = [0; 8];
        fingerprint.copy_from_slice(&hasher.finalize().as_bytes()[..8]);
        fingerprint
    }

    pub(crate) fn role(&self, site: &str) -> Option<Role> {
        self.sites.get(site).copied()
    }

    pub(crate) fn is_admin_anywhere(&self) -> bool {
        self.sites.values().any(|role| *role == Role::Admin)
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileForm {
    #[serde(default, rename = "users")]
    users: Vec<User>,
}

#[derive(Debug, thiserror::Error)]
pub enum UsersError {
    #[error("cannot read {path}: {message}")]
    Read { path: String, message: String },
    #[error("cannot write {path}: {message}")]
    Write { path: String, message: String },
    #[error("user {0:?}: names are 1 to 64 of a-z, 0-9, '.', '_', '-' and '@'")]
    Name(String),
    #[error("user {0:?}: the password must be an argon2id hash (use `kruimel user`)")]
    Hash(String),
    #[error("user {0:?} is listed twice")]
    Duplicate(String),
    #[error("no user {0:?}")]
    Unknown(String),
}

pub(crate) fn is_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-@".contains(&b))
}

/// The users, checked, by name.
#[derive(Debug, Default)]
pub(crate) struct Users {
    users: BTreeMap<String, User>,
}

impl Users {
    pub(crate) fn load(path: &Path) -> Result<Users, UsersError> {
        let shown = path.display().to_string();
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Users::default());
            }
            Err(error) => {
                return Err(UsersError::Read {
                    path: shown,
                    message: error.to_string(),
                });
            }
        };
        let form: FileForm = toml::from_str(&text).map_err(|error| UsersError::Read {
            path: shown,
            message: error.to_string(),
        })?;
        let mut users = Users::default();
        for user in form.users {
            users.check(&user)?;
            if users.users.contains_key(&user.name) {
                return Err(UsersError::Duplicate(user.name));
            }
            users.users.insert(user.name.clone(), user);
        }
        Ok(users)
    }

    fn check(&self, user: &User) -> Result<(), UsersError> {
        if !is_name(&user.name) {
            return Err(UsersError::Name(user.name.clone()));
        }
        if !password::is_hash(&user.password) {
            return Err(UsersError::Hash(user.name.clone()));
        }
        Ok(())
    }

    /// Writes the file whole (a new file renamed over the old), readable
    /// by its owner only: it holds hashes and second-factor secrets.
    pub(crate) fn save(&self, path: &Path) -> Result<(), UsersError> {
        let failed = |error: std::io::Error| UsersError::Write {
            path: path.display().to_string(),
            message: error.to_string(),
        };
        let form = FileForm {
            users: self.users.values().cloned().collect(),
        };
        let text = format!(
            "# Dashboard users, written by `kruimel user`. Passwords are argon2id hashes.\n{}",
            toml::to_string(&form).expect("users serialise")
        );
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(failed)?;
        }
        let fresh = path.with_extension("toml.new");
        {
            use std::io::Write;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&fresh).map_err(failed)?;
            file.write_all(text.as_bytes()).map_err(failed)?;
            file.sync_all().map_err(failed)?;
        }
        std::fs::rename(&fresh, path).map_err(failed)
    }

    pub(crate) fn get(&self, name: &str) -> Option<&User> {
        self.users.get(name)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &User> {
        self.users.values()
    }

    /// Adds or replaces a user.
    pub(crate) fn put(&mut self, user: User) -> Result<(), UsersError> {
        self.check(&user)?;
        self.users.insert(user.name.clone(), user);
        Ok(())
    }

    pub(crate) fn remove(&mut self, name: &str) -> Result<User, UsersError> {
        self.users
            .remove(name)
            .ok_or_else(|| UsersError::Unknown(name.to_owned()))
    }

    pub(crate) fn get_mut(&mut self, name: &str) -> Result<&mut User, UsersError> {
        self.users
            .get_mut(name)
            .ok_or_else(|| UsersError::Unknown(name.to_owned()))
    }
}

/// The users file as the server sees it: read again when it changes.
pub(crate) struct UsersFile {
    path: PathBuf,
    cached: Mutex<(Option<SystemTime>, Arc<Users>)>,
}

impl UsersFile {
    pub(crate) fn open(path: PathBuf) -> Result<UsersFile, UsersError> {
        let modified = modified(&path);
        let users = Users::load(&path)?;
        Ok(UsersFile {
            path,
            cached: Mutex::new((modified, Arc::new(users))),
        })
    }

    /// The users as the file holds them now. A file that became unreadable
    /// or invalid keeps the last good users (and is logged).
    pub(crate) fn current(&self) -> Arc<Users> {
        let mut cached = self.cached.lock().unwrap_or_else(|p| p.into_inner());
        let now = modified(&self.path);
        if now != cached.0 {
            match Users::load(&self.path) {
                Ok(users) => *cached = (now, Arc::new(users)),
                Err(error) => {
                    tracing::error!(%error, "users file not reloaded; the last good one stays")
                }
            }
        }
        cached.1.clone()
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path)
        .and_then(|meta| meta.modified())
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_round_trip_through_their_file_readable_by_the_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users.toml");
        let mut users = Users::load(&path).unwrap();
        users
            .put(User {
                name: "anna@gemeente.example".into(),
                password: password::hash("een lang wachtwoord").unwrap(),
                totp: None,
                sites: BTreeMap::from([("gemeente.example".into(), Role::Admin)]),
                unlocked_at: None,
            })
            .unwrap();
        users.save(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = Users::load(&path).unwrap();
        let anna = again.get("anna@gemeente.example").unwrap();
        assert_eq!(anna.role("gemeente.example"), Some(Role::Admin));
        assert_eq!(anna.role("other.example"), None);
        assert!(
            !format!("{anna:?}").contains("argon2"),
            "hashes never print"
        );
    }

    #[test]
    fn a_plain_password_or_a_bad_name_in_the_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users.toml");
        std::fs::write(&path, "[[users]]\nname = \"anna\"\npassword = \"geheim\"\n").unwrap();
        assert!(matches!(Users::load(&path), Err(UsersError::Hash(_))));
        std::fs::write(&path, "[[users]]\nname = \"Anna Smit\"\npassword = \"x\"\n").unwrap();
        assert!(matches!(Users::load(&path), Err(UsersError::Name(_))));
    }
}
