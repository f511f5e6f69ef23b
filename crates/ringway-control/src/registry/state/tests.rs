//! The registry without I/O: registrations, leases, overrides, the delta.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ringway_eureka::{ActionType, Applications, Instance, LeaseInfo, Status};

use super::*;

const T0: i64 = 1_700_000_000_000;
const RETENTION: i64 = 180_000;

fn instance(app: &str, host: &str, port: u16, lease_secs: u32) -> Instance {
    let mut instance = Instance::new(app, host, port);
    instance.lease_info = (lease_secs > 0).then(|| LeaseInfo {
        duration_secs: lease_secs,
        renewal_interval_secs: 1,
        ..LeaseInfo::default()
    });
    instance
}

fn registered(
    state: &mut State,
    app: &str,
    host: &str,
    port: u16,
    lease_secs: u32,
    now: i64,
) -> String {
    match state.register(app, instance(app, host, port, lease_secs), now) {
        Ok(r) => r.id,
        Err(err) => panic!("register {app}: {err}"),
    }
}

fn get<'a>(state: &'a State, app: &str, id: &str) -> &'a Instance {
    state
        .instance(app, id)
        .unwrap_or_else(|| panic!("no {app}/{id}"))
}

fn actions(state: &State, now: i64) -> Vec<(String, ActionType, Status)> {
    state
        .delta(now)
        .instances()
        .map(|i| {
            (
                i.id().to_owned(),
                i.action_type.unwrap_or(ActionType::Added),
                i.status,
            )
        })
        .collect()
}

#[test]
fn register_takes_the_path_app_and_owns_the_lease() {
    let mut state = State::new(RETENTION);
    let mut body = instance("whatever", "10.0.0.1", 8080, 0);
    body.lease_info = Some(LeaseInfo {
        registration_timestamp: 5,
        last_renewal_timestamp: 5,
        eviction_timestamp: 5,
        service_up_timestamp: 5,
        ..LeaseInfo::default()
    });
    body.last_dirty_timestamp = 0;
    let r = state.register("py-svc", body, T0).unwrap();
    assert_eq!((r.app.as_str(), r.is_new), ("PY-SVC", true));
    let stored = get(&state, "py-svc", &r.id);
    assert_eq!(stored.app, "PY-SVC");
    assert_eq!(stored.status, Status::Up);
    assert_eq!(stored.action_type, Some(ActionType::Added));
    assert_eq!(stored.last_updated_timestamp, T0);
    assert_eq!(
        stored.last_dirty_timestamp, T0,
        "absent: the registration time"
    );
    let lease = stored.lease_info.unwrap_or_default();
    assert_eq!(lease.duration_secs, LeaseInfo::DEFAULT_DURATION_SECS);
    assert_eq!(
        lease.renewal_interval_secs,
        LeaseInfo::DEFAULT_RENEWAL_INTERVAL_SECS
    );
    assert_eq!(
        (
            lease.registration_timestamp,
            lease.last_renewal_timestamp,
            lease.eviction_timestamp,
            lease.service_up_timestamp
        ),
        (T0, T0, 0, T0)
    );
    assert_eq!(state.membership(), 1);
    assert_eq!(state.applications().apps_hashcode, "UP_1_");
}

#[test]
fn register_again_keeps_service_up_and_takes_the_new_body() {
    let mut state = State::new(RETENTION);
    let id = registered(&mut state, "orders", "10.0.0.1", 8080, 3, T0);
    let mut again = instance("orders", "10.0.0.1", 8080, 3);
    again.status = Status::Down;
    again.vip_address = Some("orders-v2".into());
    let r = state.register("ORDERS", again, T0 + 1000).unwrap();
    assert!(!r.is_new);
    let stored = get(&state, "orders", &id);
    assert_eq!(stored.status, Status::Down);
    assert_eq!(stored.vip_address.as_deref(), Some("orders-v2"));
    let lease = stored.lease_info.unwrap_or_default();
    assert_eq!(
        (lease.registration_timestamp, lease.service_up_timestamp),
        (T0 + 1000, T0)
    );
    assert_eq!(state.len(), 1);
    assert_eq!(state.membership(), 2);
}

