//! skillctl's catalog API (`skillctl serve`, redhat-et/skillimage
//! `internal/handler`), same paths, parameters, status codes and JSON:
//!
//! - `GET /api/v1/skills?q=&status=&namespace=&compatibility=&tags=a,b&page=&per_page=`:
//!   one row per tagged skill version, ordered by namespace, name and
//!   newest `created`, in `{data, pagination: {total, page, per_page}}`;
//!   `per_page` 1–100 (else 20), `page` from 1. `q` is a substring of the
//!   name, title or description (ASCII case ignored), the others exact;
//! - `GET /api/v1/skills/{ns}/{name}`: the newest version by `created`, as
//!   `{data}`; `…/versions`: all of them; `…/versions/{ver}/content`:
//!   the SKILL.md of that version as `text/markdown`;
//! - `POST /api/v1/sync`: 202 and a refresh started, or 409 while one runs;
//! - `GET /api/v1/collections`, `/api/v1/collections/{name}`;
//! - `GET /healthz`: `{"status":"ok"}`.
//!
//! `namespace` is the version's `org.opencontainers.image.vendor`, `name`
//! the last segment of its repository path, and `repository` the path
//! within its registry, as skillctl reads them. Errors are RFC 7807
//! `application/problem+json`. JSON is written as Go's encoder writes it
//! (`<`, `>`, `&` escaped, a newline at the end).

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Method, Response, StatusCode};
use serde::Serialize;

use super::content::{self, ContentError};
use super::{Reply, Site, Target};
use crate::index::catalog::{TagFilter, TagRow};

/// Rows a page holds when `per_page` is missing or out of range, and the
/// most it may ask.
const PER_PAGE: u64 = 20;
const MAX_PER_PAGE: u64 = 100;

/// One skill version (skillctl's `store.Skill`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Skill {
    pub repository: String,
    pub tag: String,
    pub digest: String,
    pub name: String,
    pub namespace: String,
    pub version: String,
    pub status: String,
    pub display_name: String,
    pub description: String,
    pub authors: String,
    pub license: String,
    pub tags_json: String,
    pub compatibility: String,
    pub word_count: u64,
    pub created: String,
    pub synced_at: String,
}

/// One collection (skillctl's `store.Collection`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Collection {
    pub repository: String,
    pub tag: String,
    pub digest: String,
    pub name: String,
    pub version: String,
    pub description: String,
    pub skills_json: String,
    pub created: String,
    pub synced_at: String,
}

#[derive(Serialize)]
struct Envelope<T: Serialize> {
    data: T,
    #[serde(skip_serializing_if = "Option::is_none")]
    pagination: Option<Pagination>,
}

#[derive(Serialize)]
struct Pagination {
    total: u64,
    page: u64,
    per_page: u64,
}

#[derive(Serialize)]
struct Message {
    message: &'static str,
}

