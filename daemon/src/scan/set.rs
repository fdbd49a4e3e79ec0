//! Many patterns matched in one pass over a file, with the lazy DFA's
//! cache kept between scans. The `regex` crate's own `RegexSet` keeps its
//! caches per thread, so every scan on a new thread (each install scans on
//! one of its own) would build the automaton's states again from nothing:
//! most of a scan's time on a 10 MiB skill. Here the caches sit in a pool
//! any thread takes from, so a running daemon builds them once.

use std::sync::Mutex;

use regex_automata::meta::{self, Cache, Regex};
use regex_automata::util::syntax;
use regex_automata::{Input, MatchKind, PatternSet};

/// Caches kept for reuse (one per scan running at once, each up to the
/// cache capacity).
const KEPT: usize = 4;

/// A compiled set of patterns.
#[derive(Debug)]
pub struct Patterns {
    regex: Regex,
    caches: Mutex<Vec<Cache>>,
}

impl Patterns {
    /// Compile `patterns` (bytes semantics, as `regex::bytes::RegexSet`)
    /// within `nfa_limit` bytes, the lazy DFA's cache up to `cache`.
    pub fn new(patterns: &[&str], nfa_limit: usize, cache: usize) -> Result<Patterns, String> {
        let config = meta::Config::new()
            .match_kind(MatchKind::All)
            .utf8_empty(false)
            .which_captures(regex_automata::nfa::thompson::WhichCaptures::None)
            .nfa_size_limit(Some(nfa_limit))
            .hybrid_cache_capacity(cache);
        let regex = meta::Builder::new()
            .configure(config)
            .syntax(syntax::Config::new().utf8(false))
            .build_many(patterns)
            .map_err(|e| e.to_string())?;
        Ok(Patterns {
            regex,
            caches: Mutex::new(Vec::new()),
        })
    }

    /// How many patterns.
    pub fn len(&self) -> usize {
        self.regex.pattern_len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The indexes of the patterns that match somewhere in `data`.
    pub fn matches(&self, data: &[u8]) -> PatternSet {
        let taken = self.caches.lock().ok().and_then(|mut kept| kept.pop());
        let mut cache = taken.unwrap_or_else(|| self.regex.create_cache());
        let mut found = PatternSet::new(self.len());
        self.regex
            .which_overlapping_matches_with(&mut cache, &Input::new(data), &mut found);
        if let Ok(mut kept) = self.caches.lock()
            && kept.len() < KEPT
        {
            kept.push(cache);
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_as_a_regex_set_does() {
        let patterns = [r"(?i-u:\bcurl\b)", r"(?-u:\|\s*sh\b)", "é", "never"];
        let ours = Patterns::new(&patterns, 1 << 20, 1 << 20).unwrap();
        let theirs = regex::bytes::RegexSet::new(patterns).unwrap();
        for text in [&b"CURL x | sh"[..], b"caf\xc3\xa9", b"\xff\xfe curl", b""] {
            let a: Vec<usize> = ours.matches(text).iter().map(|p| p.as_usize()).collect();
            let b: Vec<usize> = theirs.matches(text).iter().collect();
            assert_eq!(a, b, "{text:?}");
        }
        // The cache went back to the pool, and is taken again.
        assert_eq!(ours.caches.lock().unwrap().len(), 1);
    }
}
