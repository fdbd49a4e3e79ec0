//! Catalog search inside the daemon: the index of 2,000 repositories × 5
//! versions (10,000 skill versions, descriptions of 12 words from a
//! 300-word vocabulary), searched with `catalog::search::search` as the
//! socket's handler calls it, beside the floor of the same FTS5 match
//! alone (`SELECT rowid FROM catalog_text WHERE catalog_text MATCH ?`).
//!
//! Run: `cargo bench -p skilld --bench catalog_search`
//! Prints the median per query of each and their ratio, and the median and
//! slowest of queries without and with a tag filter; target: search under
//! 5 ms per query. `SKILLD_BENCH_KEEP_INDEX=FILE` keeps the index it built
//! (for `EXPLAIN QUERY PLAN` in `sqlite3`).

use std::time::Instant;

use skilld::catalog::entry::Entry;
use skilld::index::Index;
use skilld::proto::catalog::SearchRequest;
use skilld::proto::images::Lifecycle;

const REPOSITORIES: usize = 2000;
const VERSIONS: [&str; 5] = ["1.0.0", "1.1.0", "1.2.0", "2.0.0", "2.1.0-testing"];
const QUERIES: usize = 80;

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

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let index = Index::open(&dir.path().join("index.db")).unwrap();
    let words = vocabulary();
    let mut seed = 0x5eed_cafe_u64;
    let mut pick = move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let mut repos = Vec::new();
    for r in 0..REPOSITORIES {
        let description: Vec<&str> = (0..12).map(|_| words[pick(words.len())].as_str()).collect();
        let tags = vec![format!("t{}", pick(30)), format!("t{}", pick(30))];
        let mut tagged = Vec::new();
        let mut new = Vec::new();
        for (i, v) in VERSIONS.iter().enumerate() {
            let (version, status) = v.split_once('-').unwrap_or((v, "published"));
            let digest = format!("sha256:{:064x}", r * 10 + i);
            new.push((
                digest.clone(),
                Entry {
                    skill: true,
                    version: Some(version.to_string()),
                    status: Some(status.to_string()),
                    display_name: Some(format!("Skill {r}")),
                    description: description.join(" "),
                    namespace: Some(format!("ns{}", r % 10)),
                    tags: tags.clone(),
                    ..Entry::default()
                },
            ));
            tagged.push((v.to_string(), digest));
        }
        repos.push((format!("ns{}/skill-{r:04}", r % 10), tagged, new));
    }
    runtime.block_on(async {
        index
            .write(move |conn| {
                let tx = conn.transaction()?;
                for (path, tags, new) in &repos {
                    let read = skilld::index::catalog::RepoRead {
                        tags_hash: "h",
                        tags,
                        new,
                        signed: &[],
                    };
                    skilld::index::catalog::write_repo(
                        &tx,
                        "registry.test",
                        path,
                        &read,
                        "2026-12-03T00:00:00Z",
                    )?;
                }
                tx.commit()
            })
            .await
            .unwrap();
    });
    // A quarter each: one word, two words, one word and a tag, one word
    // and a status (the catalog page's filters); a third of the single
    // words a bare stem (`pdf`), which as a prefix matches a third of the
    // catalog.
    let statuses = [Lifecycle::Published, Lifecycle::Testing];
    let word = |i: usize| {
        if (i / 4).is_multiple_of(3) {
            words[((i * 7) % 30) * 10].clone()
        } else {
            words[(i * 7) % words.len()].clone()
        }
    };
    let queries: Vec<SearchRequest> = (0..QUERIES)
        .map(|i| SearchRequest {
            query: match i % 4 {
                1 => format!(
                    "{} {}",
                    words[(i * 11) % words.len()],
                    words[(i * 13) % words.len()]
                ),
                _ => word(i),
            },
            tags: if i % 4 == 2 {
                vec![format!("t{}", i % 30)]
            } else {
                vec![]
            },
            status: (i % 4 == 3).then_some(statuses[i % 2]),
            ..SearchRequest::default()
        })
        .collect();
    let mut search = Vec::new();
    let mut plain = Vec::new();
    let mut filtered = Vec::new();
    let mut by_status = Vec::new();
    let mut floor = Vec::new();
    let mut ratios = Vec::new();
    let mut matched = Vec::new();
    runtime.block_on(async {
        for q in &queries {
            let fts = skilld::catalog::search::fts_query(&q.query).unwrap();
            let start = Instant::now();
            let n = index
                .read(move |conn| {
                    let mut stmt = conn.prepare_cached(
                        "SELECT rowid FROM catalog_text WHERE catalog_text MATCH ?1",
                    )?;
                    let rows = stmt.query_map([fts], |r| r.get::<_, i64>(0))?;
                    Ok(rows.count())
                })
                .await
                .unwrap();
            let f = start.elapsed().as_secs_f64();
            let start = Instant::now();
            let answer = skilld::catalog::search::search(&index, q.clone())
                .await
                .unwrap();
            let s = start.elapsed().as_secs_f64();
            matched.push(n as f64);
            let _ = answer.total;
            search.push(s);
            if q.tags.is_empty() && q.status.is_none() {
                plain.push(s);
            } else if q.status.is_some() {
                by_status.push(s);
            } else {
                filtered.push(s);
            }
            floor.push(f);
            ratios.push(s / f);
        }
    });
    if let Some(keep) = std::env::var_os("SKILLD_BENCH_KEEP_INDEX") {
        drop(index);
        std::fs::copy(dir.path().join("index.db"), keep).unwrap();
    }
    let s = median(search.clone());
    let max = |v: &[f64]| v.iter().copied().fold(0.0, f64::max) * 1e3;
    println!(
        "  without filters: median {:.3} ms, slowest {:.3} ms; with a tag filter: median {:.3} ms, slowest {:.3} ms; with a status filter: median {:.3} ms, slowest {:.3} ms",
        median(plain.clone()) * 1e3,
        max(&plain),
        median(filtered.clone()) * 1e3,
        max(&filtered),
        median(by_status.clone()) * 1e3,
        max(&by_status)
    );
    println!(
        "search over {} versions: median {:.3} ms per query (FTS5 match alone: {:.3} ms; ratio {:.2}x; median {} repositories matched) — target under 5 ms: {}",
        REPOSITORIES * VERSIONS.len(),
        s * 1e3,
        median(floor) * 1e3,
        median(ratios),
        median(matched),
        if s < 0.005 { "met" } else { "NOT MET" }
    );
}
