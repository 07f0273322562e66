//! The former store, `store.json` (the in-memory store's state written whole after each write),
//! imported into the database once on the first start after the upgrade, then renamed so the
//! user sees it was taken. The import and its marker are one transaction: a crash mid-import
//! imports again at the next start; a crash after it only renames.

use std::fs;
use std::path::Path;

use consent::adapters::memory::StoreState;
use consent_sqlite::SqliteStore;

use super::{DataDirError, io};

/// The former store's file name.
pub const STORE_JSON: &str = "store.json";
/// What it is renamed to once imported.
pub const IMPORTED: &str = "store.json.imported";

/// Imports `<dir>/store.json` into `store` unless it was imported before, then renames it.
pub async fn import_once(dir: &Path, store: &SqliteStore) -> Result<(), DataDirError> {
    let path = dir.join(STORE_JSON);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io(&path)(e)),
    };
    let imported = |source| DataDirError::Import {
        path: path.clone(),
        source,
    };
    if !store.is_imported(STORE_JSON).map_err(imported)? {
        let state: StoreState =
            serde_json::from_slice(&bytes).map_err(|source| DataDirError::Legacy {
                path: path.clone(),
                source,
            })?;
        tracing::info!(
            path = %path.display(),
            consents = state.consents.len(),
            "importing the former store into the database"
        );
        let report = store
            .import_state(state, STORE_JSON)
            .await
            .map_err(imported)?;
        tracing::info!(
            firms = report.firms,
            consents = report.consents,
            events = report.events,
            contacts = report.contacts,
            "imported the former store"
        );
    }
    let renamed = dir.join(IMPORTED);
    fs::rename(&path, &renamed).map_err(io(&path))?;
    Ok(())
}
