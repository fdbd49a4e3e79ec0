//! Upgrade-check benchmark: one `skillc check` over 1,000 installs drawn
//! from 100 repositories on a loopback registry: wall time and the requests
//! the registry saw (target: 100 tag lists plus what upgrades need, under
//! 1 s); then the daemon's resident memory with 1,000 installs two seconds
//! after the check, and idle (after 32 s, when it has unmapped its code;
//! target: under 12 MB).
//!
//! Run (release binaries):
//!   cargo build --release --workspace && cargo bench -p skilld-tests --bench check

use std::time::Instant;

use skilld_tests::helper::tools::{copy_tree, testdata};
use skilld_tests::helper::{Home, Registry, Variant};

const REPOS: usize = 100;
const PER_REPO: usize = 10;
const NEWER: usize = 10;

/// A hello-world copy named `name` at `version`, pushed and published.
fn publish(home: &Home, host: &str, name: &str, version: &str) {
    let dir = home
        .root()
        .join("src")
        .join(format!("{name}-{version}"))
        .join(name);
    copy_tree(&testdata().join("valid/hello-world"), &dir);
    for file in ["skill.yaml", "SKILL.md"] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        std::fs::write(
            dir.join(file),
            text.replace("name: hello-world", &format!("name: {name}"))
                .replace("version: 1.0.0", &format!("version: {version}")),
        )
        .unwrap();
    }
    let repo = format!("{host}/bench/{name}");
    home.skillc(&["-q", "build", "-t", &repo, dir.to_str().unwrap()])
        .expect_code(0);
    home.skillc(&["-q", "push", &format!("{repo}:{version}-draft")])
        .expect_code(0);
    home.skillc(&[
        "-q",
        "promote",
        &format!("{repo}:{version}-draft"),
        "--to",
        "testing",
    ])
    .expect_code(0);
    home.skillc(&[
        "-q",
        "promote",
        &format!("{repo}:{version}-testing"),
        "--to",
        "published",
    ])
    .expect_code(0);
}

/// A field of `/proc/PID/smaps_rollup` (or `status`), in KiB.
fn proc_kib(pid: u32, file: &str, field: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/{file}")).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(field))
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/{file}"))
        .trim()
        .trim_end_matches(" kB")
        .trim()
        .parse()
        .unwrap()
}

fn rss_kib(pid: u32) -> u64 {
    proc_kib(pid, "status", "VmRSS:")
}

/// Resident memory split into heap/stacks (anonymous) and mapped files
/// (the binary's code and data that were touched, SQLite's file).
fn memory_line(pid: u32, when: &str) {
    let mib = |k: u64| k as f64 / 1024.0;
    eprintln!(
        "memory {when}: RSS {:.1} MiB = anonymous {:.1} MiB + files {:.1} MiB",
        mib(rss_kib(pid)),
        mib(proc_kib(pid, "smaps_rollup", "Anonymous:")),
        mib(proc_kib(pid, "smaps_rollup", "Rss:") - proc_kib(pid, "smaps_rollup", "Anonymous:")),
    );
    if std::env::var_os("SKILLD_BENCH_SMAPS").is_some() {
        // Each mapping holding over 64 KiB of anonymous memory.
        let smaps = std::fs::read_to_string(format!("/proc/{pid}/smaps")).unwrap();
        let mut header = "";
        for line in smaps.lines() {
            if line.starts_with(|c: char| c.is_ascii_hexdigit()) && line.contains('-') {
                header = line;
            } else if let Some(kib) = line.strip_prefix("Anonymous:") {
                let kib: u64 = kib.trim().trim_end_matches(" kB").trim().parse().unwrap();
                if kib > 64 {
                    eprintln!("  {kib:>6} KiB  {header}");
                }
            }
        }
    }
}

fn main() {
    let registry = Registry::start_logged(Variant::Anonymous);
    let host = registry.host();
    let publisher = Home::new();
    for r in 0..REPOS {
        publish(&publisher, &host, &format!("skill-{r:03}"), "1.0.0");
    }
    // With SKILLD_BENCH_SMAPS, the daemon logs the allocator's state at
    // each return of memory, and the bench prints it.
    let user = if std::env::var_os("SKILLD_BENCH_SMAPS").is_some() {
        Home::with_env(&[("SKILLD_LOG", std::ffi::OsStr::new("skilld::memory=debug"))])
    } else {
        Home::new()
    };
    let daemon = user.start_daemon();
    user.skillc(&["status"]).expect_code(0);
    memory_line(daemon.pid(), "after start");
    for r in 0..REPOS {
        for i in 0..PER_REPO {
            let out = user.root().join(format!("installs/{r}/{i}"));
            user.skillc(&[
                "-q",
                "install",
                &format!("{host}/bench/skill-{r:03}:1.0.0"),
                "-o",
                out.to_str().unwrap(),
            ])
            .expect_code(0);
        }
    }
    std::thread::sleep(std::time::Duration::from_secs(2));
    memory_line(daemon.pid(), "after 1,000 installs");
    for r in 0..NEWER {
        publish(&publisher, &host, &format!("skill-{r:03}"), "1.0.1");
    }
    let before = registry.requests().len();
    let start = Instant::now();
    let check = user.skillc(&["--json", "check"]).expect_code(0).json();
    let wall = start.elapsed();
    let requests: Vec<String> = registry.requests().into_iter().skip(before).collect();
    let tag_lists = requests.iter().filter(|l| l.contains("/tags/list")).count();
    let upgraded = check["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["result"] == "upgraded")
        .count();
    println!("| measure | value | target |");
    println!("|---|---|---|");
    println!(
        "| check over {} installs / {REPOS} repositories ({NEWER} with a newer patch) | {:.0} ms | under 1 s |",
        REPOS * PER_REPO,
        wall.as_secs_f64() * 1e3
    );
    println!(
        "| registry requests during the check | {} ({tag_lists} tag lists, {} other) | {REPOS} tag lists + what upgrades need |",
        requests.len(),
        requests.len() - tag_lists
    );
    println!("| installs upgraded | {upgraded} | {} |", NEWER * PER_REPO);
    // Idle: no client for a moment.
    std::thread::sleep(std::time::Duration::from_secs(2));
    memory_line(daemon.pid(), "after the check");
    if std::env::var_os("SKILLD_BENCH_SMAPS").is_some() {
        for line in daemon.stderr().lines().filter(|l| l.contains("quiet")) {
            eprintln!("  {line}");
        }
    }
    // Idle for longer than the daemon's IDLE (30 s, daemon/src/memory.rs):
    // its code is unmapped too.
    std::thread::sleep(std::time::Duration::from_secs(32));
    memory_line(daemon.pid(), "idle");
    if let Some(hold) = std::env::var_os("SKILLD_BENCH_HOLD") {
        // Time to take a heap profile of the idle daemon from outside.
        let secs: u64 = hold.to_str().and_then(|s| s.parse().ok()).unwrap_or(30);
        std::thread::sleep(std::time::Duration::from_secs(secs));
    }
    println!(
        "| idle daemon RSS, {} installs | {:.1} MiB | under 12 MB |",
        REPOS * PER_REPO,
        rss_kib(daemon.pid()) as f64 / 1024.0
    );
    let others: Vec<&String> = requests
        .iter()
        .filter(|l| !l.contains("/tags/list"))
        .take(6)
        .collect();
    eprintln!("sample of other requests: {others:#?}");
}
