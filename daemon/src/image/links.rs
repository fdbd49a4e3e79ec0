//! Where a layer's symlinks really lead.
//!
//! A link's target text alone says little: `rootfs -> u/u/../..` looks like
//! it stays inside, yet with `u -> .` it climbs out. So every link is judged
//! by a path walk over the whole layer, as the kernel would do it: component
//! by component, each link met on the way replaced by its own target, `..`
//! applied to where the walk really is. The walk runs once all entries are
//! known, so the order of entries in the tar changes nothing.

use std::collections::HashMap;

/// Most links followed in one walk (Linux's `MAXSYMLINKS` is 40): a loop or
/// a chain this long is refused.
pub const MAX_HOPS: usize = 40;

/// Why a link is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Escape {
    /// The walk climbed above the skill's root.
    Outside,
    /// The target is an absolute path.
    Absolute,
    /// More than [`MAX_HOPS`] links were followed (a loop, or a chain built
    /// to exhaust readers).
    TooManyHops,
}

impl std::fmt::Display for Escape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Escape::Outside => {
                "leads outside the skill once the links it passes through are followed"
            }
            Escape::Absolute => "has an absolute target",
            Escape::TooManyHops => "is part of a symlink loop or a chain of more than 40 links",
        })
    }
}

/// The symlinks of one tree: path components → target text.
#[derive(Debug, Default)]
pub struct Links {
    links: HashMap<Vec<String>, String>,
}

impl Links {
    pub fn insert(&mut self, at: &[&str], target: &str) {
        self.links.insert(
            at.iter().map(|s| (*s).to_string()).collect(),
            target.to_string(),
        );
    }

    pub fn is_empty(&self) -> bool {
        self.links.is_empty()
    }

    /// Every link (in path order, so the answer is stable) whose full
    /// resolution leaves the tree, and why.
    pub fn escapes(&self) -> Vec<(String, Escape)> {
        let mut paths: Vec<&Vec<String>> = self.links.keys().collect();
        paths.sort();
        paths
            .into_iter()
            .filter_map(|at| {
                let parent = &at[..at.len() - 1];
                let mut hops = 1;
                self.walk(parent, &self.links[at], &mut hops)
                    .err()
                    .map(|why| (at.join("/"), why))
            })
            .collect()
    }

    /// The first of [`Links::escapes`].
    pub fn first_escape(&self) -> Option<(String, Escape)> {
        self.escapes().into_iter().next()
    }

    /// Walk `target` from the folder `from`, following links; where it ends.
    pub fn resolve(&self, from: &[&str], target: &str) -> Result<Vec<String>, Escape> {
        let from: Vec<String> = from.iter().map(|s| (*s).to_string()).collect();
        let mut hops = 0;
        self.walk(&from, target, &mut hops)
    }

    fn walk(&self, from: &[String], target: &str, hops: &mut usize) -> Result<Vec<String>, Escape> {
        if target.starts_with('/') {
            return Err(Escape::Absolute);
        }
        let mut at: Vec<String> = from.to_vec();
        // Components still to walk, last first.
        let mut pending: Vec<String> = target.split('/').rev().map(str::to_string).collect();
        while let Some(part) = pending.pop() {
            match part.as_str() {
                "" | "." => {}
                ".." => {
                    if at.pop().is_none() {
                        return Err(Escape::Outside);
                    }
                }
                _ => {
                    at.push(part);
                    if let Some(next) = self.links.get(&at) {
                        *hops += 1;
                        if *hops > MAX_HOPS {
                            return Err(Escape::TooManyHops);
                        }
                        if next.starts_with('/') {
                            return Err(Escape::Absolute);
                        }
                        at.pop();
                        pending.extend(next.split('/').rev().map(str::to_string));
                    }
                }
            }
        }
        Ok(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links(entries: &[(&str, &str)]) -> Links {
        let mut l = Links::default();
        for (at, target) in entries {
            let parts: Vec<&str> = at.split('/').collect();
            l.insert(&parts, target);
        }
        l
    }

    #[test]
    fn the_reported_chain_escapes_whatever_the_order() {
        let chain = [
            ("u", "."),
            (
                "rootfs",
                "u/u/u/u/u/u/u/u/u/u/u/u/../../../../../../../../../../../..",
            ),
            ("parent", "u/.."),
        ];
        // Every order of the three entries.
        for order in [
            [0, 1, 2],
            [0, 2, 1],
            [1, 0, 2],
            [1, 2, 0],
            [2, 0, 1],
            [2, 1, 0],
        ] {
            let entries: Vec<_> = order.iter().map(|&i| chain[i]).collect();
            let (at, why) = links(&entries).first_escape().expect("escapes");
            assert!(at == "parent" || at == "rootfs", "{at}");
            assert_eq!(why, Escape::Outside);
        }
    }

    #[test]
    fn links_that_stay_inside_pass() {
        let l = links(&[
            ("run", "scripts/run.sh"),
            ("scripts/up", ".."),
            ("docs/latest", "../docs/v2"),
            ("here", "."),
            ("deep/a/b/top", "../../.."),
        ]);
        assert_eq!(l.first_escape(), None);
        assert_eq!(
            l.resolve(&[], "scripts/up/scripts/up/run").unwrap(),
            ["scripts", "run.sh"]
        );
    }

    #[test]
    fn loops_chains_and_absolute_targets_are_refused() {
        assert_eq!(
            links(&[("a", "b"), ("b", "a")]).first_escape().unwrap().1,
            Escape::TooManyHops
        );
        assert_eq!(
            links(&[("a", "/etc")]).first_escape().unwrap().1,
            Escape::Absolute
        );
        // A link into a link that is absolute.
        assert_eq!(
            links(&[("a", "b/x"), ("b", "/")]).first_escape().unwrap().1,
            Escape::Absolute
        );
        // `..` after a link applies where the link led, not to its text.
        assert_eq!(
            links(&[("d/up", "../.."), ("x", "d/up")])
                .first_escape()
                .unwrap(),
            ("d/up".to_string(), Escape::Outside)
        );
        let many: Vec<(String, String)> = (0..50)
            .map(|i| (format!("l{i}"), format!("l{}", i + 1)))
            .collect();
        let refs: Vec<(&str, &str)> = many.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        assert_eq!(links(&refs).first_escape().unwrap().1, Escape::TooManyHops);
    }
}
