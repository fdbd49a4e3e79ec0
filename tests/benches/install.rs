//! Install benchmark: a warm install (the image already in the store) of a
//! 100-file / 1 MiB and a 200-file / 10 MiB skill through `skillc install`,
//! each round beside `cp -r` of the same tree (target: within 1.5x, as the
//! median of per-round ratios); and `skillc list` with 1,000 installs.
//!
//! Run (release binaries):
//!   cargo build --release --workspace && cargo bench -p skilld-tests --bench install

use std::process::Command;
use std::time::Instant;

use skilld_tests::helper::Home;
use skilld_tests::helper::bench::{median, timed};
use skilld_tests::helper::tools::{copy_tree, testdata};

const ROUNDS: usize = 21;

/// The quartiles of `samples`: (p25, median, p75).
fn quartiles(mut samples: Vec<f64>) -> (f64, f64, f64) {
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    (at(0.25), at(0.5), at(0.75))
}

/// Warm installs of a generated skill of `files` files / `bytes`, each
/// round beside `cp -r` of the same tree (alternating which goes first);
/// prints the medians and the median of the per-round ratios.
fn warm_install_beside_cp(home: &Home, files: usize, bytes: usize) {
    let label = format!("{files}-{bytes}");
    let src = home.root().join(format!("src/{label}/bench"));
    skilld_tests::helper::generate::skill(&src, "bench", files, bytes);
    let built = home
        .skillc(&[
            "--json",
            "build",
            "-t",
            &format!("bench/skill-{label}:1"),
            src.to_str().unwrap(),
        ])
        .expect_code(0)
        .json();
    let reference = built["reference"].as_str().unwrap().to_string();
    // Warm-up: first install and copy (page cache, the staging area's record).
    let dest = home.root().join(format!("dest-{label}"));
    home.skillc(&[
        "-q",
        "install",
        &reference,
        "-o",
        dest.join("warm").to_str().unwrap(),
    ])
    .expect_code(0);
    let (mut ours, mut cp, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let out = dest.join(format!("ours{round}"));
        let install = || {
            timed(
                home.command("skillc")
                    .args(["-q", "install", &reference, "-o"])
                    .arg(&out),
            )
        };
        let copy = dest.join(format!("cp{round}"));
        let cp_r = || timed(Command::new("cp").arg("-r").arg(&src).arg(&copy));
        let (a, b) = if round % 2 == 0 {
            let a = install();
            (a, cp_r())
        } else {
            let b = cp_r();
            (install(), b)
        };
        eprintln!(
            "round {round}: install {:.1} ms, cp -r {:.1} ms",
            a * 1e3,
            b * 1e3
        );
        ratios.push(a / b);
        ours.push(a);
        cp.push(b);
    }
    let (p25, ratio, p75) = quartiles(ratios);
    println!(
        "| warm install, {files} files / {} MiB | skillc install -o | {:.1} ms | **{ratio:.2}x** (p25-p75 {p25:.2}-{p75:.2}) |",
        bytes >> 20,
        median(ours) * 1e3
    );
    println!(
        "| copy, same tree | cp -r | {:.1} ms | 1.00x |",
        median(cp) * 1e3
    );
}

fn main() {
    let home = Home::new();
    let _daemon = home.start_daemon();
    println!(
        "| operation | tool | wall (median of {ROUNDS}) | install / cp -r, median of per-round ratios |"
    );
    println!("|---|---|---|---|");
    warm_install_beside_cp(&home, 100, 1 << 20);
    warm_install_beside_cp(&home, 200, 10 << 20);

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
