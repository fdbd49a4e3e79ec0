//! Which repositories a source holds: its explicit list, or the registry's
//! `GET /v2/_catalog`, page by page (`Link: <…>; rel="next"`), with the
//! registry's credentials (basic, or a bearer token for the scope
//! `registry:catalog:*`); or, where `/v2/_catalog` is not for everyone,
//! Quay's repository API (`next_page` tokens; the credential's password as
//! a bearer token, as skillctl sends it) or Harbor's (`page`, `page_size`;
//! basic auth). Pages, repositories and bytes are capped: a registry
//! cannot keep a refresh going forever or fill the memory.

use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, LINK, WWW_AUTHENTICATE};

use super::{Api, Source};
use crate::registry::transport::Endpoint;
use crate::registry::{Registries, RegistryError};

/// Repositories asked per page.
const PAGE: usize = 1000;
/// The most pages followed.
pub const MAX_PAGES: usize = 200;
/// The most repositories one source may list.
pub const MAX_REPOSITORIES: usize = 100_000;
/// The largest page read (bytes).
const MAX_PAGE_BYTES: usize = 8 << 20;

/// A source's repositories and how many catalog pages it took.
#[derive(Debug, Default)]
pub struct Listed {
    pub repositories: Vec<String>,
    pub pages: u64,
    /// Why the list stopped early (a cap), if it did.
    pub truncated: Option<String>,
}

/// The repositories of `source` (paths under its registry).
pub async fn list(registries: &Registries, source: &Source) -> Result<Listed, RegistryError> {
    if !source.repositories.is_empty() {
        return Ok(Listed {
            repositories: source.repositories.clone(),
            ..Listed::default()
        });
    }
    let endpoint = registries.endpoint(&source.registry, "").await?;
    match source.api() {
        Api::Quay => return list_api(&endpoint, source, Vendor::Quay).await,
        Api::Harbor => return list_api(&endpoint, source, Vendor::Harbor).await,
        Api::Auto | Api::Catalog => {}
    }
    let prefix = source.namespace.as_ref().map(|ns| format!("{ns}/"));
    let base = format!("{}://{}", endpoint.scheme, endpoint.host);
    let mut url = format!("{base}/v2/_catalog?n={PAGE}");
    let mut listed = Listed::default();
    let mut token: Option<String> = None;
    loop {
        let (response, got) = get(&endpoint, &url, token.take()).await?;
        token = got;
        listed.pages += 1;
        let next = response
            .headers()
            .get(LINK)
            .and_then(|v| v.to_str().ok())
            .and_then(next_link)
            .map(|link| absolute(&base, &link));
        let body = read_capped(response, MAX_PAGE_BYTES, &endpoint.host).await?;
        #[derive(serde::Deserialize)]
        struct Page {
            #[serde(default)]
            repositories: Option<Vec<String>>,
        }
        let page: Page = serde_json::from_slice(&body).map_err(|e| RegistryError::Other {
            host: endpoint.host.clone(),
            message: format!("its repository list is not the catalog's JSON: {e}"),
        })?;
        listed.repositories.extend(
            page.repositories
                .unwrap_or_default()
                .into_iter()
                .filter(|r| prefix.as_ref().is_none_or(|p| r.starts_with(p.as_str())))
                .filter(|r| r.split('/').all(crate::image::reference::component_ok)),
        );
        if listed.repositories.len() > MAX_REPOSITORIES {
            listed.repositories.truncate(MAX_REPOSITORIES);
            listed.truncated = Some(format!("more than {MAX_REPOSITORIES} repositories"));
            break;
        }
        // A next link that goes nowhere new would loop.
        let Some(next) = next.filter(|n| *n != url) else {
            break;
        };
        if listed.pages as usize >= MAX_PAGES {
            listed.truncated = Some(format!("more than {MAX_PAGES} pages"));
            break;
        }
        url = next;
    }
    listed.repositories.sort();
    listed.repositories.dedup();
    Ok(listed)
}

/// A registry's own repository API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Vendor {
    Quay,
    Harbor,
}

/// Harbor's page size (its largest).
const HARBOR_PAGE: usize = 100;