/// `value` as Go's `json.Encoder` writes it: HTML characters escaped, a
/// newline after.
pub fn go_json<T: Serialize>(value: &T) -> Vec<u8> {
    let plain = serde_json::to_vec(value).unwrap_or_else(|_| b"null".to_vec());
    let mut out = Vec::with_capacity(plain.len() + 16);
    let mut i = 0;
    while i < plain.len() {
        match plain[i] {
            b'<' => out.extend_from_slice(b"\\u003c"),
            b'>' => out.extend_from_slice(b"\\u003e"),
            b'&' => out.extend_from_slice(b"\\u0026"),
            // U+2028 and U+2029 (E2 80 A8 / A9), as Go escapes them.
            0xE2 if plain.get(i + 1) == Some(&0x80)
                && matches!(plain.get(i + 2), Some(0xA8 | 0xA9)) =>
            {
                out.extend_from_slice(if plain[i + 2] == 0xA8 {
                    b"\\u2028"
                } else {
                    b"\\u2029"
                });
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    out.push(b'\n');
    out
}

fn reply(status: StatusCode, content_type: &str, body: Vec<u8>) -> Reply {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .header("x-content-type-options", "nosniff")
        .body(Full::new(Bytes::from(body)))
        .expect("a valid response")
}

fn json<T: Serialize>(status: StatusCode, value: &T) -> Reply {
    reply(status, "application/json", go_json(value))
}

/// An RFC 7807 problem, as skillctl writes it.
pub fn problem(status: StatusCode, title: &str, detail: &str) -> Reply {
    reply(
        status,
        "application/problem+json",
        go_json(&serde_json::json!({
            "detail": detail,
            "status": status.as_u16(),
            "title": title,
            "type": "about:blank",
        })),
    )
}

/// `GET /healthz`.
pub fn health() -> Reply {
    json(StatusCode::OK, &serde_json::json!({"status": "ok"}))
}

/// A request under `/api/v1/` (`rest` is the path after it).
pub async fn route(site: &Site, method: &Method, rest: &[&str], target: &Target) -> Reply {
    let outcome = match (method, rest) {
        (&Method::GET, ["skills"]) => list(site, target).await,
        (&Method::GET, ["skills", ns, name]) => latest(site, ns, name).await,
        (&Method::GET, ["skills", ns, name, "versions"]) => versions(site, ns, name).await,
        (&Method::GET, ["skills", ns, name, "versions", ver, "content"]) => {
            skill_md(site, ns, name, ver).await
        }
        (&Method::POST, ["sync"]) => Ok(sync(site)),
        (&Method::GET, ["collections"]) => Ok(json(
            StatusCode::OK,
            &Envelope {
                data: Vec::<Collection>::new(),
                pagination: None,
            },
        )),
        (&Method::GET, ["collections", _]) => Ok(problem(
            StatusCode::NOT_FOUND,
            "collection not found",
            "not found",
        )),
        (_, ["skills", ..] | ["sync"] | ["collections", ..]) => Ok(problem(
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed",
            &format!("{method} is not served here"),
        )),
        _ => Ok(problem(
            StatusCode::NOT_FOUND,
            "not found",
            "no such API path; see /api/v1/skills",
        )),
    };
    outcome.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "catalog query failed");
        problem(
            StatusCode::INTERNAL_SERVER_ERROR,
            "listing skills",
            &e.to_string(),
        )
    })
}

/// A version as skillctl's store row; `synced_at` is the last refresh.
pub fn skill(row: &TagRow, synced_at: &str) -> Skill {
    let e = &row.version.entry;
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    Skill {
        repository: row.path.clone(),
        tag: row.version.tag.clone(),
        digest: row.version.digest.clone(),
        name: super::super::search::name_of(&row.path).to_string(),
        namespace: text(&e.namespace),
        version: text(&e.version),
        status: text(&e.status),
        display_name: text(&e.display_name),
        description: e.description.clone(),
        authors: text(&e.authors),
        license: text(&e.license),
        tags_json: if e.tags.is_empty() {
            String::new()
        } else {
            serde_json::to_string(&e.tags).unwrap_or_default()
        },
        compatibility: text(&e.compatibility),
        word_count: e.word_count,
        created: text(&e.created),
        synced_at: if synced_at.is_empty() {
            row.checked_at.clone()
        } else {
            synced_at.to_string()
        },
    }
}

type Outcome = Result<Reply, crate::index::IndexError>;

async fn list(site: &Site, target: &Target) -> Outcome {
    // As skillctl: a page or per_page that is not a number is the default.
    let page = target.get("page").parse::<u64>().unwrap_or(1).max(1);
    let per_page = match target.get("per_page").parse::<u64>() {
        Ok(n) if (1..=MAX_PER_PAGE).contains(&n) => n,
        _ => PER_PAGE,
    };
    let tags: Vec<String> = match target.get("tags") {
        "" => Vec::new(),
        t => t.split(',').map(str::to_string).collect(),
    };
    let owned = [
        target.get("q"),
        target.get("status"),
        target.get("namespace"),
        target.get("compatibility"),
    ]
    .map(|s| (!s.is_empty()).then(|| s.to_string()));
    let (rows, total, synced) = site
        .readers()
        .read(move |conn| {
            let [q, status, namespace, compatibility] = &owned;
            let filter = TagFilter {
                query: q.as_deref(),
                status: status.as_deref(),
                namespace: namespace.as_deref(),
                compatibility: compatibility.as_deref(),
                tags: &tags,
            };
            let offset = (page - 1).saturating_mul(per_page);
            let rows = crate::index::catalog::list_tags(conn, &filter, per_page, offset)?;
            let total = crate::index::catalog::count_tags(conn, &filter)?;
            let synced = crate::index::catalog::meta(conn, "refreshed_at")?;
            Ok((rows, total, synced.unwrap_or_default()))
        })
        .await?;
    let data: Vec<Skill> = rows.iter().map(|r| skill(r, &synced)).collect();
    Ok(json(
        StatusCode::OK,
        &Envelope {
            data,
            pagination: Some(Pagination {
                total,
                page,
                per_page,
            }),
        },
    ))
}

