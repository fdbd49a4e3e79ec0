//! Polling with a deadline: tests wait for a condition, never for a guess
//! of how long something takes.

use std::time::{Duration, Instant};

/// Poll `condition` every 10 ms until it holds; panic with `what` after
/// `deadline`.
pub fn wait_until(what: &str, deadline: Duration, mut condition: impl FnMut() -> bool) {
    let end = Instant::now() + deadline;
    while !condition() {
        assert!(
            Instant::now() < end,
            "timed out after {deadline:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}
