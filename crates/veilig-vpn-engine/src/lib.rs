//! The VPN's rules, without I/O: WireGuard keys ([`keys`]), the tunnel address pool
//! ([`pool`]), access rules and the packet filter that enforces them ([`rules`], [`packet`],
//! [`filter`]), and the client configuration an employee imports ([`conf`]).
//!
//! `veilig-vpn` runs these on a real data plane; nothing here opens a socket or reads a clock.

pub mod conf;
pub mod filter;
pub mod handshake;
pub mod keys;
pub mod nft;
pub mod packet;
pub mod pool;
pub mod rules;
pub mod wgdump;

pub use filter::{Filter, Verdict};
pub use keys::{Key, KeyError, KeyPair};
pub use pool::{Pool, PoolError};
pub use rules::{Proto, Rule, RuleError};
