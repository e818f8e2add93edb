//! What people type as codes: TOTP codes and recovery codes. Never a panic; a TOTP code is
//! accepted only as six digits.
#![no_main]
use libfuzzer_sys::fuzz_target;
use veilig_identity::{crypto, totp};

fuzz_target!(|data: (&str, i64, Option<i64>)| {
    let (input, unix, last) = data;
    let unix = unix.clamp(0, 1 << 40);
    if totp::verify(b"12345678901234567890", input, unix, last).is_some() {
        assert_eq!(input.chars().filter(|c| !c.is_whitespace()).count(), 6);
    }
    let normal = crypto::normalise_recovery_code(input);
    assert_eq!(crypto::normalise_recovery_code(&normal), normal);
});
