//! `skillc scan DIR|REF`: findings for a person, as JSON, or as SARIF.

use std::path::Path;
use std::process::ExitCode;

use serde_json::{Value, json};
use skilld_proto::scan::{SCAN_ROUTE, ScanRequest, ScanResponse};

use crate::cli::{ScanFormat, SeverityArg};
use crate::ctx::Ctx;
use crate::error::ClientError;

fn rank(severity: &str) -> u8 {
    match severity {
        "critical" => 4,
        "high" => 3,
        "medium" => 2,
        "low" => 1,
        _ => 0,
    }
}

fn threshold(s: SeverityArg) -> u8 {
    match s {
        SeverityArg::Info => 0,
        SeverityArg::Low => 1,
        SeverityArg::Medium => 2,
        SeverityArg::High => 3,
        SeverityArg::Critical => 4,
    }
}

pub async fn scan(
    ctx: &Ctx,
    subject: &str,
    format: ScanFormat,
    fail_on: SeverityArg,
) -> Result<ExitCode, ClientError> {
    let path = Path::new(subject);
    let request = if path.is_dir() {
        ScanRequest {
            path: Some(
                std::path::absolute(path)
                    .map_err(|e| ClientError::Other(format!("cannot resolve {subject}: {e}")))?,
            ),
            reference: None,
        }
    } else {
        ScanRequest {
            path: None,
            reference: Some(subject.to_string()),
        }
    };
    let (r, answer): (ScanResponse, _) = ctx.post_streaming(SCAN_ROUTE, &request).await?;
    let failed = r
        .findings
        .iter()
        .any(|f| rank(&f.severity) >= threshold(fail_on));
    if ctx.cli.json || format == ScanFormat::Json {
        ctx.print_json(&answer);
    } else if format == ScanFormat::Sarif {
        println!(
            "{}",
            serde_json::to_string_pretty(&sarif(&r)).unwrap_or_default()
        );
    } else {
        for f in &r.findings {
            ctx.say(format!(
                "{:<8} {}  {}:{}:{}",
                f.severity.to_uppercase(),
                f.rule,
                f.file,
                f.line,
                f.column
            ));
            if !f.text.is_empty() {
                ctx.say(format!("         {}", f.text));
            }
            ctx.say(format!("         {}", f.why));
        }
        ctx.say(format!(
            "{}: {} ({} files, {} bytes{})",
            r.subject,
            r.summary,
            r.files,
            r.bytes,
            if r.complete { "" } else { "; incomplete" }
        ));
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The report as a SARIF 2.1.0 log: one run, one rule per rule id found.
pub fn sarif(r: &ScanResponse) -> Value {
    let level = |s: &str| match s {
        "critical" | "high" => "error",
        "medium" => "warning",
        _ => "note",
    };
    let score = |s: &str| match s {
        "critical" => "9.5",
        "high" => "8.0",
        "medium" => "5.5",
        "low" => "3.0",
        _ => "1.0",
    };
    let mut rules: Vec<Value> = Vec::new();
    let mut ids: Vec<&str> = Vec::new();
    for f in &r.findings {
        if !ids.contains(&f.rule.as_str()) {
            ids.push(&f.rule);
            rules.push(json!({
                "id": f.rule,
                "shortDescription": {"text": f.rule},
                "fullDescription": {"text": f.why},
                "defaultConfiguration": {"level": level(&f.severity)},
                "properties": {"security-severity": score(&f.severity), "tags": ["security"]},
            }));
        }
    }
    let results: Vec<Value> = r
        .findings
        .iter()
        .map(|f| {
            let mut location = json!({"artifactLocation": {"uri": f.file}});
            if f.line > 0 {
                location["region"] = json!({"startLine": f.line, "startColumn": f.column.max(1)});
            }
            json!({
                "ruleId": f.rule,
                "ruleIndex": ids.iter().position(|i| *i == f.rule).unwrap_or(0),
                "level": level(&f.severity),
                "message": {"text": if f.text.is_empty() { f.why.clone() } else { format!("{}: {}", f.why, f.text) }},
                "locations": [{"physicalLocation": location}],
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "skilld",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/skilld/skilld",
                "rules": rules,
            }},
            "results": results,
        }],
    })
}
