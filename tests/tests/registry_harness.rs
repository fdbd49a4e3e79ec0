//! Smoke test of the registry harness every later registry test stands on:
//! each variant of the real `docker-registry` answers the `/v2/` API check.

use std::process::Command;

use skilld_tests::helper::registry::{PASSWORD, USER};
use skilld_tests::helper::tools::require;
use skilld_tests::helper::{Registry, Variant};

/// `curl` the `/v2/` endpoint; the HTTP status code.
fn v2_status(registry: &Registry, extra: &[&str]) -> String {
    let curl = require("curl", "curl");
    let out = Command::new(curl)
        .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}"])
        .args(extra)
        .arg(format!("{}/v2/", registry.url()))
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn anonymous_registry_answers_v2() {
    let registry = Registry::start(Variant::Anonymous);
    assert!(registry.host().starts_with("127.0.0.1:"));
    assert_eq!(v2_status(&registry, &[]), "200", "{}", registry.log());
}

#[test]
fn basic_auth_registry_wants_the_password() {
    let registry = Registry::start(Variant::BasicAuth);
    assert_eq!(v2_status(&registry, &[]), "401");
    assert_eq!(
        v2_status(&registry, &["-u", &format!("{USER}:wrong")]),
        "401"
    );
    assert_eq!(
        v2_status(&registry, &["-u", &format!("{USER}:{PASSWORD}")]),
        "200",
        "{}",
        registry.log()
    );
}

#[test]
fn tls_registry_is_trusted_only_with_its_ca() {
    let registry = Registry::start(Variant::Tls);
    assert!(registry.url().starts_with("https://"));
    // Without the CA, certificate verification fails (curl reports 000).
    assert_eq!(v2_status(&registry, &[]), "000");
    let ca = registry.ca_cert();
    assert_eq!(
        v2_status(&registry, &["--cacert", ca.to_str().unwrap()]),
        "200",
        "{}",
        registry.log()
    );
}
