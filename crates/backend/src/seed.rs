//! Deterministic seed data: the same users, orders, accounts and activity on every machine
//! and for both databases, from a fixed-seed SplitMix64 (tiny, and unlike `rand`'s `StdRng`
//! its output never changes between crate versions).

use crate::{Account, Activity, Order, User};

/// The moment the seed data pretends to have been written (2023-11-14, unix seconds), so
/// timestamps are stable across runs.
const EPOCH: i64 = 1_700_000_000;
const DAY: i64 = 86_400;

const ITEMS: [&str; 12] = [
    "keyboard",
    "monitor",
    "mouse",
    "laptop stand",
    "headphones",
    "webcam",
    "usb hub",
    "desk lamp",
    "notebook",
    "coffee beans",
    "backpack",
    "cable set",
];
const KINDS: [&str; 5] = ["login", "view", "purchase", "review", "logout"];
const FIRST: [&str; 10] = [
    "Ada", "Alan", "Barbara", "Dennis", "Edsger", "Grace", "Ken", "Leslie", "Margaret", "Niklaus",
];
const LAST: [&str; 10] = [
    "Lovelace", "Turing", "Liskov", "Ritchie", "Dijkstra", "Hopper", "Thompson", "Lamport",
    "Hamilton", "Wirth",
];

/// One user and everything that belongs to them.
#[derive(Debug)]
pub(crate) struct SeedUser {
    pub user: User,
    pub account: Account,
    pub orders: Vec<Order>,
    pub activity: Vec<Activity>,
}

/// SplitMix64: one multiply-xorshift step per number; plenty for fake data.
#[derive(Debug)]
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform-enough in `0..n` (`n > 0`); the modulo bias is irrelevant for seed data.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len() as u64) as usize]
    }
}

/// The seed rows for users `1..=users`, each with `orders_per_user / 2 ..= orders_per_user
/// * 3 / 2` orders (5–15 for the default 10, averaging 10), 3–5 activity rows and an account.
pub(crate) fn users(users: u32, orders_per_user: u32) -> impl Iterator<Item = SeedUser> {
    let mut rng = SplitMix(0x00C1_AB5E_ED00_0001);
    let (low, spread) = (orders_per_user / 2, orders_per_user + 1);
    let mut next_order_id = 1_i64;
    let mut next_activity_id = 1_i64;
    (1..=i64::from(users)).map(move |id| {
        let created_at = EPOCH - 400 * DAY + rng.below(300 * DAY as u64) as i64;
        let (first, last) = (rng.pick(&FIRST), rng.pick(&LAST));
        let user = User {
            id,
            name: format!("{first} {last}"),
            email: format!(
                "{}.{}{id}@example.com",
                first.to_lowercase(),
                last.to_lowercase()
            ),
            created_at,
        };
        let n_orders = low + rng.below(u64::from(spread)) as u32;
        let orders = (0..n_orders)
            .map(|_| {
                let order = Order {
                    id: next_order_id,
                    user_id: id,
                    item: rng.pick(&ITEMS).to_owned(),
                    quantity: 1 + rng.below(5) as i32,
                    amount_cents: 199 + rng.below(50_000) as i64,
                    created_at: created_at + rng.below((EPOCH - created_at) as u64) as i64,
                };
                next_order_id += 1;
                order
            })
            .collect();
        let activity = (0..3 + rng.below(3))
            .map(|_| {
                let row = Activity {
                    id: next_activity_id,
                    user_id: id,
                    kind: rng.pick(&KINDS).to_owned(),
                    at: EPOCH - rng.below(30 * DAY as u64) as i64,
                };
                next_activity_id += 1;
                row
            })
            .collect();
        let account = Account {
            user_id: id,
            balance_cents: rng.below(1_000_000) as i64,
        };
        SeedUser {
            user,
            account,
            orders,
            activity,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_about_ten_orders_each() {
        let a: Vec<_> = users(1000, 10).map(|u| (u.user, u.orders.len())).collect();
        let b: Vec<_> = users(1000, 10).map(|u| (u.user, u.orders.len())).collect();
        assert_eq!(a, b);
        let total: usize = a.iter().map(|(_, n)| n).sum();
        assert!(
            (9_000..=11_000).contains(&total),
            "{total} orders for 1000 users"
        );
        assert!(a.iter().all(|(_, n)| (5..=15).contains(n)));
        assert_eq!(a.last().map(|(u, _)| u.id), Some(1000));
    }

    #[test]
    fn order_ids_are_unique_and_dense() {
        let ids: Vec<i64> = users(50, 10).flat_map(|u| u.orders).map(|o| o.id).collect();
        assert!(ids.iter().copied().eq(1..=ids.len() as i64));
    }
}
