//! The scan policy (`scan:` in config.yaml) and its enforcement on every
//! path that writes a skill: before an image reaches its target, its layers are
//! scanned (each once: findings are kept in the index by layer digest and
//! rule set), and findings at or above `block` that `allow` does not name
//! refuse the write (`unsafe_content`, nothing written, a `scan_refused`
//! event and a `refused` history entry by the caller).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use skilld_proto::events::EventKind;

use super::engine::{Limits, Report, Scanner};
use super::pulling::{self, Outcome, Scanning};
use super::rules::{self, Rules};
use super::unpacking::Job;
use super::{Finding, Severity};
use crate::image::reference::Reference;
use crate::image::unpack::Compression;
use crate::oci::Manifest;
use crate::state::State;
use crate::store::digest::Digest;

/// `scan:` as written in config.yaml.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScanConfig {
    /// Findings at or above this refuse a write: a severity, or `off`.
    pub block: String,
    /// Findings at or above this are reported with the install: a
    /// severity, or `off`.
    pub warn: String,
    /// Rule ids, or skill scopes (`quay.io/acme`, `quay.io/acme/tool`),
    /// whose findings never block.
    pub allow: Vec<String>,
    /// More rule files (relative to config.yaml's folder), in the shipped
    /// file's format; a rule with a shipped id replaces it.
    pub rules: Vec<PathBuf>,
    pub max_files: u64,
    pub max_file_bytes: u64,
    pub max_bytes: u64,
    #[serde(with = "humantime_serde")]
    pub max_time: Duration,
}

impl Default for ScanConfig {
    fn default() -> ScanConfig {
        let limits = Limits::default();
        ScanConfig {
            block: "critical".into(),
            warn: "high".into(),
            allow: Vec::new(),
            rules: Vec::new(),
            max_files: limits.max_files,
            max_file_bytes: limits.max_file_bytes,
            max_bytes: limits.max_bytes,
            max_time: limits.max_time,
        }
    }
}

/// The policy in force: levels parsed, rules checked (compiled when used).
#[derive(Debug, Clone)]
pub struct Policy {
    pub block: Option<Severity>,
    pub warn: Option<Severity>,
    pub allow: Vec<String>,
    pub rules: Arc<Rules>,
    pub limits: Limits,
}

impl Default for Policy {
    fn default() -> Policy {
        ScanConfig::default()
            .resolve(Path::new("/"))
            .expect("the default scan policy is valid")
    }
}

fn level(key: &str, text: &str) -> Result<Option<Severity>, String> {
    if text == "off" {
        return Ok(None);
    }
    Severity::parse(text).map(Some).ok_or_else(|| {
        format!("scan.{key} is {text:?}; write critical, high, medium, low, info or off")
    })
}

impl ScanConfig {
    /// Parse the levels and compile the rules (files relative to `base`).
    pub fn resolve(self, base: &Path) -> Result<Policy, String> {
        let mut texts = vec![("rules.yaml".to_string(), rules::SHIPPED.to_string())];
        for file in &self.rules {
            let path = base.join(file);
            let text = crate::user_file::read_regular_text(&path, 4 << 20)
                .map_err(|e| format!("scan.rules: cannot read {}: {e}", path.display()))?;
            texts.push((path.display().to_string(), text));
        }
        let policy = Policy {
            block: level("block", &self.block)?,
            warn: level("warn", &self.warn)?,
            allow: self.allow,
            rules: Arc::new(Rules::new(texts).map_err(|e| format!("scan.rules: {e}"))?),
            limits: Limits {
                max_files: self.max_files,
                max_file_bytes: self.max_file_bytes,
                max_bytes: self.max_bytes,
                max_time: self.max_time,
            },
        };
        // The check's compile serves the first scan; with none to come it
        // is only memory.
        if !policy.scans() {
            policy.rules.forget();
        }
        Ok(policy)
    }
}

impl Policy {
    /// Whether anything is scanned (`block: off` and `warn: off` turn
    /// scanning off).
    pub fn scans(&self) -> bool {
        self.block.is_some() || self.warn.is_some()
    }

