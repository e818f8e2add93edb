//! The VPN capability: employees' devices (WireGuard public keys and tunnel addresses), VPN
//! sessions that an employee opens after signing in with both factors, access rules per group,
//! and the gateway that installs a device's peer in the data plane only while its owner's
//! session is open.
//!
//! [`Vpn`] is the service the web layer calls; [`gateway::run`] is the task that keeps the data
//! plane ([`dataplane::DataPlane`]) equal to what the database says, reacting to changes at
//! once and ending sessions on expiry, idleness, disabling and factor resets.

pub mod dataplane;
pub mod gateway;
mod service;

pub use service::{Actor, Conflict, DeviceAdded, Invalid, Status, Unavailable, Vpn, VpnError};
pub use veilig_vpn_engine as engine;
