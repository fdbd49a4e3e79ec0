//! Searching the catalog: the query's words become an FTS5 expression
//! (each word quoted, so no text is ever read as query syntax), repositories
//! are ranked by bm25 over path, title, description and tags (an exact name
//! first), the filters narrow each repository's versions (in SQL), and
//! the version shown is the newest published one that passes them. Without
//! filters, each repository's shown version is read from the index, one
//! row per result.

use std::cmp::Ordering;
use std::collections::HashMap;

use skilld_proto::catalog::{CatalogSkill, SearchRequest, SearchResponse};
use skilld_proto::images::Lifecycle;

use rusqlite::Connection;

use crate::index::Index;
use crate::index::catalog::{Found, Version};

/// Results when the request sets no limit, and the most it may ask.
pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 1000;

/// The most words of a query used, and the longest word.
const MAX_WORDS: usize = 16;
const MAX_WORD: usize = 64;

/// The FTS5 expression for `query`: each word (letters and digits) a
/// quoted prefix, all required; None when it holds no word.
pub fn fts_query(query: &str) -> Option<String> {
    let words: Vec<String> = query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(MAX_WORDS)
        .map(|w| {
            let w: String = w.chars().take(MAX_WORD).collect::<String>().to_lowercase();
            format!("\"{w}\"*")
        })
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// The semver of a version (its annotation, else its tag; a leading `v`
/// allowed), for ordering.
fn semver_of(v: &Version) -> Option<semver::Version> {
    let parse = |s: &str| semver::Version::parse(s.strip_prefix('v').unwrap_or(s)).ok();
    v.entry
        .version
        .as_deref()
        .and_then(parse)
        .or_else(|| parse(&v.tag))
}

/// Whether `v` is a published release: a strict semver tag whose status is
/// `published` or unset.
fn published(v: &Version) -> bool {
    crate::image::lifecycle::release_version(&v.tag).is_some()
        && matches!(v.entry.status.as_deref(), None | Some("published"))
}

fn newer(a: &Version, b: &Version) -> Ordering {
    match (semver_of(a), semver_of(b)) {
        (Some(x), Some(y)) => x.cmp(&y).then_with(|| {
            // The same version: the release tag before a lifecycle tag.
            published(a).cmp(&published(b))
        }),
        (Some(_), None) => Ordering::Greater,
        (None, Some(_)) => Ordering::Less,
        (None, None) => b.tag.cmp(&a.tag),
    }
}

/// The version to show of `versions`: with `status`, the newest in that
/// state; else the newest published release, else the newest of any.
pub fn shown<'a>(versions: &[&'a Version], status: Option<Lifecycle>) -> Option<&'a Version> {
    let all = versions.iter().copied();
    match status {
        Some(s) => all
            .filter(|v| v.entry.status.as_deref() == Some(s.as_str()))
            .max_by(|a, b| newer(a, b)),
        None => all
            .clone()
            .filter(|v| published(v))
            .max_by(|a, b| newer(a, b))
            .or_else(|| all.max_by(|a, b| newer(a, b))),
    }
}

/// The last segment of a repository path (skillctl's `name`).
pub fn name_of(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Answer `request` from `found` (ranked repositories, each with the
/// versions that pass its filters) and where skills are installed.
pub fn answer(
    request: &SearchRequest,
    found: Vec<Found>,
    installed: &HashMap<String, Vec<String>>,
    refreshed_at: Option<String>,
) -> SearchResponse {
    let wanted = request.query.trim().to_lowercase();
    let limit = request.limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT) as usize;
    // Each repository's shown version first; only the results returned
    // are built.
    let mut hits: Vec<(bool, f64, &Found, &Version)> = Vec::new();
    for repo in &found {
        let passing: Vec<&Version> = repo.versions.iter().collect();
        let Some(v) = shown(&passing, request.status) else {
            continue;
        };
        let exact = !wanted.is_empty() && name_of(&repo.path) == wanted;
        hits.push((exact, repo.rank, repo, v));
    }
    // Exact names first; the rest keep the index's order (rank, or name).
    hits.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.total_cmp(&b.1)));
    let total = hits.len() as u64;
    let results = hits
        .into_iter()
        .take(limit)
        .map(|(_, _, repo, v)| {
            let repository = format!("{}/{}", repo.registry, repo.path);
            let e = &v.entry;
            CatalogSkill {
                reference: format!("{repository}:{}", v.tag),
                installed: installed.get(&repository).cloned().unwrap_or_default(),
                name: name_of(&repo.path).to_string(),
                repository,
                tag: v.tag.clone(),
                digest: v.digest.clone(),
                version: e.version.clone(),
                status: e.status.as_deref().and_then(Lifecycle::parse),
                display_name: e.display_name.clone(),
                description: e.description.clone(),
                namespace: e.namespace.clone(),
                license: e.license.clone(),
                compatibility: e.compatibility.clone(),
                tags: e.tags.clone(),
                authors: e.authors.clone(),
                versions: repo.count,
            }
        })
        .collect();
    SearchResponse {
        results,
        total,
        refreshed_at,
    }
}

