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
//! After [`IDLE`] with nothing new, the daemon also unmaps the pages of its
//! own code the work brought in ([`page_out_code`]): an idle daemon runs
//! little of it, and the pages stay in the page cache, mapped again by the
//! next request that runs them. Not at once: code run again at once costs
//! a fault per page (measured: a check right after was about 30% slower),
//! which a daemon idle for half a minute does not mind.

use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Quiet time after the last piece of work before memory is returned.
pub const SETTLE: Duration = Duration::from_secs(1);

/// Quiet time before the code's pages are unmapped: long enough that a
/// user's commands in a row, or an editor's requests, run warm; a daemon
/// left alone for half a minute is idle.
pub const IDLE: Duration = Duration::from_secs(30);

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
    /// (the daemon passes its caches' release, then [`release_free_memory`]);
    /// once it has stayed so for [`IDLE`], call `idle` (the daemon passes
    /// [`page_out_code`]). Each at most once per quiet spell.
    pub async fn trim_when_quiet<R: Future<Output = bool>>(
        &self,
        busy: impl Fn() -> bool,
        release: impl Fn() -> R,
        idle: impl Fn(),
        shutdown: &CancellationToken,
    ) {
        let mut woken = false;
        loop {
            if !woken {
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = self.ended.notified() => {}
                }
            }
            woken = false;
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
            // Idle for longer: the code the work ran goes too. New work
            // starts the spell over.
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = self.ended.notified() => woken = true,
                () = tokio::time::sleep(IDLE.saturating_sub(SETTLE)) => {
                    if busy() {
                        woken = true;
                    } else {
                        idle();
                        tracing::debug!("idle: code pages unmapped");
                    }
                }
            }
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
/// process's resident set: a check or a pull runs most of the code once,
/// and its pages would stay mapped for the daemon's life. Each read-only
/// mapping of the executable that holds no private (written) page is
/// unmapped with `madvise(MADV_DONTNEED)`: for such a mapping that only
/// drops the page table entries, the pages stay in the page cache, and
/// the next request that runs them maps them again (a minor fault, no
/// disk read). A mapping with private pages (the relocated, then
/// read-only, data) is left alone: dropping those would lose the
/// relocations. The bytes unmapped (0 where the system has no such map).
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
pub fn page_out_code() -> usize {
    use std::os::unix::fs::MetadataExt;
    let Ok(exe) = std::fs::metadata("/proc/self/exe") else {
        return 0;
    };
    let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") else {
        return 0;
    };
    let mut advised = 0;
    for (start, end) in clean_code_mappings(&smaps, exe.ino()) {
        // SAFETY: the range is a whole read-only file mapping of this
        // process with no private page (so no written data), from the
        // kernel's own list; its pages come back unchanged from the file
        // when touched.
        let done =
            unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED) };
        if done == 0 {
            advised += end - start;
        }
    }
    advised
}

/// The read-only mappings of inode `inode` in `smaps` with no anonymous
/// (private, written) page: `(start, end)`.
#[cfg(target_os = "linux")]
fn clean_code_mappings(smaps: &str, inode: u64) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    // The mapping being read: its range, and whether it is a candidate.
    let mut current: Option<(usize, usize)> = None;
    for line in smaps.lines() {
        let mut fields = line.split_whitespace();
        let first = fields.next().unwrap_or_default();
        if let Some((start, end)) = first.split_once('-')
            && let (Ok(start), Ok(end)) = (
                usize::from_str_radix(start, 16),
                usize::from_str_radix(end, 16),
            )
        {
            // start-end perms offset dev inode path
            let perms = fields.next().unwrap_or_default();
            let node = fields.nth(2).and_then(|i| i.parse::<u64>().ok());
            current = (!perms.contains('w') && node == Some(inode)).then_some((start, end));
            continue;
        }
        if first == "Anonymous:"
            && let Some(range) = current.take()
            && fields.next() == Some("0")
        {
            out.push(range);
        }
    }
    out
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
    fn only_clean_read_only_mappings_of_the_binary_are_chosen() {
        let smaps = "\
1000-2000 r--p 00000000 fe:00 42 /bin/skilld
Size:                  4 kB
Anonymous:             0 kB
2000-5000 r-xp 00001000 fe:00 42 /bin/skilld
Anonymous:             0 kB
5000-6000 r--p 00004000 fe:00 42 /bin/skilld
Anonymous:             4 kB
6000-7000 rw-p 00005000 fe:00 42 /bin/skilld
Anonymous:             0 kB
7000-8000 r-xp 00000000 fe:00 43 /lib/libc.so
Anonymous:             0 kB
";
        assert_eq!(
            clean_code_mappings(smaps, 42),
            [(0x1000, 0x2000), (0x2000, 0x5000)],
            "relocated data, writable data and other files are left alone"
        );
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
        let idles = Arc::new(AtomicUsize::new(0));
        let shutdown = CancellationToken::new();
        let task = {
            let (quiet, busy, trims, idles, shutdown) = (
                quiet.clone(),
                busy.clone(),
                trims.clone(),
                idles.clone(),
                shutdown.clone(),
            );
            tokio::spawn(async move {
                quiet
                    .trim_when_quiet(
                        move || busy.load(Ordering::Relaxed),
                        move || {
                            let trims = trims.clone();
                            async move { trims.fetch_add(1, Ordering::Relaxed) < usize::MAX }
                        },
                        move || {
                            idles.fetch_add(1, Ordering::Relaxed);
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
        // Idle long enough: the code goes too, once; not before.
        let idles_now = || idles.load(Ordering::Relaxed);
        assert_eq!(idles_now(), 0, "work ended within the idle time each time");
        tokio::time::sleep(IDLE).await;
        assert_eq!(idles_now(), 1);
        tokio::time::sleep(IDLE * 2).await;
        assert_eq!(idles_now(), 1, "once per quiet spell");
        // Work in the idle wait starts the spell over: a trim, no idle yet.
        quiet.work_ended();
        tokio::time::sleep(SETTLE * 2).await;
        assert_eq!(trims_now(), 3);
        quiet.work_ended();
        tokio::time::sleep(SETTLE * 2).await;
        assert_eq!((trims_now(), idles_now()), (4, 1));
        tokio::time::sleep(IDLE).await;
        assert_eq!(idles_now(), 2);
        shutdown.cancel();
        tokio::time::timeout(SETTLE, task)
            .await
            .expect("the task stops with the daemon")
            .unwrap();
    }
}
