//! Where an install goes and how: the targets it names (or the default
//! ones), each resolved to its folder, and whether the folder gets the
//! skill's one copy, a link to it, or a copy of its own.
//!
//! Without `-t`, an install goes to the configured `install.default_target`
//! when one is set; else to the agents found on this machine (their own
//! folder, such as `~/.claude`, exists), one target per folder; else, when
//! none is found, to `agents` (`~/.agents/skills`).
//!
//! In `link` mode (the default), a skill going to more than one folder is
//! copied once into the shared folder (`agents`: `~/.agents/skills`, or a
//! project's `.agents/skills`) and linked into each other folder; an agent
//! whose loader skips linked folders (`follows_links: false` in the table)
//! gets a copy instead. One folder, `-o DIR` and `copy` mode give copies.

use std::path::{Path, PathBuf};

use skilld_proto::install::InstallMode;

use super::error::InstallError;
use super::folders;
use super::targets::{self, Target, TargetEnv};

/// What the plan is made from.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// Target names; empty for the default ones.
    pub names: &'a [String],
    pub project: Option<&'a Path>,
    /// `-o DIR`: this folder instead of targets.
    pub output: Option<&'a Path>,
    pub mode: InstallMode,
    /// `install.default_target`, when configured.
    pub configured_default: Option<&'a str>,
}

/// How one folder gets the skill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    /// A folder of its own (the one copy, in link mode: always the first).
    Copy,
    /// A link to the first place's copy.
    Link,
}

/// One target folder of an install.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub target: String,
    /// The target folder (the skill goes in `dir/<name>`), resolved.
    pub dir: PathBuf,
    pub how: How,
    /// Who reads this folder (from the table).
    pub agents: String,
}

/// The targets an install that names none goes to: the configured one,
/// else the agents installed here (the first target of each folder), else
/// `agents`.
pub fn default_targets(env: &TargetEnv, configured: Option<&str>) -> Vec<&'static Target> {
    if let Some(name) = configured
        && let Ok(t) = targets::find(name)
    {
        return vec![t];
    }
    let shared = targets::find("agents").ok();
    let shared_dir = shared.and_then(|t| t.resolve(env, None)).map(|(d, _)| d);
    let mut seen: Vec<PathBuf> = Vec::new();
    let mut found = Vec::new();
    for t in targets::all() {
        if !t.installed(env) {
            continue;
        }
        let Some((dir, _)) = t.resolve(env, None) else {
            continue;
        };
        if !seen.contains(&dir) {
            // The shared folder is named `agents`, whoever reads it.
            let named = if Some(&dir) == shared_dir.as_ref() {
                shared.unwrap_or(t)
            } else {
                t
            };
            seen.push(dir);
            found.push(named);
        }
    }
    if found.is_empty() {
        found.extend(targets::find("agents").ok());
    }
    found
}

/// Where and how an install goes (see the module docs).
pub fn plan(env: &TargetEnv, request: Request<'_>) -> Result<Vec<Place>, InstallError> {
    if let Some(dir) = request.output {
        if !dir.is_absolute() {
            return Err(InstallError::invalid(
                "-o must be an absolute path (skillc sends one)",
            ));
        }
        let dir = folders::canonical_folder(dir)
            .map_err(|e| InstallError::invalid(format!("-o: {e}")))?;
        refuse_file(&dir)?;
        return Ok(vec![Place {
            target: targets::DIR_TARGET.to_string(),
            dir,
            how: How::Copy,
            agents: String::new(),
        }]);
    }
    if let Some(p) = request.project
        && !p.is_absolute()
    {
        return Err(InstallError::invalid(
            "--project must be an absolute path (skillc sends one)",
        ));
    }
    let chosen: Vec<&'static Target> = if request.names.is_empty() {
        default_targets(env, request.configured_default)
    } else {
        request
            .names
            .iter()
            .map(|n| targets::find(n).map_err(|e| InstallError::invalid(e.to_string())))
            .collect::<Result<_, _>>()?
    };
    let mut places: Vec<(Place, bool)> = Vec::new();
    for t in chosen {
        let dir = folder_of(env, t, request.project)?;
        // Several targets share a folder: it is one place.
        if places.iter().any(|(p, _)| p.dir == dir) {
            continue;
        }
        places.push((
            Place {
                target: t.name.to_string(),
                dir,
                how: How::Copy,
                agents: t.agents.to_string(),
            },
            t.follows_links,
        ));
    }
    if request.mode == InstallMode::Copy || places.len() < 2 {
        return Ok(places.into_iter().map(|(p, _)| p).collect());
    }
    // The one copy goes in the shared folder, first; the rest link to it.
    let shared = targets::find("agents").map_err(|e| InstallError::internal(e.to_string()))?;
    let shared_dir = folder_of(env, shared, request.project)?;
    let copy = match places.iter().position(|(p, _)| p.dir == shared_dir) {
        Some(i) => places.remove(i).0,
        None => Place {
            target: shared.name.to_string(),
            dir: shared_dir,
            how: How::Copy,
            agents: shared.agents.to_string(),
        },
    };
    let mut out = vec![copy];
    for (mut place, follows_links) in places {
        place.how = if follows_links { How::Link } else { How::Copy };
        out.push(place);
    }
    Ok(out)
}