#[test]
fn register_rejects_no_app_and_no_id() {
    let mut state = State::new(RETENTION);
    assert_eq!(
        state.register(" ", instance("a", "h", 1, 0), T0).err(),
        Some(Invalid::NoApp)
    );
    let mut nameless = instance("a", "", 1, 0);
    nameless.instance_id = None;
    assert_eq!(state.register("a", nameless, T0).err(), Some(Invalid::NoId));
    assert_eq!(state.len(), 0);
    assert_eq!(state.membership(), 0);
}

#[test]
fn renew_restarts_the_lease_and_refuses_what_needs_a_registration() {
    let mut state = State::new(RETENTION);
    let id = registered(&mut state, "orders", "10.0.0.1", 8080, 3, T0);
    let dirty = get(&state, "orders", &id).last_dirty_timestamp;
    let versions = state.applications().versions_delta;

    assert_eq!(
        state.renew("orders", "nope", Renewal::default(), T0),
        Err(Refused::Unknown)
    );
    assert_eq!(
        state.renew("nope", &id, Renewal::default(), T0),
        Err(Refused::Unknown)
    );
    let plain = Renewal::default();
    assert_eq!(state.renew("orders", &id, plain, T0 + 1000), Ok(()));
    let same = Renewal {
        status: Some(Status::Up),
        last_dirty: Some(dirty),
    };
    assert_eq!(state.renew("Orders", &id, same, T0 + 2000), Ok(()));
    let lease = get(&state, "orders", &id).lease_info.unwrap_or_default();
    assert_eq!(lease.last_renewal_timestamp, T0 + 2000);

    let newer = Renewal {
        status: None,
        last_dirty: Some(dirty + 1),
    };
    assert_eq!(
        state.renew("orders", &id, newer, T0 + 3000),
        Err(Refused::ClientNewer {
            client: dirty + 1,
            registered: dirty
        })
    );
    let down = Renewal {
        status: Some(Status::Down),
        last_dirty: None,
    };
    assert_eq!(
        state.renew("orders", &id, down, T0 + 3000),
        Err(Refused::StatusDiffers {
            client: Status::Down,
            registered: Status::Up
        })
    );
    // Renewals are not changes.
    assert_eq!(state.applications().versions_delta, versions);
    assert_eq!(state.membership(), 1);
}

#[test]
fn cancel_removes_and_records_a_deletion() {
    let mut state = State::new(RETENTION);
    let id = registered(&mut state, "orders", "10.0.0.1", 8080, 0, T0);
    assert_eq!(
        state.cancel("orders", "nope", T0).err(),
        Some(Refused::Unknown)
    );
    let gone = state.cancel("orders", &id, T0 + 5).unwrap();
    assert_eq!(gone.lease_info.map(|l| l.eviction_timestamp), Some(T0 + 5));
    assert!(state.application("orders").is_none());
    assert_eq!(
        state.cancel("orders", &id, T0 + 6).err(),
        Some(Refused::Unknown)
    );
    assert_eq!(
        actions(&state, T0 + 10),
        [
            (id.clone(), ActionType::Added, Status::Up),
            (id, ActionType::Deleted, Status::Up)
        ]
    );
    let delta = state.delta(T0 + 10);
    assert_eq!(delta.apps_hashcode, "", "the whole registry: empty");
    assert_eq!(delta.applications.len(), 1);
    assert_eq!(state.membership(), 2);
}

#[test]
fn eviction_after_the_lease_without_renewal() {
    let mut state = State::new(RETENTION);
    let short = registered(&mut state, "a", "10.0.0.1", 1, 3, T0);
    let long = registered(&mut state, "b", "10.0.0.2", 2, 0, T0);
    assert_eq!(
        state.renew("a", &short, Renewal::default(), T0 + 2000),
        Ok(())
    );
    assert!(
        state.evict(T0 + 5000).is_empty(),
        "renewed 3 s ago: not yet"
    );
    let evicted = state.evict(T0 + 5001);
    assert_eq!(
        evicted
            .iter()
            .map(|i| i.id().to_owned())
            .collect::<Vec<_>>(),
        [short]
    );
    assert_eq!(evicted[0].action_type, Some(ActionType::Deleted));
    assert_eq!(state.len(), 1);
    assert!(state.evict(T0 + 90_000).is_empty(), "default lease: 90 s");
    assert_eq!(state.evict(T0 + 90_001).len(), 1);
    assert!(state.instance("b", &long).is_none());
    assert_eq!(state.membership(), 4);
}

