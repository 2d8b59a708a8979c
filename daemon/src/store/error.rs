//! What can go wrong in the store, typed so the driver can tell a corrupt row
//! (a clear error naming table, row, column and value) from a busy database.

use std::path::PathBuf;

/// A store call that did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The data directory could not be created.
    #[error("cannot create the data directory {}: {source}", path.display())]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The database file could not be opened or configured.
    #[error("cannot open the store {location}: {source}")]
    Open {
        /// The file (or `:memory:`).
        location: String,
        /// Why.
        source: rusqlite::Error,
    },
    /// The database was written by a newer build: refusing beats corrupting it.
    #[error(
        "the store {location} has schema version {found}, but this build knows versions up to \
         {supported}: run a newer `ao`, or use another --data-dir"
    )]
    TooNew {
        /// The file (or `:memory:`).
        location: String,
        /// The version in the file.
        found: i64,
        /// The newest version this build knows.
        supported: u32,
    },
    /// A migration failed (it was rolled back; the file keeps its old version).
    #[error("cannot migrate the store {location} to schema version {version}: {source}")]
    Migration {
        /// The file (or `:memory:`).
        location: String,
        /// The version being applied.
        version: u32,
        /// Why.
        source: rusqlite::Error,
    },
    /// SQLite refused a query (busy past the timeout, disk full, I/O error, ...).
    #[error("store query failed: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A stored value does not decode: an unknown enum word, a negative count,
    /// malformed JSON. Never a panic, never a guess.
    #[error("{table} row `{row}`: column `{column}` holds `{value}`: {reason}")]
    BadValue {
        /// The table.
        table: &'static str,
        /// The row's key (session id, op id, ...).
        row: String,
        /// The column (or metadata key).
        column: String,
        /// The stored value, as text.
        value: String,
        /// Why it does not decode.
        reason: String,
    },
    /// A number that does not fit SQLite's signed 64-bit integers.
    #[error("cannot store {column} = {value}: it does not fit a signed 64-bit integer")]
    TooLarge {
        /// The column.
        column: &'static str,
        /// The value.
        value: u64,
    },
    /// A value could not be encoded as JSON (not expected for core types).
    #[error("cannot encode {what} as JSON: {source}")]
    Encode {
        /// What was being encoded.
        what: &'static str,
        /// Why.
        source: serde_json::Error,
    },
}
