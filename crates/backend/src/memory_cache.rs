//! The in-process cache: a sharded `Mutex<HashMap>` with per-entry expiry.
//!
//! It is process memory, not a network service, so its calls pay *no* simulated round trip:
//! the chapter's cache lookup costs a network hop only when the cache is Redis. Sharding
//! keeps workers on different keys off each other's lock.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

const SHARDS: usize = 16;
/// A shard purges expired entries when it grows past this many (a bound on the garbage a
/// workload of never-reread keys can leave, not on live entries).
const PURGE_AT: usize = 4_096;

type Shard = HashMap<String, (Vec<u8>, Instant)>;

#[derive(Debug)]
pub(crate) struct MemoryCache {
    shards: Box<[Mutex<Shard>]>,
    hasher: RandomState,
}

impl MemoryCache {
    pub(crate) fn new() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
        }
    }

    fn shard(&self, key: &str) -> MutexGuard<'_, Shard> {
        let i = (self.hasher.hash_one(key) as usize) % SHARDS;
        // A poisoned shard holds plain data that is still valid; keep serving it.
        self.shards[i].lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn get(&self, key: &str) -> Option<Vec<u8>> {
        let mut shard = self.shard(key);
        match shard.get(key) {
            Some((value, expires)) if *expires > Instant::now() => Some(value.clone()),
            Some(_) => {
                shard.remove(key);
                None
            }
            None => None,
        }
    }

    pub(crate) fn set(&self, key: &str, value: Vec<u8>, ttl: Duration) {
        let now = Instant::now();
        let mut shard = self.shard(key);
        if shard.len() >= PURGE_AT {
            shard.retain(|_, (_, expires)| *expires > now);
        }
        shard.insert(key.to_owned(), (value, now + ttl));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_get_and_expiry() {
        let cache = MemoryCache::new();
        assert_eq!(cache.get("a"), None);
        cache.set("a", b"1".to_vec(), Duration::from_secs(60));
        assert_eq!(cache.get("a"), Some(b"1".to_vec()));
        cache.set("a", b"2".to_vec(), Duration::from_secs(60));
        assert_eq!(cache.get("a"), Some(b"2".to_vec()));
        cache.set("gone", b"x".to_vec(), Duration::ZERO);
        assert_eq!(cache.get("gone"), None);
    }

    #[test]
    fn purge_drops_only_expired_entries() {
        let cache = MemoryCache::new();
        for i in 0..(PURGE_AT * SHARDS * 2) {
            cache.set(&format!("dead{i}"), vec![], Duration::ZERO);
        }
        cache.set("live", b"v".to_vec(), Duration::from_secs(60));
        let total: usize = cache.shards.iter().map(|s| s.lock().unwrap().len()).sum();
        assert!(total <= PURGE_AT * SHARDS + 1, "{total} entries kept");
        assert_eq!(cache.get("live"), Some(b"v".to_vec()));
    }
}
