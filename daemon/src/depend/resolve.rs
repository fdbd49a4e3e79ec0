//! One version per skill for a whole dependency graph.
//!
//! Requirements are semver requirements as Cargo writes them (`^1.2`,
//! `~1.2.3`, `>=1.0, <2`, `=1.4.0`, `*`; a bare `1.2` means `^1.2`), and
//! only published versions are candidates. The search is depth first and
//! takes the newest candidate that satisfies every requirement known so
//! far; when a later requirement rules a pick out, it goes back and tries
//! the next older one, so the answer is the newest set that satisfies
//! everything, when one exists. When none does, the error names the
//! requirements that clash (with who asked for each), the chain that led to
//! a missing skill, or the cycle.

use std::collections::BTreeMap;

use semver::{Version, VersionReq};

use super::DependError;

/// One published version of a skill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub version: Version,
    /// The tag it is published under.
    pub tag: String,
    /// Its own dependencies: repository and requirement text.
    pub dependencies: Vec<(String, String)>,
}

/// Where the published versions of a repository come from (the registry,
/// through the catalog or tag lists and manifests).
pub trait Versions {
    /// Every published version of `repository`, in any order; an empty
    /// list when it has none or does not exist.
    fn published(&mut self, repository: &str) -> Result<Vec<Candidate>, DependError>;
}

/// What asked for a skill: the roots (what the user named) or a picked
/// version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Root {
    pub repository: String,
    /// Requirement text (`*` for "the newest").
    pub requirement: String,
}

/// The version picked for one skill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pick {
    pub version: Version,
    pub tag: String,
    /// The repositories it depends on (all picked too).
    pub needs: Vec<String>,
}

/// A resolved graph: every skill once.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Resolved {
    pub picks: BTreeMap<String, Pick>,
}

impl Resolved {
    /// The repositories that need `repository`, sorted.
    pub fn needed_by(&self, repository: &str) -> Vec<&str> {
        self.picks
            .iter()
            .filter(|(_, p)| p.needs.iter().any(|n| n == repository))
            .map(|(r, _)| r.as_str())
            .collect()
    }
}

/// Steps of the search at most: a graph of skills is small, and hostile
/// requirements must not make the daemon search forever.
pub const MAX_STEPS: usize = 20_000;

/// A requirement in the search: on which repository, what, and the chain
/// of picks that asked for it (`a 1.2.0 → b 2.0.0`; empty for a root).
#[derive(Debug, Clone)]
struct Want {
    repository: String,
    req: VersionReq,
    text: String,
    chain: Vec<(String, Version)>,
}

impl Want {
    fn asked_by(&self) -> String {
        match self.chain.last() {
            Some((repository, version)) => format!("{repository} {version}"),
            None => "the command line".to_string(),
        }
    }

    fn chain_text(&self) -> String {
        let mut parts: Vec<String> = self.chain.iter().map(|(r, v)| format!("{r} {v}")).collect();
        parts.push(format!("{} {}", self.repository, self.text));
        parts.join(" → ")
    }
}

/// What the search has decided: the picks, and every requirement each
/// picked skill has met.
#[derive(Clone, Default)]
struct Decided {
    picks: BTreeMap<String, Pick>,
    met: BTreeMap<String, Vec<Want>>,
}

struct Search<'a, V: Versions> {
    versions: &'a mut V,
    cache: BTreeMap<String, Vec<Candidate>>,
    steps: usize,
}

