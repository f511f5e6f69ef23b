//! Round trips: model → Envoy Listener / RouteConfiguration → the
//! conversion a bootstrap goes through (`listener`, `virtual_hosts`) → the
//! same model.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Duration;

use ringway_config::model::{
    AccessLog, AccessLogFormat, HeaderMatch, Keepalive, Limits, Pattern, Redirect, RouteMatch,
    VirtualHost, WeightedCluster,
};

use super::*;
use crate::{listener, virtual_hosts};

fn route(path: PathMatch, action: model::RouteAction) -> model::Route {
    model::Route::new(RouteMatch::path(path), action)
}

fn hosts() -> Vec<VirtualHost> {
    let mut api = route(
        PathMatch::Prefix("/api/".into()),
        model::RouteAction::Cluster("api".into()),
    );
    api.matcher.methods = vec!["GET".into(), "POST".into()];
    api.matcher.headers = vec![
        HeaderMatch {
            name: "x-tenant".into(),
            value: HeaderValueMatch::String(StringMatch {
                kind: StringMatchKind::Exact("blue".into()),
                ignore_case: false,
            }),
            invert_match: false,
            treat_missing_header_as_empty: false,
        },
        HeaderMatch {
            name: "x-debug".into(),
            value: HeaderValueMatch::Present(true),
            invert_match: true,
            treat_missing_header_as_empty: false,
        },
        HeaderMatch {
            name: "x-version".into(),
            value: HeaderValueMatch::String(StringMatch {
                kind: StringMatchKind::Suffix("v2".into()),
                ignore_case: true,
            }),
            invert_match: false,
            treat_missing_header_as_empty: false,
        },
        HeaderMatch {
            name: "x-id".into(),
            value: HeaderValueMatch::String(StringMatch {
                kind: StringMatchKind::SafeRegex(Pattern::new("[0-9]+").unwrap()),
                ignore_case: false,
            }),
            invert_match: false,
            treat_missing_header_as_empty: false,
        },
    ];
    api.timeout = Duration::from_millis(2500);
    api.idle_timeout = Some(Duration::from_secs(30));
    api.retry_policy = Some(model::RetryPolicy {
        retry_on: ringway_retry::RetryOn::parse("5xx,reset,unavailable").unwrap(),
        num_retries: 3,
        back_off_base: Duration::from_millis(10),
        back_off_max: Some(Duration::from_millis(40)),
        retriable_status_codes: vec![409, 418],
    });
    api.prefix_rewrite = Some("/".into());
    api.host_rewrite = Some("api.internal".into());
    let mut slow = route(
        PathMatch::Regex(Pattern::new("/slow/[a-z]+").unwrap()),
        model::RouteAction::WeightedClusters(vec![
            WeightedCluster {
                name: "a".into(),
                weight: 75,
            },
            WeightedCluster {
                name: "b".into(),
                weight: 25,
            },
        ]),
    );
    slow.timeout = defaults::ROUTE_TIMEOUT_OFF;
    slow.idle_timeout = Some(Duration::ZERO);
    vec![
        VirtualHost {
            name: "api".into(),
            domains: vec![
                DomainPattern::Exact("api.example.com".into()),
                DomainPattern::Suffix(".api.example.com".into()),
                DomainPattern::Prefix("api.".into()),
            ],
            routes: vec![
                api,
                slow,
                route(
                    PathMatch::Prefix("/by-header".into()),
                    model::RouteAction::ClusterFrom(ClusterSource::Header("x-cluster".into())),
                ),
            ],
        },
        VirtualHost {
            name: "rest".into(),
            domains: vec![DomainPattern::Any],
            routes: vec![
                route(
                    PathMatch::Exact("/healthz".into()),
                    model::RouteAction::DirectResponse {
                        status: 200,
                        body: "ok\n".into(),
                    },
                ),
                route(
                    PathMatch::Exact("/empty".into()),
                    model::RouteAction::DirectResponse {
                        status: 204,
                        body: String::new(),
                    },
                ),
                route(
                    PathMatch::Prefix("/old".into()),
                    model::RouteAction::Redirect(Redirect {
                        status: 308,
                        scheme: Some("https".into()),
                        host: Some("new.example.com".into()),
                        port: Some(8443),
                        path: Some(model::RedirectPath::Replace("/new".into())),
                        strip_query: true,
                    }),
                ),
                route(
                    PathMatch::Prefix("/moved".into()),
                    model::RouteAction::Redirect(Redirect {
                        status: 301,
                        scheme: None,
                        host: None,
                        port: None,
                        path: Some(model::RedirectPath::Replace("/here?from=moved".into())),
                        strip_query: false,
                    }),
                ),
                route(
                    PathMatch::Prefix("/".into()),
                    model::RouteAction::Redirect(Redirect {
                        status: 302,
                        scheme: None,
                        host: Some("elsewhere".into()),
                        port: None,
                        path: Some(model::RedirectPath::Prefix("/there".into())),
                        strip_query: false,
                    }),
                ),
            ],
        },
    ]
}

