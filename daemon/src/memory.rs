//! Giving freed memory back once the daemon goes quiet.
//!
//! glibc's allocator keeps what a burst of work freed (an upgrade check over
//! a thousand installs, a big pull) in its arenas, one per thread that
//! allocated, and hands it back to the system only at the top of a heap.
//! An idle daemon would hold that memory for the rest of its life. So after
//! work ends (a connection closes, a check finishes) and nothing new starts
//! for [`SETTLE`], the daemon asks the allocator to return every free page
//! of every arena (`malloc_trim(0)`): a walk of the free lists, about a
//! millisecond, done once per quiet spell and never while work runs.
//!
//! The same moment, the daemon hands back the pages of its own code that
//! the work brought in ([`page_out_code`]): an idle daemon needs a few
//! pages of it, and the kernel brings the rest back (from the page cache,
//! usually) when the next request runs them.

use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Quiet time after the last piece of work before memory is returned.
pub const SETTLE: Duration = Duration::from_secs(1);

/// Where work reports that it ended.
#[derive(Debug, Default)]
pub struct Quiet {
    ended: Notify,
}

impl Quiet {
    /// A piece of work ended: return memory once things settle.
    pub fn work_ended(&self) {
        self.ended.notify_one();
    }

    /// Until `shutdown`: after each end of work, once `busy` has stayed
    /// false for [`SETTLE`] with no further work ending, call `release`
    /// (the daemon passes its caches' release, then [`release_free_memory`]).
    pub async fn trim_when_quiet<R: Future<Output = bool>>(
        &self,
        busy: impl Fn() -> bool,
        release: impl Fn() -> R,
        shutdown: &CancellationToken,
    ) {
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = self.ended.notified() => {}
            }
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = self.ended.notified() => continue,
                    () = tokio::time::sleep(SETTLE) => if !busy() { break },
                }
            }
            let released = release().await;
            let (in_use, free) = heap_bytes();
            tracing::debug!(
                released,
                in_use,
                free,
                "quiet: free memory returned to the system"
            );
        }
    }
}

/// Keep the allocator to one arena. glibc gives each thread that allocates
/// at once its own arena (up to 8 per core), and each holds its own free
/// pages and fragments: after a check over a thousand installs, seven arenas
/// held 6.3 MiB where one holds 4.3 MiB. The daemon's threads rarely
/// allocate at the same moment (2 workers, 4 blocking threads), so the
/// shared lock costs nothing measurable. Call before any thread starts.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn one_arena() {
    // SAFETY: mallopt sets an allocator parameter; called before the
    // runtime's threads exist, it races with nothing.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

/// Other allocators have no arenas to limit.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn one_arena() {}

/// Return the allocator's free pages to the system; whether any were.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn release_free_memory() -> bool {
    // SAFETY: malloc_trim only walks and trims the allocator's own free
    // lists under its locks; it takes no pointer and is safe to call from
    // any thread at any time.
    unsafe { libc::malloc_trim(0) == 1 }
}

/// Drop the pages of this program's own code and read-only data from the
/// process (`madvise(MADV_PAGEOUT)` on each read-only mapping of the
/// executable): a check or a pull runs most of the code once, and its
/// pages would stay resident for the daemon's life. They are clean pages
/// of a file: the next request that runs them reads them back, from the
/// page cache when the system kept them (a minor fault each), else from
/// the binary. Pages other processes map too are left alone by the kernel.
/// The bytes advised (0 where the kernel or system has no such advice).
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
pub fn page_out_code() -> usize {
    use std::os::unix::fs::MetadataExt;
    let Ok(exe) = std::fs::metadata("/proc/self/exe") else {
        return 0;
    };
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
        return 0;
    };
    let mut advised = 0;
    for line in maps.lines() {
        // start-end perms offset dev inode path
        let mut fields = line.split_whitespace();
        let (Some(range), Some(perms), Some(_), Some(_), Some(inode)) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        ) else {
            continue;
        };
        if perms.contains('w') || inode.parse::<u64>().ok() != Some(exe.ino()) {
            continue;
        }
        let Some((start, end)) = range.split_once('-') else {
            continue;
        };
        let (Ok(start), Ok(end)) = (
            usize::from_str_radix(start, 16),
            usize::from_str_radix(end, 16),
        ) else {
            continue;
        };
        // SAFETY: the range is a whole read-only file mapping of this
        // process, from the kernel's own list; MADV_PAGEOUT only reclaims
        // its clean pages, which fault back in unchanged when touched.
        let done =
            unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_PAGEOUT) };
        if done == 0 {
            advised += end - start;
        }
    }
    advised
}