/// `t`'s folder, resolved (its parents' links followed, as at every install).
fn folder_of(
    env: &TargetEnv,
    t: &'static Target,
    project: Option<&Path>,
) -> Result<PathBuf, InstallError> {
    let (dir, _) = t.resolve(env, project).ok_or_else(|| {
        InstallError::invalid(
            "no home folder is known to the daemon (HOME is unset); use -o DIR or --project",
        )
    })?;
    let dir = folders::canonical_folder(&dir)
        .map_err(|e| InstallError::invalid(format!("target {}: {e}", t.name)))?;
    refuse_file(&dir)?;
    Ok(dir)
}

/// A target folder that exists as something else (a file) is the
/// caller's mistake, said before anything is staged.
fn refuse_file(dir: &Path) -> Result<(), InstallError> {
    match std::fs::metadata(dir) {
        Ok(m) if !m.is_dir() => Err(InstallError::invalid(format!(
            "{} is {}, not a folder; skills are installed into a folder: name another one",
            dir.display(),
            crate::user_file::kind_of(&m)
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(home: &Path) -> TargetEnv {
        TargetEnv {
            home: Some(home.to_path_buf()),
            ..TargetEnv::default()
        }
    }

    fn request(names: &[String], mode: InstallMode) -> Request<'_> {
        Request {
            names,
            project: None,
            output: None,
            mode,
            configured_default: None,
        }
    }

    fn summary(places: &[Place]) -> Vec<(&str, How)> {
        places.iter().map(|p| (p.target.as_str(), p.how)).collect()
    }

    #[test]
    fn no_agent_here_means_the_shared_folder() {
        let home = tempfile::tempdir().unwrap();
        let places = plan(&env(home.path()), request(&[], InstallMode::Link)).unwrap();
        assert_eq!(summary(&places), [("agents", How::Copy)]);
        assert_eq!(places[0].dir, home.path().join(".agents/skills"));
    }

    #[test]
    fn agents_found_here_get_links_to_one_copy() {
        let home = tempfile::tempdir().unwrap();
        for agent in [".claude", ".cursor", ".hermes", ".config/zed"] {
            std::fs::create_dir_all(home.path().join(agent)).unwrap();
        }
        let e = env(home.path());
        // Zed reads ~/.agents/skills: the shared copy serves it.
        let names: Vec<&str> = default_targets(&e, None).iter().map(|t| t.name).collect();
        assert_eq!(names, ["claude", "cursor", "hermes", "agents"]);
        let places = plan(&e, request(&[], InstallMode::Link)).unwrap();
        assert_eq!(
            summary(&places),
            [
                ("agents", How::Copy),
                ("claude", How::Link),
                ("cursor", How::Link),
                // Hermes does not load linked skills.
                ("hermes", How::Copy),
            ]
        );
        let places = plan(&e, request(&[], InstallMode::Copy)).unwrap();
        assert!(places.iter().all(|p| p.how == How::Copy));
        assert_eq!(places.len(), 4);
        // A configured default wins over what is found.
        let configured = Request {
            configured_default: Some("cursor"),
            ..request(&[], InstallMode::Link)
        };
        assert_eq!(
            summary(&plan(&e, configured).unwrap()),
            [("cursor", How::Copy)]
        );
    }

    #[test]
    fn named_targets_link_through_the_shared_folder() {
        let home = tempfile::tempdir().unwrap();
        let e = env(home.path());
        let names = vec!["claude".to_string(), "cursor".to_string()];
        let places = plan(&e, request(&names, InstallMode::Link)).unwrap();
        assert_eq!(
            summary(&places),
            [
                ("agents", How::Copy),
                ("claude", How::Link),
                ("cursor", How::Link)
            ]
        );
        // One target: its own copy, nothing to link.
        let one = vec!["claude".to_string()];
        assert_eq!(
            summary(&plan(&e, request(&one, InstallMode::Link)).unwrap()),
            [("claude", How::Copy)]
        );
        // Targets sharing a folder are one place (Codex reads .agents/skills
        // in a project).
        let project = tempfile::tempdir().unwrap();
        let names = vec![
            "codex".to_string(),
            "agents".to_string(),
            "claude".to_string(),
        ];
        let in_project = Request {
            project: Some(project.path()),
            ..request(&names, InstallMode::Link)
        };
        let places = plan(&e, in_project).unwrap();
        assert_eq!(
            summary(&places),
            [("codex", How::Copy), ("claude", How::Link)]
        );
        assert_eq!(places[0].dir, project.path().join(".agents/skills"));
    }
}
