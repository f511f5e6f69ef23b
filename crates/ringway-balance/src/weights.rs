//! Endpoint weights with their running sums, for weighted sampling.

use fastrand::Rng;

/// Weights of a fixed endpoint list. Sampling is O(log n) and allocation
/// free; with equal weights it is a plain uniform draw.
#[derive(Debug, Clone)]
pub(crate) struct Weights {
    weight: Box<[u32]>,
    /// `ends[i]` = sum of `weight[..=i]`.
    ends: Box<[u64]>,
    total: u64,
    uniform: bool,
}

impl Weights {
    /// Weights of 0 count as 1.
    pub(crate) fn new(weights: &[u32]) -> Self {
        let weight: Box<[u32]> = weights.iter().map(|&w| w.max(1)).collect();
        let mut total = 0u64;
        let ends = weight
            .iter()
            .map(|&w| {
                total += u64::from(w);
                total
            })
            .collect();
        let uniform = weight.windows(2).all(|p| p[0] == p[1]);
        Self {
            weight,
            ends,
            total,
            uniform,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.weight.len()
    }

    pub(crate) fn get(&self, i: usize) -> u32 {
        self.weight.get(i).copied().unwrap_or(1)
    }

    pub(crate) fn is_uniform(&self) -> bool {
        self.uniform
    }

    /// Draws an index in proportion to weight, never one of `skip` (valid,
    /// distinct indices). The caller ensures some other index exists.
    pub(crate) fn sample(
        &self,
        rng: &mut Rng,
        skip_a: Option<usize>,
        skip_b: Option<usize>,
    ) -> usize {
        let (lo, hi) = match (skip_a, skip_b) {
            (Some(a), Some(b)) => (Some(a.min(b)), Some(a.max(b))),
            (a, b) => (a.or(b), None),
        };
        let skipped = [lo, hi].into_iter().flatten();
        if self.uniform {
            let mut i = rng.usize(..self.len() - skipped.clone().count());
            for s in skipped {
                if i >= s {
                    i += 1;
                }
            }
            return i;
        }
        let skipped_weight: u64 = skipped.clone().map(|s| u64::from(self.get(s))).sum();
        let mut r = rng.u64(..self.total - skipped_weight);
        // Walk over the skipped ranges in ascending order.
        for s in skipped {
            let w = u64::from(self.get(s));
            if r >= self.ends[s] - w {
                r += w;
            }
        }
        self.ends.partition_point(|&end| end <= r)
    }
}
