use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = aos_shell::cli::Cli::parse();
    aos_shell::cli::run(cli)
}
