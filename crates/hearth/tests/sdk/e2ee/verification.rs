//! Scenario 3: cross-signing is bootstrapped, and Alice's two devices verify each other
//! interactively with SAS over to-device messages.

use matrix_sdk::encryption::verification::SasVerification;
use serde_json::json;

use crate::common::TestServer;

use super::support::{
    TestDevice, bootstrap_cross_signing, login, register, until, wait_device_known,
};

#[tokio::test]
async fn own_devices_verify_each_other_with_sas() {
    let server = TestServer::start().await;
    let alice = register(&server, "alice").await;
    bootstrap_cross_signing(&alice).await;
    let alice2 = login(&server, "alice").await;
    let user = alice.user_id();
    wait_device_known(&alice, &user, &alice2.device_id()).await;
    wait_device_known(&alice2, &user, &alice.device_id()).await;
    assert!(!device_verified(&alice, &alice2).await, "not verified before SAS");

    // The first device asks, the second accepts (m.key.verification.request / .ready).
    let other = alice.client.encryption().get_device(&user, &alice2.device_id()).await;
    let request = other.expect("store").expect("known").request_verification().await.unwrap();
    let flow_id = request.flow_id().to_owned();
    let encryption2 = alice2.client.encryption();
    let incoming = until("the request on the second device", || async {
        encryption2.get_verification_request(&user, &flow_id).await
    })
    .await;
    incoming.accept().await.expect("accepted");
    until("the request to be ready", || async { request.is_ready().then_some(()) }).await;

    // SAS: .start, .accept, .key on both sides, then both show the same emojis and numbers.
    let sas = request.start_sas().await.expect("start").expect("SAS started");
    let sas2 = until("the SAS on the second device", || async {
        encryption2.get_verification(&user, &flow_id).await?.sas()
    })
    .await;
    sas2.accept().await.expect("SAS accepted");
    until("both devices to show the short auth string", || async {
        (sas.can_be_presented() && sas2.can_be_presented()).then_some(())
    })
    .await;
    assert_eq!(emojis(&sas), emojis(&sas2), "both devices show the same emojis");
    assert_eq!(sas.decimals(), sas2.decimals(), "and the same numbers");

    // Both confirm (.mac, then .done).
    sas.confirm().await.expect("confirmed on the first device");
    sas2.confirm().await.expect("confirmed on the second device");
    until("both sides done", || async { (sas.is_done() && sas2.is_done()).then_some(()) }).await;
    assert!(!sas.is_cancelled() && !sas2.is_cancelled());
    assert!(device_verified(&alice, &alice2).await, "the first device trusts the second");
    assert!(device_verified(&alice2, &alice).await, "the second device trusts the first");

    // The first device signed the second with the self-signing key: everyone sees it in
    // /keys/query, and the second device learns it through its device list.
    until("the second device to see itself cross-signed", || async {
        let own = alice2.client.encryption().get_own_device().await.ok()??;
        own.is_cross_signed_by_owner().then_some(())
    })
    .await;
    let ssk = signing_key_id(&server, &alice).await;
    let client = server.client().with_token(&alice.access_token());
    let (status, body) = client
        .post("/_matrix/client/v3/keys/query", json!({"device_keys": {user.as_str(): []}}))
        .await;
    assert_eq!(status, 200, "{body}");
    let signatures = &body["device_keys"][user.as_str()][alice2.device_id().as_str()]["signatures"];
    assert!(signatures[user.as_str()][&ssk].is_string(), "signed by {ssk}: {signatures}");
}

async fn device_verified(viewer: &TestDevice, of: &TestDevice) -> bool {
    let device = viewer.client.encryption().get_device(&of.user_id(), &of.device_id()).await;
    device.expect("store").expect("known").is_verified()
}

fn emojis(sas: &SasVerification) -> Vec<&'static str> {
    sas.emoji().expect("emoji supported").iter().map(|e| e.symbol).collect()
}

/// `ed25519:<public key>` of the user's self-signing key, as the server has it.
async fn signing_key_id(server: &TestServer, device: &TestDevice) -> String {
    let user = device.user_id();
    let client = server.client().with_token(&device.access_token());
    let (_, body) = client
        .post("/_matrix/client/v3/keys/query", json!({"device_keys": {user.as_str(): []}}))
        .await;
    let keys = body["self_signing_keys"][user.as_str()]["keys"].as_object().expect("ssk");
    keys.keys().next().expect("one key").clone()
}