impl<V: Versions> Search<'_, V> {
    fn candidates(&mut self, repository: &str) -> Result<Vec<Candidate>, DependError> {
        if let Some(c) = self.cache.get(repository) {
            return Ok(c.clone());
        }
        let mut c = self.versions.published(repository)?;
        c.sort_by(|a, b| b.version.cmp(&a.version));
        self.cache.insert(repository.to_string(), c.clone());
        Ok(c)
    }

    /// Satisfy `pending` (in order) on top of what is `decided`.
    fn solve(&mut self, mut pending: Vec<Want>, decided: &Decided) -> Result<Decided, DependError> {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            return Err(DependError::TooComplex(MAX_STEPS));
        }
        if pending.is_empty() {
            return Ok(decided.clone());
        }
        let want = pending.remove(0);
        if let Some(at) = want.chain.iter().position(|(r, _)| *r == want.repository) {
            let mut cycle: Vec<String> = want.chain[at..]
                .iter()
                .map(|(r, v)| format!("{r} {v}"))
                .collect();
            cycle.push(want.repository.clone());
            return Err(DependError::Cycle(cycle.join(" → ")));
        }
        let mut all: Vec<Want> = decided
            .met
            .get(&want.repository)
            .cloned()
            .unwrap_or_default();
        all.push(want.clone());
        if let Some(pick) = decided.picks.get(&want.repository) {
            if want.req.matches(&pick.version) {
                let mut next = decided.clone();
                next.met.insert(want.repository.clone(), all);
                return self.solve(pending, &next);
            }
            // The pick made earlier does not do: let the caller that made
            // it try an older one.
            return Err(self.conflict(&want.repository, &all)?);
        }
        let candidates = self.candidates(&want.repository)?;
        if candidates.is_empty() {
            return Err(DependError::Missing {
                chain: want.chain_text(),
                repository: want.repository.clone(),
                published: Vec::new(),
            });
        }
        let fitting: Vec<Candidate> = candidates
            .into_iter()
            .filter(|c| all.iter().all(|w| w.req.matches(&c.version)))
            .collect();
        if fitting.is_empty() {
            return Err(self.conflict(&want.repository, &all)?);
        }
        let mut last = None;
        for candidate in fitting {
            let mut chain = want.chain.clone();
            chain.push((want.repository.clone(), candidate.version.clone()));
            let mut next = pending.clone();
            let mut needs = Vec::new();
            let mut bad = None;
            for (repository, text) in &candidate.dependencies {
                match parse_req(repository, text, &chain) {
                    Ok(req) => {
                        needs.push(repository.clone());
                        next.push(Want {
                            repository: repository.clone(),
                            req,
                            text: text.clone(),
                            chain: chain.clone(),
                        });
                    }
                    Err(e) => bad = Some(e),
                }
            }
            if let Some(e) = bad {
                last = Some(e);
                continue;
            }
            let mut tried = decided.clone();
            tried.picks.insert(
                want.repository.clone(),
                Pick {
                    version: candidate.version.clone(),
                    tag: candidate.tag.clone(),
                    needs,
                },
            );
            tried.met.insert(want.repository.clone(), all.clone());
            match self.solve(next, &tried) {
                Ok(done) => return Ok(done),
                Err(e @ DependError::TooComplex(_)) => return Err(e),
                Err(e) => last = Some(e),
            }
        }
        Err(last.expect("at least one candidate was tried"))
    }

    fn conflict(&mut self, repository: &str, all: &[Want]) -> Result<DependError, DependError> {
        let published = self
            .candidates(repository)?
            .iter()
            .map(|c| c.version.to_string())
            .collect();
        Ok(DependError::Conflict {
            repository: repository.to_string(),
            requirements: all
                .iter()
                .map(|w| format!("{} (from {})", w.text, w.asked_by()))
                .collect(),
            published,
        })
    }
}

fn parse_req(
    repository: &str,
    text: &str,
    chain: &[(String, Version)],
) -> Result<VersionReq, DependError> {
    let trimmed = text.trim();
    let trimmed = if trimmed.is_empty() { "*" } else { trimmed };
    VersionReq::parse(trimmed).map_err(|e| DependError::BadRequirement {
        repository: repository.to_string(),
        requirement: text.to_string(),
        by: chain
            .last()
            .map(|(r, v)| format!("{r} {v}"))
            .unwrap_or_else(|| "the command line".into()),
        why: e.to_string(),
    })
}

