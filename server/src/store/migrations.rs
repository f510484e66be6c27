//! The migrations of each backend, compiled in so the binary alone can
//! create its database. Append only: a released migration never changes.

use std::borrow::Cow;

use futures_core::future::BoxFuture;
use sqlx::migrate::{Migration, MigrationSource, MigrationType};

/// Migrations listed by hand (sqlx's `migrate!` would need its macros and
/// their dependencies for a few lines); the test below keeps each list to
/// its folder.
#[derive(Debug, Clone, Copy)]
pub(super) struct Embedded(&'static [(i64, &'static str, &'static str)]);

pub(super) const SQLITE: Embedded = Embedded(&[
    (1, "destinations", include_str!("../../migrations/sqlite/0001_destinations.sql")),
    (2, "accounts", include_str!("../../migrations/sqlite/0002_accounts.sql")),
    (3, "slack destinations", include_str!("../../migrations/sqlite/0003_slack_destinations.sql")),
    (4, "settings", include_str!("../../migrations/sqlite/0004_settings.sql")),
    (5, "slack events", include_str!("../../migrations/sqlite/0005_slack_events.sql")),
    (6, "slack installs", include_str!("../../migrations/sqlite/0006_slack_installs.sql")),
    (7, "alerts", include_str!("../../migrations/sqlite/0007_alerts.sql")),
    (8, "triage", include_str!("../../migrations/sqlite/0008_triage.sql")),
    (9, "retention", include_str!("../../migrations/sqlite/0009_retention.sql")),
    (10, "dedup", include_str!("../../migrations/sqlite/0010_dedup.sql")),
    (11, "leases", include_str!("../../migrations/sqlite/0011_leases.sql")),
    (12, "socket mode", include_str!("../../migrations/sqlite/0012_socket_mode.sql")),
    (13, "links", include_str!("../../migrations/sqlite/0013_links.sql")),
    (14, "mentions reminders", include_str!("../../migrations/sqlite/0014_mentions_reminders.sql")),
]);

pub(super) const POSTGRES: Embedded = Embedded(&[
    (1, "schema", include_str!("../../migrations/postgres/0001_schema.sql")),
    (2, "socket mode", include_str!("../../migrations/postgres/0002_socket_mode.sql")),
    (3, "links", include_str!("../../migrations/postgres/0003_links.sql")),
    (4, "mentions reminders", include_str!("../../migrations/postgres/0004_mentions_reminders.sql")),
]);

impl<'s> MigrationSource<'s> for Embedded {
    fn resolve(self) -> BoxFuture<'s, Result<Vec<Migration>, sqlx::error::BoxDynError>> {
        Box::pin(async move {
            Ok(self
                .0
                .iter()
                .map(|&(version, description, sql)| {
                    Migration::new(version, Cow::Borrowed(description), MigrationType::Simple, Cow::Borrowed(sql), false)
                })
                .collect())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{Embedded, POSTGRES, SQLITE};

    /// A file added without its line, a line without its file, a number out
    /// of order or a description that is not the file's name fails here.
    #[test]
    fn each_migration_list_is_its_folder() {
        for (folder, Embedded(list)) in [("sqlite", SQLITE), ("postgres", POSTGRES)] {
            let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(folder);
            let mut files: Vec<(i64, String, String)> = std::fs::read_dir(&folder)
                .unwrap()
                .map(|entry| {
                    let path = entry.unwrap().path();
                    let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
                    let (number, description) = name.split_once('_').unwrap_or_else(|| panic!("{name}: name it NNNN_what.sql"));
                    (number.parse().unwrap(), description.replace('_', " "), std::fs::read_to_string(&path).unwrap())
                })
                .collect();
            files.sort();
            let listed: Vec<(i64, String, String)> = list.iter().map(|&(n, d, sql)| (n, d.to_owned(), sql.to_owned())).collect();
            let names = |list: &[(i64, String, String)]| list.iter().map(|(n, d, _)| format!("{n} {d}")).collect::<Vec<_>>();
            assert_eq!(names(&listed), names(&files), "store/migrations.rs and the files in {}", folder.display());
            assert!(listed == files, "a listed migration's SQL is not its file's ({})", folder.display());
            let numbers: Vec<i64> = listed.iter().map(|(n, ..)| *n).collect();
            assert_eq!(numbers, (1..=listed.len() as i64).collect::<Vec<_>>(), "numbered 1, 2, 3… with no gap");
        }
    }
}
