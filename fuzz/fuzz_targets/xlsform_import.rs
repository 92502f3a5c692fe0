//! Fuzz target: `hark_tests::fuzz::xlsform_import` (see there for what it checks).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hark_tests::fuzz::xlsform_import(data));
