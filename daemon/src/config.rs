//! The daemon's configuration: `config.yaml`, parsed strictly.
//!
//! A missing file means defaults. An unknown key or a value of the wrong type
//! is an error naming the file, the line and the key: a typo in a security
//! setting must never be silently ignored. YAML is read with `serde_norway`,
//! the maintained fork of the archived `serde_yaml`, with the same API.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use skilld_proto::Paths;

/// Everything the daemon runs with: resolved paths and the file's settings.
#[derive(Debug, Clone)]
pub struct Config {
    pub paths: Paths,
    /// Exit after `limits.idle_timeout` without clients or work due soon
    /// (set for a daemon started by socket activation or by skillc).
    pub exit_when_idle: bool,
    pub limits: Limits,
    /// Caps on what `skillc build` packs.
    pub build: crate::image::walk::WalkLimits,
    /// Settings per registry host.
    pub registries: std::collections::BTreeMap<String, crate::registry::RegistryConfig>,
    /// Install settings.
    pub install: InstallConfig,
    /// Background upgrade checks.
    pub upgrades: UpgradeConfig,
    /// Which images may be written to disk (key paths resolved and checked).
    pub trust: crate::trust::policy::TrustConfig,
    /// What content scans block and warn about (rules compiled).
    pub scan: crate::scan::policy::Policy,
    /// What the catalog indexes, and how often.
    pub catalog: crate::catalog::CatalogConfig,
}

/// The on-disk shape of `config.yaml`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ConfigFile {
    limits: Limits,
    build: crate::image::walk::WalkLimits,
    registries: std::collections::BTreeMap<String, crate::registry::RegistryConfig>,
    install: InstallConfig,
    upgrades: UpgradeConfig,
    trust: crate::trust::policy::TrustConfig,
    scan: crate::scan::policy::ScanConfig,
    catalog: crate::catalog::CatalogConfig,
}

/// Background upgrade checks.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UpgradeConfig {
    /// Time between checks (±10% jitter).
    #[serde(with = "humantime_serde")]
    pub check_interval: Duration,
    /// The policy of installs that set none: auto, patch, minor, major, notify, pin.
    pub policy: String,
    /// Tag lists asked of one registry at once.
    pub concurrency: usize,
}

impl Default for UpgradeConfig {
    fn default() -> Self {
        UpgradeConfig {
            check_interval: Duration::from_secs(6 * 3600),
            policy: "minor".into(),
            concurrency: 4,
        }
    }
}

/// Install settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InstallConfig {
    /// The target an install uses when it names none; unset: the agents
    /// found on this machine (see [`crate::install::plan`]).
    pub default_target: Option<String>,
    /// How a skill installed into several targets is laid out: one copy
    /// linked into each (`link`), or a copy in each (`copy`).
    pub mode: skilld_proto::install::InstallMode,
}

impl Default for InstallConfig {
    fn default() -> Self {
        InstallConfig {
            default_target: None,
            mode: skilld_proto::install::InstallMode::Link,
        }
    }
}

/// Bounds on what one client can make the daemon do.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest request body accepted, in bytes; larger is refused with 413.
    pub max_body_bytes: u64,
    /// Most client connections served at once; more are refused with 503.
    pub max_connections: usize,
    /// Time a client has to send its request headers.
    #[serde(with = "humantime_serde")]
    pub header_timeout: Duration,
    /// Time a client has to send its request body.
    #[serde(with = "humantime_serde")]
    pub body_timeout: Duration,
    /// Time in-flight requests get to finish when the daemon stops.
    #[serde(with = "humantime_serde")]
    pub shutdown_grace: Duration,
    /// A daemon started on demand exits after this long with no client and
    /// no upgrade check due within it.
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 1024 * 1024,
            max_connections: 64,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(600),
        }
    }
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path}:{line}:{column}: {message} (fix or remove this key; see the README's configuration section)"
    )]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

