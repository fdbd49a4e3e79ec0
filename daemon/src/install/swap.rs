//! Replacing a skill folder atomically, and finishing or undoing a swap a
//! crash interrupted.
//!
//! The new content is staged beside the destination (same filesystem). The
//! index records the swap as pending first; then the old folder is renamed
//! aside and the staged one renamed into place; then the index records the
//! result in the same transaction that drops the pending row. At start-up,
//! a pending row whose staged folder still exists was interrupted before
//! the new folder went in: the old folder is put back. One whose staged
//! folder is gone completed on disk: the index is brought up to date.
//! Either way, disk and index agree, and the folder is whole.
//!
//! A failure after the renames (the final index write: a full disk) is
//! undone on disk before the answer goes out, so the index and the folder
//! agree at once, not only after a restart.
//!
//! Staged and displaced folders live in `<target>/.skilld-staging/`, never
//! beside the skills: agents load any folder with a `SKILL.md` one level
//! down, and a half-staged skill must never be one of them. Every target
//! skilld stages in is recorded first ([`crate::index::staging`]); at start,
//! after the pending swaps are settled, [`sweep`] empties each one's
//! staging folder, so nothing a crash left behind survives.

use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::index::installs::{self, InstallRow, Pending};
use crate::index::{Index, IndexError};

/// Test-only: milliseconds to sleep between the two renames, so a test can
/// kill the daemon mid-swap. Never set outside tests.
pub const DELAY_ENV: &str = "SKILLD_TEST_SWAP_DELAY_MS";

pub use crate::image::extract::STAGING;

/// A fresh path in `dest`'s staging folder for staging or displacing it,
/// unique per call (the staging folder is created, private to the user).
pub fn sibling(dest: &Path, role: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let unique = format!(
        "{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let area = dest.with_file_name(STAGING);
    let _ = std::fs::DirBuilder::new()
        .mode(0o700)
        .recursive(true)
        .create(&area);
    area.join(format!("{role}-{name}-{unique}"))
}

/// Remove `parent`'s staging folder if nothing is staged there any more.
pub fn tidy_area(parent: &Path) {
    let _ = std::fs::remove_dir(parent.join(STAGING));
}

/// Record `parent` as a folder skilld stages in, before anything is
/// written there.
pub async fn claim_area(index: &Index, parent: &Path) -> Result<(), IndexError> {
    let path = parent.display().to_string();
    // Known already (the usual case): a read, no write.
    let lookup = path.clone();
    if index
        .read(move |conn| crate::index::staging::contains(conn, &lookup))
        .await?
    {
        return Ok(());
    }
    index
        .write(move |conn| crate::index::staging::record(conn, &path))
        .await
}

/// Remove what crashes left in every staging area (after [`recover`]):
/// each area's `.skilld-staging` folder, and the `.skilld-staged-*`,
/// `.skilld-old-*` and `.skilld-unpack-*` folders older versions left beside
/// the skills. Areas with nothing of skilld's left are forgotten. The bytes
/// freed.
pub async fn sweep(index: &Index) -> Result<u64, IndexError> {
    let installs = index.read(installs::all).await?;
    // Recorded areas, and the folders of installs made before areas were
    // recorded (an older skilld's leftovers are there).
    let mut areas = index.read(crate::index::staging::all).await?;
    areas.extend(
        installs
            .iter()
            .filter_map(|r| Path::new(&r.path).parent().map(|p| p.display().to_string())),
    );
    areas.sort();
    areas.dedup();
    let mut freed = 0;
    for area in areas {
        let dir = PathBuf::from(&area);
        let leftovers: Vec<PathBuf> = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| {
                let name = e.file_name();
                let name = name.to_string_lossy();
                name == STAGING
                    || [".skilld-staged-", ".skilld-old-", ".skilld-unpack-"]
                        .iter()
                        .any(|p| name.starts_with(p))
            })
            .map(|e| e.path())
            .collect();
        for path in leftovers {
            freed += size_of_tree(&path);
            match std::fs::remove_dir_all(&path) {
                Ok(()) => {
                    tracing::warn!(path = %path.display(), "removed what an interrupted install left")
                }
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "cannot remove what an interrupted install left")
                }
            }
        }
        let in_use = installs
            .iter()
            .any(|r| Path::new(&r.path).parent() == Some(dir.as_path()));
        if !in_use {
            let path = area.clone();
            index
                .write(move |conn| crate::index::staging::forget(conn, &path))
                .await?;
        }
    }
    Ok(freed)
}

