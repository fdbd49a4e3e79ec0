//! One copy, many agents: a skill installed into several targets in `link`
//! mode is one folder (the copy, in the shared `agents` folder) and a link
//! to it in each other target, as `vercel-labs/skills` and arconia lay
//! them out. Each link is an install of its own in the index (`link_of`
//! names the copy's folder), so `list`, drift and history see every
//! target; but they change as one: an upgrade, rollback, pin or policy on
//! any of them is made on the copy and every link follows, and removing
//! the copy removes its links (removing one link leaves the rest).
//!
//! A link is relative (`../../.agents/skills/NAME`) between the resolved
//! folders, so a project moved or cloned elsewhere keeps working. Its
//! content digest is the digest of the link itself: a link replaced or
//! re-pointed by hand is `modified`, a removed one `missing`, like a
//! folder. Windows is out of scope (skilld runs on Linux and macOS).

use std::path::{Component, Path, PathBuf};

use super::apply::{Applied, Prepared};
use super::error::InstallError;
use super::{swap, tree};
use crate::image::reference::Reference;
use crate::index::installs::InstallRow;
use crate::state::State;

/// The installs that link to the copy at `copy_path`.
pub fn members<'a>(rows: &'a [InstallRow], copy_path: &'a str) -> Vec<&'a InstallRow> {
    rows.iter()
        .filter(|r| r.link_of.as_deref() == Some(copy_path))
        .collect()
}

/// The install a change to `row` is made on: its copy when `row` is a link
/// to an install the index has, else `row` itself.
pub fn owner(rows: &[InstallRow], row: &InstallRow) -> InstallRow {
    row.link_of
        .as_deref()
        .and_then(|copy| rows.iter().find(|r| r.path == copy))
        .unwrap_or(row)
        .clone()
}

/// `rows` with each link replaced by its copy, each install once (the
/// order of first appearance kept).
pub fn owners(all: &[InstallRow], rows: Vec<InstallRow>) -> Vec<InstallRow> {
    let by_path: std::collections::HashMap<&str, &InstallRow> =
        all.iter().map(|r| (r.path.as_str(), r)).collect();
    let mut seen = std::collections::HashSet::new();
    let mut out: Vec<InstallRow> = Vec::new();
    for row in rows {
        let owner = row
            .link_of
            .as_deref()
            .and_then(|copy| by_path.get(copy).copied())
            .unwrap_or(&row);
        if seen.insert(owner.path.clone()) {
            out.push(owner.clone());
        }
    }
    out
}

/// `rows` and every install linked with them (each copy's links, each
/// link's copy and siblings), each once: what a pin or policy changes.
pub fn whole_sets(all: &[InstallRow], rows: Vec<InstallRow>) -> Vec<InstallRow> {
    let mut out: Vec<InstallRow> = Vec::new();
    for row in owners(all, rows) {
        let members: Vec<InstallRow> = members(all, &row.path).into_iter().cloned().collect();
        for r in std::iter::once(row).chain(members) {
            if !out.iter().any(|o| o.path == r.path) {
                out.push(r);
            }
        }
    }
    out
}

/// `rows`, each copy preceded by its links: what a removal takes away (a
/// link never outlives its copy). A link selected alone stays alone.
pub fn with_links_first(all: &[InstallRow], rows: Vec<InstallRow>) -> Vec<InstallRow> {
    let mut out: Vec<InstallRow> = Vec::new();
    for row in rows {
        let members: Vec<InstallRow> = members(all, &row.path).into_iter().cloned().collect();
        for r in members.into_iter().chain(std::iter::once(row)) {
            if !out.iter().any(|o| o.path == r.path) {
                out.push(r);
            }
        }
    }
    out
}

/// The link to write in `from` (a folder) for `to`: relative, through
/// their common ancestor.
pub fn relative(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<Component> = from.components().collect();
    let to_parts: Vec<Component> = to.components().collect();
    let common = from
        .iter()
        .zip(&to_parts)
        .take_while(|(a, b)| a == b)
        .count();
    // Only the root in common: an absolute link reads better than ../../..
    if common <= 1 {
        return to.to_path_buf();
    }
    let mut out = PathBuf::new();
    for _ in common..from.len() {
        out.push("..");
    }
    for part in &to_parts[common..] {
        out.push(part);
    }
    out
}

/// Put a link to `copy` at `parent/<name>` and record it (the folder lock
/// of `parent` is the caller's). What is in the way is treated as by an
/// install: refused unless it is this skill's, or `force` (then backed up).
pub async fn place(
    state: &State,
    target: &str,
    parent: &Path,
    copy: &InstallRow,
    force: bool,
    by: &str,
) -> Result<Applied, InstallError> {
    let prepared = prepare(state, target, parent, copy, force, by).await?;
    super::apply::finish_one(state, prepared).await
}

