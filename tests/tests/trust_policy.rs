//! The trust policy against a real registry: the most specific rule wins
//! on install; background upgrades and rollbacks are checked too; a refusal
//! writes nothing and leaves an event and a history row; `pull --verify`;
//! signatures travel with `save`/`load` to a site with no registry.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use skilld_tests::helper::skills::{
    history, installed, publish, version_of, wait_for_auto_refusal,
};
use skilld_tests::helper::tools::testdata;
use skilld_tests::helper::{Home, Registry, Run, Variant, wait_until};

/// A skill author's home: keys and signing need COSIGN_PASSWORD.
fn author() -> Home {
    Home::with_env(&[("COSIGN_PASSWORD", OsStr::new("correct horse"))])
}

/// A key pair `<root>/<name>.{key,pub}`; its fingerprint.
fn keygen(home: &Home, name: &str) -> (PathBuf, String) {
    let prefix = home.root().join(name);
    let made = home
        .skillc(&[
            "--json",
            "keygen",
            "--output-key-prefix",
            prefix.to_str().unwrap(),
        ])
        .expect_code(0)
        .json();
    (prefix, made["fingerprint"].as_str().unwrap().to_string())
}

fn sign(home: &Home, reference: &str, key: &Path) {
    home.skillc(&[
        "sign",
        reference,
        "--key",
        key.with_extension("key").to_str().unwrap(),
    ])
    .expect_code(0);
}

fn public(key: &Path) -> String {
    key.with_extension("pub").display().to_string()
}

/// `skillc [--json] install REFERENCE -o OUT`, to completion.
fn install(home: &Home, json: bool, reference: &str, out: &Path) -> Run {
    let mut args = vec!["install", reference, "-o", out.to_str().unwrap()];
    if json {
        args.insert(0, "--json");
    }
    home.skillc(&args)
}