/// Bytes under `path`, links not followed.
fn size_of_tree(path: &Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    if !meta.is_dir() {
        return meta.len();
    }
    std::fs::read_dir(path)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| size_of_tree(&e.path()))
        .sum()
}

fn test_delay() {
    if let Some(ms) = std::env::var(DELAY_ENV)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        std::thread::sleep(Duration::from_millis(ms));
    }
}

/// Put `staged` at `dest`, moving what was there to `displaced`.
pub fn swap(dest: &Path, staged: &Path, displaced: &Path) -> std::io::Result<()> {
    let had_old = std::fs::symlink_metadata(dest).is_ok();
    if had_old {
        std::fs::rename(dest, displaced)?;
    }
    test_delay();
    if let Err(e) = std::fs::rename(staged, dest) {
        if had_old {
            let _ = std::fs::rename(displaced, dest);
        }
        return Err(e);
    }
    sync_parent(dest);
    Ok(())
}

fn sync_parent(path: &Path) {
    if let Some(parent) = path.parent()
        && let Ok(dir) = std::fs::File::open(parent)
    {
        let _ = dir.sync_all();
    }
}

/// Replace `dest` with `staged` and record `record` (or, with `None`, remove
/// the install); the old folder is left at `displaced` for the caller.
pub async fn replace(
    index: &Index,
    dest: &Path,
    staged: &Path,
    displaced: &Path,
    record: Option<InstallRow>,
) -> Result<(), SwapError> {
    let pending = Item {
        dest: dest.to_path_buf(),
        staged: Some(staged.to_path_buf()),
        displaced: displaced.to_path_buf(),
        record: record.clone(),
    }
    .pending(None);
    let begin = pending.clone();
    index
        .write(move |conn| installs::begin(conn, &begin))
        .await?;
    let (d, s, x) = (
        dest.to_path_buf(),
        staged.to_path_buf(),
        displaced.to_path_buf(),
    );
    let swapped = tokio::task::spawn_blocking(move || swap(&d, &s, &x))
        .await
        .map_err(|e| SwapError::Io(std::io::Error::other(e.to_string())))?;
    if let Err(e) = swapped {
        let path = pending.path.clone();
        index
            .write(move |conn| installs::abandon(conn, &path))
            .await?;
        return Err(SwapError::Io(e));
    }
    let path = pending.path.clone();
    let finished = index
        .write(move |conn| installs::finish(conn, &path, record.as_ref()))
        .await;
    if let Err(e) = finished {
        // The index cannot say what is on disk: put the disk back the way
        // the index has it, before anyone is told anything.
        let (d, s, x) = (
            dest.to_path_buf(),
            staged.to_path_buf(),
            displaced.to_path_buf(),
        );
        let undone = tokio::task::spawn_blocking(move || unswap(&d, &s, &x)).await;
        return Err(undone_record(index, &pending.path, matches!(undone, Ok(Ok(()))), e).await);
    }
    Ok(())
}

/// After the disk change of a failed record was undone (or not): drop the
/// pending row if the index lets us (else the next start settles it, and
/// finds the disk as the row says), and the error to answer.
async fn undone_record(index: &Index, path: &str, undone: bool, error: IndexError) -> SwapError {
    if !undone {
        tracing::error!(
            path,
            "cannot undo a change whose record failed; it is settled at the next start"
        );
    }
    let path = path.to_string();
    let _ = index
        .write(move |conn| installs::abandon(conn, &path))
        .await;
    SwapError::Record(error)
}

/// Undo [`swap`]: the new folder back to `staged`, the old one (if any)
/// back to `dest`.
fn unswap(dest: &Path, staged: &Path, displaced: &Path) -> std::io::Result<()> {
    std::fs::rename(dest, staged)?;
    if std::fs::symlink_metadata(displaced).is_ok() {
        std::fs::rename(displaced, dest)?;
    }
    sync_parent(dest);
    Ok(())
}

