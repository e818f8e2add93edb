//! QR codes as SVG path data, for authenticator apps and (later) WireGuard phone apps.

use qrcodegen::{QrCode, QrCodeEcc};

/// A QR code: its side in modules (with a four-module quiet zone) and the SVG path that draws
/// the dark modules.
#[derive(Debug, Clone)]
pub struct Qr {
    pub size: i32,
    pub path: String,
}

pub fn qr(text: &str) -> Option<Qr> {
    let code = QrCode::encode_text(text, QrCodeEcc::Medium).ok()?;
    let n = code.size();
    // One rectangle per run of dark modules in a row keeps the path short.
    let mut path = String::new();
    for y in 0..n {
        let mut x = 0;
        while x < n {
            if code.get_module(x, y) {
                let start = x;
                while x < n && code.get_module(x, y) {
                    x += 1;
                }
                let len = x - start;
                path.push_str(&format!("M{} {}h{len}v1h-{len}z", start + 4, y + 4));
            } else {
                x += 1;
            }
        }
    }
    Some(Qr { size: n + 8, path })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_qr_code_has_a_quiet_zone_and_modules() {
        let q = super::qr("otpauth://totp/Veilig:jan@example.nl?secret=JBSWY3DPEHPK3PXP").unwrap();
        assert!(q.size >= 29 + 8);
        assert!(q.path.starts_with("M4 4h7v1h-7z"), "the finder pattern's top row starts in the corner");
    }
}
