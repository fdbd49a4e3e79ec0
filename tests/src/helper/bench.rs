//! Small timing helpers for the bench binaries.

use std::process::Command;
use std::time::Instant;

use super::Run;

/// Run `cmd` to success; its wall time in seconds.
pub fn timed(cmd: &mut Command) -> f64 {
    let start = Instant::now();
    let run = Run::of(cmd);
    let elapsed = start.elapsed().as_secs_f64();
    assert_eq!(run.code, Some(0), "{cmd:?}: {}", run.stderr);
    elapsed
}

/// The median of `samples`.
pub fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    samples[samples.len() / 2]
}
