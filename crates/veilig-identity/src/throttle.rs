//! Brute-force limits with growing delays. Attempts are counted per key (an e-mail address, a
//! client address) in a window; past the allowance every further failure doubles the wait.
//! Known and unknown e-mail addresses are treated the same, so the answer reveals nothing.

/// The state of one key, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct State {
    pub failures: i64,
    pub window_start_ms: i64,
    pub blocked_until_ms: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Failures allowed in a window before delays start.
    pub allowance: i64,
    pub window_ms: i64,
    pub first_delay_ms: i64,
    pub max_delay_ms: i64,
}

impl Policy {
    pub const ACCOUNT: Policy = Policy { allowance: 5, window_ms: 15 * 60_000, first_delay_ms: 30_000, max_delay_ms: 3_600_000 };
    pub const ADDRESS: Policy = Policy { allowance: 30, window_ms: 15 * 60_000, first_delay_ms: 30_000, max_delay_ms: 3_600_000 };

    /// How long until another attempt is allowed; `None` when it is allowed now.
    pub fn blocked_for(&self, s: &State, now_ms: i64) -> Option<i64> {
        (s.blocked_until_ms > now_ms).then_some(s.blocked_until_ms - now_ms)
    }

    /// The state after a failure at `now_ms`, and whether this failure started a block.
    pub fn fail(&self, s: &State, now_ms: i64) -> (State, bool) {
        let mut next = if now_ms - s.window_start_ms > self.window_ms && s.blocked_until_ms <= now_ms {
            State { failures: 0, window_start_ms: now_ms, blocked_until_ms: 0 }
        } else {
            *s
        };
        next.failures += 1;
        let over = next.failures - self.allowance;
        let mut started_block = false;
        if over > 0 {
            let delay = self.first_delay_ms.saturating_mul(1i64 << (over - 1).min(20)).min(self.max_delay_ms);
            next.blocked_until_ms = now_ms + delay;
            started_block = true;
            // Keep the window open while blocked, so delays keep growing for a persistent attacker.
            next.window_start_ms = now_ms;
        }
        (next, started_block)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_after_the_allowance_and_reset_after_the_window() {
        let p = Policy::ACCOUNT;
        let mut s = State::default();
        let mut now = 1_000_000;
        let mut delays = Vec::new();
        for _ in 0..9 {
            let (next, _) = p.fail(&s, now);
            s = next;
            delays.push(p.blocked_for(&s, now).unwrap_or(0) / 1000);
            now += 1000;
        }
        assert_eq!(delays, [0, 0, 0, 0, 0, 30, 60, 120, 240]);
        // Long after the last block and window, the count starts again.
        let later = s.blocked_until_ms + p.window_ms + 1;
        let (fresh, blocked) = p.fail(&s, later);
        assert_eq!(fresh.failures, 1);
        assert!(!blocked);
    }

    #[test]
    fn the_delay_is_capped() {
        let p = Policy::ACCOUNT;
        let mut s = State::default();
        for i in 0..60 {
            s = p.fail(&s, i).0;
        }
        assert_eq!(p.blocked_for(&s, 59), Some(p.max_delay_ms));
    }
}