/// The repositories of `source.namespace` through Quay's or Harbor's API.
async fn list_api(
    endpoint: &Endpoint,
    source: &Source,
    vendor: Vendor,
) -> Result<Listed, RegistryError> {
    let host = &endpoint.host;
    let namespace = source.namespace.clone().unwrap_or_default();
    let base = format!("{}://{host}", endpoint.scheme);
    let credential = match &endpoint.auth {
        oci_client::secrets::RegistryAuth::Basic(u, p) => Some((u.clone(), p.clone())),
        _ => None,
    };
    let mut listed = Listed::default();
    let mut next_page: Option<String> = None;
    loop {
        let page = listed.pages as usize + 1;
        let mut request = match vendor {
            Vendor::Quay => {
                let mut query = vec![("namespace", namespace.clone()), ("public", "true".into())];
                if let Some(token) = &next_page {
                    query.push(("next_page", token.clone()));
                }
                endpoint
                    .http
                    .get(format!("{base}/api/v1/repository"))
                    .query(&query)
            }
            Vendor::Harbor => endpoint
                .http
                .get(format!("{base}/api/v2.0/projects/{namespace}/repositories"))
                .query(&[
                    ("page", page.to_string()),
                    ("page_size", HARBOR_PAGE.to_string()),
                ]),
        };
        request = match (&credential, vendor) {
            (Some((_, password)), Vendor::Quay) => {
                request.header(AUTHORIZATION, format!("Bearer {password}"))
            }
            (Some((user, password)), Vendor::Harbor) => request.basic_auth(user, Some(password)),
            (None, _) => request,
        };
        let response = request
            .send()
            .await
            .map_err(|e| crate::registry::error::from_request(host, &e))?;
        let response = match response.status().as_u16() {
            401 | 403 => return Err(RegistryError::NeedsLogin { host: host.clone() }),
            404 => {
                return Err(RegistryError::Other {
                    host: host.clone(),
                    message: format!(
                        "its {} API does not know {namespace:?} (or is not there); check catalog.sources[].namespace and api",
                        if vendor == Vendor::Quay {
                            "Quay"
                        } else {
                            "Harbor"
                        }
                    ),
                });
            }
            _ => checked(response, host)?,
        };
        let body = read_capped(response, MAX_PAGE_BYTES, host).await?;
        listed.pages += 1;
        let bad = |e: serde_json::Error| RegistryError::Other {
            host: host.clone(),
            message: format!("its repository API answered something else than a list: {e}"),
        };
        let (names, more) = match vendor {
            Vendor::Quay => {
                #[derive(serde::Deserialize)]
                struct Repo {
                    namespace: String,
                    name: String,
                }
                #[derive(serde::Deserialize)]
                struct Page {
                    #[serde(default)]
                    repositories: Vec<Repo>,
                    #[serde(default)]
                    next_page: Option<String>,
                }
                let page: Page = serde_json::from_slice(&body).map_err(bad)?;
                let names: Vec<String> = page
                    .repositories
                    .into_iter()
                    .map(|r| format!("{}/{}", r.namespace, r.name))
                    .collect();
                let more = page.next_page.filter(|t| Some(t) != next_page.as_ref());
                next_page = more.clone();
                (names, more.is_some())
            }
            Vendor::Harbor => {
                #[derive(serde::Deserialize)]
                struct Repo {
                    name: String,
                }
                let page: Vec<Repo> = serde_json::from_slice(&body).map_err(bad)?;
                let full = page.len() >= HARBOR_PAGE;
                (page.into_iter().map(|r| r.name).collect(), full)
            }
        };
        let prefix = format!("{namespace}/");
        listed.repositories.extend(
            names
                .into_iter()
                .filter(|r| r.starts_with(&prefix))
                .filter(|r| r.split('/').all(crate::image::reference::component_ok)),
        );
        if listed.repositories.len() > MAX_REPOSITORIES {
            listed.repositories.truncate(MAX_REPOSITORIES);
            listed.truncated = Some(format!("more than {MAX_REPOSITORIES} repositories"));
            break;
        }
        if !more {
            break;
        }
        if listed.pages as usize >= MAX_PAGES {
            listed.truncated = Some(format!("more than {MAX_PAGES} pages"));
            break;
        }
    }
    listed.repositories.sort();
    listed.repositories.dedup();
    Ok(listed)
}

