//! `skills.json` (what a project wants) and `skills.lock.json` (what it
//! resolved to), as arconia-io/arconia-cli writes them, read in
//! salaboy/skills-oci's variant too (its `additionalBasePaths` and
//! `additionalInstalledPaths`).
//!
//! skilld's additions sit in fields those tools ignore: `targets` in a
//! manifest entry, `signer` in a lock entry. Fields skilld does not know
//! are kept as they were when it rewrites a file. The lock is written
//! sorted by name, and its timestamps (`generatedAt`, each `installedAt`)
//! only move when what they date changed, so locking again when nothing
//! changed leaves the file byte for byte as it was.

use std::path::{Component, Path};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::ProjectError;

pub const MANIFEST: &str = "skills.json";
pub const LOCK: &str = "skills.lock.json";
/// The lock format skilld reads and writes.
pub const LOCKFILE_VERSION: u64 = 1;
/// Largest project file read.
const MAX_FILE: u64 = 4 * 1024 * 1024;

/// `skills.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub skills: Vec<Wanted>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One skill a project wants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Wanted {
    pub name: String,
    /// A repository, without tag or digest.
    pub source: String,
    /// A tag or version (`1.2.0`), a semver requirement (`^1.2`), or none
    /// for the newest published version.
    #[serde(default)]
    pub version: Option<String>,
    /// skilld: the targets it goes to besides `.agents/skills`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `skills.lock.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Lock {
    pub lockfile_version: u64,
    pub generated_at: String,
    pub skills: Vec<Locked>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// What one skill resolved to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Locked {
    pub name: String,
    /// The skill's folder, relative to the project root.
    pub path: String,
    pub source: LockedSource,
    pub installed_at: String,
    /// salaboy/skills-oci: where it is linked besides `path`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub additional_installed_paths: Vec<String>,
    /// skilld: the fingerprint of the key whose signature was verified
    /// when it was locked (a `signed` trust rule), checked again at sync.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
    /// skilld: the entries (by name) this skill needs, its SkillCard's
    /// `spec.dependencies` resolved. An entry skills.json does not list is
    /// there because another entry needs it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The exact artifact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LockedSource {
    pub registry: String,
    pub repository: String,
    pub tag: String,
    pub digest: String,
    /// `registry/repository:tag@digest`.
    #[serde(rename = "ref")]
    pub reference: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl LockedSource {
    pub fn new(registry: &str, repository: &str, tag: &str, digest: &str) -> LockedSource {
        LockedSource {
            registry: registry.to_string(),
            repository: repository.to_string(),
            tag: tag.to_string(),
            digest: digest.to_string(),
            reference: format!("{registry}/{repository}:{tag}@{digest}"),
            extra: Map::new(),
        }
    }

    /// `registry/repository`, as `skills.json` names it.
    pub fn repository_ref(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }
}

/// Read a project file; `None` when it does not exist.
fn read(path: &Path) -> Result<Option<String>, ProjectError> {
    match crate::user_file::read_regular_text(path, MAX_FILE) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ProjectError::Io {
            path: path.to_path_buf(),
            message: e.to_string(),
        }),
    }
}

/// A JSON error with its place in the file.
fn malformed(path: &Path, e: &serde_json::Error) -> ProjectError {
    ProjectError::Malformed {
        path: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        // The place is said once, before the message.
        message: e
            .to_string()
            .trim_end_matches(&format!(" at line {} column {}", e.line(), e.column()))
            .to_string(),
    }
}

impl Manifest {
    /// The project's `skills.json` (empty when there is none), checked.
    pub fn load(root: &Path) -> Result<Manifest, ProjectError> {
        let path = root.join(MANIFEST);
        let Some(text) = read(&path)? else {
            return Ok(Manifest::default());
        };
        let manifest: Manifest = serde_json::from_str(&text).map_err(|e| malformed(&path, &e))?;
        manifest.check(&path)?;
        Ok(manifest)
    }

