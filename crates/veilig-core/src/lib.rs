//! The ground every Veilig capability stands on: the typed configuration, the injected clock,
//! the event stream that capabilities use to talk to each other, and the interface languages.
//!
//! This crate does no network I/O and knows neither HTTP nor SQL.

pub mod clock;
pub mod config;
pub mod event;
pub mod lang;

pub use clock::{Clock, FakeClock, SharedClock, SystemClock};
pub use config::{Config, ConfigErrors, Overrides, Problem};
pub use event::{Event, EventBus};
pub use lang::Lang;

/// The version of this build, shown in `/healthz` and the page footer.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// A random identifier for rows: 16 bytes from the operating system, hex-encoded.
pub fn random_id() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}
