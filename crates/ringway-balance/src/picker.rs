//! Weighted choice among a route's weighted clusters.

use fastrand::Rng;

/// Picks among weighted alternatives (a route's weighted clusters) with a
/// per-core random generator. The weights are passed on each call, so one
/// picker serves every route of a worker.
#[derive(Debug, Clone)]
pub struct WeightedPicker {
    rng: Rng,
}

impl WeightedPicker {
    pub fn new(seed: u64) -> Self {
        Self {
            rng: Rng::with_seed(seed),
        }
    }

    /// Index of the chosen weight, drawn in proportion to weight; zero
    /// weights are never chosen. `None` when the weights are empty or all
    /// zero. Walks `weights` twice, allocation free.
    pub fn pick(&mut self, weights: impl Iterator<Item = u32> + Clone) -> Option<usize> {
        let total: u64 = weights.clone().map(u64::from).sum();
        if total == 0 {
            return None;
        }
        let mut r = self.rng.u64(..total);
        for (i, w) in weights.enumerate() {
            let w = u64::from(w);
            if r < w {
                return Some(i);
            }
            r -= w;
        }
        None
    }
}