/// Search the catalog in `index`.
pub async fn search(
    index: &Index,
    request: SearchRequest,
) -> Result<SearchResponse, crate::index::IndexError> {
    index.read(move |conn| search_in(conn, &request)).await
}

/// Answer `request` from the catalog tables of `conn`.
pub fn search_in(conn: &Connection, request: &SearchRequest) -> rusqlite::Result<SearchResponse> {
    search_page(conn, request, 0)
}

/// [`search_in`], the results after the first `offset` (a page of them).
pub fn search_page(
    conn: &Connection,
    request: &SearchRequest,
    offset: usize,
) -> rusqlite::Result<SearchResponse> {
    let fts = fts_query(&request.query);
    let installed = crate::index::catalog::installed(conn)?;
    let refreshed = crate::index::catalog::meta(conn, "refreshed_at")?;
    let filters = crate::index::catalog::Filters {
        status: request.status.map(Lifecycle::as_str),
        namespace: request.namespace.as_deref(),
        compatibility: request.compatibility.as_deref(),
        tags: &request.tags,
    };
    let limit = request.limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT) as usize;
    let wanted = request.query.trim().to_lowercase();
    let (found, total) =
        crate::index::catalog::search(conn, fts.as_deref(), &wanted, &filters, (limit, offset))?;
    let mut response = answer(request, found, &installed, refreshed);
    response.total = total;
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::entry::Entry;

    fn v(tag: &str, status: Option<&str>) -> Version {
        Version {
            tag: tag.into(),
            digest: format!("sha256:{tag}"),
            entry: Entry {
                skill: true,
                status: status.map(str::to_string),
                ..Entry::default()
            },
        }
    }

    #[test]
    fn query_text_is_never_syntax() {
        assert_eq!(fts_query("pdf"), Some("\"pdf\"*".into()));
        assert_eq!(
            fts_query("Code-Review NEAR(\"x\" OR y*)"),
            Some("\"code\"* \"review\"* \"near\"* \"x\"* \"or\"* \"y\"*".into())
        );
        assert_eq!(fts_query("  \"*^:()  "), None);
    }

    #[test]
    fn the_newest_published_version_is_shown() {
        let versions = [
            v("1.0.0", Some("published")),
            v("1.1.0-testing", Some("testing")),
            v("1.0.0-testing", Some("testing")),
            v("0.9.0", None),
            v("latest", Some("published")),
        ];
        let versions: Vec<&Version> = versions.iter().collect();
        assert_eq!(shown(&versions, None).unwrap().tag, "1.0.0");
        assert_eq!(
            shown(&versions, Some(Lifecycle::Testing)).unwrap().tag,
            "1.1.0-testing"
        );
        assert!(shown(&versions, Some(Lifecycle::Archived)).is_none());
        let drafts = [
            v("1.0.0-draft", Some("draft")),
            v("2.0.0-draft", Some("draft")),
        ];
        let drafts: Vec<&Version> = drafts.iter().collect();
        assert_eq!(shown(&drafts, None).unwrap().tag, "2.0.0-draft");
    }
}