impl Config {
    /// Read `paths.config_file`; a missing file gives the defaults.
    pub fn load(paths: Paths) -> Result<Config, ConfigError> {
        let path = &paths.config_file;
        let mut file = match crate::user_file::read_regular_text(path, 4 << 20) {
            Ok(text) => parse(path, &text)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => ConfigFile::default(),
            Err(source) => {
                return Err(ConfigError::Read {
                    path: path.clone(),
                    source,
                });
            }
        };
        file.registries =
            crate::registry::config::canonicalize(file.registries).map_err(|message| {
                ConfigError::Invalid {
                    path: path.clone(),
                    message,
                }
            })?;
        let base = path.parent().unwrap_or(Path::new("/"));
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .filter(|h| h.is_absolute());
        file.trust = file
            .trust
            .resolve(base, home.as_deref())
            .map_err(|message| ConfigError::Invalid {
                path: path.clone(),
                message,
            })?;
        let scan = file
            .scan
            .clone()
            .resolve(base)
            .map_err(|message| ConfigError::Invalid {
                path: path.clone(),
                message,
            })?;
        let catalog = file
            .catalog
            .clone()
            .resolve()
            .map_err(|message| ConfigError::Invalid {
                path: path.clone(),
                message,
            })?;
        Ok(Config {
            scan,
            catalog,
            paths,
            exit_when_idle: false,
            limits: file.limits,
            build: file.build,
            registries: file.registries,
            install: file.install,
            upgrades: file.upgrades,
            trust: file.trust,
        })
    }

    /// Where `skillc login` keeps credentials: `auth.json` beside config.yaml.
    pub fn login_file(&self) -> std::path::PathBuf {
        self.paths
            .config_file
            .parent()
            .unwrap_or(Path::new("."))
            .join("auth.json")
    }

    /// Defaults for `paths`, without reading any file.
    pub fn with_defaults(paths: Paths) -> Config {
        Config {
            paths,
            exit_when_idle: false,
            limits: Limits::default(),
            build: Default::default(),
            registries: Default::default(),
            install: InstallConfig::default(),
            upgrades: UpgradeConfig::default(),
            trust: Default::default(),
            scan: Default::default(),
            catalog: Default::default(),
        }
    }
}

fn parse(path: &Path, text: &str) -> Result<ConfigFile, ConfigError> {
    // An empty file or one holding only comments is an empty mapping.
    if text.lines().all(|l| {
        let l = l.trim();
        l.is_empty() || l.starts_with('#') || l == "---"
    }) {
        return Ok(ConfigFile::default());
    }
    let file: ConfigFile = serde_norway::from_str(text).map_err(|e| {
        let (line, column) = e
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((0, 0));
        let message = strip_location(&e.to_string());
        let (line, column) = refine_location(text, &message, line, column);
        ConfigError::Parse {
            path: path.to_path_buf(),
            line,
            column,
            message,
        }
    })?;
    validate(path, &file)?;
    Ok(file)
}

