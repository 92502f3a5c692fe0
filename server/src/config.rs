//! Opening storage from a `--db` URL: `sqlite://PATH` (the default,
//! `./hark-data/hark.db`) or `postgres://…`.

use std::path::PathBuf;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::storage::Storage;
use crate::storage::postgres::PostgresStorage;
use crate::storage::sqlite::SqliteStorage;

/// The default database.
pub const DEFAULT_DB: &str = "sqlite://hark-data/hark.db";

/// Opens and migrates the storage a URL names.
pub fn open_storage(url: &str) -> Result<Arc<dyn Storage>> {
    if let Some(path) = url.strip_prefix("sqlite://") {
        Ok(Arc::new(SqliteStorage::open(&PathBuf::from(path))?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PostgresStorage::connect(url)?))
    } else {
        Err(Error::Config(format!(
            "--db must be sqlite://PATH or postgres://…, not '{url}'"
        )))
    }
}