#[test]
fn status_override_and_its_removal() {
    let mut state = State::new(RETENTION);
    let id = registered(&mut state, "orders", "10.0.0.1", 8080, 0, T0);
    assert_eq!(
        state
            .set_override("orders", "x", Status::OutOfService, T0)
            .err(),
        Some(Refused::Unknown)
    );
    assert_eq!(
        state.set_override("ORDERS", &id, Status::OutOfService, T0 + 1),
        Ok(())
    );
    let stored = get(&state, "orders", &id);
    assert_eq!(
        (stored.status, stored.overridden_status),
        (Status::OutOfService, Status::OutOfService)
    );
    assert_eq!(stored.action_type, Some(ActionType::Modified));
    assert_eq!(state.applications().apps_hashcode, "OUT_OF_SERVICE_1_");
    assert_eq!(state.delta(T0 + 2).apps_hashcode, "OUT_OF_SERVICE_1_");

    // A renewal with the instance's own status is fine; a registration
    // keeps the override.
    let up = Renewal {
        status: Some(Status::Up),
        last_dirty: None,
    };
    assert_eq!(state.renew("orders", &id, up, T0 + 3), Ok(()));
    registered(&mut state, "orders", "10.0.0.1", 8080, 0, T0 + 4);
    assert_eq!(get(&state, "orders", &id).status, Status::OutOfService);

    assert_eq!(state.clear_override("orders", &id, None, T0 + 5), Ok(()));
    let stored = get(&state, "orders", &id);
    assert_eq!(
        (stored.status, stored.overridden_status),
        (Status::Up, Status::Unknown)
    );

    // With a value, that becomes the status; a client still saying UP is
    // told to register again.
    state
        .set_override("orders", &id, Status::OutOfService, T0 + 6)
        .unwrap();
    assert_eq!(
        state.clear_override("orders", &id, Some(Status::Down), T0 + 7),
        Ok(())
    );
    assert_eq!(get(&state, "orders", &id).status, Status::Down);
    assert!(state.renew("orders", &id, up, T0 + 8).is_err());
    assert_eq!(
        actions(&state, T0 + 8)
            .iter()
            .map(|a| (a.1, a.2))
            .collect::<Vec<_>>(),
        [
            (ActionType::Added, Status::Up),
            (ActionType::Modified, Status::OutOfService),
            (ActionType::Added, Status::OutOfService),
            (ActionType::Modified, Status::Up),
            (ActionType::Modified, Status::OutOfService),
            (ActionType::Modified, Status::Down),
        ]
    );
    assert_eq!(state.membership(), 6);
}

#[test]
fn metadata_updates_are_changes_but_not_membership() {
    let mut state = State::new(RETENTION);
    let mut body = instance("orders", "10.0.0.1", 8080, 0);
    body.metadata = vec![("zone".into(), "a".into())];
    let id = state
        .register("orders", body, T0)
        .map(|r| r.id)
        .unwrap_or_default();
    let pairs = vec![
        ("zone".to_owned(), "b".to_owned()),
        ("team".to_owned(), "mesh".to_owned()),
    ];
    assert_eq!(
        state
            .update_metadata("orders", "nope", pairs.clone(), T0)
            .err(),
        Some(Refused::Unknown)
    );
    assert_eq!(state.update_metadata("orders", &id, pairs, T0 + 1), Ok(()));
    let stored = get(&state, "orders", &id);
    assert_eq!(
        (stored.metadata("zone"), stored.metadata("team")),
        (Some("b"), Some("mesh"))
    );
    assert_eq!(stored.action_type, Some(ActionType::Modified));
    assert_eq!(
        state.update_metadata("orders", &id, Vec::new(), T0 + 2),
        Ok(())
    );
    assert_eq!(state.delta(T0 + 2).instances().count(), 2);
    assert_eq!(state.membership(), 1);
}