/// serde_norway places an error raised inside a map (a bad trust scope) at
/// the map's first key; when the message quotes the key at fault, point at
/// the line that holds it instead.
fn refine_location(text: &str, message: &str, line: usize, column: usize) -> (usize, usize) {
    let quoted = message
        .split_once(": \"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(key, _)| key);
    let Some(key) = quoted.filter(|k| !k.is_empty()) else {
        return (line, column);
    };
    text.lines()
        .enumerate()
        .skip(line.saturating_sub(1))
        .find_map(|(i, l)| l.find(key).map(|c| (i + 1, c + 1)))
        .unwrap_or((line, column))
}

/// serde_norway appends " at line L column C"; we print it in front instead.
fn strip_location(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

fn validate(path: &Path, file: &ConfigFile) -> Result<(), ConfigError> {
    let invalid = |message: &str| ConfigError::Invalid {
        path: path.to_path_buf(),
        message: message.to_string(),
    };
    if file.limits.max_connections == 0 {
        return Err(invalid("limits.max_connections must be at least 1"));
    }
    if let Some(default) = &file.install.default_target
        && crate::install::targets::find(default).is_err()
    {
        return Err(invalid(&format!(
            "install.default_target {:?} is not a target; known targets: {}",
            default,
            crate::install::targets::names().join(", ")
        )));
    }
    if crate::upgrade::policy::Policy::parse(&file.upgrades.policy).is_none() {
        return Err(invalid(&format!(
            "upgrades.policy {:?} is not a policy; use one of {}",
            file.upgrades.policy,
            crate::upgrade::policy::Policy::NAMES
        )));
    }
    if file.upgrades.check_interval < Duration::from_secs(1) || file.upgrades.concurrency == 0 {
        return Err(invalid(
            "upgrades.check_interval must be at least 1s and upgrades.concurrency at least 1",
        ));
    }
    if file.limits.max_body_bytes == 0 {
        return Err(invalid("limits.max_body_bytes must be at least 1"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<ConfigFile, ConfigError> {
        parse(Path::new("/h/config.yaml"), text)
    }

    #[test]
    fn empty_and_comment_only_files_are_defaults() {
        assert_eq!(parse_str("").unwrap(), ConfigFile::default());
        assert_eq!(
            parse_str("# nothing\n---\n").unwrap(),
            ConfigFile::default()
        );
    }

    #[test]
    fn durations_and_sizes_parse() {
        let file = parse_str("limits:\n  max_body_bytes: 2048\n  header_timeout: 250ms\n").unwrap();
        assert_eq!(file.limits.max_body_bytes, 2048);
        assert_eq!(file.limits.header_timeout, Duration::from_millis(250));
        assert_eq!(file.limits.body_timeout, Limits::default().body_timeout);
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let err = parse_str("limits:\n  max_body_bytes: 10\n  max_conections: 3\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("/h/config.yaml:3:"), "{err}");
        assert!(err.contains("max_conections"), "{err}");
    }

    #[test]
    fn unknown_top_level_key_is_refused() {
        let err = parse_str("limit:\n  max_body_bytes: 10\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("/h/config.yaml:1:"), "{err}");
        assert!(err.contains("unknown field `limit`"), "{err}");
    }

    #[test]
    fn wrong_type_names_line_and_key() {
        let err = parse_str("limits:\n  max_connections: lots\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("/h/config.yaml:2:"), "{err}");
        assert!(err.contains("max_connections"), "{err}");
    }

    #[test]
    fn trust_rules_are_parsed_strictly() {
        let err = parse_str("trust:\n  default: {type: signd}\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("/h/config.yaml:2:"), "{err}");
        assert!(err.contains("signd"), "{err}");
        let err = parse_str("trust:\n  scope:\n    quay.io: {type: reject}\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `scope`"), "{err}");
        let file =
            parse_str("trust:\n  scopes:\n    quay.io/acme: {type: signed, keys: [acme.pub]}\n")
                .unwrap();
        let reference = crate::image::reference::Reference::parse("quay.io/acme/review").unwrap();
        let applied = file.trust.rule_for(&reference);
        assert_eq!(applied.name, "scopes.\"quay.io/acme\"");
        let err = parse_str("trust:\n  scopes:\n    quay.io/acme: {type: reject}\n    127.0.0.1:5000/ACME: {type: reject}\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("/h/config.yaml:4:5:"), "{err}");
        assert!(err.contains("ACME"), "{err}");
        let err = parse_str("trust:\n  scopes:\n    127.0.0.1:5000/acme: {type: reject}\n    # the same registry\n    localhost:5000/acme: {type: accept}\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("/h/config.yaml:5:5:"), "{err}");
        assert!(err.contains("name the same scope"), "{err}");
    }

    #[test]
    fn zero_limits_are_refused() {
        let err = parse_str("limits:\n  max_connections: 0\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("max_connections must be at least 1"), "{err}");
    }
}
