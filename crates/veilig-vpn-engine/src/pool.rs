//! The tunnel address pool: every device gets one IPv4 address of its own, for as long as it
//! exists. The pool's first host address belongs to the gateway.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PoolError {
    #[error("the tunnel address pool {pool} is full: all {size} addresses are in use; remove unused devices or choose a larger pool")]
    Exhausted { pool: Ipv4Net, size: u64 },
    #[error("the tunnel address pool {0} is too small: it needs room for the gateway and at least one device (a /30 or larger)")]
    TooSmall(Ipv4Net),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pool {
    net: Ipv4Net,
}

impl Pool {
    pub fn new(net: Ipv4Net) -> Result<Pool, PoolError> {
        let net = net.trunc();
        if net.prefix_len() > 30 {
            return Err(PoolError::TooSmall(net));
        }
        Ok(Pool { net })
    }

    pub fn net(&self) -> Ipv4Net {
        self.net
    }

    /// The gateway's own address: the pool's first host address.
    pub fn gateway(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.net.network()).saturating_add(1))
    }

    /// How many devices the pool can hold.
    pub fn capacity(&self) -> u64 {
        // Hosts minus network, broadcast and the gateway.
        (1u64 << (32 - u32::from(self.net.prefix_len()))).saturating_sub(3)
    }

    pub fn contains(&self, addr: Ipv4Addr) -> bool {
        self.net.contains(&addr) && addr != self.gateway() && addr != self.net.network() && addr != self.net.broadcast()
    }

    /// The lowest free device address, given which are taken.
    pub fn allocate(&self, taken: impl Fn(Ipv4Addr) -> bool) -> Result<Ipv4Addr, PoolError> {
        let first = u32::from(self.gateway()).saturating_add(1);
        let last = u32::from(self.net.broadcast());
        (first..last).map(Ipv4Addr::from).find(|a| !taken(*a)).ok_or(PoolError::Exhausted { pool: self.net, size: self.capacity() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn allocates_the_lowest_free_address_after_the_gateway() {
        let pool = Pool::new("10.13.0.0/29".parse().unwrap()).unwrap();
        assert_eq!(pool.gateway(), Ipv4Addr::new(10, 13, 0, 1));
        assert_eq!(pool.capacity(), 5);
        let mut taken = HashSet::new();
        for expected in 2..=6 {
            let a = pool.allocate(|a| taken.contains(&a)).unwrap();
            assert_eq!(a, Ipv4Addr::new(10, 13, 0, expected));
            taken.insert(a);
        }
        assert_eq!(pool.allocate(|a| taken.contains(&a)), Err(PoolError::Exhausted { pool: "10.13.0.0/29".parse().unwrap(), size: 5 }));
        taken.remove(&Ipv4Addr::new(10, 13, 0, 4));
        assert_eq!(pool.allocate(|a| taken.contains(&a)).unwrap(), Ipv4Addr::new(10, 13, 0, 4));
    }

    #[test]
    fn a_pool_without_room_is_refused() {
        assert!(matches!(Pool::new("10.0.0.0/31".parse().unwrap()), Err(PoolError::TooSmall(_))));
        assert!(!Pool::new("10.0.0.0/24".parse().unwrap()).unwrap().contains(Ipv4Addr::new(10, 0, 0, 1)));
    }
}
