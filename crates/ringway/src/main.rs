//! The ringway data plane binary: reads the command line and configuration,
//! starts one pinned worker per CPU, then runs the control thread (admin
//! API, SIGHUP reloads, graceful shutdown).

#![forbid(unsafe_code)]

mod cli;
mod config;
mod control;
mod eureka;
mod plan;
mod publish;
mod startup;
mod xds;

use std::process::ExitCode;

use clap::Parser;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_new(&cli.log_level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match startup::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("ringway: {err}");
            ExitCode::FAILURE
        }
    }
}
