//! Project sync benchmark: a project of 50 skills (10 files each) on a
//! loopback registry.
//! - cold: `skillc sync --frozen` into an empty store (a fresh home, its
//!   daemon already running), each round beside the floor: the same 50
//!   layers fetched with `curl`, four at a time, piped into `tar -xz`
//!   (target: within 1.3x, the median of per-round ratios);
//! - satisfied: `skillc sync` when the folders already match the lock, end
//!   to end (the client's start included; target: under 50 ms);
//! - lock: `skillc lock --update` of the 50 requirements: wall time and the
//!   requests the registry saw (target: one tag list per repository).
//!
//! Run (release binaries; curl and tar needed):
//!   cargo build --release --workspace && cargo bench -p skilld-tests --bench project

use std::process::Command;

use skilld_tests::helper::bench::{curl_tar, median, publish_generated as publish, timed};
use skilld_tests::helper::tools::require;
use skilld_tests::helper::{Home, Registry, Variant};

const SKILLS: usize = 50;
const ROUNDS: usize = 5;

fn ms(s: f64) -> String {
    format!("{:.0} ms", s * 1e3)
}

fn main() {
    let curl = require("curl", "curl");
    let registry = Registry::start_logged(Variant::Anonymous);
    let host = registry.host();
    let publisher = Home::new();
    let names: Vec<String> = (0..SKILLS).map(|i| format!("p-{i:02}")).collect();
    for name in &names {
        publish(&publisher, &host, name, "1.0.0");
    }
    let manifest = serde_json::json!({
        "skills": names
            .iter()
            .map(|n| serde_json::json!({"name": n, "source": format!("{host}/bench/{n}")}))
            .collect::<Vec<_>>()
    });

    // Lock: one tag list per repository, the candidates' manifests.
    let locker = Home::new();
    let _locker_daemon = locker.start_daemon();
    let project = locker.root().join("app");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(project.join("skills.json"), manifest.to_string()).unwrap();
    let before = registry.requests().len();
    let lock_time = timed(
        locker
            .command("skillc")
            .current_dir(&project)
            .args(["-q", "lock", "--update"]),
    );
    let requests: Vec<String> = registry.requests().into_iter().skip(before).collect();
    let tag_lists = requests.iter().filter(|l| l.contains("/tags/list")).count();
    let lock_text = std::fs::read_to_string(project.join("skills.lock.json")).unwrap();
    let lock: serde_json::Value = serde_json::from_str(&lock_text).unwrap();

    // The layers, for the floor (read once, untimed).
    let layers: Vec<(String, String)> = lock["skills"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let repo = s["source"]["repository"].as_str().unwrap().to_string();
            let digest = s["source"]["digest"].as_str().unwrap();
            let out = Command::new(&curl)
                .args([
                    "-sf",
                    "-H",
                    "Accept: application/vnd.oci.image.manifest.v1+json",
                    &format!("http://{host}/v2/{repo}/manifests/{digest}"),
                ])
                .output()
                .unwrap();
            let m: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            (repo, m["layers"][0]["digest"].as_str().unwrap().to_string())
        })
        .collect();
    let list: String = layers
        .iter()
        .map(|(repo, digest)| format!("{repo} {digest}\n"))
        .collect();

    let (mut cold, mut floor, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    let mut warm_home = None;
    for round in 0..ROUNDS {
        // skilld: a fresh home and store, its daemon running.
        let home = Home::new();
        let daemon = home.start_daemon();
        let dir = home.root().join("app");
        std::fs::create_dir_all(&dir).unwrap();
        for f in ["skills.json", "skills.lock.json"] {
            std::fs::copy(project.join(f), dir.join(f)).unwrap();
        }
        let ours = timed(
            home.command("skillc")
                .current_dir(&dir)
                .args(["-q", "sync", "--frozen"]),
        );
        assert_eq!(
            std::fs::read_dir(dir.join(".agents/skills"))
                .unwrap()
                .count(),
            SKILLS,
            "every skill synced"
        );
        // The floor: curl | tar -xz, four at a time.
        let base = curl_tar(&curl, &host, &list);
        eprintln!("round {round}: sync {}, curl | tar {}", ms(ours), ms(base));
        cold.push(ours);
        floor.push(base);
        ratios.push(ours / base);
        if round == ROUNDS - 1 {
            warm_home = Some((home, daemon, dir));
        }
    }

    // Satisfied: nothing to do.
    let (home, _daemon, dir) = warm_home.unwrap();
    let mut satisfied = Vec::new();
    for _ in 0..21 {
        satisfied.push(timed(
            home.command("skillc")
                .current_dir(&dir)
                .args(["-q", "sync", "--frozen"]),
        ));
    }

    println!("| measure | value | beside | target |");
    println!("|---|---|---|---|");
    println!(
        "| cold sync, {SKILLS} skills x 10 files | {} | curl + tar -xz, 4 at once: {} | ratio {:.2}x (within 1.3x) |",
        ms(median(cold)),
        ms(median(floor)),
        median(ratios)
    );
    println!(
        "| sync, lock already satisfied | {} | - | under 50 ms |",
        ms(median(satisfied))
    );
    println!(
        "| lock --update, {SKILLS} requirements | {} | {} requests, {tag_lists} tag lists | one tag list per repository |",
        ms(lock_time),
        requests.len()
    );
}
