//! The data directory: the database (`consent.db`), the lock that keeps one server on it, the
//! key files, and the one-time import of the former `store.json`.

pub mod keys;
pub mod legacy;
pub mod lock;

use std::fs;
use std::path::{Path, PathBuf};

use consent_sqlite::{Durability, SqliteStore};

/// The data directory could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file that could not be used.
        path: PathBuf,
        /// The I/O error underneath.
        #[source]
        source: std::io::Error,
    },
    /// Another server holds the directory.
    #[error(
        "{path} is in use by another consent-local (process {holder}); stop it, or give this one another --data-dir"
    )]
    InUse {
        /// The lock file.
        path: PathBuf,
        /// The process holding it, as it wrote itself in the lock file.
        holder: String,
    },
    /// The database could not be opened.
    #[error(transparent)]
    Database(#[from] consent_sqlite::OpenError),
    /// The former `store.json` could not be read.
    #[error(
        "{path} is not a state file this version can import ({source}); move it away to start without it"
    )]
    Legacy {
        /// The file that could not be used.
        path: PathBuf,
        /// The parse error underneath.
        #[source]
        source: serde_json::Error,
    },
    /// Importing the former `store.json` failed.
    #[error("importing {path}: {source}")]
    Import {
        /// The file that could not be used.
        path: PathBuf,
        /// The store's error.
        #[source]
        source: consent::ports::StoreError,
    },
    /// The database could not be read at start-up.
    #[error("{path}: {source}")]
    Read {
        /// The database file.
        path: PathBuf,
        /// The store's error.
        #[source]
        source: consent::ports::StoreError,
    },
    /// The token key or proof key file is not valid.
    #[error("{path}: {message}")]
    BadKey {
        /// The file that could not be used.
        path: PathBuf,
        /// What is wrong with the key.
        message: String,
    },
}

pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DataDirError + '_ {
    move |source| DataDirError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A data directory this process holds (the lock is released when it is dropped).
#[derive(Debug)]
pub struct DataDir {
    path: PathBuf,
    _lock: lock::DirLock,
}

impl DataDir {
    /// Creates the directory if needed and takes its lock, or says which process holds it.
    pub fn take(path: &Path) -> Result<Self, DataDirError> {
        fs::create_dir_all(path).map_err(io(path))?;
        let lock = lock::DirLock::take(path)?;
        Ok(Self {
            path: path.to_path_buf(),
            _lock: lock,
        })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens the database, importing the former `store.json` first if one is there.
    pub async fn open_store(&self, durability: Durability) -> Result<SqliteStore, DataDirError> {
        let store = SqliteStore::open_with(&self.path.join("consent.db"), durability)?;
        legacy::import_once(&self.path, &store).await?;
        Ok(store)
    }
}
