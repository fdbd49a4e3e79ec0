//! Scan benchmark, on two 200-file / 10 MiB skills: the generated one of
//! the install benchmark (a few words over and over, one file in five
//! random bytes), and prose drawn from the real skills under
//! `testdata/benign` (what a scan meets in practice):
//! - `skillc scan DIR` end to end (target: under 100 ms), and the scan of
//!   the same skill's image from the store (`skillc scan REF`, its first
//!   scan: nothing cached);
//! - a cold install: each round a new skill (one line of SKILL.md
//!   differs, so its layer was never scanned), loaded from an archive into
//!   two running daemons, one with the scan on (the default policy), one
//!   with `scan: {block: off, warn: off}`, the order alternating (target:
//!   the scan adds under 10%, the median of per-round ratios);
//! - the first install of a daemon just started (a fresh home each round:
//!   the rules are compiled and the scan's automata built as it reads),
//!   and the first scan of the image from the store;
//! - a cold install as the other install benchmarks mean it (`--bench
//!   trust`): a fresh daemon and store each round, the image pulled from a
//!   loopback registry (the rules compile beside the pull), with the scan
//!   and without, the order alternating; with `SKILLD_BENCH_LINK` set to
//!   a `tc` qdisc (root; e.g. `tbf rate 100mbit burst 256kb latency
//!   800ms`), the same again over loopback shaped like a network.
//!
//! Run (release binaries):
//!   cargo build --release --workspace && cargo bench -p skilld-tests --bench scan

use skilld_tests::helper::bench::{median, timed};
use skilld_tests::helper::{Home, Registry, Variant};

const ROUNDS: usize = 21;

/// Rounds of the cold pulled installs: on this 2-core machine one round's
/// ratio moves between 0.8x and 1.4x, so a median of 21 moved by 5% from
/// run to run; these rounds are short.
const PULLED_ROUNDS: usize = 41;

fn ms(s: f64) -> String {
    format!("{:.1} ms", s * 1e3)
}

fn main() {
    println!("| measure | value | beside | target |");
    println!("|---|---|---|---|");
    let words: fn(&std::path::Path) = |dir| {
        skilld_tests::helper::generate::skill(dir, "bench", 200, 10 << 20);
    };
    let prose: fn(&std::path::Path) = |dir| {
        skilld_tests::helper::generate::prose(dir, "bench", 200, 10 << 20);
    };
    let registry = Registry::start(Variant::Anonymous);
    measure("generated words", words, &registry, "words");
    measure("prose of real skills", prose, &registry, "prose");
}

/// The config of a home that does not scan.
const NO_SCAN: &str = "scan:\n  block: off\n  warn: off\n";

/// The wall time of `skillc install REFERENCE -o <home>/FOLDER`.
fn install_into(home: &Home, reference: &str, folder: &str) -> f64 {
    let out = home.root().join(folder);
    std::fs::create_dir_all(&out).unwrap();
    timed(
        home.command("skillc")
            .args(["-q", "install", reference, "-o", out.to_str().unwrap()]),
    )
}

/// Keep one round's pair (with the scan, without) and its ratio.
fn record(on: &mut Vec<f64>, off: &mut Vec<f64>, ratios: &mut Vec<f64>, pair: [f64; 2]) {
    on.push(pair[0]);
    off.push(pair[1]);
    ratios.push(pair[0] / pair[1]);
}

