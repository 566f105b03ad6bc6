//! Every PostgreSQL advisory lock sheetsync takes, in one place.
//!
//! Advisory locks share one key space per database with the application's
//! own: sheetsync uses the two-key form with a class of its own in the
//! first key, so a lock can only meet another of the same class. A new
//! lock gets a new class here; the SQL side names its class in a comment
//! pointing back to this file.

/// Held in shared mode by every transaction that enqueues a change for a
/// binding (`sheetsync.enqueue` in migration 0001 spells the number out; a
/// test below holds the two together), and exclusively for an instant by
/// the relay's horizon check and by a backfill's chunk (while it reads its
/// rows and draws their sequences). Second key: `sheetsync.binding_lock_key(binding)`.
pub const WRITERS: i32 = 21331;

/// A relay draining one binding, so two relays never interleave its
/// messages. Second key: `sheetsync.binding_lock_key(binding)`.
pub const DRAIN: i32 = 21332;

/// A backfill's chunk, exclusively for the chunk's transaction, so two
/// backfills of one binding take turns: each chunk holds the writers' lock
/// in shared mode and then asks for it exclusively, and two chunks doing
/// that at once would each wait for the other. Second key:
/// `sheetsync.binding_lock_key(binding)`.
pub const BACKFILL: i32 = 21334;

/// Migrators, so concurrent ones queue and the later find nothing to do.
/// Its own class: under the drain class it would meet the drain of the
/// binding whose lock key happens to be its second key.
pub const MIGRATE: (i32, i32) = (21333, 0);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_lock_has_a_class_of_its_own() {
        let classes = [WRITERS, DRAIN, MIGRATE.0, BACKFILL];
        for (i, a) in classes.iter().enumerate() {
            for b in &classes[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn enqueue_takes_the_writers_lock() {
        let definitions: Vec<&str> = crate::migrations()
            .iter()
            .filter(|m| m.sql.contains("FUNCTION sheetsync.enqueue("))
            .map(|m| m.sql)
            .collect();
        assert_eq!(definitions.len(), 1, "enqueue defined once");
        let takes = format!("pg_advisory_xact_lock_shared({WRITERS}, sheetsync.binding_lock_key(");
        assert!(
            definitions[0].contains(&takes),
            "enqueue must take {takes}…"
        );
    }
}