    fn check(&self, path: &Path) -> Result<(), ProjectError> {
        let invalid = |message: String| ProjectError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let mut seen = std::collections::BTreeSet::new();
        for w in &self.skills {
            if !seen.insert(w.name.as_str()) {
                return Err(invalid(format!(
                    "{:?} is listed twice; keep one entry per skill",
                    w.name
                )));
            }
            if let Some(problem) = crate::skill::rules::name_problems(&w.name).first() {
                return Err(invalid(format!(
                    "{:?} is not a skill name: {problem}",
                    w.name
                )));
            }
            let reference = crate::image::reference::Reference::parse(&format!("{}:x", w.source))
                .ok()
                .filter(|r| r.registry.is_some() && !w.source.contains('@'));
            let tagged = w
                .source
                .rsplit('/')
                .next()
                .is_some_and(|last| last.contains(':'));
            if reference.is_none() || tagged {
                return Err(invalid(format!(
                    "the source of {:?} is {:?}; write a repository with its registry and without tag or digest (e.g. quay.io/acme/{}), and the version in \"version\"",
                    w.name, w.source, w.name
                )));
            }
            for t in &w.targets {
                crate::install::targets::find(t)
                    .map_err(|e| invalid(format!("{:?}: {e}", w.name)))?;
            }
            if let Some(bad) = Manifest::link_bases(w).into_iter().find(|b| !inside(b)) {
                return Err(invalid(format!(
                    "{:?} is to be linked into {bad:?}, which is not a folder inside the project",
                    w.name
                )));
            }
        }
        Ok(())
    }

    /// The folders (relative to the project) `wanted` is linked into
    /// besides `.agents/skills`: its targets' project folders (skilld's
    /// `targets`) and salaboy/skills-oci's `additionalBasePaths`, in order,
    /// each once.
    pub fn link_bases(wanted: &Wanted) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let targets = wanted
            .targets
            .iter()
            .filter_map(|t| crate::install::targets::find(t).ok())
            .map(|t| t.project_path.to_string());
        let raw = match wanted.extra.get("additionalBasePaths") {
            Some(Value::Array(paths)) => paths
                .iter()
                .filter_map(Value::as_str)
                .map(|p| p.trim_end_matches('/').to_string())
                .collect(),
            _ => Vec::new(),
        };
        for base in targets.chain(raw) {
            if base != ".agents/skills" && !out.contains(&base) {
                out.push(base);
            }
        }
        out
    }

    pub fn find(&self, name: &str) -> Option<&Wanted> {
        self.skills.iter().find(|w| w.name == name)
    }

    /// Write `skills.json` (2-space JSON, a final newline), atomically.
    pub fn save(&self, root: &Path) -> Result<(), ProjectError> {
        write(&root.join(MANIFEST), self)
    }
}

impl Lock {
    pub fn empty() -> Lock {
        Lock {
            lockfile_version: LOCKFILE_VERSION,
            generated_at: String::new(),
            skills: Vec::new(),
            extra: Map::new(),
        }
    }

    /// The project's lock, `None` when there is none; a version skilld
    /// does not know, an entry without its fields, or a `path` outside the
    /// project is refused.
    pub fn load(root: &Path) -> Result<Option<Lock>, ProjectError> {
        let path = root.join(LOCK);
        let Some(text) = read(&path)? else {
            return Ok(None);
        };
        // The version first: a newer format's other fields may not parse.
        let version = serde_json::from_str::<Value>(&text)
            .map_err(|e| malformed(&path, &e))?
            .get("lockfileVersion")
            .and_then(Value::as_u64);
        if version != Some(LOCKFILE_VERSION) {
            return Err(ProjectError::Invalid {
                path,
                message: format!(
                    "lockfileVersion {} is not one skilld knows (it reads and writes {LOCKFILE_VERSION}); a newer tool wrote it: update skilld, or lock again with `skillc lock`",
                    version.map_or_else(|| "(none)".to_string(), |v| v.to_string())
                ),
            });
        }
        let lock: Lock = serde_json::from_str(&text).map_err(|e| malformed(&path, &e))?;
        lock.check(&path)?;
        Ok(Some(lock))
    }

