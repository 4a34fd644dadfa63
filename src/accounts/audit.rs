//! The audit log: one JSON line per sign-in, sign-out, failed sign-in and
//! administrative action — action, object, result, origin (the truncated
//! network), actor and time — appended to a file and also logged under
//! the `kruimel::audit` target.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;

#[derive(Debug, Serialize)]
pub(crate) struct Entry<'a> {
    /// RFC 3339, to the second.
    pub time: String,
    pub action: &'a str,
    pub(crate) object: &'a str,
    pub result: &'a str,
    /// The client's network after truncation (`192.0.2.0/24`).
    pub origin: String,
    pub actor: &'a str,
}

/// The file is opened for each entry (entries are rare), so the log holds
/// no handle on the data directory's file system between them, and a
/// failed write is followed by a fresh attempt.
pub(crate) struct AuditLog {
    path: PathBuf,
    /// One writer at a time, so lines never interleave.
    writing: Mutex<()>,
}

impl AuditLog {
    /// Checks that the log can be written (the directory is made if needed).
    pub(crate) fn open(path: &Path) -> std::io::Result<AuditLog> {
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let log = AuditLog {
            path: path.to_owned(),
            writing: Mutex::new(()),
        };
        log.file()?;
        Ok(log)
    }

    fn file(&self) -> std::io::Result<std::fs::File> {
        let mut options = std::fs::OpenOptions::new();
        options.create(true).append(true);
        // Names and networks of people who signed in: for operators only.
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options.open(&self.path)
    }

    pub(crate) fn record(&self, entry: &Entry<'_>) {
        let line = serde_json::to_string(entry).expect("an audit entry serialises");
        tracing::info!(target: "kruimel::audit", action = entry.action, object = entry.object, result = entry.result, origin = %entry.origin, actor = entry.actor, "audit");
        let _one_writer = self.writing.lock().unwrap_or_else(|p| p.into_inner());
        let written = self
            .file()
            .and_then(|mut file| writeln!(file, "{line}").and_then(|()| file.flush()));
        if let Err(error) = written {
            tracing::error!(%error, path = %self.path.display(), "audit log not written");
        }
    }
}