/// Move `dest` aside to `displaced` and forget its install, crash-safely.
pub async fn take_away(index: &Index, dest: &Path, displaced: &Path) -> Result<(), SwapError> {
    let pending = Item {
        dest: dest.to_path_buf(),
        staged: None,
        displaced: displaced.to_path_buf(),
        record: None,
    }
    .pending(None);
    let begin = pending.clone();
    index
        .write(move |conn| installs::begin(conn, &begin))
        .await?;
    if let Err(e) = std::fs::rename(dest, displaced) {
        let path = pending.path.clone();
        index
            .write(move |conn| installs::abandon(conn, &path))
            .await?;
        return Err(SwapError::Io(e));
    }
    let path = pending.path.clone();
    let finished = index
        .write(move |conn| installs::finish(conn, &path, None))
        .await;
    if let Err(e) = finished {
        let undone = std::fs::rename(displaced, dest).is_ok();
        return Err(undone_record(index, &pending.path, undone, e).await);
    }
    Ok(())
}

/// One swap of a batch: `staged` (none for a removal) goes to `dest`,
/// what was there to `displaced`; `record` is the install to write (none:
/// forget the install at `dest`).
#[derive(Debug, Clone)]
pub struct Item {
    pub dest: PathBuf,
    pub staged: Option<PathBuf>,
    pub displaced: PathBuf,
    pub record: Option<InstallRow>,
}

impl Item {
    /// The pending row that records this swap before it is made.
    pub fn pending(&self, batch: Option<String>) -> Pending {
        Pending {
            path: self.dest.display().to_string(),
            staged: self
                .staged
                .as_ref()
                .map(|s| s.display().to_string())
                .unwrap_or_default(),
            displaced: self.displaced.display().to_string(),
            record: self
                .record
                .as_ref()
                .map(|r| serde_json::to_string(r).unwrap_or_default())
                .unwrap_or_default(),
            batch,
        }
    }
}

/// Make every swap of `items`, or none: all are recorded as pending in one
/// transaction (sharing a batch id), made in order, and recorded done in
/// one transaction. A failure part-way undoes the swaps made; a crash
/// part-way is undone whole at the next start ([`recover`]). The displaced
/// folders are left for the caller.
pub async fn replace_all(index: &Index, items: &[Item]) -> Result<(), SwapError> {
    if items.is_empty() {
        return Ok(());
    }
    let batch = format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default()
    );
    let pending: Vec<Pending> = items
        .iter()
        .map(|i| i.pending(Some(batch.clone())))
        .collect();
    let paths: Vec<String> = pending.iter().map(|p| p.path.clone()).collect();
    index
        .write(move |conn| installs::begin_all(conn, &pending))
        .await?;
    let work = items.to_vec();
    let swapped = tokio::task::spawn_blocking(move || swap_all(&work))
        .await
        .map_err(|e| SwapError::Io(std::io::Error::other(e.to_string())))?;
    if let Err(e) = swapped {
        let forget = paths.clone();
        index
            .write(move |conn| installs::abandon_all(conn, &forget))
            .await?;
        return Err(SwapError::Io(e));
    }
    let outcome: Vec<(String, Option<InstallRow>)> = items
        .iter()
        .map(|i| (i.dest.display().to_string(), i.record.clone()))
        .collect();
    let finished = index
        .write(move |conn| installs::finish_all(conn, &outcome))
        .await;
    if let Err(e) = finished {
        let work = items.to_vec();
        let undone =
            tokio::task::spawn_blocking(move || work.iter().rev().try_for_each(undo_item)).await;
        let forget = paths.clone();
        let _ = index
            .write(move |conn| installs::abandon_all(conn, &forget))
            .await;
        if !matches!(undone, Ok(Ok(()))) {
            tracing::error!(
                "cannot undo a batch whose record failed; it is settled at the next start"
            );
        }
        return Err(SwapError::Record(e));
    }
    Ok(())
}

