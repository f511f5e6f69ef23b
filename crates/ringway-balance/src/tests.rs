use ringway_config::model::LbPolicy;

use crate::{Balancer, WeightedPicker};

const POLICIES: [LbPolicy; 3] = [
    LbPolicy::RoundRobin,
    LbPolicy::LeastRequest,
    LbPolicy::Random,
];

fn idle(_: usize) -> u32 {
    0
}

/// Share of `picks` picks that went to each endpoint.
fn shares(b: &mut Balancer, picks: usize, exclude: Option<usize>) -> Vec<f64> {
    let mut counts = vec![0usize; b.len()];
    for _ in 0..picks {
        let i = match exclude {
            Some(x) => b.pick_excluding(x, idle),
            None => b.pick(idle),
        };
        if let Some(i) = i {
            counts[i] += 1;
        }
    }
    counts.iter().map(|&c| c as f64 / picks as f64).collect()
}

fn assert_close(got: &[f64], want: &[f64], tolerance: f64) {
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() <= tolerance, "got {got:?}, want {want:?}");
    }
}

#[test]
fn smooth_round_robin_interleaves() {
    let mut b = Balancer::new(LbPolicy::RoundRobin, &[5, 1, 1], 0);
    let seq: Vec<usize> = (0..14).filter_map(|_| b.pick(idle)).collect();
    assert_eq!(seq, [0, 0, 1, 0, 2, 0, 0, 0, 0, 1, 0, 2, 0, 0]);
}

#[test]
fn smooth_round_robin_every_cycle_matches_weights() {
    for seed in 0..20 {
        let mut b = Balancer::new(LbPolicy::RoundRobin, &[5, 1, 1], seed);
        let seq: Vec<usize> = (0..70).filter_map(|_| b.pick(idle)).collect();
        for cycle in seq.chunks(7) {
            let count = |e| cycle.iter().filter(|&&i| i == e).count();
            assert_eq!(
                [count(0), count(1), count(2)],
                [5, 1, 1],
                "seed {seed}: {seq:?}"
            );
            // Within a cycle the heavy endpoint is spread out.
            assert!(
                !cycle.windows(3).any(|w| w == [0, 0, 0]),
                "seed {seed}: {seq:?}"
            );
        }
    }
}

#[test]
fn equal_weights_rotate_from_a_seeded_offset() {
    let mut starts = Vec::new();
    for seed in 0..4 {
        let mut b = Balancer::new(LbPolicy::RoundRobin, &[3, 3, 3, 3], seed);
        let seq: Vec<usize> = (0..8).filter_map(|_| b.pick(idle)).collect();
        assert!(seq.windows(2).all(|w| w[1] == (w[0] + 1) % 4), "{seq:?}");
        starts.push(seq[0]);
    }
    starts.sort_unstable();
    assert_eq!(starts, [0, 1, 2, 3]);
}

#[test]
fn distributions_follow_weights() {
    let weights = [1, 2, 3, 4];
    let want = [0.1, 0.2, 0.3, 0.4];
    for policy in POLICIES {
        let mut b = Balancer::new(policy, &weights, 7);
        assert_close(&shares(&mut b, 100_000, None), &want, 0.01);
    }
    // Equal weights: uniform.
    for policy in POLICIES {
        let mut b = Balancer::new(policy, &[2; 5], 11);
        assert_close(&shares(&mut b, 100_000, None), &[0.2; 5], 0.01);
    }
}

#[test]
fn round_robin_is_exact_over_whole_cycles() {
    let mut b = Balancer::new(LbPolicy::RoundRobin, &[1, 2, 3, 4], 3);
    assert_close(&shares(&mut b, 1_000, None), &[0.1, 0.2, 0.3, 0.4], 0.0);
}

#[test]
fn least_request_prefers_the_less_loaded() {
    // Two endpoints: both are always candidates, the idle one always wins.
    let mut b = Balancer::new(LbPolicy::LeastRequest, &[1, 1], 1);
    for _ in 0..1_000 {
        assert_eq!(b.pick(|i| if i == 0 { 10 } else { 0 }), Some(1));
    }
    // Ten endpoints: the most loaded never wins, the idle one wins whenever
    // drawn (about 2 picks in 10).
    let mut b = Balancer::new(LbPolicy::LeastRequest, &[1; 10], 2);
    let load = |i: usize| match i {
        0 => 100,
        3 => 0,
        _ => 5,
    };
    let mut idle_wins = 0;
    for _ in 0..10_000 {
        let i = b.pick(load);
        assert_ne!(i, Some(0));
        idle_wins += usize::from(i == Some(3));
    }
    assert!((1_800..=2_200).contains(&idle_wins), "{idle_wins}");
}

