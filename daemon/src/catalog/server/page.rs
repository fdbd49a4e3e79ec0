//! The catalog's web page: plain server-rendered HTML and one stylesheet,
//! no script. `/` searches (the words of `q`, ranked as `skillc search`
//! ranks them, narrowed by status, tag, namespace and compatibility);
//! `/skill/REGISTRY/PATH[?tag=T]` shows one skill: its card, versions and
//! their signature state, SKILL.md rendered safely ([`super::markdown`]),
//! and the `skillc install` and Kubernetes image-volume snippets to copy.
//!
//! Every text from a registry is HTML-escaped where it is written, and
//! each page is sent with a Content-Security-Policy that allows no script,
//! no frame and nothing loaded from elsewhere.

use std::fmt::Write as _;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Response, StatusCode};
use skilld_proto::catalog::{CatalogSkill, SearchRequest};
use skilld_proto::images::Lifecycle;

use super::content::{self, Signature};
use super::{Reply, Site, Target};
use crate::collection::kube;
use crate::index::catalog::TagRow;

/// Results a page shows.
const SHOWN: u32 = 20;
/// The last page a search may ask for.
const MAX_PAGE: usize = 500;

/// What the browser may do with a page: show it and its stylesheet.
const POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const STYLESHEET: &str = include_str!("catalog.css");

/// `text` safe inside HTML text and double-quoted attributes.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// What is percent-encoded in a path segment or query value: all but
/// RFC 3986's unreserved characters.
const ENCODED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `text` as one URL path segment or query value.
fn enc(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, ENCODED).to_string()
}

fn html(status: StatusCode, body: impl Into<Bytes>) -> Reply {
    Response::builder()
        .status(status)
        .header("content-type", "text/html; charset=utf-8")
        .header("content-security-policy", POLICY)
        .header("x-content-type-options", "nosniff")
        .header("referrer-policy", "no-referrer")
        .header("x-frame-options", "DENY")
        .body(Full::new(body.into()))
        .expect("a valid response")
}

fn layout(title: &str, query: &str, main: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{title} · skilld catalog</title><link rel=\"stylesheet\" href=\"/static/catalog.css\"></head>\
<body><header><a class=\"home\" href=\"/\">skilld catalog</a>\
<form class=\"search\" action=\"/\" method=\"get\" role=\"search\">\
<input type=\"search\" name=\"q\" value=\"{query}\" placeholder=\"Search skills\" aria-label=\"Search skills\">\
<button type=\"submit\">Search</button></form></header>\n<main>{main}</main>\n\
<footer>Served by skilld. The same catalog answers skillctl's API at <a href=\"/api/v1/skills\">/api/v1/skills</a>.</footer>\
</body></html>\n",
        title = esc(title),
        query = esc(query),
    )
}

/// `GET /static/catalog.css`.
pub fn stylesheet() -> Reply {
    Response::builder()
        .header("content-type", "text/css; charset=utf-8")
        .header("cache-control", "max-age=3600")
        .header("x-content-type-options", "nosniff")
        .body(Full::new(Bytes::from_static(STYLESHEET.as_bytes())))
        .expect("a valid response")
}

pub fn not_found() -> Reply {
    html(
        StatusCode::NOT_FOUND,
        layout(
            "Not found",
            "",
            "<h1>Not found</h1><p>No such page. <a href=\"/\">Search the catalog</a>.</p>",
        ),
    )
}

pub fn method_not_allowed() -> Reply {
    html(
        StatusCode::METHOD_NOT_ALLOWED,
        layout(
            "Method not allowed",
            "",
            "<h1>Method not allowed</h1><p>The page is read with GET.</p>",
        ),
    )
}

fn failed(e: &dyn std::fmt::Display) -> Reply {
    tracing::warn!(error = %e, "catalog page failed");
    html(
        StatusCode::INTERNAL_SERVER_ERROR,
        layout(
            "Error",
            "",
            &format!(
                "<h1>The catalog could not answer</h1><p>{}</p>",
                esc(&e.to_string())
            ),
        ),
    )
}

const STATUSES: [Lifecycle; 5] = [
    Lifecycle::Published,
    Lifecycle::Testing,
    Lifecycle::Draft,
    Lifecycle::Deprecated,
    Lifecycle::Archived,
];

fn status_badge(status: Option<&str>) -> String {
    match status {
        Some(s) => format!("<span class=\"status {0}\">{0}</span>", esc(s)),
        None => String::new(),
    }
}

fn skill_link(registry: &str, path: &str, tag: Option<&str>) -> String {
    let mut url = format!("/skill/{}", enc(registry));
    for segment in path.split('/') {
        url.push('/');
        url.push_str(&enc(segment));
    }
    if let Some(tag) = tag {
        url.push_str("?tag=");
        url.push_str(&enc(tag));
    }
    url
}

