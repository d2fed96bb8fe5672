//! The command line, run as the built binary: admin commands work with and without a running
//! server; configuration problems exit with status 2.

use std::{
    io::Write,
    path::Path,
    process::{Command, Output, Stdio},
};

use serde_json::json;

use crate::common::{TestServer, assert_error};

/// Run `hearth ARGS` with `HEARTH_DATA_DIR=data_dir` and `stdin` as standard input.
async fn hearth(data_dir: &Path, args: &[&str], stdin: &str) -> Output {
    let (dir, args, stdin) = (
        data_dir.to_owned(),
        args.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
        stdin.to_owned(),
    );
    tokio::task::spawn_blocking(move || {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hearth"))
            .args(&args)
            .env_clear()
            .env("HEARTH_DATA_DIR", &dir)
            .env("HEARTH_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("hearth runs");
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

fn login(user: &str, password: &str) -> serde_json::Value {
    json!({"type": "m.login.password", "identifier": {"type": "m.id.user", "user": user},
           "password": password})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version() {
    let dir = tempfile::tempdir().unwrap();
    let output = hearth(dir.path(), &["--version"], "").await;
    assert!(output.status.success());
    assert_eq!(stdout(&output), format!("hearth {}", env!("CARGO_PKG_VERSION")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_check() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.toml");
    std::fs::write(&good, "server_name = \"example.org\"\n[registration]\nenabled = true\n")
        .unwrap();
    let output = hearth(dir.path(), &["config", "check", good.to_str().unwrap()], "").await;
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(stdout(&output), "ok");

    let unknown = dir.path().join("unknown.toml");
    std::fs::write(&unknown, "[registration]\nopen = true\n").unwrap();
    let output = hearth(dir.path(), &["config", "check", unknown.to_str().unwrap()], "").await;
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("open"), "{stderr}");

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[http]\nmax_request_bytes = \"lots\"\n").unwrap();
    let output = hearth(dir.path(), &["config", "check", bad.to_str().unwrap()], "").await;
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("http.max_request_bytes"));

    let missing = dir.path().join("missing.toml");
    let output = hearth(dir.path(), &["config", "check", missing.to_str().unwrap()], "").await;
    assert_eq!(output.status.code(), Some(2));
    // The server refuses to start on the same problem, with the same status.
    let output = hearth(dir.path(), &["--config", unknown.to_str().unwrap(), "serve"], "").await;
    assert_eq!(output.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_create_without_a_server_then_login() {
    let dir = tempfile::tempdir().unwrap();
    let password_file = dir.path().join("pw");
    std::fs::write(&password_file, "correct horse\n").unwrap();
    let args =
        ["user", "create", "Alice", "--admin", "--password-file", password_file.to_str().unwrap()];
    let output = hearth(dir.path(), &args, "").await;
    assert!(output.status.success(), "{output:?}");
    assert_eq!(stdout(&output), "Created @alice:localhost (admin)");
    let again = hearth(dir.path(), &args, "").await;
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("M_USER_IN_USE"));
    let invalid = hearth(dir.path(), &["user", "create", "bad name"], "password123\n").await;
    assert_eq!(invalid.status.code(), Some(1));
    let weak = hearth(dir.path(), &["user", "create", "bob"], "short\n").await;
    assert_eq!(weak.status.code(), Some(1));

    let data_dir = dir.path().to_owned();
    let server = TestServer::start_with(|c| c.data_dir = data_dir).await;
    let (status, body) =
        server.client().post("/_matrix/client/v3/login", login("alice", "correct horse")).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_commands_while_the_server_runs() {
    let server = TestServer::start().await;
    let data_dir = server.config.data_dir.clone();
    // Password from standard input (not a terminal here).
    let output = hearth(&data_dir, &["user", "create", "@carol:localhost"], "password123\n").await;
    assert!(output.status.success(), "{output:?}");
    let client = server.client();
    let (status, body) =
        client.post("/_matrix/client/v3/login", login("carol", "password123")).await;
    assert_eq!(status, 200, "{body}");
    let carol = client.with_token(body["access_token"].as_str().unwrap());

    let output = hearth(&data_dir, &["user", "reset-password", "carol"], "new-password\n").await;
    assert!(output.status.success(), "{output:?}");
    assert_error(&carol.get("/_matrix/client/v3/account/whoami").await, 401, "M_UNKNOWN_TOKEN");
    let old = client.post("/_matrix/client/v3/login", login("carol", "password123")).await;
    assert_error(&old, 403, "M_FORBIDDEN");
    assert_eq!(
        client.post("/_matrix/client/v3/login", login("carol", "new-password")).await.0,
        200
    );

    let missing = hearth(&data_dir, &["user", "reset-password", "nobody"], "new-password\n").await;
    assert_eq!(missing.status.code(), Some(1));
    let remote = hearth(&data_dir, &["user", "create", "@x:elsewhere.org"], "password123\n").await;
    assert_eq!(remote.status.code(), Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_create() {
    let server = TestServer::start_with(|c| c.registration.require_token = true).await;
    let data_dir = server.config.data_dir.clone();
    let output =
        hearth(&data_dir, &["token", "create", "--uses", "1", "--expires", "7d"], "").await;
    assert!(output.status.success(), "{output:?}");
    let token = stdout(&output);
    let validity = |t: &str| {
        format!("/_matrix/client/v1/register/m.login.registration_token/validity?token={t}")
    };
    assert_eq!(server.client().get(&validity(&token)).await.1["valid"], true);

    let expired =
        hearth(&data_dir, &["token", "create", "--expires", "2001-01-01T00:00:00Z"], "").await;
    assert_eq!(expired.status.code(), Some(1), "a date in the past is refused");
    let bad = hearth(&data_dir, &["token", "create", "--expires", "soon"], "").await;
    assert_eq!(bad.status.code(), Some(1));
    let dated =
        hearth(&data_dir, &["token", "create", "--expires", "2100-01-01T00:00:00Z"], "").await;
    assert!(dated.status.success());
    assert_eq!(server.client().get(&validity(&stdout(&dated))).await.1["valid"], true);
}