/// Recent events (not followed), one JSON value per line.
fn events(home: &Home) -> Vec<Value> {
    home.skillc(&["--json", "events"])
        .expect_code(0)
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// A registry with `acme/tool:1.0.0` published and signed by `team`.
struct Signed {
    registry: Registry,
    acme: String,
    author: Home,
    key: PathBuf,
    fingerprint: String,
    /// A second key that signed nothing.
    other: PathBuf,
}

fn signed_tool() -> Signed {
    let registry = Registry::start(Variant::Anonymous);
    let acme = format!("{}/acme", registry.host());
    let author = author();
    let (key, fingerprint) = keygen(&author, "team");
    let (other, _) = keygen(&author, "other");
    publish(&author, &acme, "tool", "1.0.0", "published");
    sign(&author, &format!("{acme}/tool:1.0.0"), &key);
    Signed {
        registry,
        acme,
        author,
        key,
        fingerprint,
        other,
    }
}

#[test]
fn install_obeys_the_most_specific_rule_and_a_refusal_writes_nothing() {
    let registry = Registry::start(Variant::Anonymous);
    let host = registry.host();
    let acme = format!("{host}/acme");
    let author = author();
    let (key, fingerprint) = keygen(&author, "team");
    publish(&author, &acme, "signed", "1.0.0", "published");
    sign(&author, &format!("{acme}/signed:1.0.0"), &key);
    publish(&author, &acme, "unsigned", "1.0.0", "published");
    publish(&author, &acme, "experimental", "1.0.0", "published");
    publish(
        &author,
        &format!("{host}/untrusted"),
        "tool",
        "1.0.0",
        "published",
    );

    let user = Home::new();
    user.write_config(&format!(
        "trust:\n  default: {{type: accept}}\n  scopes:\n    {acme}: {{type: signed, keys: [{}]}}\n    {acme}/experimental: {{type: accept}}\n    {host}/untrusted: {{type: reject}}\n",
        public(&key)
    ));
    let out = user.root().join("skills");

    // Unsigned under a signed rule: refused, naming the rule; nothing written.
    let unsigned = format!("{acme}/unsigned:1.0.0");
    let run = install(&user, false, &unsigned, &out).expect_code(1);
    assert!(
        run.stderr
            .contains(&format!("trust rule scopes.\"{acme}\" (signed)")),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("it has no signatures"),
        "{}",
        run.stderr
    );
    assert!(!out.join("unsigned").exists());
    let images = user.skillc(&["--json", "images"]).expect_code(0).json();
    assert!(
        !images.to_string().contains("unsigned"),
        "a refused image stayed tagged: {images}"
    );
    let refused = install(&user, true, &unsigned, &out).expect_code(1).json();
    assert_eq!(refused["error"]["code"], "untrusted");
    assert_eq!(
        refused["error"]["details"]["rule"],
        format!("scopes.\"{acme}\"")
    );

    // Signed by the trusted key: installed, and the signer is recorded.
    install(&user, false, &format!("{acme}/signed:1.0.0"), &out).expect_code(0);
    assert!(out.join("signed/SKILL.md").is_file());
    assert_eq!(installed(&user, "signed")["signer"], fingerprint.as_str());
    let table = user.skillc(&["list"]).expect_code(0).stdout;
    assert!(table.lines().next().unwrap().contains("SIGNED"), "{table}");
    let short: String = fingerprint.chars().take(19).collect();
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("signed ") && l.contains(&short)),
        "{table}"
    );

    // The more specific accept rule wins over the namespace's signed rule.
    install(&user, false, &format!("{acme}/experimental:1.0.0"), &out).expect_code(0);
    assert_eq!(installed(&user, "experimental")["signer"], Value::Null);

    // A rejected namespace is refused before anything is fetched.
    let run = install(&user, false, &format!("{host}/untrusted/tool:1.0.0"), &out).expect_code(1);
    assert!(
        run.stderr
            .contains(&format!("trust rule scopes.\"{host}/untrusted\" (reject)")),
        "{}",
        run.stderr
    );
    assert!(!out.join("tool").exists());
    let images = user.skillc(&["--json", "images"]).expect_code(0).json();
    assert!(
        !images.to_string().contains("untrusted"),
        "a rejected image was fetched: {images}"
    );

    // A local build falls under the default rule (accept).
    user.skillc(&[
        "build",
        testdata().join("valid/hello-world").to_str().unwrap(),
    ])
    .expect_code(0);
    install(&user, false, "examples/hello-world:1.0.0-draft", &out).expect_code(0);

    // Each refusal left a history row and an event that say why.
    let refusals: Vec<Value> = history(&user)
        .into_iter()
        .filter(|e| e["outcome"] == "refused")
        .collect();
    assert_eq!(refusals.len(), 3, "{refusals:?}");
    assert!(
        refusals.iter().any(
            |e| e["skill"] == "unsigned" && e["message"].as_str().unwrap().contains("(signed)")
        )
    );
    assert!(
        refusals
            .iter()
            .any(|e| e["skill"] == "tool" && e["message"].as_str().unwrap().contains("(reject)"))
    );
    let kinds: Vec<Value> = events(&user)
        .into_iter()
        .filter(|e| e["kind"] == "trust_refused")
        .collect();
    assert_eq!(kinds.len(), 3, "{kinds:?}");
}

