//! Installing a skill with the skills it needs, as one change.
//!
//! The graph is resolved first ([`crate::depend`]): a conflict, a cycle or
//! a missing skill fails before anything is written. Then every skill of
//! it is staged into each place of the plan and all are swapped in one
//! journal batch ([`super::batch`]), so a failure part-way leaves every
//! folder as it was. A skill already there at the picked digest and
//! intact is kept as it is. Which install needs which is recorded in the
//! index, and the skills installed only because another needed them are
//! marked so (`skillc autoremove` removes them once nothing needs them).

use std::collections::BTreeMap;
use std::path::PathBuf;

use skilld_proto::install::InstallResponse;

use super::apply::{self, Image};
use super::batch::{Author, Batch};
use super::error::InstallError;
use super::plan::{How, Place};
use super::{links, to_wire};
use crate::depend::resolve::{Constraint, Resolved};
use crate::index::installs::{self, InstallRow};
use crate::index::needs;
use crate::state::State;

/// One skill of a resolved graph.
#[derive(Debug)]
pub struct Node {
    pub image: Image,
    /// Indexes (into [`Graph::nodes`]) of what it needs, with each one's
    /// requirement.
    pub needs: Vec<(usize, String)>,
}

/// A skill and everything it needs, dependencies before what needs them;
/// the root (what the user named) last.
#[derive(Debug)]
pub struct Graph {
    pub nodes: Vec<Node>,
    /// The node the user named (installed for itself); none when each
    /// install keeps its standing (an upgrade: the upgraded skill stays
    /// there for itself or for others, as it was).
    pub root: Option<usize>,
}

/// What `image` needs, resolved; `None` when it declares no dependencies
/// (the install is a plain one).
pub async fn resolve(
    state: &State,
    image: &Image,
    places: &[Place],
) -> Result<Option<Graph>, InstallError> {
    let constraints = constraints_in(state, places).await?;
    let found = crate::depend::registry::resolve_images(
        state,
        vec![image.clone()],
        Default::default(),
        constraints,
    )
    .await?;
    let Some(found) = found else {
        return Ok(None);
    };
    let resolved = &found.resolved;
    // Dependencies first: a depth-first order from the root.
    fn visit(repository: &str, resolved: &Resolved, order: &mut Vec<String>) {
        if order.iter().any(|r| r == repository) {
            return;
        }
        for need in &resolved.picks[repository].needs {
            visit(need, resolved, order);
        }
        order.push(repository.to_string());
    }
    let mut order: Vec<String> = Vec::new();
    visit(&found.roots[0].repository, resolved, &mut order);
    let at: BTreeMap<&str, usize> = order
        .iter()
        .enumerate()
        .map(|(i, r)| (r.as_str(), i))
        .collect();
    let mut nodes = Vec::new();
    for repository in &order {
        let image = found
            .images
            .get(repository)
            .cloned()
            .ok_or_else(|| InstallError::internal(format!("{repository} was not fetched")))?;
        let needs = resolved.picks[repository]
            .needs
            .iter()
            .map(|n| (at[n.as_str()], requirement_of(resolved, repository, n)))
            .collect();
        nodes.push(Node { image, needs });
    }
    let root = Some(nodes.len() - 1);
    Ok(Some(Graph { nodes, root }))
}

/// What the installs already in `places` require of other skills there.
async fn constraints_in(state: &State, places: &[Place]) -> Result<Vec<Constraint>, InstallError> {
    // Most homes have no dependencies at all: one small query then.
    let (edges, rows) = state
        .index()
        .read(|conn| {
            let edges = needs::all(conn)?;
            let rows = match edges.is_empty() {
                true => Default::default(),
                false => installs::all_by_path(conn)?,
            };
            Ok((edges, rows))
        })
        .await?;
    let mut out = Vec::new();
    for e in edges {
        let (Some(needed), Some(by)) = (rows.get(&e.dependency), rows.get(&e.dependent)) else {
            continue;
        };
        let Some(dir) = std::path::Path::new(&e.dependency).parent() else {
            continue;
        };
        if !places.iter().any(|p| p.dir == dir) {
            continue;
        }
        out.push(Constraint {
            repository: needed.repository.clone(),
            requirement: e.requirement,
            from: by.repository.clone(),
            by: format!(
                "{} {}, installed in {}",
                by.name,
                by.version.as_deref().unwrap_or("-"),
                dir.display()
            ),
        });
    }
    Ok(out)
}

