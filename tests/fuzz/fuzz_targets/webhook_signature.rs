#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| deltaone_fuzz_checks::webhook_signature(data));
