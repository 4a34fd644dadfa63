//! The audit log: one JSON line per sign-in, sign-out, failed sign-in and
//! administrative action — action, object, result, origin (the truncated
//! network), actor and time — appended to a file and also logged under
//! the `kruimel::audit` target.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct Entry<'a> {
    /// RFC 3339, to the second.
    pub time: String,
    pub action: &'a str,
    pub object: &'a str,
    pub result: &'a str,
    /// The client's network after truncation (`192.0.2.0/24`).
    pub origin: String,
    pub actor: &'a str,
}

pub struct AuditLog {
    path: PathBuf,
    file: Mutex<Option<std::fs::File>>,
}

impl AuditLog {
    pub fn open(path: &Path) -> std::io::Result<AuditLog> {
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut options = std::fs::OpenOptions::new();
        options.create(true).append(true);
        // Names and networks of people who signed in: for operators only.
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(path)?;
        Ok(AuditLog {
            path: path.to_owned(),
            file: Mutex::new(Some(file)),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn record(&self, entry: &Entry<'_>) {
        let line = serde_json::to_string(entry).expect("an audit entry serialises");
        tracing::info!(target: "kruimel::audit", action = entry.action, object = entry.object, result = entry.result, origin = %entry.origin, actor = entry.actor, "audit");
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        let written = file
            .as_mut()
            .map(|file| writeln!(file, "{line}").and_then(|()| file.flush()));
        if let Some(Err(error)) = written {
            tracing::error!(%error, path = %self.path.display(), "audit log not written");
        }
    }
}