    /// Compile the rules on a blocking thread, if they will be used and
    /// are not compiled: a request that writes a skill starts this as it
    /// arrives, so the compile runs beside its resolve and pull instead of
    /// before its unpack (after an idle spell the rules are dropped, so
    /// most installs a person starts would otherwise wait for it).
    pub fn prepare(&self) {
        if self.scans() && !self.rules.is_compiled() {
            let rules = Arc::clone(&self.rules);
            tokio::task::spawn_blocking(move || rules.get());
        }
    }

    /// Scans the layers of a pull as they download (none when the policy
    /// scans nothing); the reports wait in `scanning` for the install.
    pub fn scan_pulls<'a>(&self, scanning: &'a Scanning) -> Option<pulling::Scan<'a>> {
        self.scans().then(|| pulling::Scan {
            scanning,
            rules: Arc::clone(&self.rules),
            limits: self.limits,
        })
    }

    /// The compiled rules, compiled on a blocking thread if they are not
    /// (or waited for there, if [`Policy::prepare`] is compiling them).
    pub async fn compiled(&self) -> Arc<super::rules::RuleSet> {
        let rules = Arc::clone(&self.rules);
        match tokio::task::spawn_blocking(move || rules.get()).await {
            Ok(compiled) => compiled,
            Err(_) => self.rules.get(),
        }
    }

    /// Whether `allow` lets `finding` of a skill from `repository` pass.
    pub fn allowed(&self, finding: &Finding, repository: &str) -> bool {
        self.allow.iter().any(|a| {
            *a == finding.rule
                || repository == a
                || repository
                    .strip_prefix(a.as_str())
                    .is_some_and(|rest| rest.starts_with('/'))
        })
    }

    /// The findings at or above `warn` (all of them when `warn` is off: none).
    pub fn warnings(&self, findings: &[Finding]) -> Vec<Finding> {
        let Some(warn) = self.warn else {
            return Vec::new();
        };
        findings
            .iter()
            .filter(|f| Severity::parse(&f.severity).is_some_and(|s| s >= warn))
            .cloned()
            .collect()
    }

    /// The findings that refuse a write of a skill from `repository`.
    pub fn blocking(&self, findings: &[Finding], repository: &str) -> Vec<Finding> {
        let Some(block) = self.block else {
            return Vec::new();
        };
        findings
            .iter()
            .filter(|f| Severity::parse(&f.severity).is_some_and(|s| s >= block))
            .filter(|f| !self.allowed(f, repository))
            .cloned()
            .collect()
    }
}

/// A write refused by the scan policy.
#[derive(Debug, thiserror::Error)]
#[error(
    "{reference} is refused by the scan policy (scan.block: {block}): {}; nothing was written. Read the findings with `skillc scan {reference}`; if they are expected, add the rule ids or the skill's repository to scan.allow in config.yaml",
    describe(findings)
)]
pub struct Unsafe {
    pub reference: String,
    pub block: String,
    pub findings: Vec<Finding>,
}

fn describe(findings: &[Finding]) -> String {
    let mut shown: Vec<String> = findings
        .iter()
        .take(5)
        .map(|f| format!("{} ({}) at {}:{}", f.rule, f.severity, f.file, f.line))
        .collect();
    if findings.len() > 5 {
        shown.push(format!("and {} more", findings.len() - 5));
    }
    shown.join(", ")
}

/// Why a scan could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Unsafe(#[from] Unsafe),
    #[error("cannot scan: {0}")]
    Failed(String),
}

