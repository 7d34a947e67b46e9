//! Bytes as the wire JSON of every protocol message, and as field values of every field.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tandem_fuzz::protocol_decode(data));