#[test]
fn least_request_compares_load_per_weight() {
    // 3 in flight on weight 4 is less loaded than 1 on weight 1.
    let mut b = Balancer::new(LbPolicy::LeastRequest, &[1, 4], 5);
    for _ in 0..100 {
        assert_eq!(b.pick(|i| [1, 3][i]), Some(1));
    }
    // 5 on weight 4 is more loaded than 1 on weight 1.
    for _ in 0..100 {
        assert_eq!(b.pick(|i| [1, 5][i]), Some(0));
    }
}

#[test]
fn pick_excluding_avoids_the_excluded_endpoint() {
    for policy in POLICIES {
        for weights in [&[1u32, 1][..], &[5, 1, 1], &[1, 2, 3, 4], &[9, 1]] {
            for seed in 0..10 {
                let mut b = Balancer::new(policy, weights, seed);
                for round in 0..200 {
                    let exclude = round % weights.len();
                    let got = b.pick_excluding(exclude, |i| (i as u32 * 7) % 3);
                    assert!(got.is_some_and(|i| i != exclude && i < weights.len()));
                }
            }
        }
    }
}

#[test]
fn pick_excluding_spreads_over_the_others_by_weight() {
    for policy in POLICIES {
        let mut b = Balancer::new(policy, &[1, 2, 3, 4], 9);
        let got = shares(&mut b, 90_000, Some(1));
        assert_close(&got, &[0.125, 0.0, 0.375, 0.5], 0.015);
    }
}

#[test]
fn single_and_empty() {
    for policy in POLICIES {
        let mut none = Balancer::new(policy, &[], 1);
        assert!(none.is_empty());
        assert_eq!(none.pick(idle), None);
        assert_eq!(none.pick_excluding(0, idle), None);
        let mut one = Balancer::new(policy, &[3], 1);
        assert_eq!(one.len(), 1);
        assert_eq!(one.pick(idle), Some(0));
        assert_eq!(one.pick_excluding(0, idle), Some(0));
        // An out-of-range exclude is ignored.
        let mut two = Balancer::new(policy, &[1, 1], 1);
        assert!(two.pick_excluding(5, idle).is_some_and(|i| i < 2));
    }
}

#[test]
fn zero_weight_counts_as_one() {
    let mut b = Balancer::new(LbPolicy::Random, &[0, 1], 4);
    assert_close(&shares(&mut b, 20_000, None), &[0.5, 0.5], 0.02);
}

#[test]
fn deterministic_per_seed() {
    let load = |i: usize| (i as u32 * 5) % 4;
    for policy in POLICIES {
        let run = |seed| {
            let mut b = Balancer::new(policy, &[1, 2, 3, 4, 5], seed);
            (0..200).map(|_| b.pick(load)).collect::<Vec<_>>()
        };
        assert_eq!(run(42), run(42));
        if policy != LbPolicy::RoundRobin {
            assert_ne!(run(42), run(43));
        }
    }
    let run = |seed| {
        let mut p = WeightedPicker::new(seed);
        (0..200)
            .map(|_| p.pick([1, 1, 1].into_iter()))
            .collect::<Vec<_>>()
    };
    assert_eq!(run(1), run(1));
    assert_ne!(run(1), run(2));
}

#[test]
fn weighted_picker_follows_weights() {
    let mut p = WeightedPicker::new(3);
    let weights = [10u32, 0, 30];
    let mut counts = [0usize; 3];
    for _ in 0..40_000 {
        if let Some(i) = p.pick(weights.iter().copied()) {
            counts[i] += 1;
        }
    }
    assert_eq!(counts[1], 0);
    let share = counts[0] as f64 / 40_000.0;
    assert!((0.24..=0.26).contains(&share), "{counts:?}");
    assert_eq!(p.pick(std::iter::empty()), None);
    assert_eq!(p.pick([0u32, 0].into_iter()), None);
    assert_eq!(p.pick([0u32, 7].into_iter()), Some(1));
}
