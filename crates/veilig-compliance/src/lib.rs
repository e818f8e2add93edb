//! Device compliance (issue #9): the installation's device CA, enrolment with one-time tokens,
//! the reports that agents send over mutual TLS, the inventory, the policy that administrators
//! edit, and the device conditions that groups put on the portal and on VPN sessions.
//!
//! The posture itself is read and judged by the pure engine `veilig-device`; this crate adds the
//! store, the audit chain and the CA. It knows neither HTTP nor SQL: the agent endpoint's TLS
//! and routes are the web layer's and the binary's, the queries live in `veilig-store`.

pub mod ca;
mod service;

pub use ca::{CaError, DeviceCa, Issued, fingerprint};
pub use service::{
    Actor, DeviceView, Devices, DevicesError, DevicesSettings, EnrollRequest, Enrolled, Envelope, Inventory, ItemShare, Judged,
    MAX_DEVICES_PER_USER, MAX_REPORT_BYTES, Refusal, Target, TokenIssued, verdict_word,
};
pub use veilig_device as engine;
