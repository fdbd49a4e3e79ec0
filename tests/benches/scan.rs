//! Scan benchmark, on the 200-file / 10 MiB generated skill of the install
//! benchmark:
//! - `skillc scan DIR` end to end (target: under 100 ms), and the scan of
//!   the same skill's image from the store (`skillc scan REF`, its first
//!   scan: nothing cached);
//! - a cold install (a fresh home and store each round, the image loaded
//!   from an archive) with the scan on (the default policy) beside the same
//!   with `scan: {block: off, warn: off}`, alternating (target: the scan
//!   adds under 10%, the median of per-round ratios).
//!
//! Run (release binaries):
//!   cargo build --release --workspace && cargo bench -p skilld-tests --bench scan

use skilld_tests::helper::Home;
use skilld_tests::helper::bench::{median, timed};

const ROUNDS: usize = 11;

fn ms(s: f64) -> String {
    format!("{:.1} ms", s * 1e3)
}

fn main() {
    let author = Home::new();
    let _daemon = author.start_daemon();
    let src = author.root().join("src/bench");
    skilld_tests::helper::generate::skill(&src, "bench", 200, 10 << 20);
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

    let (mut image, mut on, mut off, mut ratios) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let mut pair = [0.0f64; 2];
        for (i, config) in ["", "scan:\n  block: off\n  warn: off\n"]
            .iter()
            .enumerate()
        {
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
            let out = home.root().join("out");
            std::fs::create_dir_all(&out).unwrap();
            pair[i] = timed(home.command("skillc").args([
                "-q",
                "install",
                "bench/skill:1",
                "-o",
                out.to_str().unwrap(),
            ]));
        }
        eprintln!(
            "round {round}: install with scan {}, without {}",
            ms(pair[0]),
            ms(pair[1])
        );
        on.push(pair[0]);
        off.push(pair[1]);
        ratios.push(pair[0] / pair[1]);
    }

    println!("| measure | value | beside | target |");
    println!("|---|---|---|---|");
    println!(
        "| `skillc scan DIR`, 200 files / 10 MiB, end to end | {} | - | under 100 ms |",
        ms(median(folder))
    );
    println!(
        "| `skillc scan REF` of its image, first scan | {} | - | - |",
        ms(median(image))
    );
    println!(
        "| cold install with the scan | {} | without: {} | adds under 10%: ratio {:.3}x |",
        ms(median(on)),
        ms(median(off)),
        median(ratios)
    );
}