/// `GET /?q=&status=&tag=&namespace=&compatibility=`.
pub async fn search(site: &Site, target: &Target) -> Reply {
    if let Some(page) = site.answers().get(&target.url) {
        return html(StatusCode::OK, page);
    }
    let generation = site.answers().generation();
    let query = target.get("q").to_string();
    let status = Lifecycle::parse(target.get("status"));
    let tags: Vec<String> = target
        .all("tag")
        .iter()
        .flat_map(|t| t.split(',').map(|s| s.trim().to_string()))
        .filter(|t| !t.is_empty())
        .collect();
    let text = |key: &str| Some(target.get(key).trim().to_string()).filter(|s| !s.is_empty());
    let request = SearchRequest {
        query: query.clone(),
        status,
        tags: tags.clone(),
        namespace: text("namespace"),
        compatibility: text("compatibility"),
        limit: Some(SHOWN),
    };
    let page = target
        .get("page")
        .parse::<usize>()
        .unwrap_or(1)
        .clamp(1, MAX_PAGE);
    let offset = (page - 1) * SHOWN as usize;
    let filters = filters_form(&request);
    let pager = pager_base(&request);
    let answer = match site
        .readers()
        .read(move |conn| crate::catalog::search::search_page(conn, &request, offset))
        .await
    {
        Ok(answer) => answer,
        Err(e) => return failed(&e),
    };
    let mut main = filters;
    let total = answer.total;
    let first = offset + 1;
    let last = offset + answer.results.len();
    let _ = write!(
        main,
        "<p class=\"count\" id=\"count\">{}</p>",
        match total {
            0 if answer.refreshed_at.is_none() =>
                "The catalog has not been read from its registries yet; try again in a minute."
                    .to_string(),
            0 => "No skill matches.".to_string(),
            1 => "1 skill".to_string(),
            n if n > u64::from(SHOWN) && last >= first =>
                format!("{n} skills; {first}–{last} shown"),
            n if n > u64::from(SHOWN) => format!("{n} skills; none on page {page}"),
            n => format!("{n} skills"),
        }
    );
    main.push_str("<ol class=\"results\">");
    for found in &answer.results {
        main.push_str(&result(found));
    }
    main.push_str("</ol>");
    if page > 1 || (last as u64) < total {
        main.push_str("<nav class=\"pages\">");
        if page > 1 {
            let _ = write!(
                main,
                "<a rel=\"prev\" href=\"{}\">← Previous</a> ",
                esc(&format!("{pager}page={}", page - 1))
            );
        }
        if (last as u64) < total && page < MAX_PAGE {
            let _ = write!(
                main,
                "<a rel=\"next\" href=\"{}\">Next →</a>",
                esc(&format!("{pager}page={}", page + 1))
            );
        }
        main.push_str("</nav>");
    }
    if let Some(at) = &answer.refreshed_at {
        let _ = write!(main, "<p class=\"refreshed\">Catalog read {}.</p>", esc(at));
    }
    let title = if query.is_empty() {
        "Skills".to_string()
    } else {
        format!("{query} — search")
    };
    let page = Bytes::from(layout(&title, &query, &main));
    site.answers().put(&target.url, generation, page.clone());
    html(StatusCode::OK, page)
}

/// The search's URL, ready for `page=N` to be appended.
fn pager_base(request: &SearchRequest) -> String {
    let mut url = format!("/?q={}", enc(&request.query));
    if let Some(s) = request.status {
        url.push_str(&format!("&status={}", s.as_str()));
    }
    for t in &request.tags {
        url.push_str(&format!("&tag={}", enc(t)));
    }
    if let Some(ns) = &request.namespace {
        url.push_str(&format!("&namespace={}", enc(ns)));
    }
    if let Some(c) = &request.compatibility {
        url.push_str(&format!("&compatibility={}", enc(c)));
    }
    url.push('&');
    url
}

fn filters_form(request: &SearchRequest) -> String {
    let mut out =
        String::from("<form class=\"filters\" action=\"/\" method=\"get\" aria-label=\"Filters\">");
    let _ = write!(
        out,
        "<input type=\"hidden\" name=\"q\" value=\"{}\"><label>Status <select name=\"status\"><option value=\"\">any</option>",
        esc(&request.query)
    );
    for s in STATUSES {
        let _ = write!(
            out,
            "<option value=\"{0}\"{1}>{0}</option>",
            s.as_str(),
            if request.status == Some(s) {
                " selected"
            } else {
                ""
            }
        );
    }
    let _ = write!(
        out,
        "</select></label> <label>Tag <input name=\"tag\" value=\"{}\" size=\"12\"></label> \
<label>Namespace <input name=\"namespace\" value=\"{}\" size=\"12\"></label> \
<label>Compatibility <input name=\"compatibility\" value=\"{}\" size=\"12\"></label> \
<button type=\"submit\">Filter</button></form>",
        esc(&request.tags.join(",")),
        esc(request.namespace.as_deref().unwrap_or("")),
        esc(request.compatibility.as_deref().unwrap_or("")),
    );
    out
}

