//! Catalog benchmark, on a loopback registry holding 1,000 skill
//! repositories × 5 versions (descriptions of 12 words drawn from a
//! 300-word vocabulary, 2 tags of 30, 10 namespaces):
//! - the first index (`skillc catalog refresh` on an empty catalog),
//!   target under 10 s, beside its floor: `curl` fetching the same 6,000
//!   URLs (the tag lists and manifests) over 8 connections at once;
//! - a refresh of the unchanged registry: the requests the registry's own
//!   access log records (target: the 1,000 tag lists and nothing else)
//!   and its time;
//! - search over 10,000 versions (1,000 repositories more pushed and
//!   indexed after the measures above): one query's answer from the daemon
//!   (`POST /v1/catalog/search` on its socket: connect, request, answer;
//!   target under 5 ms) and `skillc --json search` end to end (target under
//!   20 ms) beside `skillc --json status`, the client's own round trip;
//! - the team catalog server (`skilld catalog`, over the same index) under
//!   load: 50 clients, each on its own keep-alive connection, searching the
//!   web page (`GET /?q=…`, a third of them with a status or tag filter)
//!   back to back for 10 s (the server saturated: its throughput), and
//!   each once every 250 ms (50 people searching at once); the median and
//!   95th percentile of a search's answer (target under 50 ms), beside
//!   `/healthz` under the same load (the server's own floor) and one client
//!   alone. The load runs on the same 2 cores.
//!
//! Run (release binaries):
//!   cargo build --release --workspace && cargo bench -p skilld-tests --bench catalog

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::json;
use skilld_tests::helper::bench::{median, timed};
use skilld_tests::helper::generate::Rng;
use skilld_tests::helper::raw::{annotated_manifest, push_many};
use skilld_tests::helper::tools::require;
use skilld_tests::helper::{Home, Registry, Variant};

const REPOSITORIES: usize = 1000;
const VERSIONS: [&str; 5] = ["1.0.0", "1.1.0", "1.2.0", "2.0.0", "2.1.0-testing"];
const CONFIG: &[u8] =
    br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
const LAYER: &[u8] = b"not read by the catalog";
const ROUNDS: usize = 31;

fn vocabulary() -> Vec<String> {
    let stems = [
        "pdf",
        "review",
        "code",
        "test",
        "deploy",
        "kube",
        "docs",
        "sheet",
        "table",
        "chart",
        "mail",
        "invoice",
        "audit",
        "secure",
        "scan",
        "lint",
        "format",
        "build",
        "release",
        "ticket",
        "issue",
        "sql",
        "query",
        "graph",
        "design",
        "image",
        "video",
        "audio",
        "translate",
        "summary",
    ];
    let tails = ["", "s", "er", "ing", "ed", "or", "al", "ion", "ive", "ly"];
    stems
        .iter()
        .flat_map(|s| tails.iter().map(move |t| format!("{s}{t}")))
        .collect()
}

/// `REPOSITORIES` skills named `ns<N>/<prefix>-<R>`, each in `VERSIONS`.
fn skills(
    words: &[String],
    rng: &mut Rng,
    prefix: &str,
    first: usize,
) -> Vec<(String, String, Vec<u8>)> {
    let mut pick = |n: usize| (rng.next_u64() % n as u64) as usize;
    let mut items = Vec::new();
    for r in first..first + REPOSITORIES {
        let repo = format!("ns{}/{prefix}-{r:04}", r % 10);
        let description: Vec<&str> = (0..12).map(|_| words[pick(words.len())].as_str()).collect();
        let tags = json!([format!("t{}", pick(30)), format!("t{}", pick(30))]).to_string();
        for v in VERSIONS {
            let (version, status) = v.split_once('-').unwrap_or((v, "published"));
            let annotations = json!({
                "org.opencontainers.image.title": format!("Skill {r}"),
                "org.opencontainers.image.description": description.join(" "),
                "org.opencontainers.image.version": version,
                "org.opencontainers.image.vendor": format!("ns{}", r % 10),
                "io.skillimage.status": status,
                "io.skillimage.tags": tags,
            });
            items.push((
                repo.clone(),
                v.to_string(),
                annotated_manifest(CONFIG, LAYER, &annotations),
            ));
        }
    }
    items
}

/// One keep-alive client: GET each of `paths` in turn until `until`, one
/// every `every` (back to back when zero); the time of each answer
/// (seconds). With `unique`, each URL gets a parameter the server ignores
/// and never sees twice, so no answer comes from the pages it keeps.
fn client(
    addr: &str,
    paths: &[String],
    until: Instant,
    every: Duration,
    unique: Option<usize>,
) -> Vec<f64> {
    let stream = TcpStream::connect(addr).expect("connect");
    stream.set_nodelay(true).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    let mut times = Vec::new();
    let mut i = 0;
    let mut next = Instant::now();
    while Instant::now() < until {
        let mut path = paths[i % paths.len()].clone();
        if let Some(id) = unique {
            path.push_str(&format!("&n={id}.{i}"));
        }
        i += 1;
        if let Some(wait) = next.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        next += every;
        let start = Instant::now();
        write!(writer, "GET {path} HTTP/1.1\r\nhost: catalog\r\n\r\n").unwrap();
        let mut length = 0usize;
        let mut status = String::new();
        reader.read_line(&mut status).unwrap();
        assert!(status.contains(" 200 "), "{path}: {status}");
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        times.push(start.elapsed().as_secs_f64());
    }
    times
}