/// The cached reports of `manifest`'s layers, in order (none where a
/// layer was not scanned with these rules).
async fn cached(
    state: &State,
    policy: &Policy,
    manifest: &Manifest,
) -> Result<Vec<Option<Report>>, ScanError> {
    let keys: Vec<String> = manifest
        .layers
        .iter()
        .map(|l| l.digest.to_string())
        .collect();
    let fingerprint = policy.rules.fingerprint().to_string();
    state
        .index()
        .read(move |conn| {
            keys.iter()
                .map(|digest| crate::index::scans::get(conn, digest, &fingerprint))
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .await
        .map_err(|e| ScanError::Failed(e.to_string()))
}

/// Keep the reports of freshly scanned layers (by index in `manifest`).
async fn remember(
    state: &State,
    policy: &Policy,
    manifest: &Manifest,
    fresh: &[(usize, Report)],
) -> Result<(), ScanError> {
    let rows: Vec<(String, Report)> = fresh
        .iter()
        .filter_map(|(i, r)| Some((manifest.layers.get(*i)?.digest.to_string(), r.clone())))
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    let fingerprint = policy.rules.fingerprint().to_string();
    state
        .index()
        .write(move |conn| {
            for (digest, report) in &rows {
                crate::index::scans::put(conn, digest, &fingerprint, report)?;
            }
            Ok(())
        })
        .await
        .map_err(|e| ScanError::Failed(e.to_string()))
}

/// The layers' reports as one.
fn combine(parts: impl IntoIterator<Item = Report>) -> Report {
    let mut report = Report {
        complete: true,
        ..Report::default()
    };
    for part in parts {
        report.files += part.files;
        report.bytes += part.bytes;
        report.complete &= part.complete;
        report.findings.extend(part.findings);
    }
    report
}

/// The scans a pull began of `manifest`'s layers that `parts` lacks (by
/// index), taken for the caller to wait on.
fn begun(
    state: &State,
    policy: &Policy,
    manifest: &Manifest,
    parts: &[Option<Report>],
) -> Vec<(usize, Outcome)> {
    let fingerprint = policy.rules.fingerprint();
    manifest
        .layers
        .iter()
        .enumerate()
        .filter(|(i, _)| parts[*i].is_none())
        .filter_map(|(i, l)| Some((i, state.scanning().take(&l.digest, fingerprint)?)))
        .collect()
}

/// Which layers neither a cached report (`parts`) nor a scan a pull
/// `begun` covers, by index.
fn unscanned(parts: &[Option<Report>], begun: &[(usize, Outcome)]) -> Vec<bool> {
    (0..parts.len())
        .map(|i| parts[i].is_none() && !begun.iter().any(|(j, _)| *j == i))
        .collect()
}

/// Scan the layers `which` (by index) of `manifest` from the store.
async fn scan_stored(
    state: &State,
    policy: &Policy,
    manifest: &Manifest,
    which: Vec<usize>,
) -> Result<Vec<(usize, Report)>, ScanError> {
    if which.is_empty() {
        return Ok(Vec::new());
    }
    let layers: Vec<(usize, Digest, String)> = which
        .into_iter()
        .map(|i| {
            let layer = &manifest.layers[i];
            (i, layer.digest.clone(), layer.media_type.clone())
        })
        .collect();
    let policy = policy.clone();
    state
        .catalog()
        .blocking(move |store| {
            Ok(layers
                .into_iter()
                .map(|(i, digest, media_type)| {
                    scan_layer(store, &digest, &media_type, &policy).map(|r| (i, r))
                })
                .collect::<std::io::Result<Vec<_>>>())
        })
        .await
        .map_err(|e| ScanError::Failed(e.to_string()))?
        .map_err(|e| ScanError::Failed(e.to_string()))
}

/// The reports of the scans `begun` by a pull; a layer whose scan made
/// none (its thread let go) is scanned from the store.
async fn finish_begun(
    state: &State,
    policy: &Policy,
    manifest: &Manifest,
    begun: Vec<(usize, Outcome)>,
) -> Result<Vec<(usize, Report)>, ScanError> {
    let (mut done, mut again) = (Vec::new(), Vec::new());
    for (i, scan) in begun {
        let layer = &manifest.layers[i].digest;
        match pulling::outcome(scan).await {
            Some(report) => {
                tracing::debug!(%layer, "the layer was scanned as it downloaded");
                done.push((i, report));
            }
            None => {
                tracing::debug!(%layer, "the scan begun by the pull made no report: scanning the stored layer");
                again.push(i);
            }
        }
    }
    done.extend(scan_stored(state, policy, manifest, again).await?);
    Ok(done)
}

/// Scan the layers of `manifest` from the store, each once (cached by its
/// digest and the rule set; a scan a pull began is waited for): all their
/// findings.
pub async fn scan_image(state: &State, manifest: &Manifest) -> Result<Report, ScanError> {
    let policy = state.config().scan.clone();
    let mut parts = cached(state, &policy, manifest).await?;
    let begun = begun(state, &policy, manifest, &parts);
    let missing: Vec<usize> = (unscanned(&parts, &begun).into_iter().enumerate())
        .filter_map(|(i, left)| left.then_some(i))
        .collect();
    let mut fresh = finish_begun(state, &policy, manifest, begun).await?;
    fresh.extend(scan_stored(state, &policy, manifest, missing).await?);
    remember(state, &policy, manifest, &fresh).await?;
    for (i, report) in fresh {
        parts[i] = Some(report);
    }
    Ok(combine(parts.into_iter().flatten()))
}

/// Scan the folder `dir` under the policy's rules and caps, on a blocking
/// thread.
pub async fn scan_folder(policy: &Policy, dir: PathBuf) -> std::io::Result<Report> {
    let (rules, limits) = (Arc::clone(&policy.rules), policy.limits);
    tokio::task::spawn_blocking(move || {
        let rules = rules.get();
        let mut scanner = Scanner::new(&rules, limits);
        scanner.folder(&dir).map(|()| scanner.finish())
    })
    .await
    .map_err(std::io::Error::other)?
}

/// A scan to make while an image is unpacked: the layers' cached reports,
/// the scans a pull began, and the job for the rest (none when nothing is
/// left to scan on the way).
#[derive(Debug)]
pub struct Pending {
    parts: Vec<Option<Report>>,
    begun: Vec<(usize, Outcome)>,
    pub job: Option<Job>,
}

/// Before `manifest` is unpacked: what is cached and what to scan on the
/// way (none when the policy turns scanning off).
pub async fn before_unpack(
    state: &State,
    manifest: &Manifest,
) -> Result<Option<Pending>, ScanError> {
    let policy = &state.config().scan;
    if !policy.scans() {
        return Ok(None);
    }
    let parts = cached(state, policy, manifest).await?;
    let begun = begun(state, policy, manifest, &parts);
    let wanted = unscanned(&parts, &begun);
    let job = match wanted.contains(&true) {
        true => Some(Job {
            rules: policy.compiled().await,
            limits: policy.limits,
            wanted,
        }),
        false => None,
    };
    Ok(Some(Pending { parts, begun, job }))
}

/// Once `manifest` is unpacked with `pending`'s job, which scanned the
/// layers in `fresh`: keep those, and judge the whole by the policy (as
/// [`enforce`] does).
pub async fn after_unpack(
    state: &State,
    reference: &Reference,
    manifest: &Manifest,
    pending: Option<Pending>,
    fresh: Vec<(usize, Report)>,
    target: Option<&str>,
) -> Result<Report, ScanError> {
    let Some(Pending {
        mut parts, begun, ..
    }) = pending
    else {
        return Ok(Report::default());
    };
    let policy = &state.config().scan;
    let mut fresh = fresh;
    fresh.extend(finish_begun(state, policy, manifest, begun).await?);
    remember(state, policy, manifest, &fresh).await?;
    for (i, report) in fresh {
        if let Some(part) = parts.get_mut(i) {
            *part = Some(report);
        }
    }
    if parts.iter().any(Option::is_none) {
        return Err(ScanError::Failed("a layer was not scanned".into()));
    }
    judge(
        state,
        reference,
        combine(parts.into_iter().flatten()),
        target,
    )
}

/// Scan one layer blob of the store as the tar stream it holds.
fn scan_layer(
    store: &crate::store::Store,
    digest: &Digest,
    media_type: &str,
    policy: &Policy,
) -> std::io::Result<Report> {
    let rules = policy.rules.get();
    let mut scanner = Scanner::new(&rules, policy.limits);
    let blob = store
        .open_blob(digest)
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let read = match Compression::of(media_type) {
        Some(compression) => scanner.layer(blob, compression),
        // Not a tar layer (a collection's YAML, say): read as one file.
        None => scanner.file(&format!("layer {digest}"), &mut { blob }),
    };
    // A layer that is not the tar stream it says is a finding (an install
    // of it fails to unpack anyway); what was read before is kept.
    if let Err(e) = read {
        scanner.unreadable(&format!("layer {digest}"), &e.to_string());
    }
    Ok(scanner.finish())
}

/// Enforce the policy before `reference` (its `manifest`) is written to
/// disk: its findings, or the refusal (with a `scan_refused` event).
pub async fn enforce(
    state: &State,
    reference: &Reference,
    manifest: &Manifest,
    target: Option<&str>,
) -> Result<Report, ScanError> {
    if !state.config().scan.scans() {
        return Ok(Report::default());
    }
    let report = scan_image(state, manifest).await?;
    judge(state, reference, report, target)
}

/// The policy's verdict on `report` of `reference`: the report, or the
/// refusal (with a `scan_refused` event).
fn judge(
    state: &State,
    reference: &Reference,
    report: Report,
    target: Option<&str>,
) -> Result<Report, ScanError> {
    let policy = &state.config().scan;
    let blocking = policy.blocking(&report.findings, &reference.repository());
    if blocking.is_empty() {
        return Ok(report);
    }
    let refused = Unsafe {
        reference: reference.to_string(),
        block: policy.block.map(Severity::as_str).unwrap_or("off").into(),
        findings: blocking,
    };
    let mut event = crate::events::EventBus::event(EventKind::ScanRefused);
    event.skill = Some(reference.name().to_string());
    event.target = target.map(str::to_string);
    event.message = Some(refused.to_string());
    state.events().emit(event);
    Err(refused.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A request that will scan compiles the rules in the background as it
    /// arrives; a policy that scans nothing compiles nothing.
    #[tokio::test]
    async fn prepare_compiles_the_rules_beside_the_request() {
        let policy = Policy::default();
        assert!(policy.rules.is_compiled(), "the check's compile is kept");
        policy.rules.forget(); // as an idle daemon does
        policy.prepare();
        let waited = std::time::Instant::now();
        while !policy.rules.is_compiled() && waited.elapsed() < Duration::from_secs(30) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(policy.rules.is_compiled(), "compiled in the background");
        let compiled = policy.compiled().await;
        assert!(Arc::ptr_eq(&compiled, &policy.rules.get()), "not again");

        let off = ScanConfig {
            block: "off".into(),
            warn: "off".into(),
            ..ScanConfig::default()
        }
        .resolve(Path::new("/"))
        .unwrap();
        off.prepare();
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!off.rules.is_compiled(), "scanning off: nothing compiled");
    }

    fn finding(rule: &str, severity: &str) -> Finding {
        Finding {
            rule: rule.into(),
            severity: severity.into(),
            file: "SKILL.md".into(),
            line: 1,
            column: 1,
            text: String::new(),
            why: String::new(),
        }
    }

    #[test]
    fn block_allow_and_levels() {
        let policy = ScanConfig {
            block: "high".into(),
            allow: vec!["tools.unrestricted-bash".into(), "r.io/acme".into()],
            ..ScanConfig::default()
        }
        .resolve(Path::new("/"))
        .unwrap();
        let findings = [
            finding("exec.pipe-to-shell", "high"),
            finding("exfil.reads-keys", "medium"),
            finding("tools.unrestricted-bash", "critical"),
        ];
        let b = policy.blocking(&findings, "r.io/other/x");
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].rule, "exec.pipe-to-shell");
        assert!(policy.blocking(&findings, "r.io/acme/x").is_empty());
        assert_eq!(policy.blocking(&findings, "r.io/acmex/x").len(), 1);
        let off = ScanConfig {
            block: "off".into(),
            ..ScanConfig::default()
        }
        .resolve(Path::new("/"))
        .unwrap();
        assert!(off.blocking(&findings, "r.io/x").is_empty());
        assert!(
            ScanConfig {
                block: "severe".into(),
                ..ScanConfig::default()
            }
            .resolve(Path::new("/"))
            .unwrap_err()
            .contains("scan.block is \"severe\"")
        );
    }
}
