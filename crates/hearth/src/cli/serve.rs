//! `hearth serve`: run until SIGINT or SIGTERM.

use hearth_core::Config;

use crate::server::{RunningServer, shutdown_signal};

pub async fn serve(config: Config) -> Result<(), String> {
    let server_name = config.server_name.clone();
    let server = RunningServer::start(config).await.map_err(|e| e.to_string())?;
    for addr in &server.addrs {
        println!("Hearth is listening on http://{addr} (server name {server_name})");
    }
    println!("Create the first user with: hearth user create NAME --admin");
    server.run_until(shutdown_signal()).await;
    Ok(())
}