fn result(found: &CatalogSkill) -> String {
    let (registry, path) = found
        .repository
        .split_once('/')
        .unwrap_or((found.repository.as_str(), ""));
    let title = found.display_name.as_deref().unwrap_or(&found.name);
    let mut out = format!(
        "<li class=\"result\"><h2><a href=\"{link}\">{name}</a></h2> <span class=\"title\">{title}</span> \
<span class=\"version\">{version}</span> {status}<p class=\"description\">{description}</p>\
<p class=\"meta\"><code>{reference}</code> · {count} version{s}",
        link = esc(&skill_link(registry, path, None)),
        name = esc(&found.name),
        title = esc(title),
        version = esc(found.version.as_deref().unwrap_or(&found.tag)),
        status = status_badge(found.status.map(Lifecycle::as_str)),
        description = esc(&found.description),
        reference = esc(&found.reference),
        count = found.versions,
        s = if found.versions == 1 { "" } else { "s" },
    );
    if !found.tags.is_empty() {
        out.push_str(" · ");
        for tag in &found.tags {
            let _ = write!(
                out,
                "<a class=\"tag\" href=\"/?tag={}\">{}</a> ",
                enc(tag),
                esc(tag)
            );
        }
    }
    out.push_str("</p></li>");
    out
}

/// `GET /skill/REGISTRY/PATH[?tag=T]`.
pub async fn skill(site: &Site, registry: &str, path: &str, target: &Target) -> Reply {
    let (registry_owned, path_owned) = (registry.to_string(), path.to_string());
    let read = site
        .readers()
        .read(move |conn| {
            crate::index::catalog::repository_tags(conn, &registry_owned, &path_owned)
        })
        .await;
    let (mut versions, signed_digests) = match read {
        Ok(found) => found,
        Err(e) => return failed(&e),
    };
    if versions.is_empty() {
        return not_found();
    }
    let mut tags: Vec<skilld_proto::registry::RemoteTag> = versions
        .iter()
        .map(|v| skilld_proto::registry::RemoteTag {
            tag: v.version.tag.clone(),
            digest: Some(v.version.digest.clone()),
            version: v.version.entry.version.clone(),
            status: v.version.entry.status.as_deref().and_then(Lifecycle::parse),
            published: false,
        })
        .collect();
    crate::registry::remote::sort_tags(&mut tags);
    // Newest first on the page.
    let order: Vec<String> = tags.iter().rev().map(|t| t.tag.clone()).collect();
    versions.sort_by_key(|v| order.iter().position(|t| *t == v.version.tag));
    let all: Vec<&crate::index::catalog::Version> = versions.iter().map(|r| &r.version).collect();
    let wanted = target.get("tag");
    let chosen = if wanted.is_empty() {
        crate::catalog::search::shown(&all, None).map(|v| v.tag.clone())
    } else {
        Some(wanted.to_string())
    };
    let Some(row) = versions
        .iter()
        .find(|r| Some(&r.version.tag) == chosen.as_ref())
    else {
        return not_found();
    };
    let signed = |digest: &str| signed_digests.iter().any(|d| d == digest);
    let digest = row.version.digest.clone();
    let (signature, skill_md) = tokio::join!(
        content::signature(site, registry, path, &digest, signed(&digest)),
        content::skill_md(site, registry, path, &digest),
    );
    let main = skill_main(row, &versions, &signature, skill_md, &signed);
    let name = crate::catalog::search::name_of(path);
    html(StatusCode::OK, layout(name, "", &main))
}

