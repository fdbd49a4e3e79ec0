//! The errors a newcomer meets first, each saying what to do: a typo in a
//! target name gets the nearest one; a filter by an unknown target is an
//! error, not an empty list; a skill folder that does not exist says so; a
//! reference without a registry says skilld adds none; a registry address
//! that answers with an HTML page (a proxy's login page) says that.

use skilld_tests::helper::Home;
use skilld_tests::helper::fake::FakeRegistry;

#[test]
fn first_mistakes_get_errors_that_say_what_to_do() {
    let home = Home::new();
    let run = home
        .skillc(&["install", "acme/tool:1", "-t", "claud"])
        .expect_code(1);
    assert!(
        run.stderr.contains("did you mean \"claude\""),
        "{}",
        run.stderr
    );
    let run = home.skillc(&["list", "-t", "cursr"]).expect_code(1);
    assert!(
        run.stderr.contains("did you mean \"cursor\""),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "no empty table: {}", run.stdout);

    let missing = home.root().join("my-skill");
    for command in ["build", "validate"] {
        let run = home
            .skillc(&[command, missing.to_str().unwrap()])
            .expect_code(1);
        assert!(
            run.stderr
                .contains("does not exist; give the folder that holds the skill's SKILL.md"),
            "{command}: {}",
            run.stderr
        );
    }

    let out = home.root().join("out");
    let run = home
        .skillc(&["install", "acme/tool:1", "-o", out.to_str().unwrap()])
        .expect_code(1);
    assert!(
        run.stderr
            .contains("names no registry, and skilld adds none"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("quay.io/acme/tool:1"), "{}", run.stderr);
}

#[test]
fn a_registry_address_answering_html_says_so() {
    let fake = FakeRegistry::start();
    fake.manifest(
        "acme/tool",
        "1.0.0",
        b"\n<!DOCTYPE html>\n<html><body>Please sign in to the proxy</body></html>\n",
    );
    let home = Home::new();
    let run = home
        .skillc(&["pull", &format!("{}/acme/tool:1.0.0", fake.host())])
        .expect_code(1);
    assert!(
        run.stderr.contains("answered with an HTML page"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("sign in"),
        "the page is not echoed: {}",
        run.stderr
    );
}
