//! The `ferrobase` binary: parse the configuration, then run the chosen command.
#![forbid(unsafe_code)]
use clap::Parser;
use ferrobase::config::{Cli, Command, Config, KeysCommand, ServeArgs};

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
        Command::Export(args) => {
            let common = args.common.clone();
            let code = with_runtime(&common, |c| async move {
                ferrobase::serialization::cli::export_cmd(&c, &args).await
            });
            std::process::ExitCode::from(code)
        }
        Command::Import(args) => {
            let common = args.common.clone();
            let code = with_runtime(&common, |c| async move {
                ferrobase::serialization::cli::import_cmd(&c, &args).await
            });
            std::process::ExitCode::from(code)
        }
        Command::Keys(KeysCommand::Scan(args)) => {
            std::process::ExitCode::from(ferrobase::api_keys::scan::run(&args))
        }
    }
}

/// Resolves the configuration and runs a serialization command (exit code 2 on bad settings).
fn with_runtime<F, Fut>(common: &ServeArgs, f: F) -> u8
where
    F: FnOnce(Config) -> Fut,
    Fut: std::future::Future<Output = u8>,
{
    let config = match Config::resolve(common, |k| std::env::var(k).ok()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ferrobase: {e}");
            return 2;
        }
    };
    match tokio::runtime::Runtime::new() {
        Ok(rt) => rt.block_on(f(config)),
        Err(e) => {
            eprintln!("ferrobase: cannot start the async runtime: {e}");
            1
        }
    }
}