/// Refuse to install `image` (a skill that needs nothing, so nothing is
/// resolved) over a version that installs already in `places` need.
pub async fn check_needed(
    state: &State,
    image: &Image,
    places: &[Place],
) -> Result<(), InstallError> {
    let repository = image.reference.repository();
    let Some(version) = crate::image::lifecycle::image_version(
        &image.manifest.annotations,
        image.reference.tag.as_deref(),
    )
    .and_then(|v| semver::Version::parse(&v).ok()) else {
        return Ok(());
    };
    for c in constraints_in(state, places).await? {
        if c.repository != repository || c.from == repository {
            continue;
        }
        let Ok(req) = semver::VersionReq::parse(&c.requirement) else {
            continue;
        };
        if !req.matches(&version) {
            return Err(InstallError::conflict(format!(
                "{} needs {repository} {}, and this is {version}; nothing was changed. Install a version it accepts, or remove what needs it first",
                c.by, c.requirement
            )));
        }
    }
    Ok(())
}

/// The requirement `dependent` has on `dependency`, as written.
fn requirement_of(resolved: &Resolved, dependent: &str, dependency: &str) -> String {
    resolved.picks[dependent]
        .requirements
        .iter()
        .find(|(r, _)| r == dependency)
        .map(|(_, q)| q.clone())
        .unwrap_or_else(|| "*".to_string())
}

/// What installing a graph did.
pub struct Placed {
    pub response: InstallResponse,
    /// Per place, per node: its folder, and the backup of what was there
    /// when it went to the backups.
    pub folders: Vec<Vec<(String, Option<PathBuf>)>>,
}

/// Install `graph` into each place of a plan, as one batch, made by
/// `author` (said in every event and history entry).
pub async fn install(
    state: &State,
    places: &[Place],
    graph: &Graph,
    force: bool,
    author: &Author,
) -> Result<Placed, InstallError> {
    // One writer per target folder, taken in a fixed order.
    let mut dirs: Vec<PathBuf> = places.iter().map(|p| p.dir.clone()).collect();
    dirs.sort();
    dirs.dedup();
    let mut guards = Vec::new();
    for dir in &dirs {
        guards.push(state.folders().lock(dir).await);
    }
    let mut signers = Vec::new();
    for node in &graph.nodes {
        signers.push(node.image.verdict(state).await?);
    }
    let rows: std::collections::HashMap<String, InstallRow> =
        state.index().read(installs::all_by_path).await?;
    let mut batch = Batch::default();
    let staged = stage_all(
        state,
        places,
        graph,
        force,
        &signers,
        &rows,
        &mut batch,
        &author.actor,
    )
    .await;
    let placed = match staged {
        Ok(placed) => placed,
        Err(e) => {
            batch.discard();
            return Err(e);
        }
    };
    let root = graph.root;
    let backups = batch.commit(state, author).await?;
    for (verdict, node) in signers.into_iter().zip(&graph.nodes) {
        verdict.keep_signatures(state, &node.image.descriptor.digest);
    }
    // Which install needs which, and which are there only for others.
    let mut edges: crate::index::needs::Edges = Vec::new();
    let mut marks: Vec<(String, bool)> = Vec::new();
    for in_place in &placed {
        for (i, node) in graph.nodes.iter().enumerate() {
            let path = in_place[i].record.path.clone();
            let needs = node
                .needs
                .iter()
                .map(|(d, q)| (in_place[*d].record.path.clone(), q.clone()))
                .collect();
            edges.push((path.clone(), needs));
            let only = Some(i) != root && in_place[i].dependency_only;
            marks.push((path, only));
        }
    }
    state
        .index()
        .write(move |conn| crate::index::needs::record(conn, &edges, &marks))
        .await?;
    drop(guards);
    let mut response = InstallResponse {
        installed: Vec::new(),
        backups,
        seen_by: Vec::new(),
    };
    for (place, in_place) in places.iter().zip(&placed) {
        if !place.agents.is_empty() && !response.seen_by.contains(&place.agents) {
            response.seen_by.push(place.agents.clone());
        }
        // The root first, then what it needs by name.
        let mut order: Vec<usize> = (0..graph.nodes.len())
            .filter(|i| Some(*i) != root)
            .collect();
        order.sort_by(|a, b| in_place[*a].record.name.cmp(&in_place[*b].record.name));
        order.splice(0..0, root);
        for i in order {
            let at = &in_place[i];
            let mut wire = to_wire(&at.record);
            wire.needs = graph.nodes[i]
                .needs
                .iter()
                .map(|(d, _)| PathBuf::from(&in_place[*d].record.path))
                .collect();
            wire.dependency = Some(i) != root && at.dependency_only;
            if at.kept {
                wire.status = "kept".into();
            }
            response.installed.push(wire);
        }
    }
    let folders = placed
        .into_iter()
        .map(|in_place| {
            in_place
                .into_iter()
                .map(|at| (at.record.path, at.backup))
                .collect()
        })
        .collect();
    Ok(Placed { response, folders })
}

