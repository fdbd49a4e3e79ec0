//! What installs need each other: a remove of a skill others need is
//! refused naming them (unless forced), the installs made only for others
//! that nothing needs any more are orphans, and `autoremove` removes them
//! (then what only they needed, and so on). A rollback, which resolves
//! nothing, goes back only to a version whose needs the installs beside it
//! meet.

use std::collections::{HashMap, HashSet};

use super::error::InstallError;
use super::ops::{self, Outcomes};
use crate::index::installs::{self, InstallRow};
use crate::index::needs;
use crate::state::State;

/// Refuse to remove `rows` while installs outside them need one: the
/// conflict names who needs what.
pub async fn refuse_needed(state: &State, rows: &[InstallRow]) -> Result<(), InstallError> {
    let (edges, all) = state
        .index()
        .read(|conn| Ok((needs::all(conn)?, installs::all_by_path(conn)?)))
        .await?;
    let leaving: HashSet<&str> = rows.iter().map(|r| r.path.as_str()).collect();
    let mut refusals = Vec::new();
    for row in rows {
        let by: Vec<String> = edges
            .iter()
            .filter(|e| e.dependency == row.path && !leaving.contains(e.dependent.as_str()))
            .map(|e| match all.get(&e.dependent) {
                Some(d) => format!("{} ({})", d.name, e.dependent),
                None => e.dependent.clone(),
            })
            .collect();
        if !by.is_empty() {
            refusals.push(format!(
                "{} ({}) is needed by {}",
                row.name,
                row.path,
                by.join(", ")
            ));
        }
    }
    if refusals.is_empty() {
        return Ok(());
    }
    Err(InstallError::conflict(format!(
        "{}; nothing was removed. Remove what needs it first, or use --force (what needs it may stop working)",
        refusals.join("; ")
    )))
}

/// What the installs that need `row` require of it (requirements other
/// than `*`), each with who asks: an upgrade stays within all of them.
pub async fn held(
    state: &State,
    row: &InstallRow,
) -> Result<Vec<(semver::VersionReq, String)>, InstallError> {
    let path = row.path.clone();
    let requirements = state
        .index()
        .read(move |conn| needs::requirements_on(conn, &path))
        .await?;
    Ok(requirements
        .into_iter()
        .filter(|(requirement, _)| requirement.trim() != "*")
        .filter_map(|(requirement, name)| {
            let req = semver::VersionReq::parse(&requirement).ok()?;
            Some((req, format!("{name} needs {requirement}")))
        })
        .collect())
}

/// The orphans now (in `target`, if given).
pub async fn orphans(state: &State, target: Option<&str>) -> Result<Vec<InstallRow>, InstallError> {
    let (paths, all) = state
        .index()
        .read(|conn| Ok((needs::orphans(conn)?, installs::all_by_path(conn)?)))
        .await?;
    Ok(paths
        .iter()
        .filter_map(|p| all.get(p))
        .filter(|r| target.is_none_or(|t| r.target == t))
        .cloned()
        .collect())
}

/// Remove the orphans, and the installs that become orphans when they go,
/// until none is left (in `target`, if given). With `dry_run`, what would
/// go, removing nothing.
pub async fn autoremove(
    state: &State,
    target: Option<&str>,
    dry_run: bool,
    force: bool,
) -> Result<Outcomes, InstallError> {
    if let Some(t) = target
        && t != super::targets::DIR_TARGET
    {
        super::targets::find(t).map_err(|e| InstallError::invalid(e.to_string()))?;
    }
    if dry_run {
        return would_go(state, target).await;
    }
    let mut out = Outcomes::default();
    let mut tried: HashSet<String> = HashSet::new();
    loop {
        let now: Vec<InstallRow> = orphans(state, target)
            .await?
            .into_iter()
            .filter(|r| !tried.contains(&r.path))
            .collect();
        if now.is_empty() {
            return Ok(out);
        }
        for row in now {
            tried.insert(row.path.clone());
            // Removing a copy takes the links to it: one of them may be
            // gone already.
            let path = row.path.clone();
            let still = state
                .index()
                .read(move |conn| installs::by_path(conn, &path))
                .await?;
            if still.is_none() {
                continue;
            }
            let selector = ops::Selector {
                name: &row.name,
                target: Some(&row.target),
                path: Some(std::path::Path::new(&row.path)),
            };
            let removed = ops::remove(state, selector, force).await?;
            out.changed.extend(removed.changed);
            out.backups.extend(removed.backups);
            out.failed.extend(removed.failed);
        }
    }
}