    fn check(&self, path: &Path) -> Result<(), ProjectError> {
        let invalid = |message: String| ProjectError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let mut seen = std::collections::BTreeSet::new();
        for l in &self.skills {
            if !seen.insert(l.name.as_str()) {
                return Err(invalid(format!("{:?} is locked twice", l.name)));
            }
            if let Some(problem) = crate::skill::rules::name_problems(&l.name).first() {
                return Err(invalid(format!(
                    "{:?} is not a skill name: {problem}",
                    l.name
                )));
            }
            for p in std::iter::once(&l.path).chain(&l.additional_installed_paths) {
                if !inside(p) {
                    return Err(invalid(format!(
                        "the path of {:?} is {p:?}, which is not a folder inside the project; write a relative path such as .agents/skills/{}",
                        l.name, l.name
                    )));
                }
                if Path::new(p).file_name().and_then(|n| n.to_str()) != Some(l.name.as_str()) {
                    return Err(invalid(format!(
                        "the path of {:?} is {p:?}; a skill's folder is named after it",
                        l.name
                    )));
                }
            }
            if crate::store::digest::Digest::parse(&l.source.digest).is_err() {
                return Err(invalid(format!(
                    "the digest of {:?} is {:?}, not sha256:<64 hex digits>",
                    l.name, l.source.digest
                )));
            }
        }
        Ok(())
    }

    pub fn find(&self, name: &str) -> Option<&Locked> {
        self.skills.iter().find(|l| l.name == name)
    }

    /// Write the lock, sorted by name; `previous` (the lock as it was)
    /// keeps its timestamps where nothing changed. Whether the file changed.
    pub fn save(mut self, root: &Path, previous: Option<&Lock>) -> Result<bool, ProjectError> {
        self.skills.sort_by(|a, b| a.name.cmp(&b.name));
        let now = now();
        for l in &mut self.skills {
            let same = previous
                .and_then(|p| p.find(&l.name))
                .filter(|p| p.source.digest == l.source.digest && p.path == l.path);
            l.installed_at = match same {
                Some(p) => p.installed_at.clone(),
                None => now.clone(),
            };
        }
        if let Some(p) = previous {
            let mut unchanged = p.clone();
            unchanged.skills.sort_by(|a, b| a.name.cmp(&b.name));
            unchanged.generated_at.clear();
            let mut candidate = self.clone();
            candidate.generated_at.clear();
            if unchanged == candidate {
                return Ok(false);
            }
        }
        self.generated_at = now;
        write(&root.join(LOCK), &self)?;
        Ok(true)
    }
}

