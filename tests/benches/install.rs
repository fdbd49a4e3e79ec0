//! Install benchmark: a warm install (the image already in the store) of a
//! 100-file skill through `skillc install`, beside `cp -r` of the same tree,
//! in the same run; and `skillc list` with 1,000 installed skills.
//!
//! Run (release binaries):
//!   cargo build --release --workspace && cargo bench -p skilld-tests --bench install

use std::process::Command;
use std::time::Instant;

use skilld_tests::helper::Home;
use skilld_tests::helper::bench::{median, timed};
use skilld_tests::helper::tools::{copy_tree, testdata};

const ROUNDS: usize = 15;

fn main() {
    let home = Home::new();
    let _daemon = home.start_daemon();
    let src = home.root().join("src/bench");
    skilld_tests::helper::generate::skill(&src, "bench", 100, 1 << 20);
    let built = home
        .skillc(&[
            "--json",
            "build",
            "-t",
            "bench/skill:1",
            src.to_str().unwrap(),
        ])
        .expect_code(0)
        .json();
    let reference = built["reference"].as_str().unwrap().to_string();
    // Warm-up: first install and copy.
    home.skillc(&[
        "-q",
        "install",
        &reference,
        "-o",
        home.root().join("warm").to_str().unwrap(),
    ])
    .expect_code(0);

    let (mut ours, mut cp) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let out = home.root().join(format!("ours{round}"));
        ours.push(timed(
            home.command("skillc")
                .args(["-q", "install", &reference, "-o"])
                .arg(&out),
        ));
        let copy = home.root().join(format!("cp{round}"));
        cp.push(timed(Command::new("cp").arg("-r").arg(&src).arg(&copy)));
    }
    let (ours_m, cp_m) = (median(ours), median(cp));
    println!("| operation | tool | wall (median of {ROUNDS}) | vs cp -r |");
    println!("|---|---|---|---|");
    println!(
        "| warm install, 100 files / 1 MiB | skillc install -o | {:.1} ms | {:.2}x |",
        ours_m * 1e3,
        ours_m / cp_m
    );
    println!("| copy, same tree | cp -r | {:.1} ms | 1.00x |", cp_m * 1e3);

    // 1,000 installs of a small skill, each in its own folder.
    let small = home.root().join("src/hello-world");
    copy_tree(&testdata().join("valid/hello-world"), &small);
    let small_ref = home
        .skillc(&["--json", "build", small.to_str().unwrap()])
        .expect_code(0)
        .json()["reference"]
        .as_str()
        .unwrap()
        .to_string();
    let start = Instant::now();
    for i in 0..1000 {
        home.skillc(&[
            "-q",
            "install",
            &small_ref,
            "-o",
            home.root().join(format!("many/{i}")).to_str().unwrap(),
        ])
        .expect_code(0);
    }
    let fill = start.elapsed().as_secs_f64();
    let count = home.skillc(&["--json", "list"]).expect_code(0).json()["installs"]
        .as_array()
        .unwrap()
        .len();
    assert!(count >= 1000, "{count} installs listed");
    let mut list = Vec::new();
    for _ in 0..21 {
        list.push(timed(home.command("skillc").args(["--json", "list"])));
    }
    println!(
        "| list, {count} installs | skillc --json list | {:.1} ms | - |",
        median(list) * 1e3
    );
    eprintln!("(1,000 installs took {fill:.1} s, {:.1} ms each)", fill);
}
