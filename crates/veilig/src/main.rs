//! `veilig`: the command line. It turns arguments into a checked configuration and wires the
//! parts together; everything else lives in the capability crates.

mod agent;
mod cli;
mod cloud;
mod exposure;
mod mailcheck;
mod progress;
mod pseudo;
mod replay;
mod serve;
mod wiring;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("veilig: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    runtime.block_on(cli::run(cli))
}