/// Make each swap in order; on a failure, undo those made.
fn swap_all(items: &[Item]) -> std::io::Result<()> {
    for (n, item) in items.iter().enumerate() {
        let done = match &item.staged {
            Some(staged) => swap(&item.dest, staged, &item.displaced),
            None => {
                test_delay();
                std::fs::rename(&item.dest, &item.displaced).map(|()| sync_parent(&item.dest))
            }
        };
        if let Err(e) = done {
            for made in items[..n].iter().rev() {
                let _ = undo_item(made);
            }
            return Err(e);
        }
    }
    Ok(())
}

/// Undo one swap of a batch that was made: the new content back to its
/// staging place (or away), the displaced folder back.
fn undo_item(item: &Item) -> std::io::Result<()> {
    match &item.staged {
        Some(staged) => unswap(&item.dest, staged, &item.displaced),
        None => {
            std::fs::rename(&item.displaced, &item.dest)?;
            sync_parent(&item.dest);
            Ok(())
        }
    }
}

/// Settle a batch a crash interrupted: finished whole when every swap was
/// made, else undone whole.
async fn recover_batch(index: &Index, batch: &str, items: Vec<Pending>) -> Result<(), IndexError> {
    let made = |p: &Pending| {
        if p.staged.is_empty() {
            std::fs::symlink_metadata(&p.path).is_err()
        } else {
            std::fs::symlink_metadata(&p.staged).is_err()
        }
    };
    let paths: Vec<String> = items.iter().map(|p| p.path.clone()).collect();
    if items.iter().all(made) {
        let outcome: Vec<(String, Option<InstallRow>)> = items
            .iter()
            .map(|p| (p.path.clone(), serde_json::from_str(&p.record).ok()))
            .collect();
        index
            .write(move |conn| installs::finish_all(conn, &outcome))
            .await?;
        for p in &items {
            remove_any(Path::new(&p.displaced));
        }
        tracing::warn!(
            batch,
            swaps = items.len(),
            "an interrupted sync was completed"
        );
        return Ok(());
    }
    for p in items.iter().rev() {
        let (dest, staged, displaced) = (
            Path::new(&p.path),
            Path::new(&p.staged),
            Path::new(&p.displaced),
        );
        if made(p) && !p.staged.is_empty() {
            // The new content went in: take it out again.
            let _ = std::fs::rename(dest, staged);
        }
        if std::fs::symlink_metadata(dest).is_err() && std::fs::symlink_metadata(displaced).is_ok()
        {
            let _ = std::fs::rename(displaced, dest);
        }
        if !p.staged.is_empty() {
            remove_any(staged);
        }
    }
    index
        .write(move |conn| installs::abandon_all(conn, &paths))
        .await?;
    tracing::warn!(
        batch,
        swaps = items.len(),
        "an interrupted sync was undone; the previous set is in place"
    );
    Ok(())
}

/// Remove a folder, or a link or file, without following links.
pub fn remove_any(path: &Path) {
    if std::fs::remove_file(path).is_err() {
        let _ = std::fs::remove_dir_all(path);
    }
}

/// Why a swap failed.
#[derive(Debug, thiserror::Error)]
pub enum SwapError {
    #[error("cannot move the skill folder into place: {0}")]
    Io(std::io::Error),
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error(
        "the change could not be recorded in the index ({0}); it was undone on disk, so the folder is as it was. Free some disk space and try again"
    )]
    Record(IndexError),
}