/// The measures on the skill `generate` writes (pushed to `registry` as
/// `bench/<repository>:1`).
fn measure(what: &str, generate: fn(&std::path::Path), registry: &Registry, repository: &str) {
    let author = Home::new();
    let _daemon = author.start_daemon();
    let src = author.root().join("src/bench");
    generate(&src);
    author
        .skillc(&["-q", "build", "-t", "bench/skill:1", src.to_str().unwrap()])
        .expect_code(0);
    let archive = author.root().join("bench.tar");
    author
        .skillc(&[
            "-q",
            "save",
            "bench/skill:1",
            "-o",
            archive.to_str().unwrap(),
        ])
        .expect_code(0);

    let mut folder = Vec::new();
    for _ in 0..ROUNDS {
        folder.push(timed(author.command("skillc").args([
            "-q",
            "scan",
            src.to_str().unwrap(),
        ])));
    }

    // A new skill each round (a line of SKILL.md differs: another layer,
    // nothing cached) installed by daemons that keep running, as a user's
    // does: the target.
    let (on_home, off_home) = (Home::new(), Home::new());
    off_home.write_config(NO_SCAN);
    let (_on_daemon, _off_daemon) = (on_home.start_daemon(), off_home.start_daemon());
    let (mut on, mut off, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    let skill_md = std::fs::read_to_string(src.join("SKILL.md")).unwrap();
    for round in 0..ROUNDS {
        std::fs::write(
            src.join("SKILL.md"),
            format!("{skill_md}\nRound {round}.\n"),
        )
        .unwrap();
        let tag = format!("bench/skill:r{round}");
        author
            .skillc(&["-q", "build", "-t", &tag, src.to_str().unwrap()])
            .expect_code(0);
        let archive = author.root().join(format!("r{round}.tar"));
        author
            .skillc(&["-q", "save", &tag, "-o", archive.to_str().unwrap()])
            .expect_code(0);
        let mut pair = [0.0f64; 2];
        // Alternate which goes first.
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for i in order {
            let home = [&on_home, &off_home][i];
            home.skillc(&["-q", "load", archive.to_str().unwrap()])
                .expect_code(0);
            pair[i] = install_into(home, &tag, &format!("out{round}"));
        }
        eprintln!(
            "{what}, round {round}: new skill, running daemon: with scan {}, without {}",
            ms(pair[0]),
            ms(pair[1])
        );
        record(&mut on, &mut off, &mut ratios, pair);
    }
    std::fs::write(src.join("SKILL.md"), skill_md).unwrap();

    // The first install of a daemon just started (its automata not yet
    // built: the worst case), and the image's first scan.
    let (mut image, mut first_on, mut first_off, mut first_ratios) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let mut pair = [0.0f64; 2];
        for (i, config) in ["", NO_SCAN].iter().enumerate() {
            let home = Home::new();
            home.write_config(config);
            let _d = home.start_daemon();
            home.skillc(&["-q", "load", archive.to_str().unwrap()])
                .expect_code(0);
            if i == 0 {
                // The image's first scan (a fresh index: nothing cached),
                // in a home of its own so the install below is cold too.
                let other = Home::new();
                let _o = other.start_daemon();
                other
                    .skillc(&["-q", "load", archive.to_str().unwrap()])
                    .expect_code(0);
                image.push(timed(other.command("skillc").args([
                    "-q",
                    "scan",
                    "bench/skill:1",
                ])));
            }
            pair[i] = install_into(&home, "bench/skill:1", "out");
        }
        eprintln!(
            "{what}, round {round}: just started: with scan {}, without {}",
            ms(pair[0]),
            ms(pair[1])
        );
        record(&mut first_on, &mut first_off, &mut first_ratios, pair);
    }

    // Cold, as the other install benchmarks mean it: a fresh daemon and
    // store each round, the image pulled from the registry.
    let pushed = format!("{}/bench/{repository}:1", registry.host());
    author
        .skillc(&["-q", "tag", "bench/skill:1", &pushed])
        .expect_code(0);
    author.skillc(&["-q", "push", &pushed]).expect_code(0);
    let pulled = pulled_rounds(what, &pushed, "");
    // Over a link shaped like a network (opt in: root and `tc`), where a
    // pull waits on the wire and the scan runs beside the download.
    let shaped = std::env::var("SKILLD_BENCH_LINK").ok().map(|qdisc| {
        let _shaped = Shaped::lo(&qdisc);
        (qdisc.clone(), pulled_rounds(what, &pushed, &qdisc))
    });

    println!(
        "| {what}: `skillc scan DIR`, 200 files / 10 MiB, end to end | {} | - | under 100 ms |",
        ms(median(folder))
    );
    println!(
        "| {what}: `skillc scan REF` of its image, first scan | {} | - | - |",
        ms(median(image))
    );
    println!(
        "| {what}: cold install (a new skill, running daemon) with the scan | {} | without: {} | adds under 10%: ratio {:.3}x |",
        ms(median(on)),
        ms(median(off)),
        median(ratios)
    );
    println!(
        "| {what}: first install of a daemon just started, with the scan | {} | without: {} | ratio {:.3}x |",
        ms(median(first_on)),
        ms(median(first_off)),
        median(first_ratios)
    );
    let (on, off, ratios) = pulled;
    println!(
        "| {what}: cold install (a daemon just started pulls it from the registry) with the scan | {} | without: {} | adds under 10%: ratio {:.3}x |",
        ms(median(on)),
        ms(median(off)),
        median(ratios)
    );
    if let Some((qdisc, (on, off, ratios))) = shaped {
        println!(
            "| {what}: the same over loopback shaped by `tc qdisc add dev lo root {qdisc}` | {} | without: {} | adds under 10%: ratio {:.3}x |",
            ms(median(on)),
            ms(median(off)),
            median(ratios)
        );
    }
}

/// Cold installs of `pushed`, a fresh daemon and store each round, with
/// the scan and without (the order alternating): both times and the
/// per-round ratios. `link` names the shaping, if any, in the log.
fn pulled_rounds(what: &str, pushed: &str, link: &str) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let (mut on, mut off, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..PULLED_ROUNDS {
        let mut pair = [0.0f64; 2];
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for i in order {
            let home = Home::new();
            home.write_config(["", NO_SCAN][i]);
            let _d = home.start_daemon();
            pair[i] = install_into(&home, pushed, "out");
        }
        eprintln!(
            "{what}, round {round}: pulled by a daemon just started {link}: with scan {}, without {}",
            ms(pair[0]),
            ms(pair[1])
        );
        record(&mut on, &mut off, &mut ratios, pair);
    }
    (on, off, ratios)
}

/// The loopback interface shaped by a `tc` qdisc while this lives.
struct Shaped;

impl Shaped {
    fn lo(qdisc: &str) -> Shaped {
        let added = std::process::Command::new("tc")
            .args(["qdisc", "add", "dev", "lo", "root"])
            .args(qdisc.split_whitespace())
            .status()
            .expect("SKILLD_BENCH_LINK needs `tc` (Debian's iproute2) and root");
        assert!(added.success(), "tc qdisc add dev lo root {qdisc} failed");
        Shaped
    }
}

impl Drop for Shaped {
    fn drop(&mut self) {
        let _ = std::process::Command::new("tc")
            .args(["qdisc", "del", "dev", "lo", "root"])
            .status();
    }
}