/// Resolve `roots` and everything they need.
pub fn resolve(roots: &[Root], versions: &mut impl Versions) -> Result<Resolved, DependError> {
    let mut pending = Vec::new();
    for root in roots {
        pending.push(Want {
            repository: root.repository.clone(),
            req: parse_req(&root.repository, &root.requirement, &[])?,
            text: root.requirement.clone(),
            chain: Vec::new(),
        });
    }
    let mut search = Search {
        versions,
        cache: BTreeMap::new(),
        steps: 0,
    };
    let decided = search.solve(pending, &Decided::default())?;
    Ok(Resolved {
        picks: decided.picks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    type Deps = Vec<(&'static str, &'static str)>;
    type Published = BTreeMap<&'static str, Vec<(&'static str, Deps)>>;
    type Row<'a> = (
        &'static str,
        &'a [(&'static str, &'a [(&'static str, &'static str)])],
    );

    /// Published versions: repository → [(version, [(dependency, requirement)])].
    struct Table(Published, usize);

    impl Versions for Table {
        fn published(&mut self, repository: &str) -> Result<Vec<Candidate>, DependError> {
            self.1 += 1;
            Ok(self
                .0
                .get(repository)
                .map(|versions| {
                    versions
                        .iter()
                        .map(|(v, deps)| Candidate {
                            version: Version::parse(v).unwrap(),
                            tag: v.to_string(),
                            dependencies: deps
                                .iter()
                                .map(|(r, q)| (r.to_string(), q.to_string()))
                                .collect(),
                        })
                        .collect()
                })
                .unwrap_or_default())
        }
    }

    fn table(rows: &[Row<'_>]) -> Table {
        Table(
            rows.iter()
                .map(|(r, vs)| (*r, vs.iter().map(|(v, d)| (*v, d.to_vec())).collect()))
                .collect(),
            0,
        )
    }

    fn root(repository: &str, requirement: &str) -> Root {
        Root {
            repository: repository.into(),
            requirement: requirement.into(),
        }
    }

    fn versions(resolved: &Resolved) -> Vec<(String, String)> {
        resolved
            .picks
            .iter()
            .map(|(r, p)| (r.clone(), p.version.to_string()))
            .collect()
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn a_diamond_shares_one_version_the_newest_both_accept() {
        let mut t = table(&[
            (
                "r/app",
                &[("1.0.0", &[("r/left", "^1"), ("r/right", "^1")])],
            ),
            ("r/left", &[("1.1.0", &[("r/base", "^1.0")])]),
            ("r/right", &[("1.0.0", &[("r/base", ">=1.2, <1.6")])]),
            (
                "r/base",
                &[
                    ("1.0.0", &[]),
                    ("1.2.0", &[]),
                    ("1.5.3", &[]),
                    ("1.7.0", &[]),
                    ("2.0.0", &[]),
                ],
            ),
        ]);
        let resolved = resolve(&[root("r/app", "*")], &mut t).unwrap();
        assert_eq!(
            versions(&resolved),
            pairs(&[
                ("r/app", "1.0.0"),
                ("r/base", "1.5.3"),
                ("r/left", "1.1.0"),
                ("r/right", "1.0.0")
            ])
        );
        assert_eq!(resolved.needed_by("r/base"), ["r/left", "r/right"]);
        assert_eq!(resolved.picks["r/app"].needs, ["r/left", "r/right"]);
        assert_eq!(t.1, 4, "each repository's versions read once");
    }

    #[test]
    fn an_older_version_is_taken_when_the_newest_cannot_be_satisfied() {
        let mut t = table(&[
            (
                "r/app",
                &[
                    ("2.0.0", &[("r/base", "^3")]),
                    ("1.9.0", &[("r/base", "^1")]),
                ],
            ),
            ("r/base", &[("1.4.0", &[])]),
        ]);
        let resolved = resolve(&[root("r/app", "*")], &mut t).unwrap();
        assert_eq!(
            versions(&resolved),
            pairs(&[("r/app", "1.9.0"), ("r/base", "1.4.0")])
        );
        // A later requirement on a skill already picked sends the search back.
        let mut t = table(&[
            ("r/a", &[("1.0.0", &[("r/x", "*"), ("r/y", "*")])]),
            ("r/x", &[("2.0.0", &[]), ("1.0.0", &[])]),
            ("r/y", &[("1.0.0", &[("r/x", "<2")])]),
        ]);
        let resolved = resolve(&[root("r/a", "^1")], &mut t).unwrap();
        assert_eq!(
            versions(&resolved),
            pairs(&[("r/a", "1.0.0"), ("r/x", "1.0.0"), ("r/y", "1.0.0")])
        );
    }

    #[test]
    fn a_conflict_names_each_requirement_and_who_asked() {
        let mut t = table(&[
            (
                "r/app",
                &[("1.0.0", &[("r/left", "^1"), ("r/right", "^1")])],
            ),
            ("r/left", &[("1.0.0", &[("r/base", "^1")])]),
            ("r/right", &[("1.0.0", &[("r/base", "^2")])]),
            ("r/base", &[("1.4.0", &[]), ("2.1.0", &[])]),
        ]);
        let e = resolve(&[root("r/app", "*")], &mut t).unwrap_err();
        assert_eq!(
            e.to_string(),
            "no version of r/base satisfies every requirement: ^1 (from r/left 1.0.0); ^2 (from r/right 1.0.0) (published: 2.1.0, 1.4.0)"
        );
    }

    #[test]
    fn a_cycle_is_named_link_by_link() {
        let mut t = table(&[
            ("r/a", &[("1.0.0", &[("r/b", "*")])]),
            ("r/b", &[("1.0.0", &[("r/c", "*")])]),
            ("r/c", &[("1.0.0", &[("r/a", "^1")])]),
        ]);
        let e = resolve(&[root("r/a", "*")], &mut t).unwrap_err();
        assert_eq!(
            e,
            DependError::Cycle("r/a 1.0.0 → r/b 1.0.0 → r/c 1.0.0 → r/a".into())
        );
    }

    #[test]
    fn a_missing_skill_is_named_with_the_chain_to_it() {
        let mut t = table(&[
            ("r/a", &[("1.0.0", &[("r/b", "^1")])]),
            ("r/b", &[("1.2.0", &[("r/gone", "^0.3")])]),
        ]);
        let e = resolve(&[root("r/a", "*")], &mut t).unwrap_err();
        assert_eq!(
            e.to_string(),
            "r/a 1.0.0 → r/b 1.2.0 → r/gone ^0.3: r/gone has no published version"
        );
        // Published, but not in range: a conflict with the one requirement.
        let mut t = table(&[("r/a", &[("1.0.0", &[])])]);
        let e = resolve(&[root("r/a", ">=2")], &mut t).unwrap_err();
        assert_eq!(
            e.to_string(),
            "no version of r/a satisfies every requirement: >=2 (from the command line) (published: 1.0.0)"
        );
    }

    #[test]
    fn a_bad_requirement_says_how_to_write_one() {
        let mut t = table(&[
            ("r/a", &[("1.0.0", &[("r/b", "one point oh")])]),
            ("r/b", &[("1.0.0", &[])]),
        ]);
        let e = resolve(&[root("r/a", "*")], &mut t)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("dependency r/b \"one point oh\" of r/a 1.0.0: not a semver requirement"),
            "{e}"
        );
        assert!(e.contains("\"^1.2\""), "{e}");
    }

    #[test]
    fn hostile_graphs_stop_at_the_step_limit() {
        // Every version of each of 12 skills needs a version of the next
        // that does not exist, except through an exponential search.
        let names: Vec<&'static str> = (0..12)
            .map(|i| &*Box::leak(format!("r/s{i}").into_boxed_str()))
            .collect();
        let mut rows: Published = BTreeMap::new();
        for (i, name) in names.iter().enumerate() {
            let mut versions = Vec::new();
            for v in ["1.0.0", "1.1.0", "1.2.0", "1.3.0", "1.4.0", "1.5.0"] {
                let mut deps = Vec::new();
                if i + 1 < names.len() {
                    deps.push((names[i + 1], "^1"));
                } else {
                    deps.push(("r/never", "^9"));
                }
                versions.push((v, deps));
            }
            rows.insert(name, versions);
        }
        let mut t = Table(rows, 0);
        let e = resolve(&[root("r/s0", "*")], &mut t).unwrap_err();
        assert_eq!(e, DependError::TooComplex(MAX_STEPS));
    }
}
