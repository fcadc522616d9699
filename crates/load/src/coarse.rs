//! A fixed-size log-bucketed histogram for the per-second timeline: 8 buckets per power of two
//! (values within ~9%), 1 KiB per second per worker, mergeable by adding counts. The full-run
//! percentiles come from HDR histograms; this only has to draw a p99 line over time.

/// Buckets per power of two.
const SUB: u32 = 8;
/// Values up to 2^32 µs (71 minutes).
const BUCKETS: usize = (32 * SUB) as usize;

/// Log-bucketed counts of latencies in microseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoarseHistogram {
    counts: Box<[u32; BUCKETS]>,
    total: u64,
}

impl Default for CoarseHistogram {
    fn default() -> Self {
        Self {
            counts: Box::new([0; BUCKETS]),
            total: 0,
        }
    }
}

impl CoarseHistogram {
    fn index(micros: u64) -> usize {
        let v = micros.clamp(1, (1 << 32) - 1);
        let octave = 63 - v.leading_zeros(); // floor(log2 v), 0..=31
        // Which of the SUB equal steps inside [2^octave, 2^(octave+1)) holds v.
        let frac = ((v - (1 << octave)) * u64::from(SUB)) >> octave;
        (octave * SUB) as usize + frac as usize
    }

    /// The upper edge of bucket `i` (an estimate that never understates a percentile by more
    /// than one bucket width).
    fn upper(i: usize) -> u64 {
        let octave = i as u32 / SUB;
        let frac = u64::from(i as u32 % SUB);
        let base = 1u64 << octave;
        base + (base * (frac + 1)).div_ceil(u64::from(SUB))
    }

    pub fn record(&mut self, micros: u64) {
        let i = Self::index(micros);
        self.counts[i] = self.counts[i].saturating_add(1);
        self.total += 1;
    }

    pub fn add(&mut self, other: &Self) {
        for (a, b) in self.counts.iter_mut().zip(other.counts.iter()) {
            *a = a.saturating_add(*b);
        }
        self.total += other.total;
    }

    pub fn len(&self) -> u64 {
        self.total
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// The value at quantile `q` (0..=1) in microseconds, as the bucket's upper edge.
    pub fn quantile(&self, q: f64) -> Option<u64> {
        if self.total == 0 {
            return None;
        }
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0u64;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += u64::from(c);
            if seen >= rank {
                return Some(Self::upper(i));
            }
        }
        Some(Self::upper(BUCKETS - 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotonic_and_bound_their_values() {
        let mut last = 0;
        for v in 1..100_000u64 {
            let i = CoarseHistogram::index(v);
            assert!(i >= last);
            last = i;
            let up = CoarseHistogram::upper(i);
            assert!(
                up > v && up as f64 <= v as f64 * 1.13 + 1.0,
                "v={v} up={up}"
            );
        }
    }

    #[test]
    fn quantiles_merge() {
        let mut a = CoarseHistogram::default();
        let mut b = CoarseHistogram::default();
        for _ in 0..99 {
            a.record(100);
        }
        b.record(10_000);
        a.add(&b);
        assert_eq!(a.len(), 100);
        let p99 = a.quantile(0.99).unwrap();
        assert!((100..=113).contains(&p99), "{p99}");
        let max = a.quantile(1.0).unwrap();
        assert!((10_000..=11_300).contains(&max), "{max}");
    }
}
