//! Tandem's central municipal server: the sync API every laptop talks to, authentication
//! and roles, and the storage backends behind [`store::ServerStore`].
//!
//! The binary (`src/main.rs`) reads flags and the clock; everything here takes them in.

pub mod api;
pub mod audit;
pub mod auth;
pub mod clock;
mod duplicates;
mod error;
pub mod metrics;
pub mod openapi;
pub mod push;
pub mod retention;
pub mod seed;
pub mod store;
pub mod tls;

use std::future::Future;
use std::net::SocketAddr;

pub use api::{AppState, LoginRateLimit, ServerSettings, router};
pub use error::ServerError;

/// Serves the API on a bound listener until `shutdown` completes, then lets requests in
/// flight finish. Binding is the caller's job, so tests can bind port 0 and read the port.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}

/// Like [`serve`], over HTTPS with `tls` (see [`tls::load_server_config`]).
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    tls: std::sync::Arc<rustls::ServerConfig>,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let handle = axum_server::Handle::<SocketAddr>::new();
    let stopper = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        // No deadline, like `serve`: the per-request timeout already bounds every request.
        stopper.graceful_shutdown(None);
    });
    let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(
        axum_server::tls_rustls::RustlsConfig::from_config(tls),
    );
    axum_server::Server::<SocketAddr>::from_listener(listener)
        .acceptor(acceptor)
        .handle(handle)
        .serve(app)
        .await?;
    Ok(())
}
