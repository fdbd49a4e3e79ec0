//! docs/api.md stays true: every `curl` example in it is run, in order,
//! against a real daemon and registry, and the answer must carry every key
//! the documented answer shows (and the same error code, stream frame type
//! and event kind).

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;
use skilld_tests::helper::tools::{copy_tree, require, testdata};
use skilld_tests::helper::{Home, Registry, Variant};

/// (shell example, documented answer) pairs, in document order.
fn examples(doc: &str) -> Vec<(String, String)> {
    let mut blocks: Vec<(String, String)> = Vec::new();
    let mut lines = doc.lines();
    while let Some(line) = lines.next() {
        if let Some(lang) = line.strip_prefix("```")
            && !lang.is_empty()
        {
            let body: Vec<&str> = lines
                .by_ref()
                .take_while(|l| !l.starts_with("```"))
                .collect();
            blocks.push((lang.to_string(), body.join("\n")));
        }
    }
    let mut pairs = Vec::new();
    for window in blocks.windows(2) {
        if window[0].0 == "sh" && window[0].1.contains("curl") && window[1].0 == "json" {
            pairs.push((window[0].1.clone(), window[1].1.clone()));
        }
    }
    pairs
}

/// The method and path an example's `curl` asks for.
fn route_of(example: &str) -> Option<(String, String)> {
    let at = example.find("http://skilld")? + "http://skilld".len();
    let path: String = example[at..]
        .chars()
        .take_while(|c| !matches!(c, ' ' | '"' | '\'' | '?'))
        .collect();
    let method = if let Some(x) = example.find("-X ") {
        example[x + 3..].split_whitespace().next()?.to_string()
    } else if example.contains(" -d ") {
        "POST".into()
    } else {
        "GET".into()
    };
    Some((method, path))
}

/// Every key of `documented` is in `actual`, recursively.
fn check_keys(documented: &Value, actual: &Value, at: &str, failures: &mut Vec<String>) {
    match (documented, actual) {
        (Value::Object(doc), Value::Object(act)) => {
            for (key, value) in doc {
                match act.get(key) {
                    None => failures.push(format!("{at}.{key} is missing")),
                    Some(a) => check_keys(value, a, &format!("{at}.{key}"), failures),
                }
            }
        }
        (Value::Array(doc), Value::Array(act)) => {
            if let (Some(d), Some(a)) = (doc.first(), act.first()) {
                check_keys(d, a, &format!("{at}[0]"), failures);
            }
        }
        _ => {}
    }
}

#[test]
fn every_documented_example_answers_as_documented() {
    let bash = require("bash", "bash");
    require("curl", "curl");
    let doc =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/api.md"))
            .unwrap();
    let pairs = examples(&doc);
    assert!(pairs.len() >= 25, "found {} examples", pairs.len());
    let registry = Registry::start(Variant::Anonymous);
    let home = Home::new();
    let _daemon = home.start_daemon();
    let skill = home.root().join("skill").join("hello-world");
    copy_tree(&testdata().join("valid/hello-world"), &skill);
    let out = home.root().join("out");
    std::fs::create_dir_all(&out).unwrap();

    let mut failures = Vec::new();
    let mut answers = Vec::new();
    for (i, (example, documented)) in pairs.iter().enumerate() {
        let output = Command::new(&bash)
            .args(["-c", example])
            .env("SOCK", home.socket())
            .env("REGISTRY", registry.host())
            .env("SKILL", &skill)
            .env("OUT", &out)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let Some(last) = stdout.lines().rev().find(|l| !l.trim().is_empty()) else {
            failures.push(format!("example {i} printed nothing: {example}"));
            continue;
        };
        let actual: Value = match serde_json::from_str(last) {
            Ok(v) => v,
            Err(e) => {
                failures.push(format!("example {i} did not answer JSON ({e}): {last}"));
                continue;
            }
        };
        if let Some((method, path)) = route_of(example)
            && skilld_proto::routes::methods(&path).contains(&method.as_str())
        {
            answers.push(serde_json::json!({"method": method, "path": path, "value": actual}));
        }
        let documented: Value = serde_json::from_str(documented)
            .unwrap_or_else(|e| panic!("example {i}'s documented answer is not JSON: {e}"));
        let before = failures.len();
        check_keys(&documented, &actual, "", &mut failures);
        for pointer in ["/error/code", "/type", "/error/error/code", "/kind"] {
            if let Some(d) = documented.pointer(pointer)
                && actual.pointer(pointer) != Some(d)
            {
                failures.push(format!(
                    "{pointer}: documented {d}, got {:?}",
                    actual.pointer(pointer)
                ));
            }
        }
        if failures.len() > before {
            failures.push(format!("  ^ in example {i}: {example}\n    answer: {last}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    conforms_to_openapi(&home, &answers);
}

/// `answers` (`{method, path, value}`) each match the document's schema.
fn conforms_to_openapi(home: &Home, answers: &[Value]) {
    let routes: std::collections::HashSet<(&str, &str)> = answers
        .iter()
        .map(|a| (a["method"].as_str().unwrap(), a["path"].as_str().unwrap()))
        .collect();
    assert!(routes.len() >= 35, "only {} routes answered", routes.len());
    let file = home.root().join("answers.json");
    std::fs::write(&file, serde_json::to_vec(answers).unwrap()).unwrap();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let check = Command::new(require("python3", "python3"))
        .arg(root.join("fixtures/openapi_conformance.py"))
        .arg(root.join("../docs/openapi.json"))
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "answers that docs/openapi.json does not describe:\n{}{}\n(needs the python3 modules jsonschema and openapi-spec-validator: pip install jsonschema openapi-spec-validator)",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
}
