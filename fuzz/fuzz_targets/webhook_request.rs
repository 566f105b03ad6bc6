//! A signed request (timestamp, signature, body) through the webhook's
//! checks and parse, up to the database: must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    sheetsync_e2e::fuzz::webhook_request(data);
});
