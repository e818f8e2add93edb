//! QR codes in PNG images ("quishing": the link a scanner on the computer never sees). The
//! image is decoded to grey values and searched with `rqrr`; bounded in bytes and pixels.

/// Images larger than this are not searched.
const MAX_BYTES: usize = 4 * 1024 * 1024;
/// Nor images with more pixels than this.
const MAX_PIXELS: usize = 4_000_000;

/// The texts of the QR codes in a PNG image; empty when it is none, too large or broken.
pub fn png_codes(bytes: &[u8]) -> Vec<String> {
    if bytes.len() > MAX_BYTES || !bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Vec::new();
    }
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let Ok(mut reader) = decoder.read_info() else { return Vec::new() };
    let info = reader.info();
    let (w, h) = (info.width as usize, info.height as usize);
    if w == 0 || h == 0 || w.saturating_mul(h) > MAX_PIXELS {
        return Vec::new();
    }
    let Some(size) = reader.output_buffer_size() else { return Vec::new() };
    let mut buf = vec![0u8; size];
    let Ok(frame) = reader.next_frame(&mut buf) else { return Vec::new() };
    let channels = match frame.color_type {
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        png::ColorType::Indexed => return Vec::new(),
    };
    let line = frame.line_size;
    if line < w * channels || buf.len() < line * h {
        return Vec::new();
    }
    let luma = |x: usize, y: usize| -> u8 {
        let p = &buf[y * line + x * channels..];
        let value =
            if channels >= 3 { (u32::from(p[0]) * 299 + u32::from(p[1]) * 587 + u32::from(p[2]) * 114) / 1000 } else { u32::from(p[0]) };
        // Transparent pixels count as white paper.
        let alpha = if channels == 2 || channels == 4 { u32::from(p[channels - 1]) } else { 255 };
        ((value * alpha + 255 * (255 - alpha)) / 255) as u8
    };
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, luma);
    image.detect_grids().iter().take(8).filter_map(|g| g.decode().ok().map(|(_, text)| text)).collect()
}
