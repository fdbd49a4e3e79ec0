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

use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;

use semver::{Version, VersionReq};

use super::DependError;

/// One release version of a skill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub version: Version,
    /// The tag it is published under.
    pub tag: String,
}

/// What one version needs: each dependency's repository and requirement
/// text.
pub type Needs = Vec<(String, String)>;

/// Where the versions of a repository and what each needs come from (the
/// registry: a tag list, then the manifests of the versions tried).
pub trait Versions {
    /// Every release version of `repository`, in any order; an empty list
    /// when it has none or does not exist.
    fn versions(&mut self, repository: &str) -> Result<Vec<Candidate>, DependError>;

    /// What `repository` at `tag` needs (repositories and requirement
    /// texts); `None` when that version is not published (deprecated,
    /// archived, a draft), so it is not a candidate.
    fn needs(&mut self, repository: &str, tag: &str) -> Result<Option<Needs>, DependError>;
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
    /// Each dependency's requirement as written: repository, requirement.
    pub requirements: Vec<(String, String)>,
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
/// Skills (repositories) one graph may hold at most.
pub const MAX_SKILLS: usize = 256;
/// Dependencies one skill may declare at most.
pub const MAX_DEPENDENCIES: usize = 64;

/// One pick in the chain that led to a requirement, sharing its parents
/// with every other requirement that chain led to.
#[derive(Debug)]
struct Link {
    repository: String,
    version: Version,
    parent: Chain,
}

/// The picks that asked for a requirement, last first; none for a root.
type Chain = Option<Rc<Link>>;

/// The picks of `chain`, first first.
fn picks_of(chain: &Chain) -> Vec<(&str, &Version)> {
    let mut out = Vec::new();
    let mut at = chain.as_deref();
    while let Some(link) = at {
        out.push((link.repository.as_str(), &link.version));
        at = link.parent.as_deref();
    }
    out.reverse();
    out
}

/// A requirement in the search: on which repository, what, and the chain
/// of picks that asked for it (`a 1.2.0 → b 2.0.0`; empty for a root).
#[derive(Debug)]
struct Want {
    repository: String,
    req: VersionReq,
    text: String,
    chain: Chain,
    /// Who asked, when it is not a pick of the graph (an install already
    /// there).
    by: Option<String>,
}

impl Want {
    fn asked_by(&self) -> String {
        if let Some(by) = &self.by {
            return by.clone();
        }
        match &self.chain {
            Some(link) => format!("{} {}", link.repository, link.version),
            None => "the command line".to_string(),
        }
    }

    fn chain_text(&self) -> String {
        let mut parts: Vec<String> = picks_of(&self.chain)
            .iter()
            .map(|(r, v)| format!("{r} {v}"))
            .collect();
        parts.push(format!("{} {}", self.repository, self.text));
        parts.join(" → ")
    }
}

/// What the search has decided: the picks, and every requirement each
/// picked skill has met.
#[derive(Clone, Default)]
struct Decided {
    picks: BTreeMap<String, Pick>,
    met: BTreeMap<String, Vec<Rc<Want>>>,
}

struct Search<'a, V: Versions> {
    versions: &'a mut V,
    cache: BTreeMap<String, Vec<Candidate>>,
    needs: BTreeMap<(String, String), Option<Needs>>,
    prefer: &'a BTreeMap<String, Version>,
    /// Requirements of installs already there, by the repository they are
    /// on.
    constraints: BTreeMap<String, Vec<Rc<Want>>>,
    steps: usize,
}