fn listener_model(protocol: ListenerProtocol) -> model::Listener {
    model::Listener {
        name: "edge".into(),
        address: "127.0.0.1:10000".parse().unwrap(),
        stat_prefix: "ingress_http".into(),
        virtual_hosts: hosts(),
        limits: Limits {
            idle_timeout: Duration::from_secs(300),
            request_head_timeout: Duration::from_secs(5),
            stream_idle_timeout: Some(Duration::from_secs(90)),
            request_timeout: Some(Duration::from_secs(20)),
            ..Limits::default()
        },
        access_logs: vec![AccessLog {
            path: PathBuf::from("/tmp/ringway-access.log"),
            format: AccessLogFormat::Text,
            filter: None,
        }],
        protocol,
        http2: model::Http2Settings::default(),
        rds: None,
        use_remote_address: true,
        xff_num_trusted_hops: 1,
        internal_address_config: Some(model::InternalAddressConfig {
            cidr_ranges: vec![model::CidrRange {
                address_prefix: "10.0.0.0".parse().unwrap(),
                prefix_len: 8,
            }],
        }),
        suppress_envoy_headers: true,
        generate_request_id: false,
    }
}

#[test]
fn listener_round_trips() {
    for protocol in [
        ListenerProtocol::Auto,
        ListenerProtocol::Http1,
        ListenerProtocol::Http2,
    ] {
        let original = listener_model(protocol);
        let back = listener(&envoy_listener(&original), "unused").unwrap();
        assert_eq!(back, original);
    }
}

#[test]
fn listener_settings_round_trip() {
    let mut original = listener_model(ListenerProtocol::Auto);
    original.limits.idle_timeout = defaults::ROUTE_TIMEOUT_OFF;
    original.http2 = model::Http2Settings {
        max_concurrent_streams: 50,
        initial_stream_window_size: 1 << 20,
        initial_connection_window_size: 1 << 22,
        keepalive: Some(Keepalive {
            interval: Duration::from_secs(30),
            timeout: Duration::from_secs(5),
        }),
        ..model::Http2Settings::default()
    };
    for path in ["/dev/stdout", "/dev/stderr"] {
        original.access_logs = vec![AccessLog {
            path: PathBuf::from(path),
            format: AccessLogFormat::Text,
            filter: None,
        }];
        let back = listener(&envoy_listener(&original), "unused").unwrap();
        assert_eq!(back, original);
    }
    original.access_logs = Vec::new();
    let back = listener(&envoy_listener(&original), "unused").unwrap();
    assert_eq!(back, original);
    // Both stream timeouts off (0 in Envoy's terms).
    original.limits.stream_idle_timeout = None;
    original.limits.request_timeout = None;
    let back = listener(&envoy_listener(&original), "unused").unwrap();
    assert_eq!(back, original);
}

