use super::*;

fn instance(app: &str, host: &str, status: Status) -> Instance {
    let mut i = Instance::new(app, host, 8080);
    i.status = status;
    i
}

#[test]
fn hashcode_counts_statuses_in_name_order() {
    assert_eq!(hashcode([]), "");
    assert_eq!(
        hashcode([Status::Up, Status::Down, Status::Up]),
        "DOWN_1_UP_2_"
    );
    assert_eq!(
        hashcode([Status::Up, Status::OutOfService, Status::Up]),
        "OUT_OF_SERVICE_1_UP_2_"
    );
}

#[test]
fn deltas_upsert_and_delete_idempotently() {
    let mut registry = Registry::default();
    registry.upsert(instance("orders", "10.0.0.1", Status::Up));
    registry.upsert(instance("payments", "10.0.0.2", Status::Down));
    let mut changed = instance("orders", "10.0.0.1", Status::OutOfService);
    changed.action_type = Some(ActionType::Modified);
    let mut added = instance("orders", "10.0.0.3", Status::Up);
    added.action_type = Some(ActionType::Added);
    let mut gone = instance("payments", "10.0.0.2", Status::Down);
    gone.action_type = Some(ActionType::Deleted);
    let delta = Applications {
        versions_delta: 2,
        apps_hashcode: String::new(),
        applications: vec![Application {
            name: "ORDERS".into(),
            instances: vec![changed.clone(), added, changed, gone.clone(), gone],
        }],
    };
    registry.apply_delta(&delta);
    let once = registry.clone();
    registry.apply_delta(&delta);
    assert_eq!(registry, once);
    assert_eq!(registry.len(), 2);
    assert_eq!(registry.hashcode(), "OUT_OF_SERVICE_1_UP_1_");
    assert!(!registry.knows_vip("payments", false));
}

#[test]
fn vips_resolve_to_up_instances_ignoring_case_and_ports() {
    let mut registry = Registry::default();
    let mut a = instance("orders", "10.0.0.1", Status::Up);
    a.vip_address = Some("Orders, orders-v2".into());
    a.secure_vip_address = Some("orders-secure".into());
    a.secure_port = Port {
        number: 8443,
        enabled: true,
    };
    let mut b = instance("orders", "10.0.0.2", Status::Down);
    b.vip_address = Some("orders".into());
    let mut c = instance("payments", "10.0.0.3", Status::Up);
    c.vip_address = Some("payments:7001".into());
    for i in [a, b, c] {
        registry.upsert(i);
    }
    let hosts = |vip: &str, secure: bool| -> Vec<(String, u16)> {
        registry
            .resolve(vip, secure)
            .into_iter()
            .map(|e| (e.host, e.port))
            .collect()
    };
    assert_eq!(hosts("ORDERS", false), [("10.0.0.1".into(), 8080)]);
    assert_eq!(hosts("orders-v2", false), [("10.0.0.1".into(), 8080)]);
    assert_eq!(hosts("orders-secure", true), [("10.0.0.1".into(), 8443)]);
    assert!(hosts("orders-secure", false).is_empty());
    assert_eq!(hosts("payments", false), [("10.0.0.3".into(), 8080)]);
    assert_eq!(hosts("payments:7001", false), [("10.0.0.3".into(), 8080)]);
    assert!(hosts("payments:7002", false).is_empty());
    assert!(hosts("order", false).is_empty());
    assert!(registry.knows_vip("orders", false));

    // Not listed: a DOWN-only VIP is known; a name that was never listed
    // is not, and a port must match whole.
    let index = registry.vip_index(false);
    assert!(index.knows("orders") && !index.knows("order") && !index.knows("payments:7002"));
    let names: Vec<&str> = index.names().collect();
    assert_eq!(names, ["orders", "orders-v2", "payments", "payments:7001"]);
}

#[test]
fn the_effective_id_falls_back_to_amazon_then_host() {
    let mut i = instance("a", "host-1", Status::Up);
    assert_eq!(i.id(), "host-1:a:8080");
    i.instance_id = None;
    assert_eq!(i.id(), "host-1");
    i.data_center_info.metadata = vec![("instance-id".into(), "i-123".into())];
    assert_eq!(i.id(), "i-123");
}

#[test]
fn unknown_statuses_read_as_unknown() {
    assert_eq!(Status::parse("OUT_OF_SERVICE"), Status::OutOfService);
    assert_eq!(Status::parse("up"), Status::Up);
    assert_eq!(Status::parse("SLEEPING"), Status::Unknown);
}
