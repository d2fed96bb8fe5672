//! Talking to push gateways (spec: push-gateway-api, `POST /_matrix/push/v1/notify`). Like
//! URL previews, requests never reach private, loopback or other special addresses unless
//! `push.ip_range_whitelist` allows them: names are resolved through the same guard, IP-literal
//! hosts are checked here, and redirects are not followed.

use std::{net::IpAddr, sync::Arc, time::Duration};

use bytes::Bytes;
use hearth_core::{Error, Result, config::PushConfig};
use ruma::api::{IncomingResponse, push_gateway::send_event_notification::v1::Response};
use serde_json::{Value, json};

use crate::media::preview::{fetch::GuardedResolver, ip::IpPolicy};

pub(super) struct Gateway {
    client: reqwest::Client,
    policy: Arc<IpPolicy>,
}

/// Why a delivery failed; every failure is retried.
pub(super) struct Failed(pub String);

impl Gateway {
    pub fn new(config: &PushConfig) -> Result<Gateway> {
        let policy =
            Arc::new(IpPolicy::new(&config.ip_range_blacklist, &config.ip_range_whitelist));
        let mut builder = reqwest::Client::builder();
        for file in &config.tls_extra_ca_files {
            let bad = |e: &dyn std::fmt::Display| {
                Error::internal(format!("push.tls_extra_ca_files: {}: {e}", file.display()))
            };
            let pem = std::fs::read(file).map_err(|e| bad(&e))?;
            for cert in reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| bad(&e))? {
                builder = builder.add_root_certificate(cert);
            }
        }
        let client = builder
            .dns_resolver(Arc::new(GuardedResolver(policy.clone())))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(Duration::from_secs(config.request_timeout_secs))
            .user_agent(concat!("Hearth/", env!("CARGO_PKG_VERSION"), " (push)"))
            .build()
            .map_err(Error::internal)?;
        Ok(Gateway { client, policy })
    }

    /// POST `notification` to the gateway at `url`; returns the pushkeys it rejected.
    pub async fn notify(&self, url: &str, notification: Value) -> Result<Vec<String>, Failed> {
        let parsed = reqwest::Url::parse(url).map_err(|e| Failed(format!("bad URL: {e}")))?;
        if let Some(host) = parsed.host_str() {
            let literal = host.trim_start_matches('[').trim_end_matches(']');
            if let Ok(ip) = literal.parse::<IpAddr>()
                && !self.policy.allows(ip)
            {
                return Err(Failed(format!("{ip} is not an allowed push gateway address")));
            }
        }
        let body = json!({ "notification": notification });
        let response = self
            .client
            .post(parsed)
            .json(&body)
            .send()
            .await
            .map_err(|e| Failed(format!("request failed: {}", chain(&e))))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| Failed(format!("reading: {e}")))?;
        if !status.is_success() {
            return Err(Failed(format!("gateway answered {status}")));
        }
        Ok(rejected(status, bytes))
    }
}

/// An error with its causes (reqwest hides the interesting part in them).
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}

/// The `rejected` pushkeys of a successful answer; an answer without them rejects nothing.
fn rejected(status: http::StatusCode, body: Bytes) -> Vec<String> {
    let response = http::Response::builder().status(status).body(body);
    match response.map(Response::try_from_http_response) {
        Ok(Ok(parsed)) => parsed.rejected,
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn private_gateways_are_refused_unless_whitelisted() {
        crate::tls::install_crypto_provider();
        let gateway = Gateway::new(&PushConfig::default()).unwrap();
        for url in [
            "http://127.0.0.1:9/_matrix/push/v1/notify",
            "http://[::1]:9/_matrix/push/v1/notify",
            "http://10.0.0.1/_matrix/push/v1/notify",
            "http://localhost:9/_matrix/push/v1/notify",
        ] {
            let Err(Failed(reason)) = gateway.notify(url, json!({})).await else {
                panic!("{url} was reached");
            };
            assert!(reason.contains("allowed") || reason.contains("blocked"), "{url}: {reason}");
        }
    }
}
