//! Start-up and shutdown: bind both ports, report the bound addresses,
//! start the sources and folders, the admin API and the xDS server, and stop on SIGTERM
//! or SIGINT (streams are ended, then the server closes).

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use envoy_types::pb::envoy::service::discovery::v3::aggregated_discovery_service_server::AggregatedDiscoveryServiceServer;
use ringway_config::model::RouteTemplate;
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};
use tokio_stream::wrappers::TcpListenerStream;

use crate::ads::Ads;
use crate::hub::Hub;
use crate::sidecar::Sidecar;
use crate::source::{self, DirectorySource, EnvoyFolder, Kind};
use crate::{Cli, Error};

/// How long open streams get to close after a stop signal.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// How often the Eureka source looks whether a registry changed (cheap
/// when nothing did: it compares change counters).
const EUREKA_POLL: Duration = Duration::from_millis(100);
/// HTTP/2 PINGs that find proxies gone without a word.
const KEEPALIVE: Duration = Duration::from_secs(30);

/// Runs the control plane until SIGTERM or SIGINT.
pub async fn run(cli: Cli) -> Result<(), Error> {
    let folders = [
        ("clusters-dir", &cli.clusters_dir),
        ("routes-dir", &cli.routes_dir),
        ("listeners-dir", &cli.listeners_dir),
    ];
    if folders.iter().all(|(_, dir)| dir.is_none())
        && cli.eureka_registry_address.is_none()
        && cli.eureka_urls.is_empty()
    {
        return Err(Error::NoSource);
    }
    for (option, dir) in folders {
        if let Some(dir) = dir {
            std::fs::read_dir(dir).map_err(|source| Error::Folder {
                option,
                path: dir.clone(),
                source,
            })?;
        }
    }
    let mut sigterm = signal(SignalKind::terminate()).map_err(|e| Error::Signal("SIGTERM", e))?;
    let mut sigint = signal(SignalKind::interrupt()).map_err(|e| Error::Signal("SIGINT", e))?;
    let xds = bind("xDS", cli.xds_address).await?;
    let admin = bind("the admin API", cli.admin_address).await?;
    let xds_address = local(&xds, cli.xds_address);
    let admin_address = local(&admin, cli.admin_address);
    for (path, address) in [
        (&cli.xds_address_path, xds_address),
        (&cli.admin_address_path, admin_address),
    ] {
        if let Some(path) = path {
            write_address(path, address)?;
        }
    }
    tracing::info!(xds = %xds_address, admin = %admin_address, "ringway-control listening");

    let sidecar = sidecar(&cli)?;
    let hub = Hub::new();
    if let Some(sidecar) = sidecar {
        tracing::info!(listener = %sidecar.listener, address = %sidecar.address, routes = %sidecar.routes, timeout = ?sidecar.template.timeout, "serving the sidecar listener");
        hub.set_sidecar(sidecar).map_err(|e| Error::Sidecar {
            field: e.field,
            reason: e.reason,
        })?;
    }
    if let Some(dir) = &cli.clusters_dir {
        tracing::info!(clusters_dir = %dir.display(), "following a folder of cluster files");
        let wanted = hub.add_source("directory", false);
        let directory = DirectorySource::new(dir.clone());
        tokio::spawn(source::drive(
            directory,
            hub.clone(),
            cli.poll_interval,
            wanted,
        ));
    }
    for (kind, dir) in [
        (Kind::Routes, &cli.routes_dir),
        (Kind::Listeners, &cli.listeners_dir),
    ] {
        if let Some(dir) = dir {
            tracing::info!(dir = %dir.display(), "following a folder of {}", kind.label());
            hub.add_folder(kind);
            let mut folder = EnvoyFolder::new(kind, dir.clone());
            if cli.sidecar_listener.is_some() {
                folder = match kind {
                    Kind::Routes => {
                        folder.reserving(&cli.sidecar_route_name, "--sidecar-route-name")
                    }
                    Kind::Listeners => {
                        folder.reserving(&cli.sidecar_listener_name, "--sidecar-listener-name")
                    }
                };
            }
            tokio::spawn(source::drive_folder(folder, hub.clone(), cli.poll_interval));
        }
    }
    tokio::spawn(crate::admin::serve(admin, hub.clone()));
    let eureka_registry = match cli.eureka_registry_address {
        Some(address) => {
            let listener = bind("the Eureka registry", address).await?;
            let bound = local(&listener, address);
            if let Some(path) = &cli.eureka_registry_address_path {
                write_address(path, bound)?;
            }
            tracing::info!(eureka_registry = %bound, "Eureka registry listening");
            let settings = crate::registry::Settings {
                eviction_interval: cli.eureka_eviction_interval,
                delta_retention: cli.eureka_delta_retention,
            };
            Some(crate::registry::start(listener, settings))
        }
        None => None,
    };
    if eureka_registry.is_some() || !cli.eureka_urls.is_empty() {
        start_eureka_source(&cli, &hub, eureka_registry);
    }

    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let mut server = tokio::spawn(
        tonic::transport::Server::builder()
            .http2_keepalive_interval(Some(KEEPALIVE))
            .add_service(AggregatedDiscoveryServiceServer::new(Ads::new(hub.clone())))
            .serve_with_incoming_shutdown(TcpListenerStream::new(xds), async {
                let _ = stop_rx.await;
            }),
    );
    let signal = tokio::select! {
        _ = sigterm.recv() => "SIGTERM",
        _ = sigint.recv() => "SIGINT",
        result = &mut server => return server_result(result),
    };
    tracing::info!(signal, "stopping: closing the proxies' streams");
    hub.close();
    let _ = stop_tx.send(());
    match tokio::time::timeout(STOP_GRACE, &mut server).await {
        Ok(result) => server_result(result),
        Err(_) => {
            tracing::warn!("streams still open after {STOP_GRACE:?}; stopping anyway");
            Ok(())
        }
    }
}

