//! One server per data directory: an exclusive lock on `<dir>/lock`, held while the server runs
//! and released by the OS however the process ends (even `kill -9`), so a stale lock never
//! blocks a restart. The holder writes its process id in the file for the message a second
//! server prints.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::Path;

use super::{DataDirError, io};

/// The held lock.
#[derive(Debug)]
pub struct DirLock {
    _file: File,
}

impl DirLock {
    /// Takes the lock of `dir`, or fails naming the process that holds it.
    pub fn take(dir: &Path) -> Result<Self, DataDirError> {
        let path = dir.join("lock");
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io(&path))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                return Err(DataDirError::InUse {
                    path,
                    holder: if holder.is_empty() {
                        "unknown".to_string()
                    } else {
                        holder.to_string()
                    },
                });
            }
            Err(TryLockError::Error(source)) => return Err(io(&path)(source)),
        }
        file.set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| writeln!(file, "{}", std::process::id()))
            .map_err(io(&path))?;
        Ok(Self { _file: file })
    }
}