fn skill_main(
    row: &TagRow,
    versions: &[TagRow],
    signature: &Signature,
    skill_md: Result<std::sync::Arc<String>, content::ContentError>,
    signed: &dyn Fn(&str) -> bool,
) -> String {
    let e = &row.version.entry;
    let name = crate::catalog::search::name_of(&row.path);
    let repository = format!("{}/{}", row.registry, row.path);
    let tagged = format!("{repository}:{}", row.version.tag);
    let pinned = format!("{repository}@{}", row.version.digest);
    let mut out = format!(
        "<article class=\"skill\"><h1>{name} <span class=\"version\">{version}</span> {status}</h1>\
<p class=\"title\">{title}</p><p class=\"description\">{description}</p>",
        name = esc(name),
        version = esc(e.version.as_deref().unwrap_or(&row.version.tag)),
        status = status_badge(e.status.as_deref()),
        title = esc(e.display_name.as_deref().unwrap_or("")),
        description = esc(&e.description),
    );
    out.push_str("<dl class=\"card\">");
    let mut item = |label: &str, value: &str| {
        if !value.is_empty() {
            let _ = write!(out, "<dt>{}</dt><dd>{}</dd>", esc(label), esc(value));
        }
    };
    item("Reference", &tagged);
    item("Digest", &row.version.digest);
    item("Namespace", e.namespace.as_deref().unwrap_or(""));
    item("Authors", e.authors.as_deref().unwrap_or(""));
    item("License", e.license.as_deref().unwrap_or(""));
    item("Compatibility", e.compatibility.as_deref().unwrap_or(""));
    item("Tags", &e.tags.join(", "));
    item("Created", e.created.as_deref().unwrap_or(""));
    item("Source", e.source.as_deref().unwrap_or(""));
    item("Revision", e.revision.as_deref().unwrap_or(""));
    out.push_str("</dl>");
    let (class, said) = match signature {
        Signature::Verified { fingerprint, rule } => (
            "verified",
            format!("Signature verified by key {fingerprint} under {rule}."),
        ),
        Signature::Refused { rule, reason } => (
            "refused",
            format!("Not verified under {rule}: {reason}. skilld will refuse to install it."),
        ),
        Signature::Unchecked => (
            "unchecked",
            "Signed (a cosign signature is published); this catalog's trust policy names no key for it, so it is not verified here. `skillc install` verifies it under your own policy.".to_string(),
        ),
        Signature::Unsigned => ("unsigned", "Not signed.".to_string()),
    };
    let _ = write!(
        out,
        "<p class=\"signature {class}\" id=\"signature\">{}</p>",
        esc(&said)
    );
    let pod = kube::render(
        &kube::Spec {
            kind: kube::Kind::Pod,
            name: format!("agent-with-{name}"),
            mount: "/skills".into(),
            agent_image: "registry.example.com/your-agent:latest".into(),
            init: None,
        },
        &[(name.to_string(), pinned.clone())],
    );
    let _ = write!(
        out,
        "<h2>Install</h2><pre class=\"snippet\" id=\"install\"><code>skillc install {tagged}</code></pre>\
<p>Pinned to this exact content:</p><pre class=\"snippet\" id=\"install-pinned\"><code>skillc install {pinned}</code></pre>\
<h2>Kubernetes</h2><p>An image volume (Kubernetes 1.33+) mounting the skill read-only at <code>/skills/{name}</code>, pinned by digest:</p>\
<pre class=\"snippet\" id=\"kubernetes\"><code>{pod}</code></pre>",
        tagged = esc(&tagged),
        pinned = esc(&pinned),
        name = esc(name),
        pod = esc(&pod),
    );
    out.push_str("<h2>Versions</h2><table class=\"versions\"><thead><tr><th>Tag</th><th>Version</th><th>Status</th><th>Created</th><th>Signature</th><th>Digest</th></tr></thead><tbody>");
    for v in versions {
        let ve = &v.version.entry;
        let current = v.version.tag == row.version.tag;
        let _ = write!(
            out,
            "<tr{}><td><a href=\"{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            if current { " class=\"current\"" } else { "" },
            esc(&skill_link(&v.registry, &v.path, Some(&v.version.tag))),
            esc(&v.version.tag),
            esc(ve.version.as_deref().unwrap_or("")),
            status_badge(ve.status.as_deref()),
            esc(ve.created.as_deref().unwrap_or("")),
            if signed(&v.version.digest) {
                "signed"
            } else {
                "—"
            },
            esc(v.version.digest.get(..19).unwrap_or(&v.version.digest)),
        );
    }
    out.push_str("</tbody></table><h2>SKILL.md</h2>");
    match skill_md {
        Ok(text) => {
            let _ = write!(
                out,
                "<div class=\"markdown\" id=\"skill-md\">{}</div>",
                super::markdown::to_html(&text)
            );
        }
        Err(e) => {
            let _ = write!(
                out,
                "<p class=\"unavailable\" id=\"skill-md\">SKILL.md could not be read: {}</p>",
                esc(&e.to_string())
            );
        }
    }
    out.push_str("</article>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_for_text_and_attributes() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }

    #[test]
    fn links_encode_each_segment() {
        assert_eq!(
            skill_link("127.0.0.1:5000", "acme/pdf-tools", Some("1.0.0+b\"x")),
            "/skill/127.0.0.1%3A5000/acme/pdf-tools?tag=1.0.0%2Bb%22x"
        );
    }
}
