//! Any bytes as a PNG image to search for QR codes: never a panic, whatever the image claims
//! about its size, colours or compression.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend_from_slice(data);
    let _ = veilig_phish::qr_codes_in_png(&png);
    let _ = veilig_phish::qr_codes_in_png(data);
});