/// GET `url` with the endpoint's credentials: basic auth where the
/// registry takes it, else a bearer token from its token service (reused
/// for the next page). Returns the response and the token used.
async fn get(
    endpoint: &Endpoint,
    url: &str,
    token: Option<String>,
) -> Result<(reqwest::Response, Option<String>), RegistryError> {
    let host = &endpoint.host;
    let basic = match &endpoint.auth {
        oci_client::secrets::RegistryAuth::Basic(u, p) => Some((u.clone(), p.clone())),
        _ => None,
    };
    let send = |bearer: Option<&str>| {
        let mut request = endpoint.http.get(url);
        request = match (bearer, &basic) {
            (Some(t), _) => request.header(AUTHORIZATION, format!("Bearer {t}")),
            (None, Some((u, p))) => request.basic_auth(u, Some(p)),
            (None, None) => request,
        };
        request.send()
    };
    let first = send(token.as_deref())
        .await
        .map_err(|e| crate::registry::error::from_request(host, &e))?;
    if first.status() != StatusCode::UNAUTHORIZED {
        return checked(first, host).map(|r| (r, token));
    }
    let challenge = first
        .headers()
        .get(WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let Some(bearer) = crate::registry::transport::BearerChallenge::parse(&challenge) else {
        return Err(RegistryError::NeedsLogin { host: host.clone() });
    };
    let realm = bearer.realm.ok_or_else(|| RegistryError::Other {
        host: host.clone(),
        message: "the registry's bearer challenge has no realm".into(),
    })?;
    let mut request = endpoint
        .http
        .get(realm)
        .query(&[("scope", "registry:catalog:*")]);
    if let Some(service) = bearer.service {
        request = request.query(&[("service", service)]);
    }
    if let Some((u, p)) = &basic {
        request = request.basic_auth(u, Some(p));
    }
    let answer = request
        .send()
        .await
        .map_err(|e| crate::registry::error::from_request(host, &e))?;
    if !answer.status().is_success() {
        return Err(RegistryError::NeedsLogin { host: host.clone() });
    }
    #[derive(serde::Deserialize)]
    struct Token {
        #[serde(default)]
        token: Option<String>,
        #[serde(default)]
        access_token: Option<String>,
    }
    let body = read_capped(answer, 1 << 20, host).await?;
    let token: Token = serde_json::from_slice(&body).map_err(|e| RegistryError::Other {
        host: host.clone(),
        message: format!("its token service answered no token: {e}"),
    })?;
    let token = token
        .token
        .or(token.access_token)
        .ok_or_else(|| RegistryError::NeedsLogin { host: host.clone() })?;
    let second = send(Some(&token))
        .await
        .map_err(|e| crate::registry::error::from_request(host, &e))?;
    checked(second, host).map(|r| (r, Some(token)))
}

fn checked(response: reqwest::Response, host: &str) -> Result<reqwest::Response, RegistryError> {
    match response.status().as_u16() {
        s if (200..300).contains(&s) => Ok(response),
        401 | 403 => Err(RegistryError::NeedsLogin {
            host: host.to_string(),
        }),
        404 | 405 => Err(RegistryError::Other {
            host: host.to_string(),
            message: "it does not list its repositories (/v2/_catalog is off); name them in catalog.sources[].repositories".into(),
        }),
        s => Err(RegistryError::Other {
            host: host.to_string(),
            message: format!("its repository list answered HTTP {s}"),
        }),
    }
}

/// The body of `response`, refused past `max` bytes.
pub async fn read_capped(
    mut response: reqwest::Response,
    max: usize,
    host: &str,
) -> Result<Vec<u8>, RegistryError> {
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| crate::registry::error::from_request(host, &e))?
    {
        if body.len() + chunk.len() > max {
            return Err(RegistryError::Other {
                host: host.to_string(),
                message: format!("an answer of more than {max} bytes was refused"),
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The target of a `rel="next"` link in a `Link` header.
fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let rel_next = params.split(';').any(|p| {
            let p = p.trim().replace(' ', "");
            p == "rel=\"next\"" || p == "rel=next"
        });
        rel_next.then(|| {
            target
                .trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        })
    })
}

/// `link` made absolute against `base` (`scheme://host`); a link to
/// another host is refused by keeping it on this one.
fn absolute(base: &str, link: &str) -> String {
    if let Some(path) = link.strip_prefix(base) {
        return format!("{base}{path}");
    }
    let path = if link.starts_with("http://") || link.starts_with("https://") {
        // Another host: keep only the path and query, on ours.
        link.splitn(4, '/')
            .nth(3)
            .map(|p| format!("/{p}"))
            .unwrap_or_default()
    } else {
        link.to_string()
    };
    if path.starts_with('/') {
        format!("{base}{path}")
    } else {
        format!("{base}/{path}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_links_are_read() {
        assert_eq!(
            next_link(r#"</v2/_catalog?last=b&n=2>; rel="next""#).as_deref(),
            Some("/v2/_catalog?last=b&n=2")
        );
        assert_eq!(next_link(r#"</x>; rel="prev""#), None);
        assert_eq!(
            next_link(r#"</a>; rel="prev", </b>; rel=next"#).as_deref(),
            Some("/b")
        );
    }

    #[test]
    fn links_stay_on_the_registry() {
        let base = "http://127.0.0.1:5000";
        assert_eq!(
            absolute(base, "/v2/_catalog?last=a"),
            "http://127.0.0.1:5000/v2/_catalog?last=a"
        );
        assert_eq!(
            absolute(base, "http://127.0.0.1:5000/v2/_catalog?last=a"),
            "http://127.0.0.1:5000/v2/_catalog?last=a"
        );
        assert_eq!(
            absolute(base, "https://evil.example/v2/_catalog?last=a"),
            "http://127.0.0.1:5000/v2/_catalog?last=a"
        );
    }
}
