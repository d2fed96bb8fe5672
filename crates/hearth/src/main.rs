use std::process::ExitCode;

use clap::Parser;
use hearth::cli::{self, Cli, Command, ConfigCommand, EXIT_CONFIG};
use hearth_core::config::check_data_dir;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Config(ConfigCommand::Check { file })) = &cli.command {
        return match cli::check_config(file.as_deref().or(cli.config.as_deref())) {
            Ok(()) => {
                println!("ok");
                ExitCode::SUCCESS
            }
            Err(e) => fail(e, EXIT_CONFIG),
        };
    }
    let config = match cli::load_config(&cli) {
        Ok(c) => c,
        Err(e) => return fail(e, EXIT_CONFIG),
    };
    init_logging(&config.log);
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            if let Err(e) = check_data_dir(&config, true) {
                return fail(e, EXIT_CONFIG);
            }
            runtime.block_on(cli::serve(config))
        }
        Command::User(command) => runtime.block_on(cli::run_user(config, command)),
        Command::Token(command) => runtime.block_on(cli::run_token(config, command)),
        Command::Config(_) => unreachable!("handled above"),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e, 1),
    }
}

fn fail(message: impl std::fmt::Display, status: i32) -> ExitCode {
    eprintln!("hearth: {message}");
    ExitCode::from(status as u8)
}

fn init_logging(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}
