//! The migration runner, the same for both backends: each backend lists
//! its numbered migrations (`Backend::MIGRATIONS`, SQL in its own
//! dialect); the runner applies, in one transaction that only one server
//! runs at a time, every migration after the recorded version, records
//! the new version, and then fills whatever a migration added from the
//! data already there. A database newer than this build is refused.
//!
//! Every backend that keeps each capability is a [`Storage`] by the blanket
//! implementation at the end, its `migrate` this runner.
//!
//! "Upgraded equals fresh": a database made by any earlier version and
//! upgraded has exactly the schema of a new one (tested for both backends).

use super::backend::{Backend, DocTx, SchemaTx};
use super::documents::{backfill_packed, rebuild_tallies};
use super::{Accounts, AuditLog, Links, Notes, Reads, SafeguardingList, Storage, Tenancy};
use crate::error::{Error, Result};

/// The migration after which the live tallies hold each count once, with
/// every dimension (before: rollups).
const LIVE_TALLIES_UNROLLED: usize = 6;

/// Brings the schema from its recorded version to the last of
/// `migrations`.
fn run(tx: &mut (impl DocTx + SchemaTx), migrations: &[&str]) -> Result<()> {
    let version = tx.schema_version()?;
    if version > migrations.len() {
        return Err(Error::Config(format!(
            "database schema {version} is newer than this hark"
        )));
    }
    for (i, m) in migrations.iter().enumerate().skip(version) {
        tx.execute_batch(m)?;
        tx.set_schema_version(i + 1)?;
    }
    if version == 1 {
        // Migration 2 added packed answers: fill them from what is there.
        backfill_packed(tx)?;
    }
    if (1..LIVE_TALLIES_UNROLLED).contains(&version) {
        // Migration 2 added the tallies, and 6 changed what the live ones
        // hold: count them from the projections.
        rebuild_tallies(tx)?;
    }
    Ok(())
}

impl<B: Backend + Tenancy + Reads + Accounts + AuditLog + Notes + Links + SafeguardingList> Storage
    for B
{
    fn migrate(&self) -> Result<()> {
        self.migration(|tx| run(tx, B::MIGRATIONS))
    }
}
