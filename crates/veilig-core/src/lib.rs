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
