#![allow(clippy::unwrap_used, clippy::expect_used)]

use clap::Parser;

use super::log::LogSetup;
use super::*;

fn parse(args: &str) -> Cli {
    Cli::try_parse_from(std::iter::once("ringway").chain(args.split_whitespace())).unwrap()
}

fn fails(args: &str) -> String {
    Cli::try_parse_from(std::iter::once("ringway").chain(args.split_whitespace()))
        .unwrap_err()
        .to_string()
}

#[test]
fn defaults_are_envoys() {
    let cli = parse("");
    assert_eq!(cli.mode, Mode::Serve);
    assert_eq!(cli.concurrency, None);
    assert!(!cli.cpuset_threads);
    assert_eq!(cli.drain_strategy, DrainStrategy::Gradual);
    assert_eq!(cli.parent_shutdown_time_s, 900);
    assert_eq!(cli.base_id, 0);
    assert_eq!(cli.restart_epoch, 0);
    assert_eq!(cli.local_address_ip_version, IpVersion::V4);
    assert_eq!(cli.file_flush_interval_msec, 10_000);
    assert_eq!(cli.log_level, "info");
    // ringway's own default (Envoy's 600 s is for hot restart).
    assert_eq!(cli.drain_time_s, 10);
    assert!(cli.not_acted_on().is_empty(), "defaults need no warning");
    assert!(cli.check().is_ok());
}

#[test]
fn both_value_forms() {
    for args in [
        "--mode init_only --concurrency 3 --service-node n1 --service-cluster c1 --service-zone z1 \
         --base-id 7 --base-id-path /tmp/b --drain-strategy immediate --parent-shutdown-time-s 5 \
         --restart-epoch 2 --local-address-ip-version v6 --component-log-level upstream:debug \
         --log-format %v --log-path /tmp/l --file-flush-interval-msec 50 --stats-tag a:b",
        "--mode=init_only --concurrency=3 --service-node=n1 --service-cluster=c1 --service-zone=z1 \
         --base-id=7 --base-id-path=/tmp/b --drain-strategy=immediate --parent-shutdown-time-s=5 \
         --restart-epoch=2 --local-address-ip-version=v6 --component-log-level=upstream:debug \
         --log-format=%v --log-path=/tmp/l --file-flush-interval-msec=50 --stats-tag=a:b",
    ] {
        let cli = parse(args);
        assert_eq!(cli.mode, Mode::InitOnly);
        assert_eq!(cli.concurrency, Some(3));
        assert_eq!(cli.service_node.as_deref(), Some("n1"));
        assert_eq!(cli.service_cluster.as_deref(), Some("c1"));
        assert_eq!(cli.service_zone.as_deref(), Some("z1"));
        assert_eq!(cli.base_id, 7);
        assert_eq!(
            cli.base_id_path.as_deref(),
            Some(std::path::Path::new("/tmp/b"))
        );
        assert_eq!(cli.drain_strategy, DrainStrategy::Immediate);
        assert_eq!(cli.parent_shutdown_time_s, 5);
        assert_eq!(cli.restart_epoch, 2);
        assert_eq!(cli.local_address_ip_version, IpVersion::V6);
        assert_eq!(cli.component_log_level.as_deref(), Some("upstream:debug"));
        assert_eq!(cli.log_format.as_deref(), Some("%v"));
        assert_eq!(cli.file_flush_interval_msec, 50);
        assert_eq!(cli.stats_tag, ["a:b"]);
    }
}

#[test]
fn switches_and_short_forms() {
    let cli = parse(
        "-c x.yaml -l warning --cpuset-threads --disable-hot-restart --use-dynamic-base-id \
         --enable-core-dump --allow-unknown-fields --reject-unknown-dynamic-fields \
         --ignore-unknown-dynamic-fields --log-format-escaped --enable-mutex-tracing",
    );
    assert_eq!(
        cli.config_path.as_deref(),
        Some(std::path::Path::new("x.yaml"))
    );
    assert_eq!(cli.log_level, "warning");
    assert!(cli.cpuset_threads && cli.disable_hot_restart && cli.use_dynamic_base_id);
    assert!(cli.enable_core_dump && cli.allow_unknown_static_fields);
    assert!(cli.reject_unknown_dynamic_fields && cli.ignore_unknown_dynamic_fields);
    let flags: Vec<&str> = cli.not_acted_on().iter().map(|(f, _)| *f).collect();
    for flag in [
        "--use-dynamic-base-id",
        "--enable-core-dump",
        "--allow-unknown-static-fields",
        "--reject-unknown-dynamic-fields",
        "--log-format-escaped",
        "--enable-mutex-tracing",
    ] {
        assert!(flags.contains(&flag), "{flag} is named: {flags:?}");
    }
    assert!(
        !flags.contains(&"--ignore-unknown-dynamic-fields"),
        "what ringway does anyway"
    );
}

