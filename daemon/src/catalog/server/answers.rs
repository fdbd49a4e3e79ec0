//! Search pages kept between requests. The catalog changes only when a
//! refresh writes it, so a search page is a function of its URL and of the
//! refresh that came before: each page is kept under its URL with the
//! generation it was made in, and a refresh starts a new generation, after
//! which the older pages are never served again. The most recently used
//! pages are kept, up to a count and a total size.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use hashlink::LruCache;

/// Pages kept at most.
const PAGES: usize = 2048;
/// Bytes of pages kept at most.
const BYTES: usize = 32 << 20;

/// The kept pages. Shared by every connection.
#[derive(Debug)]
pub struct Answers {
    generation: AtomicU64,
    kept: Mutex<Kept>,
}

#[derive(Debug)]
struct Kept {
    pages: LruCache<String, (u64, Bytes)>,
    bytes: usize,
}

impl Default for Answers {
    fn default() -> Self {
        Answers {
            generation: AtomicU64::new(0),
            kept: Mutex::new(Kept {
                pages: LruCache::new_unbounded(),
                bytes: 0,
            }),
        }
    }
}

impl Answers {
    /// The generation a page made now belongs to; read it before reading
    /// the index, so a page read across a refresh is kept under the older
    /// generation and never served after it.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Start a new generation: call when a refresh has written the index.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        let mut kept = self.lock();
        kept.pages.clear();
        kept.bytes = 0;
    }

    /// The page kept for `url` in the current generation.
    pub fn get(&self, url: &str) -> Option<Bytes> {
        let now = self.generation();
        let mut kept = self.lock();
        match kept.pages.get(url) {
            Some((generation, page)) if *generation == now => Some(page.clone()),
            _ => None,
        }
    }

    /// Keep `page` for `url`, made in `generation`.
    pub fn put(&self, url: &str, generation: u64, page: Bytes) {
        if generation != self.generation() || page.len() > BYTES / 16 {
            return;
        }
        let mut kept = self.lock();
        kept.bytes += page.len();
        if let Some((_, old)) = kept.pages.insert(url.to_string(), (generation, page)) {
            kept.bytes -= old.len();
        }
        while kept.bytes > BYTES || kept.pages.len() > PAGES {
            match kept.pages.remove_lru() {
                Some((_, (_, old))) => kept.bytes -= old.len(),
                None => break,
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Kept> {
        self.kept.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_served_only_in_its_generation() {
        let answers = Answers::default();
        let made_in = answers.generation();
        answers.put("/?q=a", made_in, Bytes::from_static(b"page a"));
        assert_eq!(answers.get("/?q=a").as_deref(), Some(&b"page a"[..]));
        assert_eq!(answers.get("/?q=b"), None);
        answers.invalidate();
        assert_eq!(answers.get("/?q=a"), None, "a refresh drops it");
        // A page read before the refresh and kept after it is not kept.
        answers.put("/?q=a", made_in, Bytes::from_static(b"stale"));
        assert_eq!(answers.get("/?q=a"), None);
    }

    #[test]
    fn the_least_recently_used_pages_go_first_within_the_bounds() {
        let answers = Answers::default();
        let g = answers.generation();
        for i in 0..PAGES + 10 {
            answers.put(&format!("/?q={i}"), g, Bytes::from(vec![b'x'; 10]));
            if i > 0 {
                // Keep the first one in use.
                assert!(answers.get("/?q=0").is_some(), "page 0 after {i}");
            }
        }
        assert!(answers.get("/?q=0").is_some());
        assert_eq!(answers.get("/?q=1"), None, "the oldest unused page went");
        assert!(answers.get(&format!("/?q={}", PAGES + 9)).is_some());
        let kept = answers.lock();
        assert_eq!(kept.pages.len(), PAGES);
        assert_eq!(kept.bytes, PAGES * 10);
        drop(kept);
        // Size: pages of a sixteenth of the budget each, 16 fit at most.
        for i in 0..20 {
            answers.put(&format!("/big{i}"), g, Bytes::from(vec![b'y'; BYTES / 16]));
        }
        assert!(answers.lock().bytes <= BYTES);
        assert!(answers.get("/big19").is_some());
        assert_eq!(answers.get("/big0"), None);
    }
}
