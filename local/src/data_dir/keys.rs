//! The key files of the data directory, made on first start and kept, so confirmation links
//! and proofs stay valid across restarts.

use std::fs;
use std::io::{Read, Write};
use std::path::Path;

use base64::Engine;
use consent::evidence::proof::ProofSigner;
use consent::evidence::token::TokenKeyring;

use super::{DataDirError, io};

/// The token signing keys kept in `dir/token-keys` (made on first start), so links survive
/// restarts.
pub fn token_keys(dir: &Path) -> Result<TokenKeyring, DataDirError> {
    let path = dir.join("token-keys");
    let spec = read_or_create(&path, |secret| {
        format!(
            "local1:{}",
            base64::engine::general_purpose::STANDARD.encode(secret)
        )
    })?;
    TokenKeyring::from_secret_spec(spec.trim()).map_err(|e| DataDirError::BadKey {
        path,
        message: e.to_string(),
    })
}

/// The proof-signing key kept in `dir/proof-key` (a random Ed25519 seed made on first start,
/// readable by its owner only), so proofs stay verifiable with the same public key across
/// restarts. Its key id is derived from the public key.
pub fn proof_key(dir: &Path) -> Result<ProofSigner, DataDirError> {
    let path = dir.join("proof-key");
    let spec = read_or_create(&path, |seed| {
        base64::engine::general_purpose::STANDARD.encode(seed)
    })?;
    ProofSigner::from_spec(spec.trim()).map_err(|e| DataDirError::BadKey {
        path,
        message: e.to_string(),
    })
}

/// The key file at `path`, or a new one written from 32 random bytes through `spec`.
fn read_or_create(path: &Path, spec: impl Fn(&[u8; 32]) -> String) -> Result<String, DataDirError> {
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
