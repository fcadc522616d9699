//! The workload: what each client does next. Few accounts and many clients, so that two
//! requests on one account overlap often (a lost update needs that); amounts sized from the
//! initial balances, so that some withdrawals are refused and a check-then-act race can drive
//! a balance below zero; full reads mixed in, so that the total check sees the bank mid-run.

use super::history::Kind;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

/// The shape of the load, the same for every strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Workload {
    /// Account ids `1..=accounts`.
    pub accounts: u64,
    /// Largest amount of one operation, cents (amounts are uniform in `1..=max_amount`).
    pub max_amount: i64,
    /// Percent of operations that are full reads.
    pub read_percent: u32,
    pub seed: u64,
}

impl Workload {
    /// A workload for `accounts` accounts whose initial balances sum to `initial_total`: the
    /// largest amount is half the mean balance, so a few withdrawals in a row exhaust an
    /// account and refusals (and, when the check races, overdrafts) happen.
    pub fn sized(accounts: u64, initial_total: i64, seed: u64) -> Self {
        let mean = initial_total / accounts.max(1) as i64;
        Self {
            accounts,
            max_amount: (mean / 2).max(1),
            read_percent: 10,
            seed,
        }
    }

    /// Client `client`'s own generator: seeded from the workload's seed and the client, so a
    /// run is reproducible per client whatever the interleaving.
    pub fn client(&self, client: u64) -> Generator {
        Generator {
            w: *self,
            rng: StdRng::seed_from_u64(self.seed ^ client.wrapping_mul(0x9E37_79B9_7F4A_7C15)),
        }
    }
}

/// One client's stream of operations.
#[derive(Debug)]
pub struct Generator {
    w: Workload,
    rng: StdRng,
}

impl Generator {
    pub fn next_op(&mut self) -> Kind {
        let w = &self.w;
        let account = self.rng.random_range(1..=w.accounts);
        let amount = self.rng.random_range(1..=w.max_amount);
        if self.rng.random_range(0..100) < w.read_percent {
            return Kind::Read;
        }
        // Withdrawals outnumber deposits so that balances fall toward the check; transfers
        // move money without changing the total.
        match self.rng.random_range(0..10) {
            0..4 => Kind::Withdraw { account, amount },
            4..7 => Kind::Deposit { account, amount },
            _ if w.accounts < 2 => Kind::Deposit { account, amount },
            _ => {
                let other = self.rng.random_range(1..w.accounts);
                let to = if other >= account { other + 1 } else { other };
                Kind::Transfer {
                    from: account,
                    to,
                    amount,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ops_stay_in_range_and_repeat_per_seed() {
        let w = Workload::sized(3, 3_000, 7);
        assert_eq!(w.max_amount, 500);
        let a: Vec<Kind> = (0..500)
            .scan(w.client(1), |g, _| Some(g.next_op()))
            .collect();
        let b: Vec<Kind> = (0..500)
            .scan(w.client(1), |g, _| Some(g.next_op()))
            .collect();
        assert_eq!(a, b);
        assert!(a.contains(&Kind::Read));
        for k in a {
            for (id, d) in k.deltas() {
                assert!((1..=3).contains(&id), "{k:?}");
                assert!(d != 0 && d.abs() <= 500, "{k:?}");
            }
            if let Kind::Transfer { from, to, .. } = k {
                assert_ne!(from, to);
            }
        }
    }
}