/// One node of the graph in one place.
struct InPlace {
    record: InstallRow,
    /// Installed only because another needs it (it was not there as an
    /// install of its own).
    dependency_only: bool,
    /// Already there at this digest: left as it is.
    kept: bool,
    /// Where what was at its folder goes, when that is the backups.
    backup: Option<PathBuf>,
}

/// Stage every node into every place; per place, per node, what it will be.
#[allow(clippy::too_many_arguments)]
async fn stage_all(
    state: &State,
    places: &[Place],
    graph: &Graph,
    force: bool,
    signers: &[crate::trust::enforce::Verdict],
    rows: &std::collections::HashMap<String, InstallRow>,
    batch: &mut Batch,
    by: &str,
) -> Result<Vec<Vec<InPlace>>, InstallError> {
    let mut placed: Vec<Vec<InPlace>> = Vec::new();
    // The copy of each node made in the first copied place, for links.
    let mut copies: Vec<Option<InstallRow>> = vec![None; graph.nodes.len()];
    let mut dependency_marks: std::collections::HashSet<String> = state
        .index()
        .read(needs::dependency_only)
        .await?
        .into_iter()
        .collect();
    for place in places {
        let mut in_place: Vec<InPlace> = Vec::new();
        for (i, node) in graph.nodes.iter().enumerate() {
            let image = &node.image;
            let intact = |r: &InstallRow| {
                super::holds(r, image.descriptor.digest.as_str())
                    && super::drift::status_of(r) == "ok"
            };
            let kept = rows
                .values()
                .filter(|r| std::path::Path::new(&r.path).parent() == Some(place.dir.as_path()))
                .find(|r| r.repository == image.reference.repository() && intact(r))
                .filter(|r| place.how != How::Link || r.link_of.is_some());
            let (record, existed, kept, backup) = match (kept, place.how, &copies[i]) {
                (Some(row), _, _) => (row.clone(), true, true, None),
                (None, How::Link, Some(copy)) => {
                    let p =
                        links::prepare(state, &place.target, &place.dir, copy, force, by).await?;
                    let (record, existed, backup) = staged_as(&p);
                    batch.add(p);
                    (record, existed, false, backup)
                }
                (None, _, _) => {
                    let p = apply::prepare_copy(
                        state,
                        &place.target,
                        &place.dir,
                        image,
                        force,
                        by,
                        signers[i].signer.clone(),
                        None,
                    )
                    .await?;
                    let (record, existed, backup) = staged_as(&p);
                    batch.add(p);
                    (record, existed, false, backup)
                }
            };
            if let Some(other) = in_place.iter().find(|o| o.record.path == record.path) {
                return Err(InstallError::conflict(format!(
                    "two skills of this install are named {:?}: {} and {}; one folder cannot hold both. Nothing was changed",
                    record.name, other.record.source_ref, record.source_ref
                )));
            }
            if copies[i].is_none() && record.link_of.is_none() {
                copies[i] = Some(record.clone());
            }
            // Already installed for itself: stays so; new, or there only
            // for others before: there for others.
            let dependency_only = !existed || dependency_marks.contains(&record.path);
            if dependency_only {
                dependency_marks.insert(record.path.clone());
            }
            in_place.push(InPlace {
                record,
                dependency_only,
                kept,
                backup,
            });
        }
        placed.push(in_place);
    }
    Ok(placed)
}

/// What a staged change will record, whether an install was there, and
/// where it goes if to the backups.
fn staged_as(p: &apply::Prepared) -> (InstallRow, bool, Option<PathBuf>) {
    (
        p.record.clone(),
        p.existing.is_some(),
        p.backup.then(|| p.item.displaced.clone()),
    )
}
