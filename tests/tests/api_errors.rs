//! The error object on the wire: every failure is
//! `{"error":{"code","message","details"}}` with the matching HTTP status.

use skilld_tests::helper::{Home, http};

fn assert_error(reply: &http::RawResponse, status: u16, code: &str) -> serde_json::Value {
    assert_eq!(
        reply.status,
        status,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.header("skilld-protocol"), Some("1"));
    let body = reply.json();
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(!body["error"]["message"].as_str().unwrap().is_empty());
    body
}

#[test]
fn malformed_json_is_400_and_the_daemon_keeps_serving() {
    let home = Home::new();
    let _daemon = home.start_daemon();
    let reply = http::request(&home.socket(), "POST", "/v1/shutdown", b"{\"grace\": ");
    let body = assert_error(&reply, 400, "malformed_request");
    assert_eq!(body["error"]["details"]["line"], 1);
    let reply = http::request(
        &home.socket(),
        "POST",
        "/v1/shutdown",
        b"{\"unexpected\": 1}",
    );
    assert_error(&reply, 400, "malformed_request");
    home.skillc(&["--no-autostart", "status"]).expect_code(0);
}

#[test]
fn an_oversized_body_is_413() {
    let home = Home::new();
    home.write_config("limits:\n  max_body_bytes: 1024\n");
    let _daemon = home.start_daemon();
    let big = vec![b' '; 64 * 1024];
    let reply = http::request(&home.socket(), "POST", "/v1/shutdown", &big);
    let body = assert_error(&reply, 413, "payload_too_large");
    assert_eq!(body["error"]["details"]["limit"], 1024);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("max_body_bytes")
    );
    home.skillc(&["--no-autostart", "status"]).expect_code(0);
}

#[test]
fn an_unknown_route_is_404_json() {
    let home = Home::new();
    let _daemon = home.start_daemon();
    let body = assert_error(
        &http::request(&home.socket(), "GET", "/v1/nothing-here", b""),
        404,
        "not_found",
    );
    assert_eq!(body["error"]["details"]["path"], "/v1/nothing-here");
    assert_error(
        &http::request(&home.socket(), "GET", "/", b""),
        404,
        "not_found",
    );
}

#[test]
fn a_wrong_method_is_405_naming_the_allowed_ones() {
    let home = Home::new();
    let _daemon = home.start_daemon();
    let body = assert_error(
        &http::request(&home.socket(), "DELETE", "/v1/status", b""),
        405,
        "method_not_allowed",
    );
    assert_eq!(
        body["error"]["details"]["allowed"],
        serde_json::json!(["GET"])
    );
    assert_error(
        &http::request(&home.socket(), "GET", "/v1/shutdown", b""),
        405,
        "method_not_allowed",
    );
}

#[test]
fn a_client_that_never_sends_headers_is_timed_out() {
    use std::io::Read;
    let home = Home::new();
    home.write_config("limits:\n  header_timeout: 300ms\n");
    let _daemon = home.start_daemon();
    let mut stream = std::os::unix::net::UnixStream::connect(home.socket()).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let started = std::time::Instant::now();
    let mut buf = Vec::new();
    // The daemon closes the connection: read returns, well before our own
    // 10 s read timeout would fire, and not before the header timeout.
    stream
        .read_to_end(&mut buf)
        .expect("closed by the daemon, not by our read timeout");
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(250),
        "{:?}",
        started.elapsed()
    );
    home.skillc(&["--no-autostart", "status"]).expect_code(0);
}

/// The daemon serves every route of `skilld_proto::routes::ROUTES` (the
/// table docs/openapi.json is made from) with exactly the methods it lists:
/// another method is 405 naming them.
#[test]
fn every_route_of_the_table_is_served_with_its_methods() {
    let home = Home::new();
    let _daemon = home.start_daemon();
    let mut paths: Vec<&str> = skilld_proto::routes::ROUTES
        .iter()
        .map(|r| r.path)
        .collect();
    paths.dedup();
    for path in paths {
        let reply = http::request(&home.socket(), "PUT", path, b"");
        let body = assert_error(&reply, 405, "method_not_allowed");
        let allowed: Vec<&str> = body["error"]["details"]["allowed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m.as_str().unwrap())
            .collect();
        assert_eq!(allowed, skilld_proto::routes::methods(path), "{path}");
    }
}
