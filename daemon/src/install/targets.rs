//! Agent skill folders ("targets") and where they are, in the user's home
//! or under a project root, as data: `daemon/data/agents.yaml`, one row per
//! target with its source. Environment overrides are honoured (each row's
//! `env`, e.g. `CLAUDE_CONFIG_DIR`, `XDG_CONFIG_HOME`, `CODEX_HOME`); an
//! empty or relative value counts as unset. Whether an agent is installed
//! on this machine is whether its own folder exists.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The table of targets, compiled in.
const AGENTS_YAML: &str = include_str!("../../data/agents.yaml");

/// The environment targets are resolved in, captured once.
#[derive(Debug, Clone, Default)]
pub struct TargetEnv {
    pub home: Option<PathBuf>,
    /// The variables the table names, when set to an absolute path.
    pub vars: BTreeMap<String, PathBuf>,
}

impl TargetEnv {
    pub fn from_process() -> TargetEnv {
        let abs = |k: &str| {
            std::env::var_os(k)
                .map(PathBuf::from)
                .filter(|p| p.is_absolute())
        };
        let vars = all()
            .iter()
            .filter_map(|t| t.env)
            .filter_map(|(var, _)| abs(var).map(|v| (var.to_string(), v)))
            .collect();
        TargetEnv {
            home: abs("HOME"),
            vars,
        }
    }
}

/// A known target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub name: &'static str,
    pub agents: &'static str,
    /// Below the home folder, when no variable moves it.
    pub home_path: &'static str,
    /// The variable whose folder replaces `home_path`'s parent, and the
    /// path below it.
    pub env: Option<(&'static str, &'static str)>,
    /// Below a project root.
    pub project_path: &'static str,
    /// The agent's own folder below the home folder.
    pub detect: &'static str,
    /// Whether the agent loads a skill folder that is a link (else an
    /// install with links gives it a copy).
    pub follows_links: bool,
    /// Where the row comes from.
    pub source: &'static str,
}

/// A row of `agents.yaml`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Row {
    name: String,
    agents: String,
    home: String,
    #[serde(default)]
    env: Option<EnvRow>,
    project: String,
    detect: String,
    #[serde(default = "yes")]
    follows_links: bool,
    source: String,
}

fn yes() -> bool {
    true
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvRow {
    var: String,
    path: String,
}

/// Every target, in the order `skillc targets` lists them.
pub fn all() -> &'static [Target] {
    static TARGETS: OnceLock<Vec<Target>> = OnceLock::new();
    TARGETS.get_or_init(|| parse(AGENTS_YAML).unwrap_or_else(|e| panic!("agents.yaml: {e}")))
}

/// Parse the table (rows are leaked: it is read once, for the process).
fn parse(text: &str) -> Result<Vec<Target>, String> {
    let rows: Vec<Row> = serde_norway::from_str(text).map_err(|e| e.to_string())?;
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for row in rows {
        let relative =
            |p: &str| !p.is_empty() && !p.starts_with('/') && !p.split('/').any(|c| c == "..");
        if !seen.insert(row.name.clone()) {
            return Err(format!("target {:?} appears twice", row.name));
        }
        if ![&row.home, &row.project, &row.detect]
            .iter()
            .all(|p| relative(p))
        {
            return Err(format!(
                "target {:?}: paths must be relative, without '..'",
                row.name
            ));
        }
        out.push(Target {
            name: leak(row.name),
            agents: leak(row.agents),
            home_path: leak(row.home),
            env: row.env.map(|e| (leak(e.var), leak(e.path))),
            project_path: leak(row.project),
            detect: leak(row.detect),
            follows_links: row.follows_links,
            source: leak(row.source),
        });
    }
    Ok(out)
}

