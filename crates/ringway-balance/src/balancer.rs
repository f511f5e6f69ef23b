//! The per-core endpoint balancer.

use fastrand::Rng;
use ringway_config::model::LbPolicy;

use crate::weights::Weights;

/// Load balancer state for one cluster on one worker. Pure logic: the
/// caller supplies the per-core in-flight counts.
///
/// * `RoundRobin`: smooth weighted round robin (nginx's): every pick adds
///   each endpoint's weight to its running credit, takes the endpoint with
///   the most credit and charges it the total weight. Weights `[5, 1, 1]`
///   give `a a b a c a a`; equal weights give plain rotation. Ties go to the
///   first endpoint at or after a seed-dependent offset, so workers do not
///   all start on endpoint 0. O(n) per pick with unequal weights, O(1)
///   with equal ones.
/// * `LeastRequest`: power of two choices. Two distinct endpoints are drawn
///   (in proportion to weight when weights differ, else uniformly) and the
///   one with fewer in-flight requests per unit of weight wins
///   (`active(a) * weight(b)` vs `active(b) * weight(a)`); ties go to the
///   first draw, so an idle cluster is spread in proportion to weight. This
///   approximates Envoy's weighted least request (effective weight
///   `weight / (active + 1)`) without its scheduler.
/// * `Random`: weighted random.
#[derive(Debug, Clone)]
pub struct Balancer {
    policy: LbPolicy,
    weights: Weights,
    /// Smooth round robin credit per endpoint (unequal weights only).
    credit: Box<[i64]>,
    /// Where round robin breaks ties (unequal weights) or goes next
    /// (equal weights).
    cursor: usize,
    rng: Rng,
}

impl Balancer {
    /// `weights[i]` is endpoint `i`'s weight (0 counts as 1). `seed` drives
    /// this core's random draws and round robin's starting point; give each
    /// worker a different one.
    pub fn new(policy: LbPolicy, weights: &[u32], seed: u64) -> Self {
        let weights = Weights::new(weights);
        let n = weights.len();
        let credit = if weights.is_uniform() {
            Box::default()
        } else {
            vec![0; n].into_boxed_slice()
        };
        let cursor = match u64::try_from(n) {
            Ok(n) if n > 0 => usize::try_from(seed % n).unwrap_or(0),
            _ => 0,
        };
        Self {
            policy,
            weights,
            credit,
            cursor,
            rng: Rng::with_seed(seed),
        }
    }

    pub fn policy(&self) -> LbPolicy {
        self.policy
    }

    /// Number of endpoints.
    pub fn len(&self) -> usize {
        self.weights.len()
    }

    pub fn is_empty(&self) -> bool {
        self.weights.len() == 0
    }

    /// Picks an endpoint index. `active(i)` is this core's count of
    /// in-flight requests on endpoint `i` (only least request uses it).
    /// `None` only when there are no endpoints.
    pub fn pick(&mut self, active: impl Fn(usize) -> u32) -> Option<usize> {
        self.pick_inner(None, active)
    }

    /// Like [`Self::pick`], but never returns `exclude` when another
    /// endpoint exists (for a retry on a fresh connection).
    pub fn pick_excluding(
        &mut self,
        exclude: usize,
        active: impl Fn(usize) -> u32,
    ) -> Option<usize> {
        let exclude = (exclude < self.len() && self.len() > 1).then_some(exclude);
        self.pick_inner(exclude, active)
    }

    fn pick_inner(
        &mut self,
        exclude: Option<usize>,
        active: impl Fn(usize) -> u32,
    ) -> Option<usize> {
        let n = self.len();
        if n <= 1 {
            return (n == 1).then_some(0);
        }
        Some(match self.policy {
            LbPolicy::RoundRobin => self.round_robin(exclude),
            LbPolicy::Random => self.weights.sample(&mut self.rng, exclude, None),
            LbPolicy::LeastRequest => self.least_request(exclude, active),
        })
    }

    /// One smooth weighted round robin step; `exclude` (if any) is neither
    /// credited nor eligible this step.
    fn round_robin(&mut self, exclude: Option<usize>) -> usize {
        let n = self.len();
        if self.weights.is_uniform() {
            let mut pick = self.cursor;
            if Some(pick) == exclude {
                pick = (pick + 1) % n;
            }
            self.cursor = (pick + 1) % n;
            return pick;
        }
        let mut best: Option<(usize, i64)> = None;
        let mut charged = 0i64;
        // Scan from the cursor so ties go to the first endpoint after it.
        for i in (self.cursor..n).chain(0..self.cursor) {
            if Some(i) == exclude {
                continue;
            }
            let w = i64::from(self.weights.get(i));
            charged = charged.saturating_add(w);
            let c = self.credit[i].saturating_add(w);
            self.credit[i] = c;
            if best.is_none_or(|(_, top)| c > top) {
                best = Some((i, c));
            }
        }
        let (pick, _) = best.unwrap_or((self.cursor, 0));
        self.credit[pick] = self.credit[pick].saturating_sub(charged);
        pick
    }

    /// Power of two choices among the endpoints other than `exclude`.
    fn least_request(&mut self, exclude: Option<usize>, active: impl Fn(usize) -> u32) -> usize {
        let first = self.weights.sample(&mut self.rng, exclude, None);
        if self.len() - usize::from(exclude.is_some()) < 2 {
            return first;
        }
        let second = self.weights.sample(&mut self.rng, exclude, Some(first));
        let (load_first, load_second) = (u64::from(active(first)), u64::from(active(second)));
        let second_wins = if self.weights.is_uniform() {
            load_second < load_first
        } else {
            let (w_first, w_second) = (
                u64::from(self.weights.get(first)),
                u64::from(self.weights.get(second)),
            );
            load_second * w_first < load_first * w_second
        };
        if second_wins { second } else { first }
    }
}
