//! Bytes as requests to the push, pull and resolve endpoints of a real router over a
//! temporary SQLite store: no panic, and no 5xx for anything a client can send.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tandem_fuzz::server_request(data));
