//! Accept-Language headers and language codes of any shape.
#![no_main]
use libfuzzer_sys::fuzz_target;
use veilig_core::Lang;

fuzz_target!(|header: &str| {
    let _ = Lang::from_accept_language(header);
    let _ = Lang::parse(header);
});
