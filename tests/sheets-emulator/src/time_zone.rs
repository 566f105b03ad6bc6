//! The spreadsheet's time zone (`properties.timeZone`): Google keeps it per
//! spreadsheet, and it says which instant a date-time cell's serial number
//! (a wall clock) is. The emulator stores and reports it, and refuses names
//! outside the IANA database as Google does; it converts nothing itself.

use chrono_tz::Tz;

/// A new spreadsheet's zone, as Google names UTC.
pub const DEFAULT_TIME_ZONE: &str = "Etc/GMT";

/// `zone` when the IANA database knows it, else Google's error text.
pub fn checked(zone: &str) -> Result<String, String> {
    zone.parse::<Tz>().map(|_| zone.to_string()).map_err(|_| {
        format!("Invalid value at 'spreadsheet.properties.time_zone' ({zone}): not a time zone")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_iana_names_only() {
        assert_eq!(checked("Europe/Berlin").as_deref(), Ok("Europe/Berlin"));
        assert_eq!(checked(DEFAULT_TIME_ZONE).as_deref(), Ok("Etc/GMT"));
        assert!(checked("Berlin").is_err());
    }
}