/// Finish or undo every swap a crash interrupted; how many there were.
pub async fn recover(index: &Index) -> Result<usize, IndexError> {
    let all = index.read(installs::pending).await?;
    let count = all.len();
    let (batched, pending): (Vec<Pending>, Vec<Pending>) =
        all.into_iter().partition(|p| p.batch.is_some());
    let mut batches: std::collections::BTreeMap<String, Vec<Pending>> = Default::default();
    for p in batched {
        batches
            .entry(p.batch.clone().unwrap_or_default())
            .or_default()
            .push(p);
    }
    for (batch, items) in batches {
        recover_batch(index, &batch, items).await?;
    }
    for p in pending {
        let (dest, staged, displaced) = (
            PathBuf::from(&p.path),
            PathBuf::from(&p.staged),
            PathBuf::from(&p.displaced),
        );
        if p.staged.is_empty() {
            // A removal: done on disk if the folder is gone.
            let path = p.path.clone();
            if std::fs::symlink_metadata(&dest).is_err() {
                index
                    .write(move |conn| installs::finish(conn, &path, None))
                    .await?;
                let _ = std::fs::remove_dir_all(&displaced);
            } else {
                index
                    .write(move |conn| installs::abandon(conn, &path))
                    .await?;
            }
            continue;
        }
        let staged_exists = std::fs::symlink_metadata(&staged).is_ok();
        if staged_exists {
            // The new folder never went in: put the old one back.
            if std::fs::symlink_metadata(&dest).is_err()
                && std::fs::symlink_metadata(&displaced).is_ok()
            {
                let _ = std::fs::rename(&displaced, &dest);
            }
            let _ = std::fs::remove_dir_all(&staged);
            let path = p.path.clone();
            index
                .write(move |conn| installs::abandon(conn, &path))
                .await?;
            tracing::warn!(path = %p.path, "an interrupted install was undone; the previous version is in place");
        } else {
            // The new folder went in: record it.
            let record: Option<InstallRow> = serde_json::from_str(&p.record).ok();
            let path = p.path.clone();
            index
                .write(move |conn| installs::finish(conn, &path, record.as_ref()))
                .await?;
            let _ = std::fs::remove_dir_all(&displaced);
            tracing::warn!(path = %p.path, "an interrupted install was completed");
        }
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(path: &Path) -> InstallRow {
        InstallRow {
            name: "x".into(),
            target: "dir".into(),
            path: path.display().to_string(),
            source_ref: "r.io/x:1".into(),
            registry: Some("r.io".into()),
            repository: "r.io/x".into(),
            digest: "sha256:1".into(),
            version: Some("1".into()),
            content_hash: "sha256:2".into(),
            status: "ok".into(),
            pinned: false,
            installed_at: "now".into(),
            installed_by: "cli".into(),
            previous_ref: None,
            previous_digest: None,
            previous_version: None,
            signer: None,
            link_of: None,
            project: None,
            subscription: None,
            findings: None,
        }
    }

    /// The final index write fails (as on a full disk): the folder is put
    /// back before `replace` answers, so disk and index agree at once.
    #[tokio::test(flavor = "current_thread")]
    async fn a_failed_record_is_undone_on_disk_before_the_answer() {
        let dir = tempfile::tempdir().unwrap();
        let index = Index::open(&dir.path().join("index.db")).unwrap();
        let parent = dir.path().join("skills");
        std::fs::create_dir(&parent).unwrap();
        let dest = parent.join("x");
        std::fs::create_dir(&dest).unwrap();
        std::fs::write(dest.join("SKILL.md"), "old").unwrap();
        let staged = sibling(&dest, "staged");
        std::fs::create_dir(&staged).unwrap();
        std::fs::write(staged.join("SKILL.md"), "new").unwrap();
        let displaced = sibling(&dest, "old");
        index
            .write(|conn| {
                conn.execute_batch(
                    "CREATE TRIGGER full BEFORE INSERT ON installs BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END",
                )
            })
            .await
            .unwrap();
        let err = replace(&index, &dest, &staged, &displaced, Some(row(&dest)))
            .await
            .unwrap_err();
        assert!(matches!(err, SwapError::Record(_)), "{err}");
        assert!(err.to_string().contains("undone"), "{err}");
        assert_eq!(
            std::fs::read_to_string(dest.join("SKILL.md")).unwrap(),
            "old"
        );
        assert!(
            staged.exists(),
            "the new folder is back where it was staged"
        );
        assert!(index.read(installs::pending).await.unwrap().is_empty());
        assert!(index.read(installs::all).await.unwrap().is_empty());

        // A fresh install (nothing there before) leaves no folder either.
        std::fs::remove_dir_all(&dest).unwrap();
        replace(&index, &dest, &staged, &displaced, Some(row(&dest)))
            .await
            .unwrap_err();
        assert!(!dest.exists());
    }

    /// Three folders: `a` (old), `b` (old), `c` (to remove); new `a`, `b`.
    fn batch_fixture(parent: &Path) -> Vec<Item> {
        std::fs::create_dir_all(parent).unwrap();
        let mut items = Vec::new();
        for name in ["a", "b", "c"] {
            let dest = parent.join(name);
            std::fs::create_dir(&dest).unwrap();
            std::fs::write(dest.join("SKILL.md"), "old").unwrap();
            let staged = (name != "c").then(|| {
                let staged = sibling(&dest, "staged");
                std::fs::create_dir(&staged).unwrap();
                std::fs::write(staged.join("SKILL.md"), "new").unwrap();
                staged
            });
            items.push(Item {
                dest: dest.clone(),
                record: staged.as_ref().map(|_| row(&dest)),
                staged,
                displaced: sibling(&dest, "old"),
            });
        }
        items
    }

    fn contents(parent: &Path) -> Vec<(String, String)> {
        ["a", "b", "c"]
            .iter()
            .filter_map(|n| {
                std::fs::read_to_string(parent.join(n).join("SKILL.md"))
                    .ok()
                    .map(|t| (n.to_string(), t))
            })
            .collect()
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_batch_is_made_whole_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let index = Index::open(&dir.path().join("index.db")).unwrap();
        let parent = dir.path().join("skills");
        let items = batch_fixture(&parent);
        replace_all(&index, &items).await.unwrap();
        let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        assert_eq!(contents(&parent), pairs(&[("a", "new"), ("b", "new")]));
        assert_eq!(index.read(installs::all).await.unwrap().len(), 2);
        assert!(index.read(installs::pending).await.unwrap().is_empty());

        // A failure at the last swap (its staged folder is gone) undoes
        // the ones made before it.
        let parent = dir.path().join("second");
        let mut items = batch_fixture(&parent);
        let last = items[1].staged.clone().unwrap();
        std::fs::remove_dir_all(&last).unwrap();
        items.swap(1, 2);
        replace_all(&index, &items).await.unwrap_err();
        assert_eq!(
            contents(&parent),
            pairs(&[("a", "old"), ("b", "old"), ("c", "old")])
        );
        assert!(index.read(installs::pending).await.unwrap().is_empty());
    }

    /// A crash between the swaps of a batch: at start, the swaps made are
    /// undone and the old folders are back.
    #[tokio::test(flavor = "current_thread")]
    async fn a_batch_a_crash_cut_short_is_undone_at_start() {
        let dir = tempfile::tempdir().unwrap();
        let index = Index::open(&dir.path().join("index.db")).unwrap();
        let parent = dir.path().join("skills");
        let items = batch_fixture(&parent);
        let pending: Vec<Pending> = items.iter().map(|i| i.pending(Some("b1".into()))).collect();
        index
            .write(move |conn| installs::begin_all(conn, &pending))
            .await
            .unwrap();
        // The crash came after the first swap and half-way into the second.
        swap(
            &items[0].dest,
            items[0].staged.as_ref().unwrap(),
            &items[0].displaced,
        )
        .unwrap();
        std::fs::rename(&items[1].dest, &items[1].displaced).unwrap();
        assert_eq!(recover(&index).await.unwrap(), 3);
        assert_eq!(
            contents(&parent),
            [("a", "old"), ("b", "old"), ("c", "old")]
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect::<Vec<_>>()
        );
        assert!(index.read(installs::pending).await.unwrap().is_empty());
        assert!(index.read(installs::all).await.unwrap().is_empty());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn the_sweep_empties_staging_areas_and_keeps_skills() {
        let dir = tempfile::tempdir().unwrap();
        let index = Index::open(&dir.path().join("index.db")).unwrap();
        let parent = dir.path().join("skills");
        std::fs::create_dir(&parent).unwrap();
        std::fs::create_dir(parent.join("kept")).unwrap();
        let staged = sibling(&parent.join("x"), "staged");
        std::fs::create_dir(&staged).unwrap();
        std::fs::write(staged.join("SKILL.md"), "half").unwrap();
        std::fs::create_dir(parent.join(".skilld-old-x-1-2")).unwrap();
        claim_area(&index, &parent).await.unwrap();
        let freed = sweep(&index).await.unwrap();
        assert_eq!(freed, 4);
        let left: Vec<_> = std::fs::read_dir(&parent)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["kept"]);
        assert!(
            index
                .read(crate::index::staging::all)
                .await
                .unwrap()
                .is_empty()
        );
    }
}