/// The sidecar template from the command line, its template file read and
/// checked; `None` without `--sidecar-listener`.
fn sidecar(cli: &Cli) -> Result<Option<Sidecar>, Error> {
    let Some(address) = cli.sidecar_listener else {
        return Ok(None);
    };
    for (option, name) in [
        ("sidecar-listener-name", &cli.sidecar_listener_name),
        ("sidecar-route-name", &cli.sidecar_route_name),
    ] {
        ringway_config::values::name(name).map_err(|e| Error::SidecarName {
            option,
            name: name.clone(),
            reason: e.to_string(),
        })?;
    }
    let template = match &cli.sidecar_template {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| Error::TemplateRead {
                path: path.clone(),
                source,
            })?;
            ringway_config::load_route_template_str(&path.display().to_string(), &text)
                .map_err(Error::Template)?
        }
        None => RouteTemplate::default(),
    };
    Ok(Some(Sidecar {
        listener: cli.sidecar_listener_name.clone(),
        address,
        routes: cli.sidecar_route_name.clone(),
        template,
    }))
}

/// Eureka VIPs as clusters: from the built-in registry, external servers,
/// or both.
fn start_eureka_source(
    cli: &Cli,
    hub: &std::sync::Arc<Hub>,
    registry: Option<crate::registry::EurekaRegistry>,
) {
    let request_timeout =
        ringway_eureka_client::ClientConfig::default_request_timeout(cli.eureka_fetch_interval);
    let client = (!cli.eureka_urls.is_empty()).then(|| {
        let urls: Vec<String> = cli.eureka_urls.iter().map(ToString::to_string).collect();
        tracing::info!(?urls, interval = ?cli.eureka_fetch_interval, "following external Eureka servers");
        ringway_eureka_client::spawn(ringway_eureka_client::ClientConfig {
            urls: cli.eureka_urls.clone(),
            fetch_interval: cli.eureka_fetch_interval,
            request_timeout,
        })
    });
    let wanted = hub.add_source("eureka", true);
    let source = source::EurekaSource::new(registry, client, request_timeout);
    tokio::spawn(source::drive(source, hub.clone(), EUREKA_POLL, wanted));
}

fn server_result(
    result: Result<Result<(), tonic::transport::Error>, tokio::task::JoinError>,
) -> Result<(), Error> {
    match result {
        Ok(r) => Ok(r?),
        Err(err) => {
            tracing::error!(%err, "the xDS server task ended");
            Ok(())
        }
    }
}

async fn bind(what: &'static str, address: SocketAddr) -> Result<TcpListener, Error> {
    TcpListener::bind(address)
        .await
        .map_err(|source| Error::Bind {
            what,
            address,
            source,
        })
}

fn local(listener: &TcpListener, asked: SocketAddr) -> SocketAddr {
    listener.local_addr().unwrap_or(asked)
}

/// Writes `ip:port\n` whole: to a temporary file renamed into place.
fn write_address(path: &Path, address: SocketAddr) -> Result<(), Error> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    std::fs::write(&tmp, format!("{address}\n"))
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|source| Error::AddressFile {
            path: path.to_owned(),
            source,
        })
}
