//! Starting and stopping a server: storage, services, listeners, graceful shutdown.

use std::{future::Future, net::SocketAddr, sync::Arc};

use hearth_core::{Config, Error, Result};
use hearth_service::Services;
use tokio::{net::TcpListener, sync::watch, task::JoinSet};

/// A server whose listeners are bound and serving.
pub struct RunningServer {
    pub addrs: Vec<SocketAddr>,
    pub services: Arc<Services>,
    shutdown: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl RunningServer {
    /// Open storage, build services and bind every listener of `config`.
    pub async fn start(mut config: Config) -> Result<RunningServer> {
        hearth_service::tls::install_crypto_provider();
        // Bind first: with port 0 the real address is known only now, and the config should
        // carry it (it derives the public base URL from it).
        let mut listeners = Vec::new();
        for addr in &config.http.listen {
            let listener = TcpListener::bind(addr)
                .await
                .map_err(|e| Error::internal(format!("cannot listen on {addr}: {e}")))?;
            listeners.push(listener);
        }
        let addrs = listeners
            .iter()
            .map(|l| l.local_addr().map_err(Error::internal))
            .collect::<Result<Vec<_>>>()?;
        config.http.listen = addrs.clone();

        let config = Arc::new(config);
        let storage =
            hearth_storage::open_sqlite(&config.database_path(), config.database.read_connections)?;
        let services = Services::new(config.clone(), storage)?;
        services.push.start().await?;
        services.search.start().await?;
        let app = hearth_api::router(services.clone());

        let (shutdown, _) = watch::channel(false);
        let mut tasks = JoinSet::new();
        for listener in listeners {
            let app = app.clone().into_make_service_with_connect_info::<SocketAddr>();
            let mut stop = shutdown.subscribe();
            tasks.spawn(async move {
                let stopped = async move {
                    let _ = stop.wait_for(|s| *s).await;
                };
                if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(stopped).await {
                    tracing::error!("listener failed: {e}");
                }
            });
        }
        Ok(RunningServer { addrs, services, shutdown, tasks })
    }

    /// Stop accepting connections, let in-flight requests finish, then return.
    pub async fn stop(mut self) {
        // Long-polls return at once rather than holding the shutdown until they time out.
        self.services.ctx.notifier.shut_down();
        let _ = self.shutdown.send(true);
        while self.tasks.join_next().await.is_some() {}
        self.services.push.stop();
        self.services.search.stop();
    }

    /// Serve until `signal` resolves, then shut down gracefully.
    pub async fn run_until(self, signal: impl Future<Output = ()>) {
        signal.await;
        tracing::info!("shutting down: finishing in-flight requests");
        self.stop().await;
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
