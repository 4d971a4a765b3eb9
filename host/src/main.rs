//! The `hangar` binary: parses the command line and hands over to the library.

use anyhow::Context;
use clap::Parser;
use hangar_host::cli::{Cli, Command, ConfigCommand, RegistryCommand};
use hangar_host::config::ServeConfig;
use hangar_host::server;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    server::init_tracing(cli.log_format);
    match cli.command {
        Command::Serve(args) => {
            let mut config =
                ServeConfig::from_args(args.as_ref()).context("invalid configuration")?;
            hangar_host::server::memory::return_large_buffers();
            // Components compile in child processes of this executable,
            // which return the compiler's memory when they end.
            config.runtime.compiler = hangar_host::plugins::compile::Compiler::this_executable()
                .context("cannot find this executable")?;
            server::serve(config, server::shutdown_signal()).await?;
        }
        Command::Token(args) => println!("{}", hangar_host::auth::mint_from_cli(&args)?),
        Command::Upload(args) => hangar_host::commands::upload::run(&args).await?,
        Command::Publish(args) => hangar_host::commands::publish::run(&args).await?,
        Command::Plugins(args) => hangar_host::commands::plugins::run(&args).await?,
        Command::Registry(RegistryCommand::Serve(args)) => {
            hangar_host::commands::registry::serve(&args, server::shutdown_signal()).await?;
        }
        Command::Registry(RegistryCommand::Keygen(args)) => {
            println!("{}", hangar_host::commands::registry::keygen(&args.out)?);
        }
        Command::MigrateData(args) => hangar_host::commands::migrate::run(&args).await?,
        Command::New(args) => {
            let dir = hangar_host::commands::new::run(&args)?;
            println!("created {} in {}", args.name, dir.display());
        }
        Command::CompileComponent { engine } => {
            hangar_host::plugins::compile::serve_child(&engine)?;
        }
        Command::Test(args) => {
            let summary =
                hangar_host::commands::test::run(&args, &mut std::io::stdout().lock()).await?;
            if summary.failed > 0 {
                anyhow::bail!(
                    "{} of {} calls failed or gave another verdict",
                    summary.failed,
                    summary.calls
                );
            }
        }
        Command::Config(ConfigCommand::Check(args)) => println!(
            "{}",
            hangar_host::commands::config::check(&args).context("invalid configuration")?
        ),
        Command::Config(ConfigCommand::Show(args)) => print!(
            "{}",
            hangar_host::commands::config::show(&args).context("invalid configuration")?
        ),
    }
    Ok(())
}
