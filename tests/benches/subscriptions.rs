//! Subscription benchmark on a loopback registry (its access log counted):
//! - a daemon following 100 collections runs `skillc check` when none of
//!   them changed: the requests the registry sees (target: exactly 100,
//!   all HEAD) and the time;
//! - a collection of 20 skills moves every skill to a new version: one
//!   `skillc check` converges the home (target: within that one check),
//!   timed beside the floor of fetching the 20 new layers with `curl`,
//!   four at a time, into `tar -xz`.
//!
//! Run (release binaries; curl and tar needed):
//!   cargo build --release --workspace && cargo bench -p skilld-tests --bench subscriptions

use std::process::Command;

use skilld_tests::helper::bench::{curl_tar, median, publish_generated as publish, timed};
use skilld_tests::helper::tools::require;
use skilld_tests::helper::{Home, Registry, Variant};

const SUBSCRIPTIONS: usize = 100;
const SKILLS: usize = 20;
const ROUNDS: usize = 5;

fn collection(name: &str, version: &str, skills: &[String]) -> String {
    let mut out = format!(
        "apiVersion: skillimage.io/v1alpha1\nkind: SkillCollection\nmetadata:\n  name: {name}\n  version: {version}\nskills:\n"
    );
    for s in skills {
        let n = s.rsplit('/').next().unwrap().split(':').next().unwrap();
        out.push_str(&format!("  - name: {n}\n    image: {s}\n"));
    }
    out
}

fn push_collection(home: &Home, yaml: &str, reference: &str) {
    let file = home.root().join("c.yaml");
    std::fs::write(&file, yaml).unwrap();
    home.skillc(&[
        "-q",
        "collection",
        "push",
        file.to_str().unwrap(),
        reference,
    ])
    .expect_code(0);
}

fn ms(s: f64) -> String {
    format!("{:.0} ms", s * 1e3)
}

fn main() {
    let curl = require("curl", "curl");
    let registry = Registry::start_logged(Variant::Anonymous);
    let host = registry.host();
    let publisher = Home::new();
    let names: Vec<String> = (0..SKILLS).map(|i| format!("s-{i:02}")).collect();
    for name in &names {
        for version in ["1.0.0", "1.1.0"] {
            publish(&publisher, &host, name, version);
        }
    }
    let at = |v: &str| -> Vec<String> {
        names
            .iter()
            .map(|n| format!("{host}/bench/{n}:{v}"))
            .collect()
    };

    // 100 subscriptions, each to a collection of one skill.
    let follower = Home::new();
    let _follower_daemon = follower.start_daemon();
    for i in 0..SUBSCRIPTIONS {
        let reference = format!("{host}/bench/team-{i:03}:stable");
        push_collection(
            &publisher,
            &collection(
                &format!("team-{i:03}"),
                "1.0.0",
                &at("1.0.0")[i % SKILLS..i % SKILLS + 1],
            ),
            &reference,
        );
        follower
            .skillc(&["-q", "subscribe", &reference, "-t", "agents"])
            .expect_code(0);
    }
    let (mut quiet, mut heads, mut others) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let before = registry.requests().len();
        quiet.push(timed(follower.command("skillc").args(["-q", "check"])));
        let seen: Vec<String> = registry.requests().into_iter().skip(before).collect();
        let head = seen.iter().filter(|l| l.contains("\"HEAD ")).count();
        heads.push(head);
        others.push(seen.len() - head);
        assert_eq!(head, SUBSCRIPTIONS, "one HEAD per subscription: {seen:?}");
        assert_eq!(seen.len(), SUBSCRIPTIONS, "nothing but the HEADs: {seen:?}");
    }

    // A 20-skill change, converged in one check.
    let big = format!("{host}/bench/big:stable");
    let (mut converge, mut floor, mut ratios, mut requests) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        push_collection(&publisher, &collection("big", "1.0.0", &at("1.0.0")), &big);
        let home = Home::new();
        let _daemon = home.start_daemon();
        home.skillc(&["-q", "subscribe", &big, "-t", "agents", "-t", "claude"])
            .expect_code(0);
        push_collection(&publisher, &collection("big", "2.0.0", &at("1.1.0")), &big);
        let before = registry.requests().len();
        let took = timed(home.command("skillc").args(["-q", "check"]));
        requests.push(registry.requests().len() - before);
        let check = home
            .skillc(&["--json", "subscriptions"])
            .expect_code(0)
            .json();
        assert_eq!(check["subscriptions"][0]["version"], "2.0.0", "{check}");
        for n in &names {
            let card = std::fs::read_to_string(
                home.user_home()
                    .join(".agents/skills")
                    .join(n)
                    .join("skill.yaml"),
            )
            .unwrap();
            assert!(card.contains("version: \"1.1.0\""), "{n} moved: {card}");
        }
        // The floor: the 20 new layers, curl | tar -xz, four at a time.
        let list: String = names
            .iter()
            .map(|n| {
                let out = Command::new(&curl)
                    .args([
                        "-sf",
                        "-H",
                        "Accept: application/vnd.oci.image.manifest.v1+json",
                        &format!("http://{host}/v2/bench/{n}/manifests/1.1.0"),
                    ])
                    .output()
                    .unwrap();
                let m: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
                format!("bench/{n} {}\n", m["layers"][0]["digest"].as_str().unwrap())
            })
            .collect();
        let base = curl_tar(&curl, &host, &list);
        eprintln!("round {round}: check {}, curl | tar {}", ms(took), ms(base));
        converge.push(took);
        floor.push(base);
        ratios.push(took / base);
    }

    println!("| measure | value | beside | target |");
    println!("|---|---|---|---|");
    println!(
        "| check, {SUBSCRIPTIONS} subscriptions, nothing changed | {} | {} HEAD, {} other requests (every round) | exactly {SUBSCRIPTIONS} HEAD requests |",
        ms(median(quiet)),
        heads[0],
        others[0]
    );
    println!(
        "| check converging a {SKILLS}-skill change (2 targets: copy + link) | {} | curl + tar -xz of the {SKILLS} layers, 4 at once: {}; {} requests | within one check; ratio {:.2}x |",
        ms(median(converge)),
        ms(median(floor)),
        requests[0],
        median(ratios)
    );
}
