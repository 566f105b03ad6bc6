//! Sheet cells and PostgreSQL renderings through reconcile's conversions:
//! never a panic, and every value read survives its round trip.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    sheetsync_e2e::fuzz::value_conversion(data);
});
