use std::process::ExitCode;

use clap::Parser;
use hearth::cli::{self, Cli, Command, EXIT_CONFIG};
use hearth_core::config::check_data_dir;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match cli::load_config(&cli) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("hearth: {e}");
            return ExitCode::from(EXIT_CONFIG as u8);
        }
    };
    init_logging(&config.log);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            if let Err(e) = check_data_dir(&config, true) {
                eprintln!("hearth: {e}");
                return ExitCode::from(EXIT_CONFIG as u8);
            }
            let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
            match runtime.block_on(cli::serve(config)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("hearth: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

fn init_logging(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}
