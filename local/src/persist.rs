//! The embedded store on disk: the in-memory store's state is written to `store.json` after
//! every write (to a temporary file, then renamed, so a crash leaves the old or the new state,
//! never half of one), and read back at start.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use base64::Engine;
use consent::adapters::memory::{MemoryStore, StoreState};
use consent::evidence::proof::ProofSigner;
use consent::evidence::token::TokenKeyring;

/// The data directory could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error underneath.
        #[source]
        source: std::io::Error,
    },
    /// The stored state could not be read.
    #[error("{path} is not a state file of this version: {source}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The parse error underneath.
        #[source]
        source: serde_json::Error,
    },
    /// The token key or proof key file is not valid.
    #[error("{path}: {message}")]
    BadKey {
        /// The file.
        path: PathBuf,
        /// What is wrong with the key.
        message: String,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> PersistError + '_ {
    move |source| PersistError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Opens (or creates) the store kept in `dir`.
pub fn open_store(dir: &Path) -> Result<MemoryStore, PersistError> {
    fs::create_dir_all(dir).map_err(io(dir))?;
    let path = dir.join("store.json");
    let state = match fs::read(&path) {
        Ok(bytes) => serde_json::from_slice::<StoreState>(&bytes).map_err(|source| {
            PersistError::Corrupt {
                path: path.clone(),
                source,
            }
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => StoreState::default(),
        Err(e) => return Err(io(&path)(e)),
    };
    let target = path.clone();
    Ok(MemoryStore::with_state(
        state,
        Some(Box::new(move |state: &StoreState| {
            if let Err(error) = write_atomically(&target, state) {
                // The write already happened in memory; say loudly that the disk copy is behind.
                tracing::error!(error = %error, "could not persist the local store");
            }
        })),
    ))
}

fn write_atomically(path: &Path, state: &StoreState) -> Result<(), PersistError> {
    let temp = path.with_extension("json.tmp");
    let bytes = serde_json::to_vec(state).map_err(|source| PersistError::Corrupt {
        path: path.to_path_buf(),
        source,
    })?;
    let mut file = fs::File::create(&temp).map_err(io(&temp))?;
    file.write_all(&bytes).map_err(io(&temp))?;
    file.sync_all().map_err(io(&temp))?;
    fs::rename(&temp, path).map_err(io(path))?;
    Ok(())
}

/// The token signing keys kept in `dir/token-keys` (made on first start), so links survive
/// restarts.
pub fn token_keys(dir: &Path) -> Result<TokenKeyring, PersistError> {
    let path = dir.join("token-keys");
    let spec = read_or_create(&path, |secret| {
        format!(
            "local1:{}",
            base64::engine::general_purpose::STANDARD.encode(secret)
        )
    })?;
    TokenKeyring::from_secret_spec(spec.trim()).map_err(|e| PersistError::BadKey {
        path,
        message: e.to_string(),
    })
}

/// The proof-signing key kept in `dir/proof-key` (a random Ed25519 seed made on first start,
/// readable by its owner only), so proofs stay verifiable with the same public key across
/// restarts. Its key id is derived from the public key.
pub fn proof_key(dir: &Path) -> Result<ProofSigner, PersistError> {
    let path = dir.join("proof-key");
    let spec = read_or_create(&path, |seed| {
        base64::engine::general_purpose::STANDARD.encode(seed)
    })?;
    ProofSigner::from_spec(spec.trim()).map_err(|e| PersistError::BadKey {
        path,
        message: e.to_string(),
    })
}

/// The key file at `path`, or a new one written from 32 random bytes through `spec`.
fn read_or_create(path: &Path, spec: impl Fn(&[u8; 32]) -> String) -> Result<String, PersistError> {
    match fs::read_to_string(path) {
        Ok(spec) => Ok(spec),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut secret = [0u8; 32];
            let random = Path::new("/dev/urandom");
            fs::File::open(random)
                .and_then(|mut f| f.read_exact(&mut secret))
                .map_err(io(random))?;
            let spec = spec(&secret);
            let mut options = fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                // Key material: the owner only.
                options.mode(0o600);
            }
            let mut file = options.open(path).map_err(io(path))?;
            file.write_all(spec.as_bytes()).map_err(io(path))?;
            Ok(spec)
        }
        Err(e) => Err(io(path)(e)),
    }
}
