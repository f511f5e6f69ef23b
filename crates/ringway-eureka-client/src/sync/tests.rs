use std::time::Duration;

use ringway_eureka::{ActionType, Application, Applications, Instance, Status};

use super::*;

fn document(instances: Vec<Instance>, hashcode: Option<&str>) -> Applications {
    let mut doc = Applications {
        versions_delta: 1,
        apps_hashcode: String::new(),
        applications: vec![Application {
            name: "ORDERS".into(),
            instances,
        }],
    };
    doc.apps_hashcode = match hashcode {
        Some(h) => h.to_owned(),
        None => doc.hashcode(),
    };
    doc
}

fn up(host: &str) -> Instance {
    Instance::new("orders", host, 8080)
}

#[test]
fn a_full_fetch_comes_first_then_deltas() {
    let mut sync = Sync::new(1);
    assert_eq!(sync.next_fetch(), Fetch::Full);
    let full = document(vec![up("10.0.0.1")], None);
    assert_eq!(sync.on_full(0, full.clone()), Outcome::Changed);
    assert_eq!(sync.next_fetch(), Fetch::Delta);
    assert_eq!(sync.on_full(0, full.clone()), Outcome::Unchanged);
}

#[test]
fn a_delta_is_kept_only_when_the_hashcodes_agree() {
    let mut sync = Sync::new(1);
    sync.on_full(0, document(vec![up("10.0.0.1")], None));
    let mut added = up("10.0.0.2");
    added.action_type = Some(ActionType::Added);
    let delta = document(vec![added.clone()], Some("UP_2_"));
    assert_eq!(sync.on_delta(0, &delta), Outcome::Changed);
    assert_eq!(sync.registry().map(|r| r.len()), Some(2));
    // The same delta again (still in the server's window) changes nothing.
    assert_eq!(sync.on_delta(0, &delta), Outcome::Unchanged);

    // A delta that does not add up is dropped and forces a full fetch.
    let mut down = up("10.0.0.1");
    down.status = Status::Down;
    down.action_type = Some(ActionType::Modified);
    let wrong = document(vec![down], Some("UP_2_"));
    assert_eq!(
        sync.on_delta(0, &wrong),
        Outcome::Mismatch {
            ours: "DOWN_1_UP_1_".into(),
            theirs: "UP_2_".into()
        }
    );
    assert_eq!(sync.registry().map(|r| r.hashcode()), Some("UP_2_".into()));
    assert_eq!(sync.next_fetch(), Fetch::Full);
    assert_eq!(sync.stats.hashcode_mismatches, 1);
}

#[test]
fn failures_keep_the_registry_and_back_off_to_ten_intervals() {
    let interval = Duration::from_secs(30);
    let mut sync = Sync::new(1);
    sync.on_full(0, document(vec![up("10.0.0.1")], None));
    assert_eq!(sync.delay(interval), interval);
    let mut delays = Vec::new();
    for _ in 0..6 {
        sync.on_round_failed();
        delays.push(sync.delay(interval).as_secs());
    }
    assert_eq!(delays, [60, 120, 240, 300, 300, 300]);
    assert!(sync.stale());
    assert_eq!(sync.registry().map(|r| r.len()), Some(1));
    assert_eq!(sync.next_fetch(), Fetch::Full);
    sync.on_full(0, document(vec![up("10.0.0.1")], None));
    assert!(!sync.stale());
    assert_eq!(sync.delay(interval), interval);
}

#[test]
fn the_server_that_answered_is_tried_first() {
    let mut sync = Sync::new(3);
    assert_eq!(sync.server_order().collect::<Vec<_>>(), [0, 1, 2]);
    sync.on_full(2, document(vec![], None));
    assert_eq!(sync.server_order().collect::<Vec<_>>(), [2, 0, 1]);
}