/// `clients` clients over `paths` for `duration`, each asking once every
/// `every` (back to back when zero; their starts spread over it): every
/// answer's time. `unique`: every URL asked once only (see [`client`]).
fn load(
    addr: &str,
    paths: &[String],
    clients: usize,
    duration: Duration,
    every: Duration,
    unique: bool,
) -> Vec<f64> {
    let until = Instant::now() + duration;
    let threads: Vec<_> = (0..clients)
        .map(|c| {
            let addr = addr.to_string();
            // Each client starts at a different query, at its own moment.
            let mut mine = paths.to_vec();
            mine.rotate_left(c % paths.len());
            let offset = every.mul_f64(c as f64 / clients as f64);
            std::thread::spawn(move || {
                std::thread::sleep(offset);
                client(&addr, &mine, until, every, unique.then_some(c))
            })
        })
        .collect();
    threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect()
}

fn percentile(mut values: Vec<f64>, p: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    values[((values.len() - 1) as f64 * p).round() as usize]
}

fn ms(s: f64) -> String {
    format!("{:.2} ms", s * 1e3)
}

fn main() {
    let curl = require("curl", "curl");
    let registry = Registry::start_logged(Variant::Anonymous);
    let host = registry.host();
    let words = vocabulary();
    let mut rng = Rng(0x5eed_cafe);
    let items = skills(&words, &mut rng, "skill", 0);
    let start = Instant::now();
    push_many(&host, &items, &[CONFIG, LAYER]);
    eprintln!(
        "pushed {} manifests in {:.1} s",
        items.len(),
        start.elapsed().as_secs_f64()
    );

    // The floor of the first index: the same URLs with curl, 8 at once.
    let list = tempfile::NamedTempFile::new().unwrap();
    let mut urls = String::new();
    for r in 0..REPOSITORIES {
        let repo = format!("ns{}/skill-{r:04}", r % 10);
        urls.push_str(&format!(
            "url = \"http://{host}/v2/{repo}/tags/list\"\noutput = \"/dev/null\"\n"
        ));
        for v in VERSIONS {
            urls.push_str(&format!(
                "url = \"http://{host}/v2/{repo}/manifests/{v}\"\noutput = \"/dev/null\"\n"
            ));
        }
    }
    std::fs::write(list.path(), urls).unwrap();
    let floor = timed(
        std::process::Command::new(&curl)
            .args(["-sf", "--parallel", "--parallel-max", "8", "-H"])
            .arg("Accept: application/vnd.oci.image.manifest.v1+json")
            .arg("-K")
            .arg(list.path()),
    );

    let user = Home::new();
    user.write_config(&format!(
        "catalog:\n  refresh_interval: 0s\n  sources:\n    - registry: {host}\n"
    ));
    let _daemon = user.start_daemon();
    let first = timed(user.command("skillc").args(["-q", "catalog", "refresh"]));

    println!("| measure | value | beside | target |");
    println!("|---|---|---|---|");
    println!(
        "| first index, {REPOSITORIES} repositories × {} versions | **{:.2} s** | curl, the same {} URLs, 8 at once: {:.2} s ({:.2}x) | under 10 s: {} |",
        VERSIONS.len(),
        first,
        REPOSITORIES * (VERSIONS.len() + 1),
        floor,
        first / floor,
        if first < 10.0 { "met" } else { "**not met**" }
    );

    let before = registry.requests().len();
    let again = timed(user.command("skillc").args(["-q", "catalog", "refresh"]));
    let asked: Vec<String> = registry.requests().into_iter().skip(before).collect();
    let tag_lists = asked.iter().filter(|l| l.contains("/tags/list")).count();
    let pages = asked.iter().filter(|l| l.contains("/v2/_catalog")).count();
    println!(
        "| refresh of {REPOSITORIES} unchanged repositories: requests | **{}** ({tag_lists} tag lists, {pages} catalog page, {} other) | - | the tag lists and nothing else: {} |",
        asked.len(),
        asked.len() - tag_lists - pages,
        if asked.len() == tag_lists + pages && tag_lists == REPOSITORIES {
            "met"
        } else {
            "**not met**"
        }
    );
    println!(
        "| refresh of {REPOSITORIES} unchanged repositories: time | {:.2} s | - | - |",
        again
    );

    // Twice the versions for the search.
    push_many(
        &host,
        &skills(&words, &mut rng, "more", REPOSITORIES),
        &[CONFIG, LAYER],
    );
    user.skillc(&["-q", "catalog", "refresh"]).expect_code(0);
    let versions = user
        .skillc(&["--json", "catalog", "refresh"])
        .expect_code(0)
        .json()["versions"]
        .as_u64()
        .unwrap();
    assert_eq!(versions as usize, 2 * REPOSITORIES * VERSIONS.len());

    // Search: single words and pairs from the vocabulary, a tag filter.
    let queries: Vec<serde_json::Value> = (0..ROUNDS)
        .map(|i| match i % 3 {
            0 => json!({"query": words[(i * 7) % words.len()]}),
            1 => json!({"query": format!("{} {}", words[(i * 11) % words.len()], words[(i * 13) % words.len()])}),
            _ => json!({"query": words[(i * 5) % words.len()], "tags": [format!("t{}", i % 30)]}),
        })
        .collect();
    let socket = user.socket();
    let mut daemon = Vec::new();
    let mut hits = Vec::new();
    for q in &queries {
        let body = serde_json::to_vec(q).unwrap();
        let start = Instant::now();
        let answer =
            skilld_tests::helper::http::request(&socket, "POST", "/v1/catalog/search", &body);
        daemon.push(start.elapsed().as_secs_f64());
        assert_eq!(answer.status, 200);
        hits.push(answer.json()["total"].as_u64().unwrap() as f64);
    }
    let mut client = Vec::new();
    let mut status = Vec::new();
    let mut ratios = Vec::new();
    for q in &queries {
        let words = q["query"].as_str().unwrap().to_string();
        let c = timed(user.command("skillc").args(["--json", "search", &words]));
        let s = timed(user.command("skillc").args(["--json", "status"]));
        client.push(c);
        status.push(s);
        ratios.push(c / s);
    }
    let d = median(daemon);
    let c = median(client);
    println!(
        "| search, {versions} versions: the daemon's answer (socket round trip) | **{}** | median {} matching skills of {} | under 5 ms: {} |",
        ms(d),
        median(hits),
        2 * REPOSITORIES,
        if d < 0.005 { "met" } else { "**not met**" }
    );
    println!(
        "| search, {versions} versions: `skillc --json search` | **{}** | `skillc --json status`: {} ({:.2}x) | under 20 ms: {} |",
        ms(c),
        ms(median(status)),
        median(ratios),
        if c < 0.020 { "met" } else { "**not met**" }
    );

    // The team catalog server over the same index, under 50 clients.
    let mut server = user.spawn_daemon(&["catalog", "--listen", "127.0.0.1:0"]);
    let addr = server.served_addr();
    let statuses = ["published", "testing"];
    let paths: Vec<String> = (0..60)
        .map(|i| match i % 3 {
            0 => format!("/?q={}", words[(i * 7) % words.len()]),
            1 => format!(
                "/?q={}&status={}",
                words[(i * 11) % words.len()],
                statuses[i % 2]
            ),
            _ => format!("/?q={}&tag=t{}", words[(i * 5) % words.len()], i % 30),
        })
        .collect();
    const CLIENTS: usize = 50;
    // One client alone: a search's own time on the page, no queue.
    let none = Duration::ZERO;
    let pace = Duration::from_millis(250);
    let health = load(
        &addr,
        &["/healthz".to_string()],
        CLIENTS,
        Duration::from_secs(5),
        none,
        false,
    );
    let row = |what: &str, times: Vec<f64>, secs: u64, beside: &str, target: bool| {
        let (p50, p95) = (
            percentile(times.clone(), 0.5),
            percentile(times.clone(), 0.95),
        );
        let verdict = match (target, p95 < 0.050) {
            (false, _) => "-",
            (true, true) => "under 50 ms: met",
            (true, false) => "under 50 ms: **not met**",
        };
        println!(
            "| catalog page search, {what} | **median {}, 95th percentile {}** ({} searches in {secs} s) | {beside} | {verdict} |",
            ms(p50),
            ms(p95),
            times.len(),
        );
    };
    // Each load twice: the 60 searches asked again and again (after the
    // first time, answered from the pages kept until the next refresh),
    // and every URL new (each search made: the server's real cost).
    for (kept, how) in [(true, "searches repeated"), (false, "every URL new")] {
        let unique = !kept;
        let alone = load(&addr, &paths, 1, Duration::from_secs(3), none, unique);
        let searches = load(
            &addr,
            &paths,
            CLIENTS,
            Duration::from_secs(10),
            none,
            unique,
        );
        // 50 people searching at once, each a search every 250 ms.
        let paced = load(
            &addr,
            &paths,
            CLIENTS,
            Duration::from_secs(10),
            pace,
            unique,
        );
        row(
            &format!("{CLIENTS} concurrent clients back to back, {how}, {versions} versions"),
            searches,
            10,
            &format!(
                "`/healthz` under the same load: median {}, 95th percentile {}",
                ms(percentile(health.clone(), 0.5)),
                ms(percentile(health.clone(), 0.95))
            ),
            true,
        );
        row(
            &format!(
                "{CLIENTS} concurrent clients each searching every 250 ms ({} a second offered), {how}",
                CLIENTS as f64 / pace.as_secs_f64()
            ),
            paced,
            10,
            "-",
            true,
        );
        row(&format!("one client alone, {how}"), alone, 3, "-", false);
    }
}
