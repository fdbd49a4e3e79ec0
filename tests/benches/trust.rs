//! Verification cost on install, in one run against a loopback CNCF
//! registry: `skillc install` of a signed 100-file / 1 MiB skill under a
//! `signed` trust rule beside the same install under `accept`.
//!
//! - cold: a fresh daemon and store each round, so the image is pulled and,
//!   under `signed`, the signatures are fetched from the registry, checked
//!   and kept in the store;
//! - warm: the image (and its kept signatures) already in the store, so the
//!   `signed` install reads the signatures from the store and checks the
//!   ECDSA signature again, with no network.
//!
//! Target: the signed install less than 20% slower than the accepted one.
//!
//! Run (release binaries):
//!   cargo build --release --workspace && cargo bench -p skilld-tests --bench trust

use std::ffi::OsStr;

use skilld_tests::helper::bench::{median, timed};
use skilld_tests::helper::{Daemon, Home, Registry, Variant};

const COLD_ROUNDS: usize = 25;
const WARM_ROUNDS: usize = 21;

/// A home with `config` and a running daemon.
fn consumer(config: &str) -> (Home, Daemon) {
    let home = Home::new();
    home.write_config(config);
    let daemon = home.start_daemon();
    (home, daemon)
}

fn install(home: &Home, reference: &str, out: &str) -> f64 {
    timed(
        home.command("skillc")
            .args(["-q", "install", reference, "-o"])
            .arg(home.root().join(out)),
    )
}

/// Medians of both, and the median of the per-round ratios (each signed
/// install against the accepted one timed just before it, so a machine
/// that slows down during the run moves both sides of a ratio alike).
fn row(case: &str, accept: Vec<f64>, signed: Vec<f64>) {
    let ratios: Vec<f64> = accept.iter().zip(&signed).map(|(a, s)| s / a).collect();
    let ms = |v: &[f64]| {
        v.iter()
            .map(|x| format!("{:.0}", x * 1e3))
            .collect::<Vec<_>>()
            .join(" ")
    };
    eprintln!(
        "{case}\n  accept ms: {}\n  signed ms: {}",
        ms(&accept),
        ms(&signed)
    );
    println!(
        "| {case} | {:.1} ms | {:.1} ms | {:+.1}% |",
        median(accept) * 1e3,
        median(signed) * 1e3,
        (median(ratios) - 1.0) * 100.0,
    );
}

fn main() {
    let registry = Registry::start(Variant::Anonymous);
    let author = Home::with_env(&[("COSIGN_PASSWORD", OsStr::new("bench"))]);
    let src = author.root().join("src/bench");
    skilld_tests::helper::generate::skill(&src, "bench", 100, 1 << 20);
    let reference = format!("{}/bench/skill:1.0.0", registry.host());
    author
        .skillc(&["-q", "build", "-t", &reference, src.to_str().unwrap()])
        .expect_code(0);
    author.skillc(&["-q", "push", &reference]).expect_code(0);
    let key = author.root().join("cosign");
    author
        .skillc(&["-q", "keygen", "--output-key-prefix", key.to_str().unwrap()])
        .expect_code(0);
    author
        .skillc(&[
            "-q",
            "sign",
            &reference,
            "--key",
            key.with_extension("key").to_str().unwrap(),
        ])
        .expect_code(0);
    let accept = "trust:\n  default: {type: accept}\n".to_string();
    let signed = format!(
        "trust:\n  default: {{type: signed, keys: [{}]}}\n",
        key.with_extension("pub").display()
    );

    // Cold: alternate the two policies, a fresh daemon and store each round.
    let (mut cold_accept, mut cold_signed) = (Vec::new(), Vec::new());
    for _ in 0..COLD_ROUNDS {
        let (home, _daemon) = consumer(&accept);
        cold_accept.push(install(&home, &reference, "out"));
        let (home, _daemon) = consumer(&signed);
        cold_signed.push(install(&home, &reference, "out"));
        let list = home.skillc(&["--json", "list"]).expect_code(0).json();
        assert!(
            list["installs"][0]["signer"].is_string(),
            "the signed install was not verified: {list}"
        );
    }

    // Warm: one daemon per policy, the image in its store after a first install.
    let (accept_home, _a) = consumer(&accept);
    let (signed_home, _s) = consumer(&signed);
    install(&accept_home, &reference, "warm");
    install(&signed_home, &reference, "warm");
    let (mut warm_accept, mut warm_signed) = (Vec::new(), Vec::new());
    for round in 0..WARM_ROUNDS {
        let out = format!("out{round}");
        warm_accept.push(install(&accept_home, &reference, &out));
        warm_signed.push(install(&signed_home, &reference, &out));
    }

    println!(
        "| install, 100 files / 1 MiB | accept (median) | signed (median) | signed vs accept (median of per-round ratios) |"
    );
    println!("|---|---|---|---|");
    row(
        &format!("cold: pull + verify ({COLD_ROUNDS} rounds)"),
        cold_accept,
        cold_signed,
    );
    row(
        &format!("warm: from the store ({WARM_ROUNDS} rounds)"),
        warm_accept,
        warm_signed,
    );
}