#[test]
fn access_log_formats_and_filters_round_trip() {
    use ringway_config::model::log_format::LogFormat;
    use ringway_config::model::{Comparison, ComparisonOp, JsonFormat, LogFilter, TextFormat};
    let text = AccessLogFormat::TextFormat(TextFormat {
        format: LogFormat::parse("[%START_TIME(%s.%3f)%] %REQ(X-A?X-B):10% %RESP(content-type)%\n")
            .unwrap(),
        omit_empty_values: true,
    });
    let object = serde_json::json!({
        "code": "%RESPONSE_CODE%",
        "up": { "cluster": "%UPSTREAM_CLUSTER%", "n": 1.5, "on": true },
    });
    let fields = JsonFormat::compile_fields(object.as_object().unwrap()).unwrap();
    let json = |typed| {
        AccessLogFormat::JsonFormat(JsonFormat {
            fields: fields.clone(),
            typed,
            omit_empty_values: false,
        })
    };
    let filter = LogFilter::Or(vec![
        LogFilter::StatusCode(Comparison {
            op: ComparisonOp::Ge,
            value: 500,
        }),
        LogFilter::And(vec![
            LogFilter::NotHealthCheck,
            LogFilter::ResponseFlags(vec!["UF".into(), "UH".into()]),
            LogFilter::Duration(Comparison {
                op: ComparisonOp::Le,
                value: 10,
            }),
        ]),
    ]);
    let mut original = listener_model(ListenerProtocol::Auto);
    original.access_logs = vec![
        AccessLog {
            path: PathBuf::from("/dev/stdout"),
            format: text.clone(),
            filter: Some(filter),
        },
        AccessLog {
            path: PathBuf::from("/dev/stderr"),
            format: json(true),
            filter: None,
        },
        AccessLog {
            path: PathBuf::from("/tmp/a.log"),
            format: json(false),
            filter: None,
        },
        AccessLog {
            path: PathBuf::from("/tmp/b.log"),
            format: text,
            filter: None,
        },
    ];
    let back = listener(&envoy_listener(&original), "unused").unwrap();
    assert_eq!(back, original);
}

#[test]
fn route_configuration_round_trips() {
    let original = hosts();
    let rendered = route_configuration("local_route", &original);
    assert_eq!(rendered.name, "local_route");
    assert_eq!(virtual_hosts(&rendered).unwrap(), original);
}

#[test]
fn a_served_listener_strips_ports_and_still_round_trips() {
    let mut original = listener_model(ListenerProtocol::Auto);
    original.rds = Some("mesh".into());
    original.virtual_hosts = Vec::new();
    let served = served_listener(&original);
    let json = crate::text::to_json(&crate::text::dynamic(&served).unwrap());
    let hcm = &json["filter_chains"][0]["filters"][0]["typed_config"];
    assert_eq!(hcm["strip_any_host_port"], true);
    assert_eq!(hcm["rds"]["route_config_name"], "mesh");
    let back = listener(&served, "unused").unwrap();
    assert_eq!(back, original);
}

#[test]
fn rendered_listener_reads_as_envoy_json() {
    let json = crate::text::to_json(
        &crate::text::dynamic(&envoy_listener(&listener_model(ListenerProtocol::Auto))).unwrap(),
    );
    assert_eq!(json["name"], "edge");
    assert_eq!(json["address"]["socket_address"]["port_value"], 10000);
    let hcm = &json["filter_chains"][0]["filters"][0]["typed_config"];
    assert_eq!(
        hcm["@type"],
        "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
    );
    assert_eq!(hcm["route_config"]["virtual_hosts"][1]["domains"][0], "*");
    assert_eq!(hcm["common_http_protocol_options"]["idle_timeout"], "300s");
}

#[test]
fn static_cluster_has_its_endpoints_inline() {
    let mut c = model::Cluster::with_defaults(
        "backend",
        vec![model::Endpoint {
            address: "127.0.0.1:8080".parse().unwrap(),
            weight: 2,
            hostname: None,
        }],
    );
    c.lb_policy = model::LbPolicy::LeastRequest;
    let spec = crate::cluster_spec(&static_cluster(&c), crate::Names::Refuse).unwrap();
    let crate::EndpointSource::Static(endpoints) = &spec.endpoints else {
        panic!("not static: {:?}", spec.endpoints);
    };
    assert_eq!(spec.with_endpoints(endpoints.clone()), c);
}
