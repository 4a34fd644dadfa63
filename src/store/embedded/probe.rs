//! A read-only look at an existing database file.
//!
//! redb may write while opening (to repair a file not closed cleanly); the
//! overlay keeps those writes in memory so checking a foreign file never
//! changes it.

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::sync::Mutex;

use redb::StorageBackend;

/// A redb storage backend that reads a file and keeps every write in
/// memory, in copy-on-write blocks: the file is never written.
#[derive(Debug)]
pub(super) struct Overlay {
    state: Mutex<OverlayState>,
}

#[derive(Debug)]
struct OverlayState {
    file: std::fs::File,
    len: u64,
    /// Bytes of the file still visible (a shrinking `set_len` hides the rest).
    file_len: u64,
    blocks: HashMap<u64, Box<[u8]>>,
}

const OVERLAY_BLOCK: u64 = 4096;

impl Overlay {
    pub(super) fn new(file: std::fs::File) -> std::io::Result<Overlay> {
        let len = file.metadata()?.len();
        Ok(Overlay {
            state: Mutex::new(OverlayState {
                file,
                len,
                file_len: len,
                blocks: HashMap::new(),
            }),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, OverlayState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl OverlayState {
    /// One block as the overlay sees it: written bytes, else the file's, else zeros.
    fn block(&mut self, index: u64) -> std::io::Result<Box<[u8]>> {
        if let Some(block) = self.blocks.get(&index) {
            return Ok(block.clone());
        }
        let mut block = vec![0; OVERLAY_BLOCK as usize].into_boxed_slice();
        let start = index * OVERLAY_BLOCK;
        let from_file = self.file_len.saturating_sub(start).min(OVERLAY_BLOCK) as usize;
        if from_file > 0 {
            self.file.seek(SeekFrom::Start(start))?;
            self.file.read_exact(&mut block[..from_file])?;
        }
        Ok(block)
    }
}

impl StorageBackend for Overlay {
    fn len(&self) -> std::io::Result<u64> {
        Ok(self.state().len)
    }

    fn read(&self, offset: u64, len: usize) -> std::io::Result<Vec<u8>> {
        let mut state = self.state();
        if offset.saturating_add(len as u64) > state.len {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let mut out = Vec::with_capacity(len);
        while out.len() < len {
            let at = offset + out.len() as u64;
            let within = (at % OVERLAY_BLOCK) as usize;
            let take = (OVERLAY_BLOCK as usize - within).min(len - out.len());
            let block = state.block(at / OVERLAY_BLOCK)?;
            out.extend_from_slice(&block[within..within + take]);
        }
        Ok(out)
    }

    fn set_len(&self, len: u64) -> std::io::Result<()> {
        let mut state = self.state();
        if len < state.len {
            state.file_len = state.file_len.min(len);
            state.blocks.retain(|index, _| index * OVERLAY_BLOCK < len);
            let tail = (len % OVERLAY_BLOCK) as usize;
            if let Some(block) = state.blocks.get_mut(&(len / OVERLAY_BLOCK)) {
                block[tail..].fill(0);
            }
        }
        state.len = len;
        Ok(())
    }

    fn sync_data(&self, _eventual: bool) -> std::io::Result<()> {
        Ok(())
    }

    fn write(&self, offset: u64, data: &[u8]) -> std::io::Result<()> {
        let mut state = self.state();
        let mut done = 0;
        while done < data.len() {
            let at = offset + done as u64;
            let index = at / OVERLAY_BLOCK;
            let within = (at % OVERLAY_BLOCK) as usize;
            let take = (OVERLAY_BLOCK as usize - within).min(data.len() - done);
            let mut block = match state.blocks.remove(&index) {
                Some(block) => block,
                None => state.block(index)?,
            };
            block[within..within + take].copy_from_slice(&data[done..done + take]);
            state.blocks.insert(index, block);
            done += take;
        }
        state.len = state.len.max(offset + data.len() as u64);
        Ok(())
    }
}
