//! Small named values kept beside the store: the local server's clock setting and the marker of
//! an imported `store.json`.

use chrono::Duration;
use consent::ports::StoreError;
use rusqlite::{OptionalExtension, params};

use crate::database::SqliteStore;
use crate::errors::store_error;

/// The setting holding the clock's offset from real time, in microseconds.
const CLOCK_OFFSET: &str = "clock_offset_micros";

impl SqliteStore {
    /// The kept clock offset (`None`: the clock runs on real time).
    pub fn clock_offset(&self) -> Result<Option<Duration>, StoreError> {
        let kept: Option<String> = self.db.read("clock_offset", |tx| {
            tx.prepare_cached("SELECT value FROM settings WHERE name = ?1")?
                .query_row([CLOCK_OFFSET], |row| row.get(0))
                .optional()
        })?;
        Ok(kept
            .and_then(|text| text.parse::<i64>().ok())
            .map(Duration::microseconds))
    }

    /// Keeps the clock offset (`None`: real time).
    pub async fn set_clock_offset(&self, offset: Option<Duration>) -> Result<(), StoreError> {
        const OPERATION: &str = "set_clock_offset";
        let value = offset
            .and_then(|o| o.num_microseconds())
            .map(|us| us.to_string());
        self.db
            .write(OPERATION, move |tx| {
                let result = match &value {
                    Some(value) => tx.execute(
                        "INSERT OR REPLACE INTO settings (name, value) VALUES (?1, ?2)",
                        params![CLOCK_OFFSET, value],
                    ),
                    None => tx.execute("DELETE FROM settings WHERE name = ?1", [CLOCK_OFFSET]),
                };
                result.map_err(|e| store_error(OPERATION, e))?;
                Ok(())
            })
            .await
    }
}
