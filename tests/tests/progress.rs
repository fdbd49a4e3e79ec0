//! Progress of long operations: the daemon reports each blob of a pull or
//! push on its own (`item`: the config and the layer of a skill image, up
//! to four moving at once), and skillc draws one line per blob with bytes,
//! rate and time left on a terminal (a real pty, from util-linux `script`),
//! and nothing on a pipe, with `--json` or with `-q`.

use std::collections::BTreeMap;
use std::process::Command;

use skilld_tests::helper::http::request;
use skilld_tests::helper::raw::{digest, image_manifest, push};
use skilld_tests::helper::tools::require;
use skilld_tests::helper::{Home, Registry, Run, Variant};

/// Bytes no compressor shrinks (the registry stores them as given).
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 56) as u8
        })
        .collect()
}

/// An image of a config and a 12 MiB layer at `repo:1.0.0` (the skillimage
/// form: one layer); the config and layer, in manifest order. Pulled into
/// the store only, so the layer need not unpack.
fn push_image(host: &str, repo: &str) -> Vec<Vec<u8>> {
    let config = skilld_tests::helper::raw::PLAIN_CONFIG.to_vec();
    let layers: Vec<Vec<u8>> = vec![noise(1, 12 << 20)];
    let refs: Vec<&[u8]> = layers.iter().map(Vec::as_slice).collect();
    let manifest = image_manifest(&config, &refs);
    let mut blobs: Vec<&[u8]> = vec![&config];
    blobs.extend(refs.iter().copied());
    push(
        host,
        repo,
        "1.0.0",
        "application/vnd.oci.image.manifest.v1+json",
        &manifest,
        &blobs,
    );
    std::iter::once(config).chain(layers).collect()
}

/// Run `skillc ARGS` under a pseudo-terminal; everything it drew.
fn skillc_on_a_terminal(home: &Home, args: &[&str]) -> Run {
    require("script", "bsdutils");
    let mut line = shell_quote(
        &skilld_tests::helper::tools::bin("skillc")
            .display()
            .to_string(),
    );
    for arg in args {
        line.push(' ');
        line.push_str(&shell_quote(arg));
    }
    let mut cmd = Command::new("script");
    cmd.args(["-qefc", &line, "/dev/null"]);
    home.apply_env(&mut cmd);
    // A terminal wide enough for a whole line per blob.
    cmd.env("COLUMNS", "160").env("TERM", "xterm");
    Run::of(&mut cmd)
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[test]
fn a_pull_reports_each_blob_from_start_to_its_size() {
    let registry = Registry::start(Variant::Anonymous);
    let blobs = push_image(&registry.host(), "acme/layers");
    let home = Home::new();
    let _daemon = home.start_daemon();
    let body = serde_json::json!({"reference": format!("{}/acme/layers:1.0.0", registry.host())});
    let answer = request(
        &home.socket(),
        "POST",
        "/v1/pull",
        body.to_string().as_bytes(),
    );
    assert_eq!(answer.status, 200);
    let text = String::from_utf8(answer.body).unwrap();
    let frames: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(frames.last().unwrap()["type"], "result", "{text}");
    // Per blob: every frame's total, and the counts in order.
    let mut seen: BTreeMap<String, (Vec<u64>, Vec<u64>)> = BTreeMap::new();
    for frame in &frames[..frames.len() - 1] {
        assert_eq!(frame["type"], "progress");
        assert_eq!(frame["phase"], "pull");
        assert_eq!(frame["unit"], "bytes");
        let item = frame["item"]
            .as_str()
            .expect("each pull frame names its blob");
        let entry = seen.entry(item.to_string()).or_default();
        entry.0.push(frame["total"].as_u64().unwrap());
        entry.1.push(frame["current"].as_u64().unwrap());
    }
    let expected: BTreeMap<String, u64> = blobs
        .iter()
        .map(|b| (digest(b)[..19].to_string(), b.len() as u64))
        .collect();
    assert_eq!(
        seen.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>(),
        "one line per blob: {text}"
    );
    for (item, (totals, counts)) in &seen {
        let size = expected[item];
        assert!(totals.iter().all(|t| *t == size), "{item}: {totals:?}");
        assert_eq!(counts.first(), Some(&0), "{item} starts at 0");
        assert_eq!(counts.last(), Some(&size), "{item} ends at its size");
        assert!(
            counts.windows(2).all(|w| w[0] <= w[1]),
            "{item}: {counts:?}"
        );
    }
    assert_eq!(frames.last().unwrap()["value"]["fetched_blobs"], 2);
}

#[test]
fn a_terminal_gets_a_line_per_blob_with_rate_and_time_left_and_a_pipe_gets_none() {
    let registry = Registry::start(Variant::Anonymous);
    let blobs = push_image(&registry.host(), "acme/layers");
    let home = Home::new();
    let _daemon = home.start_daemon();
    let reference = format!("{}/acme/layers:1.0.0", registry.host());

    // On a pipe: the result on stdout, nothing drawn on stderr.
    let piped = home.skillc(&["pull", &reference]).expect_code(0);
    assert_eq!(piped.stderr, "", "nothing is drawn on a pipe");
    home.skillc(&["rmi", &reference]).expect_code(0);
    home.skillc(&["prune"]).expect_code(0);

    let drawn = skillc_on_a_terminal(&home, &["pull", &reference]);
    assert_eq!(drawn.code, Some(0), "{}", drawn.stdout);
    for blob in &blobs[1..] {
        let item = &digest(blob)[..19];
        assert!(
            drawn.stdout.contains(item),
            "a line for layer {item}: {}",
            drawn.stdout
        );
    }
    assert!(
        drawn.stdout.contains("MiB/s") || drawn.stdout.contains("KiB/s"),
        "a rate: {}",
        drawn.stdout
    );
    assert!(drawn.stdout.contains("left"), "time left: {}", drawn.stdout);
    assert!(
        drawn.stdout.contains("12.00 MiB"),
        "sizes in bytes: {}",
        drawn.stdout
    );

    // Pushed elsewhere: one line per blob again, under `push`.
    let copy = format!("{}/acme/copy:1.0.0", registry.host());
    home.skillc(&["tag", &reference, &copy]).expect_code(0);
    let pushed = skillc_on_a_terminal(&home, &["push", &copy]);
    assert_eq!(pushed.code, Some(0), "{}", pushed.stdout);
    for blob in &blobs[1..] {
        assert!(
            pushed.stdout.contains(&digest(blob)[..19]),
            "{}",
            pushed.stdout
        );
    }
    assert!(pushed.stdout.contains("push"), "{}", pushed.stdout);

    // `-q` and `--json` draw nothing, terminal or not.
    home.skillc(&["rmi", &reference]).expect_code(0);
    home.skillc(&["rmi", &copy]).expect_code(0);
    home.skillc(&["prune"]).expect_code(0);
    let quiet = skillc_on_a_terminal(&home, &["-q", "pull", &reference]);
    assert_eq!(quiet.code, Some(0), "{}", quiet.stdout);
    assert!(
        !quiet.stdout.contains("left"),
        "-q draws nothing: {}",
        quiet.stdout
    );
    home.skillc(&["rmi", &reference]).expect_code(0);
    home.skillc(&["prune"]).expect_code(0);
    let json = skillc_on_a_terminal(&home, &["--json", "pull", &reference]);
    assert_eq!(json.code, Some(0), "{}", json.stdout);
    assert!(
        !json.stdout.contains("left"),
        "--json draws nothing: {}",
        json.stdout
    );
    assert!(
        !json.stdout.contains("\u{1b}["),
        "no escape sequences with --json: {}",
        json.stdout
    );
}