/// The README's table of targets (written by `cargo run -p xtask -- agents`).
pub fn markdown_table() -> String {
    let mut out =
        String::from("| target | user folder | project folder | read by |\n|---|---|---|---|\n");
    for t in all() {
        let user = match t.env {
            Some((var, below)) => format!("`~/{}` (`${var}/{below}`)", t.home_path),
            None => format!("`~/{}`", t.home_path),
        };
        let copy = if t.follows_links {
            ""
        } else {
            " (gets a copy: it does not load linked folders)"
        };
        out.push_str(&format!(
            "| {} | {user} | `{}` | {}{copy} |\n",
            t.name, t.project_path, t.agents
        ));
    }
    out
}

/// The name of a folder given with `-o` instead of a target.
pub const DIR_TARGET: &str = "dir";

/// Why a target name is not known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown target {0:?}{hint}; known targets: {known}", hint = nearest(.0).map(|n| format!(" (did you mean {n:?}?)")).unwrap_or_default(), known = names().join(", "))]
pub struct UnknownTarget(pub String);

/// The target (or `dir`) whose name is closest to `name`, if it is close:
/// at most two edits away, and fewer than half of the name.
fn nearest(name: &str) -> Option<&'static str> {
    names()
        .into_iter()
        .chain([DIR_TARGET])
        .map(|n| (edit_distance(name, n), n))
        .filter(|(d, _)| *d <= 2 && *d * 2 < name.chars().count().max(1))
        .min()
        .map(|(_, n)| n)
}

/// Levenshtein distance (names are short).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

/// Every target name.
pub fn names() -> Vec<&'static str> {
    all().iter().map(|t| t.name).collect()
}

pub fn find(name: &str) -> Result<&'static Target, UnknownTarget> {
    all()
        .iter()
        .find(|t| t.name == name)
        .ok_or_else(|| UnknownTarget(name.to_string()))
}

impl Target {
    /// Where this target is: under `project` when given, else in the home
    /// folder (or where its variable points); the variable used, if any.
    pub fn resolve(
        &self,
        env: &TargetEnv,
        project: Option<&Path>,
    ) -> Option<(PathBuf, Option<&'static str>)> {
        if let Some(root) = project {
            return Some((root.join(self.project_path), None));
        }
        if let Some((var, below)) = self.env
            && let Some(dir) = env.vars.get(var)
        {
            return Some((dir.join(below), Some(var)));
        }
        env.home.as_ref().map(|h| (h.join(self.home_path), None))
    }

    /// The agent's own folder: below the home folder, or where its
    /// variable points (`XDG_CONFIG_HOME` stands for `~/.config`).
    pub fn agent_folder(&self, env: &TargetEnv) -> Option<PathBuf> {
        if let Some((var, _)) = self.env
            && let Some(dir) = env.vars.get(var)
        {
            return Some(match (var, self.detect.strip_prefix(".config/")) {
                ("XDG_CONFIG_HOME", Some(below)) => dir.join(below),
                ("XDG_CONFIG_HOME", None) => env.home.as_ref()?.join(self.detect),
                _ => dir.clone(),
            });
        }
        env.home.as_ref().map(|h| h.join(self.detect))
    }

