//! The spreadsheet's time zone: where a date-time serial's wall clock is.
//!
//! A Google serial number is a wall-clock time with no zone of its own; the
//! spreadsheet's time zone (`properties.timeZone`) says which instant it
//! is. The writer turns a `timestamptz` into the wall clock of the
//! spreadsheet's zone, and the Apps Script reads a date-time cell as an
//! instant in that same zone (a script `Date`), so a value comes back as the
//! same instant from a spreadsheet in any zone.
//!
//! Two wall-clock times are not one instant each: in the hour a clock is
//! set back, a wall-clock time happens twice, and in the hour it is set
//! forward, not at all. [`SheetZone::instant`] reads them as Sheets and
//! JavaScript do (the earlier instant; a time in the gap moved forward by
//! the gap), and comparisons are made on wall clocks, which is what the
//! sheet holds: see [`sheet_matches_in`](crate::convert::sheet_matches_in).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

/// A spreadsheet's IANA time zone (`Europe/Berlin`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SheetZone(Tz);

/// A zone name the time zone database does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a time zone")]
pub struct UnknownZone(pub String);

impl SheetZone {
    /// The zone of a spreadsheet that names none, and of requests from
    /// scripts that do not send theirs.
    pub const UTC: SheetZone = SheetZone(Tz::UTC);

    /// The IANA name, as Google and the script spell it.
    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// The wall clock of `instant` in this zone: what a date-time cell
    /// holds for it.
    pub fn wall_clock(self, instant: DateTime<Utc>) -> NaiveDateTime {
        instant.with_timezone(&self.0).naive_local()
    }

    /// The instant a wall-clock time is read as: the earlier one when the
    /// time happens twice, and for a time that never happens (the gap of a
    /// clock set forward) the offset in force before the gap, which lands
    /// the gap's length later. JavaScript's `Date`, Java's `ZonedDateTime`
    /// and so Apps Script read wall clocks this way.
    pub fn instant(self, wall: NaiveDateTime) -> DateTime<Utc> {
        match self.0.from_local_datetime(&wall) {
            LocalResult::Single(t) => t.with_timezone(&Utc),
            LocalResult::Ambiguous(earlier, _) => earlier.with_timezone(&Utc),
            LocalResult::None => {
                // A day earlier is before the gap: zones never move their
                // clocks twice within a day.
                let before = self
                    .0
                    .offset_from_utc_datetime(&(wall - Duration::days(1)))
                    .fix()
                    .local_minus_utc();
                (wall - Duration::seconds(i64::from(before))).and_utc()
            }
        }
    }

    /// What a cell holding the wall clock `wall` shows when read: itself,
    /// except in the gap of a clock set forward.
    pub fn shown(self, wall: NaiveDateTime) -> NaiveDateTime {
        self.wall_clock(self.instant(wall))
    }
}

impl Default for SheetZone {
    fn default() -> SheetZone {
        SheetZone::UTC
    }
}

impl FromStr for SheetZone {
    type Err = UnknownZone;

    fn from_str(name: &str) -> Result<SheetZone, UnknownZone> {
        // Google names UTC "Etc/GMT" for new spreadsheets.
        name.trim()
            .parse::<Tz>()
            .map(SheetZone)
            .map_err(|_| UnknownZone(name.to_owned()))
    }
}

impl fmt::Display for SheetZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d)
            .unwrap()
            .and_hms_opt(h, mi, 0)
            .unwrap()
    }

    fn zone(name: &str) -> SheetZone {
        name.parse().unwrap()
    }

    #[test]
    fn wall_clocks_of_instants() {
        let berlin = zone("Europe/Berlin");
        assert_eq!(
            berlin.wall_clock(at(2026, 1, 1, 0, 1).and_utc()),
            at(2026, 1, 1, 1, 1)
        );
        assert_eq!(
            berlin.wall_clock(at(2026, 7, 1, 0, 1).and_utc()),
            at(2026, 7, 1, 2, 1)
        );
        assert_eq!(
            zone("Asia/Kolkata").wall_clock(at(2026, 1, 1, 0, 0).and_utc()),
            at(2026, 1, 1, 5, 30)
        );
        assert_eq!(zone("Etc/GMT").name(), "Etc/GMT");
        assert_eq!(
            "Mars/Olympus".parse::<SheetZone>(),
            Err(UnknownZone("Mars/Olympus".into()))
        );
    }

    #[test]
    fn a_time_that_happens_twice_is_the_earlier_instant() {
        // Berlin, 2026-10-25: 03:00 CEST becomes 02:00 CET.
        let berlin = zone("Europe/Berlin");
        assert_eq!(
            berlin.instant(at(2026, 10, 25, 2, 30)),
            at(2026, 10, 25, 0, 30).and_utc()
        );
        // The later instant has the same wall clock: the sheet cannot tell.
        assert_eq!(
            berlin.wall_clock(at(2026, 10, 25, 1, 30).and_utc()),
            at(2026, 10, 25, 2, 30)
        );
    }

    #[test]
    fn a_time_in_a_gap_moves_forward_by_the_gap() {
        // Berlin, 2026-03-29: 02:00 CET becomes 03:00 CEST.
        let berlin = zone("Europe/Berlin");
        assert_eq!(
            berlin.instant(at(2026, 3, 29, 2, 30)),
            at(2026, 3, 29, 1, 30).and_utc()
        );
        assert_eq!(berlin.shown(at(2026, 3, 29, 2, 30)), at(2026, 3, 29, 3, 30));
        // Lord Howe moves its clock by half an hour.
        let howe = zone("Australia/Lord_Howe");
        assert_eq!(howe.shown(at(2026, 10, 4, 2, 10)), at(2026, 10, 4, 2, 40));
        assert_eq!(howe.shown(at(2026, 10, 4, 1, 59)), at(2026, 10, 4, 1, 59));
    }
}
