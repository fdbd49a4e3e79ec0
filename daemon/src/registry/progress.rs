//! Progress of one blob's transfer, for the per-blob lines a client draws
//! while several blobs move at once: the first frame at 0, at most one
//! frame every [`EVERY`] after, and always the last.

use std::time::{Duration, Instant};

use skilld_proto::stream::Progress;

use crate::store::digest::Digest;

/// The least time between two frames of one blob.
pub const EVERY: Duration = Duration::from_millis(100);

/// Blobs transferred at once by a pull or a push.
pub const PARALLEL_BLOBS: usize = 4;

/// Reports one blob's bytes under `phase`, named by its short digest.
pub struct BlobProgress<'a> {
    phase: &'static str,
    item: String,
    total: u64,
    last: Option<Instant>,
    report: &'a (dyn Fn(Progress) + Sync),
}

impl<'a> BlobProgress<'a> {
    /// Starts the blob's line (a frame at 0 bytes).
    pub fn start(
        phase: &'static str,
        digest: &Digest,
        total: u64,
        report: &'a (dyn Fn(Progress) + Sync),
    ) -> BlobProgress<'a> {
        let mut progress = BlobProgress {
            phase,
            item: digest.short().to_string(),
            total,
            last: None,
            report,
        };
        progress.send(0);
        progress
    }

    /// `current` bytes are done; sent if the last frame is old enough, or
    /// if this is the end.
    pub fn advance(&mut self, current: u64) {
        let due = self.last.is_none_or(|at| at.elapsed() >= EVERY);
        if due || current >= self.total {
            self.send(current);
        }
    }

    fn send(&mut self, current: u64) {
        self.last = Some(Instant::now());
        (self.report)(Progress {
            phase: self.phase.into(),
            current,
            total: Some(self.total),
            unit: Some("bytes".into()),
            message: None,
            item: Some(self.item.clone()),
        });
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[test]
    fn frames_are_throttled_but_the_first_and_last_always_go() {
        let seen = Mutex::new(Vec::new());
        let report = |p: Progress| seen.lock().unwrap().push((p.current, p.item.clone()));
        let digest = Digest::of(b"blob");
        let mut blob = BlobProgress::start("pull", &digest, 300, &report);
        for current in 1..300 {
            blob.advance(current);
        }
        blob.advance(300);
        let seen = seen.into_inner().unwrap();
        assert_eq!(seen.first().unwrap().0, 0);
        assert_eq!(seen.last().unwrap().0, 300);
        // A fast loop is well inside one interval: only the ends are sent.
        assert!(seen.len() <= 3, "{seen:?}");
        assert!(
            seen.iter()
                .all(|(_, item)| item.as_deref() == Some(digest.short()))
        );
    }
}
