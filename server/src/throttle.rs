//! Sign-in throttling: how failed sign-ins add up and when they lock a
//! user name or a client address out for a while. Pure: storage keeps the
//! counters (so every server on one database agrees), this decides.
//!
//! A key (a user name or an address) that fails [`Policy::limit`] times
//! within [`Policy::window`] is locked for [`Policy::lock`]; a success
//! clears a user name's failures. The address limit is higher, so one
//! office behind one address is not locked out by one forgetful user, but
//! a guesser trying many names from one address is.

use serde::{Deserialize, Serialize};

const MINUTE: i64 = 60_000;

/// Failed sign-ins of one key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failures {
    /// Failures in the current window.
    pub count: u32,
    /// When the current window began, ms since the epoch.
    pub first_at: i64,
    /// Locked until then (0: not locked), ms since the epoch.
    pub locked_until: i64,
}

/// How many failures a key may have before it is locked, and for how long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Failures allowed within the window.
    pub limit: u32,
    /// The window, in ms.
    pub window: i64,
    /// How long a lock lasts, in ms.
    pub lock: i64,
}

/// Per user name: five failures in 15 minutes lock it for 15 minutes.
pub const PER_USER: Policy = Policy {
    limit: 5,
    window: 15 * MINUTE,
    lock: 15 * MINUTE,
};

/// Per client address: 20 failures in 15 minutes lock it for 15 minutes.
pub const PER_ADDRESS: Policy = Policy {
    limit: 20,
    window: 15 * MINUTE,
    lock: 15 * MINUTE,
};

impl Policy {
    /// Whole minutes (at least one) until a locked key may try again, or
    /// `None` when it may try now.
    pub fn locked_for(&self, f: Option<&Failures>, now: i64) -> Option<i64> {
        let until = f?.locked_until;
        (until > now).then(|| ((until - now + MINUTE - 1) / MINUTE).max(1))
    }

    /// The failures after one more, and whether this one started a lock.
    pub fn fail(&self, f: Option<Failures>, now: i64) -> (Failures, bool) {
        let mut f = match f {
            Some(f) if now - f.first_at < self.window && f.locked_until <= now => f,
            Some(f) if f.locked_until > now => return (f, false),
            _ => Failures {
                count: 0,
                first_at: now,
                locked_until: 0,
            },
        };
        f.count += 1;
        let locks = f.count >= self.limit;
        if locks {
            f.locked_until = now + self.lock;
            f.count = 0;
            f.first_at = now;
        }
        (f, locks)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_lock_a_name_for_fifteen_minutes() {
        let p = PER_USER;
        let mut f = None;
        let t = 1_000_000;
        for i in 0..4 {
            let (next, locked) = p.fail(f, t + i);
            assert!(!locked);
            f = Some(next);
            assert_eq!(p.locked_for(f.as_ref(), t + i), None);
        }
        let (next, locked) = p.fail(f, t + 10);
        assert!(locked, "the fifth");
        f = Some(next);
        assert_eq!(p.locked_for(f.as_ref(), t + 10), Some(15));
        assert_eq!(p.locked_for(f.as_ref(), t + 10 + 14 * MINUTE + 1), Some(1));
        assert_eq!(p.locked_for(f.as_ref(), t + 10 + 15 * MINUTE), None);
        // Failing while locked does not extend or restart the lock.
        let (same, locked) = p.fail(f, t + 20);
        assert!(!locked);
        assert_eq!(Some(same), f);
    }

    #[test]
    fn failures_spread_beyond_the_window_never_lock() {
        let p = PER_USER;
        let mut f = None;
        for i in 0..20 {
            let (next, locked) = p.fail(f, i * 4 * MINUTE);
            assert!(!locked, "attempt {i}");
            f = Some(next);
        }
    }
}