/// Every version of `ns`/`name`, newest created first, and when the
/// catalog was refreshed.
async fn rows_of(
    site: &Site,
    ns: &str,
    name: &str,
) -> Result<(Vec<TagRow>, String), crate::index::IndexError> {
    let (ns, name) = (ns.to_string(), name.to_string());
    site.readers()
        .read(move |conn| {
            let rows = crate::index::catalog::tags_of_skill(conn, &ns, &name)?;
            let synced = crate::index::catalog::meta(conn, "refreshed_at")?;
            Ok((rows, synced.unwrap_or_default()))
        })
        .await
}

async fn latest(site: &Site, ns: &str, name: &str) -> Outcome {
    let (rows, synced) = rows_of(site, ns, name).await?;
    Ok(match rows.first() {
        Some(row) => json(
            StatusCode::OK,
            &Envelope {
                data: skill(row, &synced),
                pagination: None,
            },
        ),
        None => problem(StatusCode::NOT_FOUND, "skill not found", "not found"),
    })
}

async fn versions(site: &Site, ns: &str, name: &str) -> Outcome {
    let (rows, synced) = rows_of(site, ns, name).await?;
    if rows.is_empty() {
        return Ok(problem(
            StatusCode::NOT_FOUND,
            "skill not found",
            "skill not found",
        ));
    }
    let data: Vec<Skill> = rows.iter().map(|r| skill(r, &synced)).collect();
    Ok(json(
        StatusCode::OK,
        &Envelope {
            data,
            pagination: None,
        },
    ))
}

async fn skill_md(site: &Site, ns: &str, name: &str, ver: &str) -> Outcome {
    let (rows, _) = rows_of(site, ns, name).await?;
    if rows.is_empty() {
        return Ok(problem(
            StatusCode::NOT_FOUND,
            "skill not found",
            &format!("no versions for {ns}/{name}"),
        ));
    }
    let Some(row) = rows
        .iter()
        .find(|r| r.version.entry.version.as_deref() == Some(ver))
    else {
        return Ok(problem(
            StatusCode::NOT_FOUND,
            "version not found",
            &format!("version {ver} not found"),
        ));
    };
    Ok(
        match content::skill_md(site, &row.registry, &row.path, &row.version.digest).await {
            Ok(text) => reply(
                StatusCode::OK,
                "text/markdown; charset=utf-8",
                text.as_bytes().to_vec(),
            ),
            Err(e @ ContentError::Pull { .. }) => {
                problem(StatusCode::BAD_GATEWAY, "pull failed", &e.to_string())
            }
            Err(e @ ContentError::Missing { .. }) => {
                problem(StatusCode::NOT_FOUND, "SKILL.md not found", &e.to_string())
            }
            Err(e @ ContentError::Read { .. }) => problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error",
                &e.to_string(),
            ),
        },
    )
}

fn sync(site: &Site) -> Reply {
    if site.refresh_in_background() {
        json(
            StatusCode::ACCEPTED,
            &Envelope {
                data: Message {
                    message: "sync triggered",
                },
                pagination: None,
            },
        )
    } else {
        json(
            StatusCode::CONFLICT,
            &Envelope {
                data: Message {
                    message: "sync already in progress",
                },
                pagination: None,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_written_as_go_writes_it() {
        let out = go_json(&serde_json::json!({"d": "<b>&\u{2028}\u{2029}é"}));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"d\":\"\\u003cb\\u003e\\u0026\\u2028\\u2029é\"}\n"
        );
    }
}
