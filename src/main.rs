//! The `ferrobase` binary: parse the configuration, then run the chosen command.
use clap::Parser;
use ferrobase::config::{Cli, Command, Config};

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => {
            let config = match Config::resolve(&args, |k| std::env::var(k).ok()) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("ferrobase: {e}");
                    return std::process::ExitCode::from(2);
                }
            };
            ferrobase::logging::init(&config.log);
            let runtime = match tokio::runtime::Runtime::new() {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("ferrobase: cannot start the async runtime: {e}");
                    return std::process::ExitCode::from(1);
                }
            };
            match runtime.block_on(ferrobase::app::serve(config)) {
                Ok(()) => std::process::ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("ferrobase: {e}");
                    std::process::ExitCode::from(1)
                }
            }
        }
    }
}