/// Stage a link to `copy` beside `parent/<name>` and judge what is there;
/// nothing on disk changes but the staging folder.
pub async fn prepare(
    state: &State,
    target: &str,
    parent: &Path,
    copy: &InstallRow,
    force: bool,
    by: &str,
) -> Result<Prepared, InstallError> {
    let dest = parent.join(&copy.name);
    if dest == Path::new(&copy.path) {
        return Err(InstallError::internal(format!(
            "{} cannot link to itself",
            dest.display()
        )));
    }
    let reference = Reference::parse(&copy.source_ref)?;
    let (existing, backup) = super::apply::judge_way(
        state,
        &dest,
        &copy.name,
        &reference,
        &copy.source_ref,
        force,
    )
    .await?;
    swap::claim_area(state.index(), parent).await?;
    let pointer = relative(parent, Path::new(&copy.path));
    let staged = swap::sibling(&dest, "link");
    let content_hash = std::os::unix::fs::symlink(&pointer, &staged)
        .and_then(|()| tree::digest(&staged))
        .map_err(|e| {
            let _ = std::fs::remove_file(&staged);
            swap::tidy_area(parent);
            InstallError::internal(format!("cannot make a link in {}: {e}", parent.display()))
        })?;
    let record = InstallRow {
        name: copy.name.clone(),
        target: target.to_string(),
        path: dest.display().to_string(),
        content_hash: content_hash.to_string(),
        status: "ok".into(),
        installed_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        installed_by: by.to_string(),
        link_of: Some(copy.path.clone()),
        ..copy.clone()
    };
    let displaced = if backup {
        super::backup_path(state, &copy.name)?
    } else {
        swap::sibling(&dest, "old")
    };
    Ok(Prepared {
        item: swap::Item {
            dest,
            staged: Some(staged),
            displaced,
            record: Some(record.clone()),
        },
        record,
        existing,
        backup,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_relative_through_the_common_folder() {
        assert_eq!(
            relative(
                Path::new("/home/u/.claude/skills"),
                Path::new("/home/u/.agents/skills/review")
            ),
            Path::new("../../.agents/skills/review")
        );
        assert_eq!(
            relative(
                Path::new("/p/.cursor/skills"),
                Path::new("/p/.agents/skills/x")
            ),
            Path::new("../../.agents/skills/x")
        );
        assert_eq!(
            relative(Path::new("/a/b"), Path::new("/c/d")),
            Path::new("/c/d")
        );
        // The link resolves to the copy from where it is.
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("home/.agents/skills/x");
        std::fs::create_dir_all(&copy).unwrap();
        std::fs::write(copy.join("SKILL.md"), "hi").unwrap();
        let from = dir.path().join("home/.config/opencode/skills");
        std::fs::create_dir_all(&from).unwrap();
        std::os::unix::fs::symlink(relative(&from, &copy), from.join("x")).unwrap();
        assert_eq!(
            std::fs::read_to_string(from.join("x/SKILL.md")).unwrap(),
            "hi"
        );
    }

    fn row(path: &str, link_of: Option<&str>) -> InstallRow {
        InstallRow {
            name: "x".into(),
            target: "t".into(),
            path: path.into(),
            source_ref: "r.io/x:1".into(),
            registry: None,
            repository: "r.io/x".into(),
            digest: "sha256:1".into(),
            version: None,
            content_hash: String::new(),
            status: "ok".into(),
            pinned: false,
            installed_at: String::new(),
            installed_by: "cli".into(),
            previous_ref: None,
            previous_digest: None,
            previous_version: None,
            signer: None,
            link_of: link_of.map(str::to_string),
            project: None,
            subscription: None,
            findings: None,
        }
    }

    #[test]
    fn a_set_changes_as_one() {
        let all = vec![
            row("/a/x", None),
            row("/c/x", Some("/a/x")),
            row("/d/x", Some("/a/x")),
            row("/e/x", None),
            row("/f/x", Some("/gone/x")),
        ];
        let paths = |rows: Vec<InstallRow>| rows.into_iter().map(|r| r.path).collect::<Vec<_>>();
        assert_eq!(
            paths(owners(
                &all,
                vec![all[1].clone(), all[2].clone(), all[3].clone()]
            )),
            ["/a/x", "/e/x"]
        );
        // A link whose copy is unknown stands for itself.
        assert_eq!(paths(owners(&all, vec![all[4].clone()])), ["/f/x"]);
        assert_eq!(
            paths(whole_sets(&all, vec![all[2].clone()])),
            ["/a/x", "/c/x", "/d/x"]
        );
        assert_eq!(
            paths(with_links_first(&all, vec![all[0].clone()])),
            ["/c/x", "/d/x", "/a/x"]
        );
        assert_eq!(
            paths(with_links_first(&all, vec![all[1].clone()])),
            ["/c/x"]
        );
    }
}