    /// Whether the agent is installed here (its own folder exists).
    pub fn installed(&self, env: &TargetEnv) -> bool {
        self.agent_folder(env).is_some_and(|p| p.is_dir())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typo_gets_the_nearest_target() {
        for (typo, hint) in [
            ("claud", Some("claude")),
            ("cursr", Some("cursor")),
            ("agent", Some("agents")),
            ("xyz", None),
            ("d", None),
        ] {
            let message = find(typo).unwrap_err().to_string();
            match hint {
                Some(h) => assert!(
                    message.contains(&format!("did you mean {h:?}")),
                    "{message}"
                ),
                None => assert!(!message.contains("did you mean"), "{message}"),
            }
        }
    }

    fn env() -> TargetEnv {
        TargetEnv {
            home: Some("/h".into()),
            ..TargetEnv::default()
        }
    }

    #[test]
    fn home_paths() {
        let expected = [
            ("claude", "/h/.claude/skills"),
            ("agents", "/h/.agents/skills"),
            ("cursor", "/h/.cursor/skills"),
            ("windsurf", "/h/.codeium/windsurf/skills"),
            ("opencode", "/h/.config/opencode/skills"),
            ("openclaw", "/h/.openclaw/skills"),
            ("codex", "/h/.codex/skills"),
            ("gemini", "/h/.gemini/skills"),
            ("copilot", "/h/.copilot/skills"),
            ("goose", "/h/.config/goose/skills"),
        ];
        for (name, path) in expected {
            assert_eq!(
                find(name).unwrap().resolve(&env(), None).unwrap().0,
                Path::new(path),
                "{name}"
            );
        }
    }

    #[test]
    fn overrides_and_projects() {
        let e = TargetEnv {
            home: Some("/h".into()),
            vars: [
                ("CLAUDE_CONFIG_DIR", "/c"),
                ("XDG_CONFIG_HOME", "/x"),
                ("CODEX_HOME", "/cx"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), PathBuf::from(v)))
            .collect(),
        };
        assert_eq!(
            find("claude").unwrap().resolve(&e, None).unwrap(),
            (PathBuf::from("/c/skills"), Some("CLAUDE_CONFIG_DIR"))
        );
        assert_eq!(
            find("opencode").unwrap().resolve(&e, None).unwrap().0,
            Path::new("/x/opencode/skills")
        );
        assert_eq!(
            find("goose").unwrap().resolve(&e, None).unwrap().0,
            Path::new("/x/goose/skills")
        );
        assert_eq!(
            find("codex").unwrap().resolve(&e, None).unwrap().0,
            Path::new("/cx/skills")
        );
        let p = find("claude")
            .unwrap()
            .resolve(&e, Some(Path::new("/proj")))
            .unwrap();
        assert_eq!(p, (PathBuf::from("/proj/.claude/skills"), None));
        assert_eq!(
            find("copilot")
                .unwrap()
                .resolve(&e, Some(Path::new("/proj")))
                .unwrap()
                .0,
            Path::new("/proj/.github/skills")
        );
        assert!(
            find("nope")
                .unwrap_err()
                .to_string()
                .contains("known targets: claude, agents")
        );
        // Codex and OpenClaw read these in a project (their own sources).
        for (name, path) in [
            ("codex", "/proj/.agents/skills"),
            ("openclaw", "/proj/skills"),
        ] {
            assert_eq!(
                find(name)
                    .unwrap()
                    .resolve(&e, Some(Path::new("/proj")))
                    .unwrap()
                    .0,
                Path::new(path)
            );
        }
        // An agent's own folder follows its variable.
        assert_eq!(
            find("claude").unwrap().agent_folder(&e).unwrap(),
            Path::new("/c")
        );
        assert_eq!(
            find("opencode").unwrap().agent_folder(&e).unwrap(),
            Path::new("/x/opencode")
        );
        assert_eq!(
            find("kiro").unwrap().agent_folder(&e).unwrap(),
            Path::new("/h/.kiro")
        );
    }

    #[test]
    fn the_table_is_sound() {
        let all = all();
        assert!(all.len() >= 40, "{} targets", all.len());
        for t in all {
            assert!(!t.source.is_empty(), "{} cites its source", t.name);
            assert!(t.home_path.ends_with("skills"), "{}", t.name);
        }
        assert!(parse("- {name: a, agents: A, home: a, project: a, detect: a, source: s}\n- {name: a, agents: A, home: b, project: b, detect: b, source: s}").is_err());
        assert!(
            parse("- {name: a, agents: A, home: /abs, project: a, detect: a, source: s}").is_err()
        );
        assert!(
            parse("- {name: a, agents: A, home: ../up, project: a, detect: a, source: s}").is_err()
        );
        assert!(
            parse("- {name: a, agents: A, home: a, project: a, detect: a, source: s, extra: 1}")
                .is_err()
        );
    }
}