/// No such advice elsewhere.
#[cfg(not(target_os = "linux"))]
pub fn page_out_code() -> usize {
    0
}

/// Bytes the allocator has handed out and holds free, for the log.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn heap_bytes() -> (usize, usize) {
    // SAFETY: mallinfo2 takes no argument and returns a plain struct.
    let info = unsafe { libc::mallinfo2() };
    (info.uordblks + info.hblkhd, info.fordblks)
}

/// Not known for other allocators.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn heap_bytes() -> (usize, usize) {
    (0, 0)
}

/// Other allocators (musl, macOS) return memory on their own.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn release_free_memory() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    use super::*;

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn freed_heap_goes_back_to_the_system() {
        // Many small blocks (below the mmap threshold, so in an arena),
        // freed all but the last: the arena's top cannot shrink past it.
        let mut blocks: Vec<Vec<u8>> = (0..20_000).map(|i| vec![i as u8; 1024]).collect();
        let last = blocks.pop();
        drop(blocks);
        assert!(
            release_free_memory(),
            "20 MB freed in the middle of the heap is returned"
        );
        drop(last);
    }

    /// The resident kilobytes of this process's file mappings.
    #[cfg(target_os = "linux")]
    fn rss_file_kib() -> u64 {
        std::fs::read_to_string("/proc/self/status")
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix("RssFile:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn code_pages_leave_the_resident_set_and_come_back_when_run() {
        let before = rss_file_kib();
        let advised = page_out_code();
        assert!(
            advised > 0,
            "the executable's read-only mappings are advised"
        );
        let after = rss_file_kib();
        assert!(
            after < before,
            "code pages left the resident set: {before} KiB -> {after} KiB"
        );
        // Running code again brings its pages back, unchanged.
        let again: u64 = (1..=100u64).map(|x| x * x).sum();
        assert_eq!(again, 338_350);
    }

    #[tokio::test(start_paused = true)]
    async fn trims_once_per_quiet_spell_and_never_while_busy() {
        let quiet = Arc::new(Quiet::default());
        let busy = Arc::new(AtomicBool::new(true));
        let trims = Arc::new(AtomicUsize::new(0));
        let shutdown = CancellationToken::new();
        let task = {
            let (quiet, busy, trims, shutdown) =
                (quiet.clone(), busy.clone(), trims.clone(), shutdown.clone());
            tokio::spawn(async move {
                quiet
                    .trim_when_quiet(
                        move || busy.load(Ordering::Relaxed),
                        move || {
                            let trims = trims.clone();
                            async move { trims.fetch_add(1, Ordering::Relaxed) < usize::MAX }
                        },
                        &shutdown,
                    )
                    .await
            })
        };
        let trims_now = || trims.load(Ordering::Relaxed);
        // Nothing ended yet: no trim, however long the wait.
        tokio::time::sleep(SETTLE * 5).await;
        assert_eq!(trims_now(), 0);
        // Work ended but something still runs: no trim.
        quiet.work_ended();
        tokio::time::sleep(SETTLE * 3).await;
        assert_eq!(trims_now(), 0);
        // Quiet now: one trim, and only one, however long it stays quiet.
        busy.store(false, Ordering::Relaxed);
        tokio::time::sleep(SETTLE * 2).await;
        assert_eq!(trims_now(), 1);
        tokio::time::sleep(SETTLE * 5).await;
        assert_eq!(trims_now(), 1);
        // Work that keeps ending within the settle time postpones the trim.
        for _ in 0..5 {
            quiet.work_ended();
            tokio::time::sleep(SETTLE / 2).await;
        }
        assert_eq!(trims_now(), 1);
        tokio::time::sleep(SETTLE * 2).await;
        assert_eq!(trims_now(), 2);
        shutdown.cancel();
        tokio::time::timeout(SETTLE, task)
            .await
            .expect("the task stops with the daemon")
            .unwrap();
    }
}
