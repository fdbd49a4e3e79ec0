//! Content scanning: what a signature cannot tell. Rules are data
//! ([`rules`]: a shipped YAML file, and an organisation's own from
//! `scan.rules`), matched in linear time by the `regex` crate over every
//! file of a folder or of an image's layers read from the store, never
//! unpacked to disk ([`engine`]), as a pull downloads them ([`pulling`]) or
//! as an install unpacks them ([`unpacking`]), within caps on files, bytes and time
//! that end in a finding, not a hang. Reports print for a person, as JSON,
//! or (in skillc) as SARIF 2.1.0. [`policy`] enforces `scan.block` on every
//! path that writes a skill, with findings cached by layer digest.

pub mod engine;
pub mod policy;
pub mod pulling;
pub mod rules;
pub mod set;
pub mod unpacking;

use serde::{Deserialize, Serialize};

/// How bad a finding is, least to most.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    #[default]
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(text: &str) -> Option<Severity> {
        match text {
            "info" => Some(Severity::Info),
            "low" => Some(Severity::Low),
            "medium" => Some(Severity::Medium),
            "high" => Some(Severity::High),
            "critical" => Some(Severity::Critical),
            _ => None,
        }
    }
}

pub use skilld_proto::scan::Finding;

/// Findings per severity, most severe first: `1 critical, 2 medium`.
pub fn summary(findings: &[Finding]) -> String {
    let mut parts = Vec::new();
    for severity in [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ] {
        let n = findings
            .iter()
            .filter(|f| f.severity == severity.as_str())
            .count();
        if n > 0 {
            parts.push(format!("{n} {}", severity.as_str()));
        }
    }
    if parts.is_empty() {
        "no findings".into()
    } else {
        parts.join(", ")
    }
}
