//! The TLS crypto provider for outgoing HTTPS (push gateways, URL previews, later federation).

/// Install rustls' ring provider as the process default. reqwest is built without a provider
/// of its own (`rustls-no-provider`), so this must run before any HTTP client is built. Safe
/// to call more than once (tests start many servers in one process).
pub fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race with another thread installing it is fine: a provider is installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}
