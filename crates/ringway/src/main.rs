//! The ringway data plane binary: reads the command line and configuration,
//! starts one pinned worker per CPU, then runs the control thread (admin
//! API, SIGHUP reloads, graceful shutdown).

#![forbid(unsafe_code)]

mod cli;
mod config;
mod control;
mod eureka;
mod identity;
mod plan;
mod publish;
mod server_info;
mod startup;
mod xds;

use std::process::ExitCode;

use clap::Parser;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    if cli.hot_restart_version {
        // Envoy prints its hot restart version to stderr; without hot
        // restart it is `disabled`.
        eprintln!("disabled");
        return ExitCode::SUCCESS;
    }
    let started = cli
        .check()
        .and_then(|()| cli::log::init(&cli))
        .and_then(|logging| startup::run(cli, logging));
    match started {
        Ok(code) => code,
        Err(err) => {
            eprintln!("ringway: {err}");
            ExitCode::FAILURE
        }
    }
}
