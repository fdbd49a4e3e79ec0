//! Agent skill folders ("targets") and where they are, in the user's home
//! or under a project root. Environment overrides are honoured
//! (`CLAUDE_CONFIG_DIR`, `XDG_CONFIG_HOME`, `CODEX_HOME`); an empty or
//! relative value counts as unset.

use std::path::{Path, PathBuf};

/// The environment targets are resolved in, captured once.
#[derive(Debug, Clone, Default)]
pub struct TargetEnv {
    pub home: Option<PathBuf>,
    pub claude_config_dir: Option<PathBuf>,
    pub xdg_config_home: Option<PathBuf>,
    pub codex_home: Option<PathBuf>,
}

impl TargetEnv {
    pub fn from_process() -> TargetEnv {
        let abs = |k: &str| {
            std::env::var_os(k)
                .map(PathBuf::from)
                .filter(|p| p.is_absolute())
        };
        TargetEnv {
            home: abs("HOME"),
            claude_config_dir: abs("CLAUDE_CONFIG_DIR"),
            xdg_config_home: abs("XDG_CONFIG_HOME"),
            codex_home: abs("CODEX_HOME"),
        }
    }
}

/// A known target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub name: &'static str,
    pub agents: &'static str,
    /// Below the home folder, when no variable moves it.
    home_path: &'static str,
    /// The variable whose folder replaces `home_path`'s parent, and the
    /// path below it.
    env: Option<(&'static str, &'static str)>,
    /// Below a project root.
    project_path: &'static str,
}

/// Every target, in the order `skillc targets` lists them.
pub const TARGETS: &[Target] = &[
    Target {
        name: "claude",
        agents: "Claude Code",
        home_path: ".claude/skills",
        env: Some(("CLAUDE_CONFIG_DIR", "skills")),
        project_path: ".claude/skills",
    },
    Target {
        name: "agents",
        agents: "Codex, Cursor, Gemini, Copilot, OpenCode, Windsurf, OpenClaw",
        home_path: ".agents/skills",
        env: None,
        project_path: ".agents/skills",
    },
    Target {
        name: "cursor",
        agents: "Cursor",
        home_path: ".cursor/skills",
        env: None,
        project_path: ".cursor/skills",
    },
    Target {
        name: "windsurf",
        agents: "Windsurf",
        home_path: ".codeium/windsurf/skills",
        env: None,
        project_path: ".windsurf/skills",
    },
    Target {
        name: "opencode",
        agents: "OpenCode",
        home_path: ".config/opencode/skills",
        env: Some(("XDG_CONFIG_HOME", "opencode/skills")),
        project_path: ".opencode/skills",
    },
    Target {
        name: "openclaw",
        agents: "OpenClaw",
        home_path: ".openclaw/skills",
        env: None,
        project_path: ".openclaw/skills",
    },
    Target {
        name: "codex",
        agents: "Codex",
        home_path: ".codex/skills",
        env: Some(("CODEX_HOME", "skills")),
        project_path: ".codex/skills",
    },
    Target {
        name: "gemini",
        agents: "Gemini CLI",
        home_path: ".gemini/skills",
        env: None,
        project_path: ".gemini/skills",
    },
    Target {
        name: "copilot",
        agents: "GitHub Copilot",
        home_path: ".copilot/skills",
        env: None,
        project_path: ".github/skills",
    },
    Target {
        name: "goose",
        agents: "Goose",
        home_path: ".config/goose/skills",
        env: Some(("XDG_CONFIG_HOME", "goose/skills")),
        project_path: ".goose/skills",
    },
];

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
    TARGETS.iter().map(|t| t.name).collect()
}

pub fn find(name: &str) -> Result<&'static Target, UnknownTarget> {
    TARGETS
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
        if let Some((var, below)) = self.env {
            let value = match var {
                "CLAUDE_CONFIG_DIR" => env.claude_config_dir.as_ref(),
                "XDG_CONFIG_HOME" => env.xdg_config_home.as_ref(),
                "CODEX_HOME" => env.codex_home.as_ref(),
                _ => None,
            };
            if let Some(dir) = value {
                return Some((dir.join(below), Some(var)));
            }
        }
        env.home.as_ref().map(|h| (h.join(self.home_path), None))
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
            claude_config_dir: Some("/c".into()),
            xdg_config_home: Some("/x".into()),
            codex_home: Some("/cx".into()),
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
    }
}
