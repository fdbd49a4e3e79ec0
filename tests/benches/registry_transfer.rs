//! Registry transfer benchmark, one run against a loopback CNCF registry:
//! pull + unpack of a 10 MB, 200-file skill by `skillc pull -o` beside
//! `skopeo copy docker://… dir:` + `tar -xzf`, and beside the Python oras
//! SDK's pull; push by `skillc push` beside `skopeo copy` the other way; and
//! `curl` fetching the layer blob alone, the floor.
//!
//! Run (release binaries; skopeo, curl and `pip install oras` needed):
//!   cargo build --release --workspace && cargo bench -p skilld-tests --bench registry_transfer

use std::process::Command;
use std::time::Instant;

use skilld_tests::helper::bench::{median, timed};
use skilld_tests::helper::tools::require;
use skilld_tests::helper::{Home, Registry, Run, Variant};

const ROUNDS: usize = 7;

fn ms(s: f64) -> String {
    format!("{:.0} ms", s * 1000.0)
}

fn main() {
    let skopeo = require("skopeo", "skopeo");
    let curl = require("curl", "curl");
    let registry = Registry::start(Variant::Anonymous);
    let host = registry.host();
    let publisher = Home::new();
    let dir = publisher.root().join("src/bench");
    skilld_tests::helper::generate::skill(&dir, "bench", 200, 10 << 20);
    let reference = format!("{host}/bench/skill:1.0.0");
    publisher
        .skillc(&["-q", "build", "-t", &reference, dir.to_str().unwrap()])
        .expect_code(0);
    publisher.skillc(&["-q", "push", &reference]).expect_code(0);
    let inspected = publisher
        .skillc(&["--json", "inspect", &reference])
        .expect_code(0)
        .json();
    let layer = inspected["layers"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let layer_size = inspected["layers"][0]["size"].as_u64().unwrap();

    let (
        mut ours,
        mut ours_pull_only,
        mut skopeo_pull,
        mut oras_pull,
        mut floor,
        mut ours_push,
        mut skopeo_push,
    ) = (
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
    );
    // skilld: one long-running daemon, its store emptied before each pull.
    let home = Home::new();
    let _daemon = home.start_daemon();
    let empty_store = || {
        let _ = home.skillc(&["-q", "rmi", &reference]);
        home.skillc(&["-q", "prune"]).expect_code(0);
    };
    // One warm-up pull: the daemon's first contact with a registry sets up
    // its TLS roots and HTTP client, once per daemon life.
    home.skillc(&["-q", "pull", &reference]).expect_code(0);
    for round in 0..ROUNDS {
        let scratch = publisher.root().join(format!("round{round}"));
        std::fs::create_dir_all(&scratch).unwrap();

        empty_store();
        let out = scratch.join("ours");
        ours.push(timed(
            home.command("skillc")
                .args(["-q", "pull", &reference, "-o"])
                .arg(&out),
        ));
        empty_store();
        ours_pull_only.push(timed(
            home.command("skillc").args(["-q", "pull", &reference]),
        ));

        // skopeo to a dir: layout, then tar -xzf of the layer.
        let copied = scratch.join("skopeo-dir");
        let extracted = scratch.join("skopeo-out");
        std::fs::create_dir_all(&extracted).unwrap();
        let start = Instant::now();
        Run::of(
            Command::new(&skopeo)
                .args(["copy", "-q", "--src-tls-verify=false"])
                .arg(format!("docker://{reference}"))
                .arg(format!("dir:{}", copied.display())),
        );
        let layer_file = copied.join(layer.trim_start_matches("sha256:"));
        let run = Run::of(
            Command::new("tar")
                .arg("-xzf")
                .arg(&layer_file)
                .arg("-C")
                .arg(&extracted),
        );
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        skopeo_pull.push(start.elapsed().as_secs_f64());

        // oras-py, timed inside Python (interpreter start-up not counted).
        let oras_out = scratch.join("oras-out");
        let script = format!(
            "import time, oras.client\nc = oras.client.OrasClient(hostname='{host}', insecure=True)\nt = time.perf_counter()\nc.pull(target='{reference}', outdir='{}')\nprint(time.perf_counter() - t)\n",
            oras_out.display()
        );
        let run = Run::of(Command::new("python3").args(["-c", &script]));
        assert_eq!(run.code, Some(0), "oras (pip install oras): {}", run.stderr);
        oras_pull.push(run.stdout.trim().lines().last().unwrap().parse().unwrap());

        // The floor: curl fetching the layer blob, nothing else.
        let blob = scratch.join("blob");
        floor.push(timed(
            Command::new(&curl)
                .args(["-sf", "-o"])
                .arg(&blob)
                .arg(format!("http://{host}/v2/bench/skill/blobs/{layer}")),
        ));
        assert_eq!(std::fs::metadata(&blob).unwrap().len(), layer_size);

        // Push into a fresh repository (every blob sent): ours, then skopeo's.
        ours_push.push(timed(publisher.command("skillc").args([
            "-q",
            "push",
            &reference,
            &format!("{host}/bench/ours{round}:1.0.0"),
        ])));
        skopeo_push.push(timed(
            Command::new(&skopeo)
                .args(["copy", "-q", "--dest-tls-verify=false"])
                .arg(format!("dir:{}", copied.display()))
                .arg(format!("docker://{host}/bench/skopeo{round}:1.0.0")),
        ));
    }
    println!(
        "10 MB / 200-file skill ({} layer), loopback registry, median of {ROUNDS}",
        skilld_tests_bytes(layer_size)
    );
    println!();
    println!("| operation | tool | wall | vs skilld |");
    println!("|---|---|---|---|");
    let ours_m = median(ours);
    for (tool, m) in [
        ("skillc pull -o (pull + verify + unpack)", ours_m),
        ("skopeo copy dir: + tar -xzf", median(skopeo_pull)),
        ("oras-py pull (in-process)", median(oras_pull)),
        ("curl, layer blob only (floor)", median(floor.clone())),
    ] {
        println!(
            "| pull + unpack | {tool} | {} | {:.2}x |",
            ms(m),
            m / ours_m
        );
    }
    let push_m = median(ours_push);
    for (tool, m) in [
        ("skillc push", push_m),
        ("skopeo copy dir: → docker://", median(skopeo_push)),
    ] {
        println!("| push | {tool} | {} | {:.2}x |", ms(m), m / push_m);
    }
    let floor_m = median(floor);
    let pull_only = median(ours_pull_only);
    println!(
        "| pull, no unpack | skillc pull (fetch + verify + store) | {} | {:.2}x |",
        ms(pull_only),
        pull_only / ours_m
    );
    println!();
    println!(
        "skillc pull (no unpack) is {:.2}x the curl floor; with unpack {:.2}x",
        pull_only / floor_m,
        ours_m / floor_m
    );
}

fn skilld_tests_bytes(n: u64) -> String {
    format!("{:.1} MiB", n as f64 / 1048576.0)
}