#[test]
fn background_upgrades_need_a_signature_and_rollback_checks_again() {
    let Signed {
        registry: _registry,
        acme,
        author,
        key,
        fingerprint,
        other,
    } = signed_tool();

    let user = Home::new();
    let policy = |key: &Path| {
        format!(
            "upgrades:\n  check_interval: 1s\ntrust:\n  default: {{type: signed, keys: [{}]}}\n",
            public(key)
        )
    };
    user.write_config(&policy(&key));
    user.skillc(&["install", &format!("{acme}/tool:1.0.0")])
        .expect_code(0);
    let skill_md = user.user_home().join(".agents/skills/tool/SKILL.md");
    assert!(skill_md.is_file());

    // An unsigned 1.1.0 is refused by the scheduler, and says so.
    publish(&author, &acme, "tool", "1.1.0", "published");
    let refusal = wait_for_auto_refusal(&user);
    assert_eq!(refusal["action"], "upgrade");
    assert_eq!(refusal["to_version"], "1.1.0");
    assert!(
        refusal["message"]
            .as_str()
            .unwrap()
            .contains("trust rule default (signed)"),
        "{refusal}"
    );
    assert!(
        events(&user)
            .iter()
            .any(|e| e["kind"] == "trust_refused" && e["to_version"] == "1.1.0")
    );
    assert_eq!(version_of(&user, "tool"), "1.0.0");
    // Said once, however many checks meet it again.
    for _ in 0..2 {
        user.skillc(&["check"]).expect_code(0);
    }
    let auto_refusals = history(&user)
        .iter()
        .filter(|e| e["actor"] == "auto" && e["outcome"] == "refused")
        .count();
    assert_eq!(auto_refusals, 1);
    // By hand too.
    let manual = user
        .skillc(&["--json", "upgrade", "tool"])
        .expect_code(1)
        .json();
    assert_eq!(manual["outcomes"][0]["result"], "untrusted", "{manual}");
    assert_eq!(version_of(&user, "tool"), "1.0.0");

    // Once signed, the next check upgrades it.
    sign(&author, &format!("{acme}/tool:1.1.0"), &key);
    wait_until("the signed upgrade", Duration::from_secs(30), || {
        version_of(&user, "tool") == "1.1.0"
    });
    assert_eq!(installed(&user, "tool")["signer"], fingerprint.as_str());

    // The policy now trusts another key: rolling back to 1.0.0 is refused,
    // and 1.1.0 stays in place.
    user.skillc(&["daemon", "stop"]).expect_code(0);
    user.write_config(&policy(&other));
    let run = user.skillc(&["rollback", "tool"]).expect_code(1);
    assert!(
        run.stderr.contains("trust rule default (signed)"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("no given key verifies"),
        "{}",
        run.stderr
    );
    assert_eq!(version_of(&user, "tool"), "1.1.0");
    assert!(skill_md.is_file());
}

#[test]
fn pull_verify_and_signatures_that_travel_to_an_air_gapped_site() {
    let Signed {
        mut registry,
        acme,
        author,
        key,
        fingerprint,
        other,
    } = signed_tool();
    publish(&author, &acme, "bare", "1.0.0", "published");
    let tool = format!("{acme}/tool:1.0.0");

    // No policy file: --verify --key alone decides.
    let ci = Home::new();
    let dir = |n: &str| ci.root().join(n);
    let pulled = ci
        .skillc(&[
            "--json",
            "pull",
            &tool,
            "--verify",
            "--key",
            &public(&key),
            "-o",
            dir("ok").to_str().unwrap(),
        ])
        .expect_code(0)
        .json();
    assert_eq!(pulled["signer"], fingerprint.as_str());
    assert!(dir("ok").join("tool/SKILL.md").is_file());
    let run = ci
        .skillc(&[
            "pull",
            &tool,
            "--verify",
            "--key",
            &public(&other),
            "-o",
            dir("wrong-key").to_str().unwrap(),
        ])
        .expect_code(1);
    assert!(
        run.stderr.contains("not verified by the given keys"),
        "{}",
        run.stderr
    );
    assert!(!dir("wrong-key").join("tool").exists());
    ci.skillc(&[
        "pull",
        &format!("{acme}/bare:1.0.0"),
        "--verify",
        "--key",
        &public(&key),
        "-o",
        dir("unsigned").to_str().unwrap(),
    ])
    .expect_code(1);
    assert!(!dir("unsigned").join("bare").exists());
    let usage = ci.skillc(&["pull", &tool, "--verify"]);
    assert_eq!(
        usage.code,
        Some(2),
        "--verify without --key is a usage error"
    );

    // A connected site with no policy pulls the image; `save` brings its
    // signatures from the registry into the archive.
    let connected = Home::new();
    connected.skillc(&["pull", &tool]).expect_code(0);
    let archive = connected.root().join("tool.tar");
    connected
        .skillc(&["save", &tool, "-o", archive.to_str().unwrap()])
        .expect_code(0);
    let archived = Run::of(
        std::process::Command::new("tar")
            .args(["-xOf"])
            .arg(&archive)
            .arg("index.json"),
    );
    let refs = |home: &Home| std::fs::read_to_string(home.store().join("index.json")).unwrap();
    assert!(refs(&connected).contains(".sig"), "{}", refs(&connected));
    assert!(
        archived.stdout.contains(".sig"),
        "the archive lacks the signatures: {}",
        archived.stdout
    );

    // The kept signature goes when its image goes.
    connected.skillc(&["rmi", &tool]).expect_code(0);
    connected.skillc(&["prune"]).expect_code(0);
    assert!(!refs(&connected).contains(".sig"), "{}", refs(&connected));

    // With the registry gone, an air-gapped site loads the archive and
    // verifies the signature that came in it.
    registry.stop();
    let airgapped = Home::new();
    airgapped.write_config(&format!(
        "trust:\n  default: {{type: signed, keys: [{}]}}\n",
        public(&key)
    ));
    airgapped
        .skillc(&["load", archive.to_str().unwrap()])
        .expect_code(0);
    let out = airgapped.root().join("s");
    install(&airgapped, false, &tool, &out).expect_code(0);
    assert!(out.join("tool/SKILL.md").is_file());
    assert_eq!(
        installed(&airgapped, "tool")["signer"],
        fingerprint.as_str()
    );

    // The store's signatures verify with no registry at all.
    let local = airgapped
        .skillc(&["--json", "verify", &tool, "--local", "--key", &public(&key)])
        .expect_code(0)
        .json();
    assert_eq!(local["signatures"][0]["fingerprint"], fingerprint.as_str());
    airgapped
        .skillc(&["verify", &tool, "--local", "--key", &public(&other)])
        .expect_code(1);
    airgapped
        .skillc(&[
            "build",
            testdata().join("valid/hello-world").to_str().unwrap(),
        ])
        .expect_code(0);
    let unsigned = airgapped
        .skillc(&[
            "verify",
            "examples/hello-world:1.0.0-draft",
            "--key",
            &public(&key),
        ])
        .expect_code(1);
    assert!(
        unsigned.stderr.contains("has no signatures"),
        "{}",
        unsigned.stderr
    );

    // The site's own registry gets the image with its signatures, and
    // verifies there.
    let inside = Registry::start(Variant::Anonymous);
    let mirrored = format!("{}/acme/tool:1.0.0", inside.host());
    let pushed = airgapped
        .skillc(&["--json", "push", &tool, &mirrored])
        .expect_code(0)
        .json();
    assert_eq!(
        pushed["signatures"].as_array().unwrap().len(),
        1,
        "{pushed}"
    );
    let verified = airgapped
        .skillc(&["--json", "verify", &mirrored, "--key", &public(&key)])
        .expect_code(0)
        .json();
    assert_eq!(
        verified["signatures"][0]["fingerprint"],
        fingerprint.as_str()
    );
    // Signatures the destination has are never replaced by the store's.
    sign(&author, &mirrored, &other);
    let again = airgapped
        .skillc(&["--json", "push", &tool, &mirrored])
        .expect_code(0)
        .json();
    assert_eq!(again["signatures"], serde_json::json!([]), "{again}");
    for k in [&key, &other] {
        airgapped
            .skillc(&["verify", &mirrored, "--key", &public(k)])
            .expect_code(0);
    }
}

#[test]
fn a_policy_whose_key_cannot_be_read_stops_the_daemon() {
    let home = Home::new();
    let missing = home.root().join("nowhere.pub");
    home.write_config(&format!(
        "trust:\n  default: {{type: accept}}\n  scopes:\n    quay.io/acme: {{type: signed, keys: [{}]}}\n",
        missing.display()
    ));
    let run = home.skillc(&["status"]).expect_code(1);
    assert!(
        run.stderr.contains("trust.scopes.\"quay.io/acme\"") && run.stderr.contains("nowhere.pub"),
        "{}",
        run.stderr
    );
}
