//! Fetching for URL previews without reaching where users must not: addresses are checked
//! after our own DNS resolution (the connection uses only the checked addresses), IP-literal
//! hosts are checked before connecting, redirects are followed by hand and every hop is
//! checked again. Responses are capped in size and the whole fetch in time.

use std::{net::IpAddr, sync::Arc, time::Duration};

use hearth_core::{Error, Result};
use http::StatusCode;
use reqwest::{
    Url,
    dns::{Addrs, Name, Resolve, Resolving},
    header,
};

use super::ip::IpPolicy;

const MAX_REDIRECTS: usize = 5;

/// A fetched response body and what describes it.
pub(crate) struct Fetched {
    pub url: Url,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

pub(crate) struct Fetcher {
    client: reqwest::Client,
    policy: Arc<IpPolicy>,
    domain_blacklist: Vec<String>,
    max_bytes: u64,
    timeout: Duration,
}

/// Resolves names, keeping only addresses the policy allows; none left is an error.
pub(crate) struct GuardedResolver(pub(crate) Arc<IpPolicy>);

#[derive(Debug)]
struct Blocked;

impl std::fmt::Display for Blocked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("every address of the host is blocked for URL previews")
    }
}

impl std::error::Error for Blocked {}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.0.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<_> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|addr| policy.allows(addr.ip()))
                .collect();
            if addrs.is_empty() {
                return Err(Box::new(Blocked) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

impl Fetcher {
    pub(crate) fn new(
        policy: IpPolicy,
        domain_blacklist: Vec<String>,
        max_bytes: u64,
        timeout: Duration,
        accept_invalid_certs: bool,
    ) -> Result<Fetcher> {
        let policy = Arc::new(policy);
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(GuardedResolver(policy.clone())))
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would resolve names itself, past our checks.
            .no_proxy()
            .timeout(timeout)
            .user_agent(concat!("Hearth/", env!("CARGO_PKG_VERSION"), " (URL preview)"))
            .tls_danger_accept_invalid_certs(accept_invalid_certs)
            .build()
            .map_err(Error::internal)?;
        Ok(Fetcher { client, policy, domain_blacklist, max_bytes, timeout })
    }

    /// Whether previews may ask for `url` at all: http(s), not a blacklisted domain.
    pub(crate) fn check_url(&self, url: &Url) -> Result<()> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Error::unknown(StatusCode::BAD_REQUEST, "Only http(s) URLs are previewed"));
        }
        let host = url.host_str().unwrap_or("").trim_end_matches('.').to_ascii_lowercase();
        let blocked = self.domain_blacklist.iter().any(|d| {
            let d = d.trim_start_matches('.').to_ascii_lowercase();
            host == d || host.ends_with(&format!(".{d}"))
        });
        if blocked {
            return Err(Error::unknown(StatusCode::FORBIDDEN, "URL blocked"));
        }
        Ok(())
    }

    /// GET `url`, following up to five redirects, each hop checked like the first.
    pub(crate) async fn fetch(&self, url: Url) -> Result<Fetched> {
        tokio::time::timeout(self.timeout, self.follow(url)).await.map_err(|_| {
            Error::unknown(StatusCode::GATEWAY_TIMEOUT, "Timed out fetching the URL")
        })?
    }

    async fn follow(&self, mut url: Url) -> Result<Fetched> {
        for _ in 0..=MAX_REDIRECTS {
            self.check_url(&url)?;
            self.check_literal_host(&url)?;
            let response = self.client.get(url.clone()).send().await.map_err(fetch_error)?;
            let status = response.status();
            if status.is_redirection() {
                let location = response
                    .headers()
                    .get(header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .and_then(|l| url.join(l).ok())
                    .ok_or_else(|| bad_gateway("Redirect without a usable Location"))?;
                url = location;
                continue;
            }
            if !status.is_success() {
                return Err(bad_gateway(&format!("The URL answered {status}")));
            }
            let content_type = response
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body = self.read_body(response).await?;
            return Ok(Fetched { url, content_type, body });
        }
        Err(bad_gateway("Too many redirects"))
    }

    /// reqwest does not resolve IP-literal hosts, so check those here.
    fn check_literal_host(&self, url: &Url) -> Result<()> {
        let host = url.host_str().unwrap_or("");
        let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
        let Ok(ip) = host.parse::<IpAddr>() else { return Ok(()) };
        if !self.policy.allows(ip) {
            // As Synapse answers it.
            return Err(Error::unknown(StatusCode::FORBIDDEN, "IP address blocked"));
        }
        Ok(())
    }

    async fn read_body(&self, mut response: reqwest::Response) -> Result<Vec<u8>> {
        let too_large = || bad_gateway("The content is too large to preview");
        if response.content_length().is_some_and(|n| n > self.max_bytes) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(fetch_error)? {
            if (body.len() + chunk.len()) as u64 > self.max_bytes {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

fn bad_gateway(message: &str) -> Error {
    Error::unknown(StatusCode::BAD_GATEWAY, message)
}

fn fetch_error(e: reqwest::Error) -> Error {
    let mut source: Option<&dyn std::error::Error> = Some(&e);
    while let Some(err) = source {
        if err.is::<Blocked>() {
            // As Synapse answers a name whose addresses are all blocked.
            return bad_gateway("DNS resolution failure during URL preview generation");
        }
        source = err.source();
    }
    if e.is_timeout() {
        return Error::unknown(StatusCode::GATEWAY_TIMEOUT, "Timed out fetching the URL");
    }
    tracing::debug!("URL preview fetch failed: {e}");
    bad_gateway("Failed to download content")
}
