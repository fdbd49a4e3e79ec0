//! The pattern set's pass inside the daemon: the shipped rules' set over
//! the text files of a 200-file / 10 MiB skill, each file on its own (`present`, one
//! automaton stepping through one file, as every scan did before lanes)
//! beside the files read together (`present_each` over the batches a scan
//! holds, eight files stepped at once), the same automaton and its cache
//! warm for both. The text files of the two skills of `--bench scan` (the
//! same generators): generated words (one file in five, random bytes, is
//! left out: the set never reads binary files), and prose drawn from the
//! real skills under `testdata/benign`.
//!
//! Run: `cargo bench -p skilld --bench scan_set`
//! Prints per text the median of each and the median of per-round ratios.

use std::path::Path;
use std::time::Instant;

const FILES: usize = 200;
const TOTAL: usize = 10 << 20;
const ROUNDS: usize = 31;
/// As the scanner holds them (`engine.rs`).
const BATCH: usize = 64;

/// The generator of the end-to-end benchmarks, so the text is the same
/// bytes as theirs (it finds `testdata` through `tools`).
#[path = "../../tests/src/helper/generate.rs"]
mod generate;
mod tools {
    pub fn testdata() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata")
    }
}

/// The text files a generator writes (binary ones left out, as the set
/// never reads them), in order.
fn written(generate: fn(&Path, &str, usize, usize)) -> Vec<Vec<u8>> {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), "bench", FILES, TOTAL);
    let mut files = Vec::new();
    let mut stack = vec![dir.path().to_path_buf()];
    while let Some(at) = stack.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&at).unwrap().flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                let data = std::fs::read(e.path()).unwrap();
                if !data[..data.len().min(8192)].contains(&0) {
                    files.push(data);
                }
            }
        }
    }
    files
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let rules = skilld::scan::rules::shipped();
    println!("| text | each file alone | files together | median per-round ratio |");
    println!("|---|---|---|---|");
    for (what, files) in [
        ("generated words", written(generate::skill)),
        ("prose of real skills", written(generate::prose)),
    ] {
        let files: Vec<&[u8]> = files.iter().map(|f| f.as_slice()).collect();
        let bytes: usize = files.iter().map(|f| f.len()).sum();
        // Warm: the automaton's states built, for both.
        let together: Vec<Vec<bool>> = files
            .chunks(BATCH)
            .flat_map(|b| rules.present_each(b))
            .collect();
        let alone: Vec<Vec<bool>> = files.iter().map(|f| rules.present(f)).collect();
        assert_eq!(together, alone, "the same patterns found either way");
        let (mut a, mut t, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..ROUNDS {
            let mut pair = [0.0; 2];
            for i in if round % 2 == 0 { [0, 1] } else { [1, 0] } {
                let started = Instant::now();
                if i == 0 {
                    for f in &files {
                        std::hint::black_box(rules.present(f));
                    }
                } else {
                    for b in files.chunks(BATCH) {
                        std::hint::black_box(rules.present_each(b));
                    }
                }
                pair[i] = started.elapsed().as_secs_f64() * 1e3;
            }
            a.push(pair[0]);
            t.push(pair[1]);
            ratios.push(pair[0] / pair[1]);
        }
        println!(
            "| {what} ({:.1} MiB, {} files) | {:.1} ms | {:.1} ms | {:.2}x faster |",
            bytes as f64 / (1 << 20) as f64,
            files.len(),
            median(a),
            median(t),
            median(ratios)
        );
    }
}