#[test]
fn delta_keeps_changes_for_the_retention_only() {
    let mut state = State::new(RETENTION);
    let a = registered(&mut state, "a", "10.0.0.1", 1, 0, T0);
    let b = registered(&mut state, "b", "10.0.0.2", 2, 0, T0 + 100_000);
    state
        .set_override("a", &a, Status::Down, T0 + 150_000)
        .unwrap();
    let delta = state.delta(T0 + 200_000);
    assert_eq!(
        actions(&state, T0 + 200_000),
        [
            (b.clone(), ActionType::Added, Status::Up),
            (a.clone(), ActionType::Modified, Status::Down)
        ]
    );
    assert_eq!(delta.apps_hashcode, "DOWN_1_UP_1_");
    assert_eq!(delta.versions_delta, state.applications().versions_delta);
    assert_eq!(
        delta
            .applications
            .iter()
            .map(|a| a.name.as_str())
            .collect::<Vec<_>>(),
        ["B", "A"]
    );
    assert!(state.delta(T0 + 400_000).applications.is_empty());
    // A later change purges what has aged out.
    state.cancel("b", &b, T0 + 400_000).unwrap();
    assert_eq!(state.recent.len(), 1);
}

#[test]
fn vips_match_whole_entries_with_case() {
    let mut state = State::new(RETENTION);
    let mut one = instance("orders", "10.0.0.1", 8080, 0);
    one.vip_address = Some("orders,orders-v2".into());
    one.secure_vip_address = Some("orders-secure".into());
    let mut two = instance("orders", "10.0.0.2", 8080, 0);
    two.vip_address = Some("orders-v2".into());
    two.status = Status::Down;
    let mut three = instance("payments", "10.0.0.3", 7001, 0);
    three.vip_address = Some("Orders, orders-v2:8080".into());
    for i in [one, two, three] {
        let app = i.app.clone();
        state.register(&app, i, T0).unwrap();
    }
    let ids = |doc: &Applications| {
        doc.instances()
            .map(|i| i.ip_addr.clone())
            .collect::<Vec<_>>()
    };
    let v2 = state.vip("orders-v2", false);
    assert_eq!(ids(&v2), ["10.0.0.1", "10.0.0.2"]);
    assert_eq!(
        (v2.versions_delta, v2.apps_hashcode.as_str()),
        (-1, "DOWN_1_UP_1_")
    );
    assert_eq!(ids(&state.vip("orders", false)), ["10.0.0.1"]);
    assert_eq!(ids(&state.vip("Orders", false)), ["10.0.0.3"]);
    assert!(state.vip("ORDERS", false).applications.is_empty());
    assert_eq!(ids(&state.vip("orders-secure", true)), ["10.0.0.1"]);
    assert!(state.vip("orders-secure", false).applications.is_empty());
}

#[test]
fn reads_and_snapshot() {
    let mut state = State::new(RETENTION);
    let id = registered(&mut state, "orders", "10.0.0.1", 8080, 0, T0);
    registered(&mut state, "payments", "10.0.0.2", 7001, 0, T0);
    state
        .set_override("orders", &id, Status::OutOfService, T0)
        .unwrap();
    assert_eq!(
        state.application("Orders").map(|a| a.name),
        Some("ORDERS".to_owned())
    );
    assert_eq!(
        state.instance_by_id(&id).map(|i| i.app.as_str()),
        Some("ORDERS")
    );
    assert!(state.instance_by_id("nope").is_none());
    let full = state.applications();
    assert_eq!(full.apps_hashcode, "OUT_OF_SERVICE_1_UP_1_");
    assert_eq!(
        full.applications
            .iter()
            .map(|a| a.name.as_str())
            .collect::<Vec<_>>(),
        ["ORDERS", "PAYMENTS"]
    );
    let snapshot = state.snapshot();
    assert_eq!(snapshot.len(), 2);
    assert_eq!(snapshot.hashcode(), "OUT_OF_SERVICE_1_UP_1_");
    assert!(
        snapshot.resolve("orders", false).is_empty(),
        "out of service"
    );
    assert_eq!(snapshot.resolve("payments", false).len(), 1);
}