impl<V: Versions> Search<'_, V> {
    fn candidates(&mut self, repository: &str) -> Result<Vec<Candidate>, DependError> {
        if let Some(c) = self.cache.get(repository) {
            return Ok(c.clone());
        }
        if self.cache.len() >= MAX_SKILLS {
            return Err(DependError::TooLarge {
                what: "skills in the dependency graph".into(),
                limit: MAX_SKILLS,
            });
        }
        let mut c = self.versions.versions(repository)?;
        c.sort_by(|a, b| b.version.cmp(&a.version));
        // A version kept from before is tried first.
        if let Some(kept) = self.prefer.get(repository)
            && let Some(at) = c.iter().position(|x| &x.version == kept)
        {
            let kept = c.remove(at);
            c.insert(0, kept);
        }
        self.cache.insert(repository.to_string(), c.clone());
        Ok(c)
    }

    /// Satisfy `pending` (in order) on top of what is `decided`. A
    /// requirement a pick already meets is taken in a loop; only a new
    /// pick goes one level deeper, so the depth is the number of skills.
    fn solve(
        &mut self,
        mut pending: VecDeque<Rc<Want>>,
        decided: &Decided,
    ) -> Result<Decided, DependError> {
        let mut decided = decided.clone();
        loop {
            self.steps += 1;
            if self.steps > MAX_STEPS {
                return Err(DependError::TooComplex(MAX_STEPS));
            }
            let Some(want) = pending.pop_front() else {
                return Ok(decided);
            };
            let chain = picks_of(&want.chain);
            if let Some(at) = chain.iter().position(|(r, _)| *r == want.repository) {
                let mut cycle: Vec<String> = chain[at..]
                    .iter()
                    .map(|(r, v)| format!("{r} {v}"))
                    .collect();
                cycle.push(want.repository.clone());
                return Err(DependError::Cycle(cycle.join(" → ")));
            }
            let mut all: Vec<Rc<Want>> = decided
                .met
                .get(&want.repository)
                .cloned()
                .unwrap_or_default();
            all.push(Rc::clone(&want));
            // What installs already there need of it holds too.
            let mut checks = all.clone();
            checks.extend(
                self.constraints
                    .get(&want.repository)
                    .into_iter()
                    .flatten()
                    .cloned(),
            );
            if let Some(pick) = decided.picks.get(&want.repository) {
                if want.req.matches(&pick.version) {
                    decided.met.insert(want.repository.clone(), all);
                    continue;
                }
                // The pick made earlier does not do: let the caller that
                // made it try an older one.
                return Err(self.conflict(&want.repository, &checks)?);
            }
            return self.pick(&want, pending, &decided, all, &checks);
        }
    }

    /// Pick a version for `want`'s repository (newest first), then solve
    /// the rest with what it needs added.
    fn pick(
        &mut self,
        want: &Want,
        pending: VecDeque<Rc<Want>>,
        decided: &Decided,
        all: Vec<Rc<Want>>,
        checks: &[Rc<Want>],
    ) -> Result<Decided, DependError> {
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
            .filter(|c| checks.iter().all(|w| w.req.matches(&c.version)))
            .collect();
        if fitting.is_empty() {
            return Err(self.conflict(&want.repository, checks)?);
        }
        let mut last = None;
        for candidate in fitting {
            let Some(dependencies) = self.needs(&want.repository, &candidate.tag)? else {
                continue;
            };
            let chain: Chain = Some(Rc::new(Link {
                repository: want.repository.clone(),
                version: candidate.version.clone(),
                parent: want.chain.clone(),
            }));
            let by = format!("{} {}", want.repository, candidate.version);
            let mut next = pending.clone();
            let mut needs = Vec::new();
            let mut bad = None;
            for (repository, text) in &dependencies {
                match parse_req(repository, text, &by) {
                    Ok(req) => {
                        needs.push(repository.clone());
                        next.push_back(Rc::new(Want {
                            repository: repository.clone(),
                            req,
                            text: text.clone(),
                            chain: chain.clone(),
                            by: None,
                        }));
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
                    requirements: dependencies.clone(),
                },
            );
            tried.met.insert(want.repository.clone(), all.clone());
            match self.solve(next, &tried) {
                Ok(done) => return Ok(done),
                Err(e @ (DependError::TooComplex(_) | DependError::TooLarge { .. })) => {
                    return Err(e);
                }
                Err(e) => last = Some(e),
            }
        }
        match last {
            Some(e) => Err(e),
            // Every fitting version is unpublished.
            None => Err(self.conflict(&want.repository, checks)?),
        }
    }

    fn needs(&mut self, repository: &str, tag: &str) -> Result<Option<Needs>, DependError> {
        let key = (repository.to_string(), tag.to_string());
        if let Some(known) = self.needs.get(&key) {
            return Ok(known.clone());
        }
        let found = self.versions.needs(repository, tag)?;
        if found.as_ref().is_some_and(|n| n.len() > MAX_DEPENDENCIES) {
            return Err(DependError::TooLarge {
                what: format!("dependencies of {repository} {tag}"),
                limit: MAX_DEPENDENCIES,
            });
        }
        self.needs.insert(key, found.clone());
        Ok(found)
    }

    fn conflict(&mut self, repository: &str, all: &[Rc<Want>]) -> Result<DependError, DependError> {
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

/// `text` as a requirement on `repository`; `by` says who asked, for the
/// error.
fn parse_req(repository: &str, text: &str, by: &str) -> Result<VersionReq, DependError> {
    let trimmed = text.trim();
    let trimmed = if trimmed.is_empty() { "*" } else { trimmed };
    VersionReq::parse(trimmed).map_err(|e| DependError::BadRequirement {
        repository: repository.to_string(),
        requirement: text.to_string(),
        by: by.to_string(),
        why: e.to_string(),
    })
}

/// Resolve `roots` and everything they need.
pub fn resolve(roots: &[Root], versions: &mut impl Versions) -> Result<Resolved, DependError> {
    resolve_preferring(roots, versions, &BTreeMap::new())
}

/// A requirement an install already there has on a repository (one
/// version per skill per target): what the graph picks for that repository
/// must satisfy it too, unless the graph replaces that install.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constraint {
    /// The repository required.
    pub repository: String,
    pub requirement: String,
    /// The repository of the install that requires it.
    pub from: String,
    /// How to name that install in an error (`app 1.0.0, installed in DIR`).
    pub by: String,
}

/// [`resolve`], trying the version `prefer` names for a repository before
/// the newer ones (a lock keeps what it had while it still fits).
pub fn resolve_preferring(
    roots: &[Root],
    versions: &mut impl Versions,
    prefer: &BTreeMap<String, Version>,
) -> Result<Resolved, DependError> {
    resolve_within(roots, versions, prefer, &[])
}

/// [`resolve_preferring`], where whatever is picked for a repository also
/// satisfies the `constraints` on it whose install the graph does not
/// replace.
pub fn resolve_within(
    roots: &[Root],
    versions: &mut impl Versions,
    prefer: &BTreeMap<String, Version>,
    constraints: &[Constraint],
) -> Result<Resolved, DependError> {
    let free = search(roots, versions, prefer, &[])?;
    // The constraints of installs the graph leaves in place, on what it
    // picks; when they already hold, that is the answer.
    let mut applicable = Vec::new();
    for c in constraints {
        if free.picks.contains_key(&c.from) {
            continue;
        }
        if let Some(pick) = free.picks.get(&c.repository) {
            let req = parse_req(&c.repository, &c.requirement, &c.by)?;
            applicable.push((c, req.matches(&pick.version)));
        }
    }
    if applicable.iter().all(|(_, holds)| *holds) {
        return Ok(free);
    }
    let applicable: Vec<&Constraint> = applicable.into_iter().map(|(c, _)| c).collect();
    search(roots, versions, prefer, &applicable)
}

fn search(
    roots: &[Root],
    versions: &mut impl Versions,
    prefer: &BTreeMap<String, Version>,
    constraints: &[&Constraint],
) -> Result<Resolved, DependError> {
    let mut pending = VecDeque::new();
    for root in roots {
        pending.push_back(Rc::new(Want {
            repository: root.repository.clone(),
            req: parse_req(&root.repository, &root.requirement, "the command line")?,
            text: root.requirement.clone(),
            chain: None,
            by: None,
        }));
    }
    let mut by_repository: BTreeMap<String, Vec<Rc<Want>>> = BTreeMap::new();
    for c in constraints {
        by_repository
            .entry(c.repository.clone())
            .or_default()
            .push(Rc::new(Want {
                repository: c.repository.clone(),
                req: parse_req(&c.repository, &c.requirement, &c.by)?,
                text: c.requirement.clone(),
                chain: None,
                by: Some(c.by.clone()),
            }));
    }
    let mut search = Search {
        versions,
        cache: BTreeMap::new(),
        needs: BTreeMap::new(),
        prefer,
        constraints: by_repository,
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
        fn versions(&mut self, repository: &str) -> Result<Vec<Candidate>, DependError> {
            self.1 += 1;
            Ok(self
                .0
                .get(repository)
                .map(|versions| {
                    versions
                        .iter()
                        .map(|(v, _)| Candidate {
                            version: Version::parse(v.trim_start_matches('~')).unwrap(),
                            tag: v.trim_start_matches('~').to_string(),
                        })
                        .collect()
                })
                .unwrap_or_default())
        }

        /// A version written `~1.0.0` in the table is not published.
        fn needs(&mut self, repository: &str, tag: &str) -> Result<Option<Needs>, DependError> {
            let (v, deps) = self.0[repository]
                .iter()
                .find(|(v, _)| v.trim_start_matches('~') == tag)
                .unwrap();
            Ok((!v.starts_with('~')).then(|| {
                deps.iter()
                    .map(|(r, q)| (r.to_string(), q.to_string()))
                    .collect()
            }))
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
    fn an_unpublished_version_is_never_picked() {
        let mut t = table(&[
            ("r/app", &[("1.0.0", &[("r/base", "^1")])]),
            ("r/base", &[("~1.9.0", &[]), ("1.2.0", &[])]),
        ]);
        let resolved = resolve(&[root("r/app", "*")], &mut t).unwrap();
        assert_eq!(
            versions(&resolved),
            pairs(&[("r/app", "1.0.0"), ("r/base", "1.2.0")])
        );
        let mut t = table(&[
            ("r/app", &[("1.0.0", &[("r/base", "^1.5")])]),
            ("r/base", &[("~1.9.0", &[]), ("1.2.0", &[])]),
        ]);
        let e = resolve(&[root("r/app", "*")], &mut t).unwrap_err();
        assert!(
            matches!(e, DependError::Conflict { ref repository, .. } if repository == "r/base"),
            "{e}"
        );
    }

    #[test]
    fn a_preferred_version_is_kept_while_it_fits() {
        let rows: &[Row<'_>] = &[
            ("r/app", &[("1.0.0", &[("r/base", "^1")])]),
            ("r/base", &[("1.0.0", &[]), ("1.3.0", &[]), ("2.0.0", &[])]),
        ];
        let prefer = BTreeMap::from([("r/base".to_string(), Version::new(1, 0, 0))]);
        let resolved =
            resolve_preferring(&[root("r/app", "*")], &mut table(rows), &prefer).unwrap();
        assert_eq!(resolved.picks["r/base"].version, Version::new(1, 0, 0));
        // Out of range now: the newest that fits instead.
        let prefer = BTreeMap::from([("r/base".to_string(), Version::new(2, 0, 0))]);
        let resolved =
            resolve_preferring(&[root("r/app", "*")], &mut table(rows), &prefer).unwrap();
        assert_eq!(resolved.picks["r/base"].version, Version::new(1, 3, 0));
    }

    #[test]
    fn installs_already_there_keep_what_they_need() {
        let rows: &[Row<'_>] = &[
            ("r/app", &[("1.0.0", &[("r/base", "*")])]),
            ("r/base", &[("1.0.0", &[]), ("1.4.0", &[]), ("2.0.0", &[])]),
        ];
        let installed = |from: &str, req: &str| Constraint {
            repository: "r/base".into(),
            requirement: req.into(),
            from: from.into(),
            by: format!("{from} 1.0.0, installed"),
        };
        let prefer = BTreeMap::new();
        // Another install needs base ^1: the newest base that fits it.
        let resolved = resolve_within(
            &[root("r/app", "*")],
            &mut table(rows),
            &prefer,
            &[installed("r/other", "^1")],
        )
        .unwrap();
        assert_eq!(resolved.picks["r/base"].version, Version::new(1, 4, 0));
        // The install that asked is replaced by the graph: its old wish
        // does not count.
        let resolved = resolve_within(
            &[root("r/app", "*")],
            &mut table(rows),
            &prefer,
            &[installed("r/app", "^1")],
        )
        .unwrap();
        assert_eq!(resolved.picks["r/base"].version, Version::new(2, 0, 0));
        // Nothing fits both: the conflict names the install.
        let rows: &[Row<'_>] = &[
            ("r/app", &[("1.0.0", &[("r/base", "^2")])]),
            ("r/base", &[("1.0.0", &[]), ("2.0.0", &[])]),
        ];
        let e = resolve_within(
            &[root("r/app", "*")],
            &mut table(rows),
            &prefer,
            &[installed("r/other", "^1")],
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "no version of r/base satisfies every requirement: ^2 (from r/app 1.0.0); ^1 (from r/other 1.0.0, installed) (published: 2.0.0, 1.0.0)"
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
    fn hostile_cards_stop_at_the_size_limits() {
        let many: Vec<(&'static str, &'static str)> = (0..=MAX_DEPENDENCIES)
            .map(|i| (&*Box::leak(format!("r/d{i}").into_boxed_str()), "*"))
            .collect();
        let mut rows: Published = BTreeMap::new();
        rows.insert("r/app", vec![("1.0.0", many.clone())]);
        for (d, _) in &many {
            rows.insert(d, vec![("1.0.0", Vec::new())]);
        }
        let e = resolve(&[root("r/app", "*")], &mut Table(rows, 0)).unwrap_err();
        assert!(
            matches!(
                e,
                DependError::TooLarge {
                    limit: MAX_DEPENDENCIES,
                    ..
                }
            ),
            "{e}"
        );
        // A chain longer than a graph may hold.
        let names: Vec<&'static str> = (0..=MAX_SKILLS)
            .map(|i| &*Box::leak(format!("r/c{i}").into_boxed_str()))
            .collect();
        let mut rows: Published = BTreeMap::new();
        for (i, name) in names.iter().enumerate() {
            let deps = names
                .get(i + 1)
                .map(|n| vec![(*n, "*")])
                .unwrap_or_default();
            rows.insert(name, vec![("1.0.0", deps)]);
        }
        let e = resolve(&[root(names[0], "*")], &mut Table(rows, 0)).unwrap_err();
        assert!(
            matches!(
                e,
                DependError::TooLarge {
                    limit: MAX_SKILLS,
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn a_dense_graph_at_the_limits_resolves_on_a_small_stack() {
        // Every skill needs every later one: thousands of requirements,
        // each met by a pick already made.
        let names: Vec<&'static str> = (0..MAX_DEPENDENCIES)
            .map(|i| &*Box::leak(format!("r/n{i}").into_boxed_str()))
            .collect();
        let mut rows: Published = BTreeMap::new();
        for (i, name) in names.iter().enumerate() {
            let deps = names[i + 1..].iter().map(|n| (*n, "*")).collect();
            rows.insert(name, vec![("1.0.0", deps)]);
        }
        let first = names[0];
        let outcome = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || resolve(&[root(first, "*")], &mut Table(rows, 0)).map(|r| r.picks.len()))
            .unwrap()
            .join()
            .expect("no stack overflow");
        assert_eq!(outcome.unwrap(), MAX_DEPENDENCIES);
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