/// Whether `p` is a relative path that stays inside the project.
fn inside(p: &str) -> bool {
    let path = Path::new(p);
    !p.is_empty()
        && path
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

/// Now, as both tools write it (RFC 3339, UTC).
fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// Write `value` as 2-space JSON with a final newline, through a
/// temporary file renamed into place (a crash leaves the old file).
fn write(path: &Path, value: &impl Serialize) -> Result<(), ProjectError> {
    let io = |e: std::io::Error| ProjectError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let mut text = serde_json::to_string_pretty(value).map_err(|e| ProjectError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    text.push('\n');
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut file = tempfile::NamedTempFile::new_in(&dir).map_err(io)?;
    std::io::Write::write_all(&mut file, text.as_bytes()).map_err(io)?;
    file.as_file().sync_all().map_err(io)?;
    file.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn fixture(tool: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../testdata/projects")
            .join(tool)
    }

    /// The fixtures with a real digest in place of the placeholders.
    fn project(tool: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for file in [MANIFEST, LOCK] {
            let text = std::fs::read_to_string(fixture(tool).join(file))
                .unwrap()
                .replace("@TONE_DIGEST@", &format!("sha256:{}", "a".repeat(64)))
                .replace("@REVIEW_DIGEST@", &format!("sha256:{}", "b".repeat(64)));
            std::fs::write(dir.path().join(file), text).unwrap();
        }
        dir
    }

    #[test]
    fn both_tools_files_read() {
        let arconia = project("arconia");
        let m = Manifest::load(arconia.path()).unwrap();
        assert_eq!(m.skills.len(), 2);
        assert_eq!(m.find("review").unwrap().version, None, "a null version");
        let lock = Lock::load(arconia.path()).unwrap().unwrap();
        assert_eq!(lock.find("review").unwrap().source.tag, "1.1.0");
        assert_eq!(lock.find("tone").unwrap().path, ".agents/skills/tone");

        let salaboy = project("skills-oci");
        let m = Manifest::load(salaboy.path()).unwrap();
        assert_eq!(
            Manifest::link_bases(m.find("tone").unwrap()),
            [".claude/skills", ".codex/skills", ".cursor/skills"]
        );
        let lock = Lock::load(salaboy.path()).unwrap().unwrap();
        assert_eq!(
            lock.find("tone").unwrap().additional_installed_paths,
            [
                ".claude/skills/tone",
                ".codex/skills/tone",
                ".cursor/skills/tone"
            ]
        );
    }

    #[test]
    fn relocking_the_same_is_byte_identical_and_unknown_fields_stay() {
        let dir = project("skills-oci");
        let lock = Lock::load(dir.path()).unwrap().unwrap();
        let before = std::fs::read(dir.path().join(LOCK)).unwrap();
        assert!(!lock.clone().save(dir.path(), Some(&lock)).unwrap());
        assert_eq!(std::fs::read(dir.path().join(LOCK)).unwrap(), before);
        // A change rewrites it, keeping what skilld does not know.
        let mut changed = lock.clone();
        changed.skills[0].source = LockedSource::new(
            "r.io",
            "a/tone",
            "1.1.0",
            &format!("sha256:{}", "c".repeat(64)),
        );
        changed.extra.insert("tool".into(), Value::from("x"));
        assert!(changed.save(dir.path(), Some(&lock)).unwrap());
        let again = Lock::load(dir.path()).unwrap().unwrap();
        assert_eq!(again.extra["tool"], "x");
        assert_eq!(
            again.skills[0].source.reference,
            format!("r.io/a/tone:1.1.0@sha256:{}", "c".repeat(64))
        );
        assert_ne!(again.skills[0].installed_at, "2026-11-30T09:20:05Z");
        assert_eq!(
            again.skills[0].additional_installed_paths.len(),
            3,
            "salaboy's field is kept"
        );
    }

    #[test]
    fn bad_files_are_refused_with_where_and_what() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(MANIFEST),
            "{\"skills\": [\n  {\"name\": \"a\",}\n]}",
        )
        .unwrap();
        let e = Manifest::load(dir.path()).unwrap_err().to_string();
        assert!(e.contains("skills.json:2:16: trailing comma"), "{e}");
        for (skills, why) in [
            (
                r#"[{"name":"a","source":"r.io/x/a"},{"name":"a","source":"r.io/x/a"}]"#,
                "listed twice",
            ),
            (
                r#"[{"name":"a","source":"r.io/x/a:1.0.0"}]"#,
                "without tag or digest",
            ),
            (r#"[{"name":"a","source":"x/a"}]"#, "with its registry"),
            (
                r#"[{"name":"a","source":"r.io/x/a","targets":["claud"]}]"#,
                "did you mean",
            ),
        ] {
            std::fs::write(
                dir.path().join(MANIFEST),
                format!("{{\"skills\": {skills}}}"),
            )
            .unwrap();
            let e = Manifest::load(dir.path()).unwrap_err().to_string();
            assert!(e.contains(why), "{skills}: {e}");
        }
        let digest = format!("sha256:{}", "a".repeat(64));
        for (entry, why) in [
            (r#"{"lockfileVersion": 2, "skills": []}"#.to_string(), "lockfileVersion 2"),
            (format!(r#"{{"lockfileVersion": 1, "generatedAt": "", "skills": [{{"name": "a", "path": "../a", "installedAt": "", "source": {{"registry": "r", "repository": "a", "tag": "1", "digest": "{digest}", "ref": ""}}}}]}}"#), "not a folder inside the project"),
            (format!(r#"{{"lockfileVersion": 1, "generatedAt": "", "skills": [{{"name": "a", "path": "/etc/a", "installedAt": "", "source": {{"registry": "r", "repository": "a", "tag": "1", "digest": "{digest}", "ref": ""}}}}]}}"#), "not a folder inside the project"),
            (r#"{"lockfileVersion": 1, "generatedAt": "", "skills": [{"name": "a", "path": ".agents/skills/a", "installedAt": "", "source": {"registry": "r", "repository": "a", "tag": "1", "digest": "md5:1", "ref": ""}}]}"#.to_string(), "not sha256"),
        ] {
            std::fs::write(dir.path().join(LOCK), &entry).unwrap();
            let e = Lock::load(dir.path()).unwrap_err().to_string();
            assert!(e.contains(why), "{entry}: {e}");
        }
    }
}