/// What autoremove would remove: the orphans, then those only they need.
async fn would_go(state: &State, target: Option<&str>) -> Result<Outcomes, InstallError> {
    let (edges, only, all) = state
        .index()
        .read(|conn| {
            Ok((
                needs::all(conn)?,
                needs::dependency_only(conn)?,
                installs::all_by_path(conn)?,
            ))
        })
        .await?;
    let mut gone: HashSet<String> = HashSet::new();
    let mut needed: HashMap<&str, usize> = HashMap::new();
    for e in &edges {
        *needed.entry(e.dependency.as_str()).or_default() += 1;
    }
    loop {
        let next: Vec<&String> = only
            .iter()
            .filter(|p| !gone.contains(*p) && needed.get(p.as_str()).copied().unwrap_or(0) == 0)
            .filter(|p| {
                all.get(*p)
                    .is_some_and(|r| target.is_none_or(|t| r.target == t))
            })
            .collect();
        if next.is_empty() {
            break;
        }
        for p in next {
            gone.insert(p.clone());
            for e in edges.iter().filter(|e| &e.dependent == p) {
                if let Some(n) = needed.get_mut(e.dependency.as_str()) {
                    *n -= 1;
                }
            }
        }
    }
    let mut out = Outcomes::default();
    let mut rows: Vec<&InstallRow> = gone.iter().filter_map(|p| all.get(p)).collect();
    rows.sort_by(|a, b| a.path.cmp(&b.path));
    for row in rows {
        let mut wire = super::to_wire(row);
        wire.status = "would remove".into();
        wire.dependency = true;
        out.changed.push(wire);
    }
    Ok(out)
}

/// What `image` (an earlier version a rollback goes back to) needs, met by
/// the installs in `dir` as they are: a rollback resolves nothing (it
/// works from the store, offline), so one whose dependencies are missing
/// or at versions it does not accept is refused, saying which, and one
/// that installs there need at a version they refuse is refused too. The
/// edges the rolled-back install will have.
pub async fn rollback_needs(
    state: &State,
    image: &super::apply::Image,
    place: &super::plan::Place,
) -> Result<Vec<(String, String)>, InstallError> {
    super::graph::check_needed(state, image, std::slice::from_ref(place)).await?;
    let manifest = image.manifest.clone();
    let declared = state
        .catalog()
        .blocking(move |store| Ok(crate::depend::image::declared(store, &manifest)))
        .await?
        .map_err(|e| InstallError::invalid(format!("its dependencies cannot be read: {e}")))?;
    if declared.is_empty() {
        return Ok(Vec::new());
    }
    let depending = image.reference.repository();
    let rows = state.index().read(installs::all_by_path).await?;
    let here: Vec<&InstallRow> = rows
        .values()
        .filter(|r| std::path::Path::new(&r.path).parent() == Some(place.dir.as_path()))
        .collect();
    let version = crate::image::lifecycle::image_version(
        &image.manifest.annotations,
        image.reference.tag.as_deref(),
    )
    .unwrap_or_else(|| "-".into());
    let mut edges = Vec::new();
    for dependency in declared {
        let repository = crate::depend::name::repository_for(&dependency.name, &depending)
            .map_err(|e| InstallError::invalid(e.to_string()))?;
        let requirement = dependency.version.trim().to_string();
        let refuse = |what: String| {
            InstallError::conflict(format!(
                "{} {version} needs {repository} {requirement}, and {what}; nothing was changed. A rollback works from what is installed, without resolving: install that version with what it needs instead (skillc install {depending}:{version})",
                image.reference.name(),
            ))
        };
        let Some(found) = here.iter().find(|r| r.repository == repository) else {
            return Err(refuse(format!(
                "it is not installed in {}",
                place.dir.display()
            )));
        };
        let fits = match (
            semver::VersionReq::parse(&requirement),
            found.version.as_deref().map(semver::Version::parse),
        ) {
            (Ok(req), Some(Ok(v))) => req.matches(&v),
            _ => false,
        };
        if !fits {
            return Err(refuse(format!(
                "{} is installed there",
                found.version.as_deref().unwrap_or("an unversioned build")
            )));
        }
        edges.push((found.path.clone(), requirement));
    }
    Ok(edges)
}

/// Record that the install at `path` needs `edges` (dependency folder and
/// requirement), and that each install at `links` (links to it, in other
/// folders) needs the installs of the same skills beside it.
pub async fn set_needs(
    state: &State,
    path: &str,
    edges: Vec<(String, String)>,
    links: Vec<String>,
) -> Result<(), InstallError> {
    let path = path.to_string();
    state
        .index()
        .write(move |conn| {
            let rows = installs::all_by_path(conn)?;
            needs::set(conn, &path, &edges)?;
            for link in &links {
                let dir = std::path::Path::new(link).parent();
                let beside: Vec<(String, String)> = edges
                    .iter()
                    .filter_map(|(dependency, requirement)| {
                        let repository = &rows.get(dependency)?.repository;
                        let there = rows.values().find(|r| {
                            &r.repository == repository
                                && std::path::Path::new(&r.path).parent() == dir
                        })?;
                        Some((there.path.clone(), requirement.clone()))
                    })
                    .collect();
                needs::set(conn, link, &beside)?;
            }
            Ok(())
        })
        .await?;
    Ok(())
}