#[test]
fn bad_values_fail_like_envoys() {
    assert!(fails("--mode nope").contains("nope"));
    assert!(fails("--drain-strategy slow").contains("slow"));
    assert!(fails("--local-address-ip-version v5").contains("v5"));
    assert!(fails("--stats-tag novalue").contains("stats-tag"));
    assert!(fails("--stats-tag a:b.c").contains("stats-tag"));
    assert!(fails("--no-such-flag").contains("--no-such-flag"));
    assert_eq!(parse("--config-yaml {}").config_yaml.as_deref(), Some("{}"));
    let cli = parse("--use-dynamic-base-id --restart-epoch 1");
    assert!(cli.check().unwrap_err().contains("--restart-epoch=1"));
}

#[test]
fn log_levels_and_components() {
    let setup = |args: &str| LogSetup::new(&parse(args));
    assert_eq!(setup("-l warning").unwrap().filter, "warn");
    assert_eq!(setup("-l critical").unwrap().filter, "error");
    assert_eq!(
        setup("-l info,ringway_xds=debug").unwrap().filter,
        "info,ringway_xds=debug",
        "a tracing directive list is taken as is"
    );
    assert!(setup("-l =bogus=").is_err());
    assert!(setup("-l loud").is_err(), "not a level");
    let s = setup("--component-log-level upstream:debug,pool:trace,lua:info").unwrap();
    assert!(s.filter.starts_with("info,ringway_proxy::upstream=debug,"));
    assert!(s.filter.contains("ringway_proxy::upstream::pool=trace"));
    assert_eq!(s.notes.len(), 1);
    assert!(s.notes[0].contains("'lua'"));
    assert!(setup("--component-log-level upstream").is_err());
    assert!(setup("--component-log-level upstream:loud").is_err());
}

#[test]
fn base_id() {
    let cli = parse("--base-id 7");
    assert_eq!(BaseId::pick(&cli), BaseId(7));
    let cli = parse("--use-dynamic-base-id");
    assert!(BaseId::pick(&cli).0 < 1 << 28);
    let dir = std::env::temp_dir().join(format!("ringway-base-id-{}", std::process::id()));
    BaseId(42).write(&dir).unwrap();
    assert_eq!(std::fs::read_to_string(&dir).unwrap(), "42");
    let _ = std::fs::remove_file(&dir);
}

#[test]
fn log_levels_list_and_change_loggers() {
    use std::cell::RefCell;
    use std::rc::Rc;

    use super::log::LogLevels;

    let applied = Rc::new(RefCell::new(Vec::<String>::new()));
    let seen = applied.clone();
    let setup = LogSetup::new(&parse("-l warning --component-log-level upstream:debug")).unwrap();
    let levels = LogLevels::new(
        &setup,
        Box::new(move |f: &str| {
            seen.borrow_mut().push(f.to_owned());
            Ok(())
        }),
    );
    let loggers = levels.loggers();
    assert_eq!(loggers["upstream"], "debug");
    assert_eq!(loggers["http"], "warning");

    levels.set(&[("http".into(), "trace".into())]).unwrap();
    assert!(applied.borrow()[0].starts_with("warn,"));
    assert!(applied.borrow()[0].contains("ringway_http1=trace"));
    assert_eq!(levels.loggers()["http"], "trace");

    assert_eq!(
        levels.set(&[("lua".into(), "debug".into())]),
        Err("unknown logger name".into())
    );
    assert_eq!(levels.loggers()["http"], "trace", "nothing changed");

    levels.set_all("error").unwrap();
    assert_eq!(applied.borrow().last().map(String::as_str), Some("error"));
    assert!(levels.loggers().values().all(|l| l == "error"));
}
