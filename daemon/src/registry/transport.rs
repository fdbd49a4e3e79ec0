//! Building an HTTP client for one registry host: scheme (https, or http for
//! loopback hosts that do not speak TLS and for `plain_http` hosts), trusted
//! CAs (system roots plus `ca_file`), `insecure`, and credentials.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use oci_client::client::{Certificate, CertificateEncoding, ClientConfig, ClientProtocol};
use oci_client::secrets::RegistryAuth;

use super::config::{RegistryConfig, is_loopback};
use super::credentials::CredentialStore;
use super::error::{RegistryError, from_request};

/// A client ready to talk to one host.
pub struct Endpoint {
    pub host: String,
    pub client: oci_client::Client,
    pub auth: RegistryAuth,
    /// Where the credential came from, for messages.
    pub credential_source: Option<String>,
    /// `https` or `http`.
    pub scheme: &'static str,
    pub http: reqwest::Client,
    /// No credentials, and the registry answers `/v2/` without any: requests
    /// need no auth dance at all (oci-client would probe `/v2/` before each).
    pub open: bool,
}

/// Builds endpoints; remembers which loopback hosts speak plain HTTP, and
/// keeps one client per host and credential: building one loads the
/// system's root certificates, which costs more than a small pull.
#[derive(Default)]
pub struct Transport {
    schemes: Mutex<HashMap<String, &'static str>>,
    open: Mutex<HashMap<String, bool>>,
    clients: Mutex<HashMap<ClientKey, (oci_client::Client, reqwest::Client)>>,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport").finish_non_exhaustive()
    }
}

/// A cached client is for one host and one credential (held in memory only;
/// the key's `Debug` is never printed).
#[derive(PartialEq, Eq, Hash)]
struct ClientKey {
    host: String,
    credential: Option<(String, String)>,
}

/// Everything a client for one host needs from configuration.
pub fn reqwest_client(
    config: &RegistryConfig,
    host: &str,
) -> Result<reqwest::Client, RegistryError> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .read_timeout(Duration::from_secs(60))
        .user_agent(concat!("skilld/", env!("CARGO_PKG_VERSION")))
        .danger_accept_invalid_certs(config.insecure);
    if let Some(ca) = &config.ca_file {
        let pem = crate::user_file::read_regular(ca, 4 << 20).map_err(|e| RegistryError::Tls {
            host: host.to_string(),
            detail: format!("cannot read ca_file {}: {e}", ca.display()),
        })?;
        let certs =
            reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| RegistryError::Tls {
                host: host.to_string(),
                detail: format!("ca_file {} holds no PEM certificate: {e}", ca.display()),
            })?;
        builder = builder.tls_certs_merge(certs);
    }
    builder.build().map_err(|e| RegistryError::Other {
        host: host.to_string(),
        message: format!("cannot set up HTTP: {e}"),
    })
}

impl Transport {
    /// `https` or `http` for `host`. Loopback hosts are probed once: a
    /// registry answering plain HTTP on `/v2/` gets `http`.
    async fn scheme(
        &self,
        host: &str,
        config: &RegistryConfig,
        http: &reqwest::Client,
    ) -> &'static str {
        if config.plain_http {
            return "http";
        }
        if !is_loopback(host) {
            return "https";
        }
        if let Some(scheme) = self
            .schemes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(host)
        {
            return scheme;
        }
        let scheme = match http.get(format!("http://{host}/v2/")).send().await {
            // Go's TLS servers answer plain HTTP with this 400.
            Ok(r) if r.status().as_u16() == 400 => "https",
            Ok(r)
                if r.headers().contains_key("docker-distribution-api-version")
                    || r.status().is_success()
                    || r.status().as_u16() == 401 =>
            {
                "http"
            }
            _ => "https",
        };
        self.schemes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(host.to_string(), scheme);
        scheme
    }

    /// Whether `host` answers `/v2/` without credentials (asked once).
    async fn is_open(&self, host: &str, scheme: &str, http: &reqwest::Client) -> bool {
        if let Some(open) = self
            .open
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(host)
        {
            return *open;
        }
        let open = matches!(http.get(format!("{scheme}://{host}/v2/")).send().await, Ok(r) if r.status().is_success());
        self.open
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(host.to_string(), open);
        open
    }

    /// Forget cached clients of `host` (after a login or logout).
    pub fn forget(&self, host: &str) {
        self.clients
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|k, _| k.host != host);
    }

    /// A client for `host`, with credentials for `repository` if any are found.
    pub async fn endpoint(
        &self,
        host: &str,
        repository: &str,
        config: &RegistryConfig,
        credentials: &CredentialStore,
    ) -> Result<Endpoint, RegistryError> {
        let found =
            credentials
                .lookup(host, repository)
                .await
                .map_err(|e| RegistryError::Other {
                    host: host.to_string(),
                    message: e.to_string(),
                })?;
        let key = ClientKey {
            host: host.to_string(),
            credential: found
                .as_ref()
                .map(|f| (f.credential.username.clone(), f.credential.password.clone())),
        };
        let anonymous = found.is_none();
        let (auth, credential_source) = match found {
            Some(f) => (
                RegistryAuth::Basic(f.credential.username, f.credential.password),
                Some(f.source),
            ),
            None => (RegistryAuth::Anonymous, None),
        };
        let cached = self
            .clients
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            .cloned();
        let (client, http, scheme) = match cached {
            Some((client, http)) => {
                let scheme = self.scheme(host, config, &http).await;
                (client, http, scheme)
            }
            None => {
                let (client, http, scheme) = self.build(host, config).await?;
                self.clients
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(key, (client.clone(), http.clone()));
                (client, http, scheme)
            }
        };
        let open = anonymous && self.is_open(host, scheme, &http).await;
        Ok(Endpoint {
            host: host.to_string(),
            client,
            auth,
            credential_source,
            scheme,
            http,
            open,
        })
    }

    async fn build(
        &self,
        host: &str,
        config: &RegistryConfig,
    ) -> Result<(oci_client::Client, reqwest::Client, &'static str), RegistryError> {
        let http = reqwest_client(config, host)?;
        let scheme = self.scheme(host, config, &http).await;
        let mut extra = Vec::new();
        if let Some(ca) = &config.ca_file {
            let data =
                crate::user_file::read_regular(ca, 4 << 20).map_err(|e| RegistryError::Tls {
                    host: host.to_string(),
                    detail: format!("cannot read ca_file {}: {e}", ca.display()),
                })?;
            extra.push(Certificate {
                encoding: CertificateEncoding::Pem,
                data,
            });
        }
        let client_config = ClientConfig {
            protocol: if scheme == "http" {
                ClientProtocol::Http
            } else {
                ClientProtocol::Https
            },
            accept_invalid_certificates: config.insecure,
            extra_root_certificates: extra,
            connect_timeout: Some(Duration::from_secs(10)),
            read_timeout: Some(Duration::from_secs(60)),
            user_agent: concat!("skilld/", env!("CARGO_PKG_VERSION")),
            platform_resolver: None,
            // One PUT per blob (the size is always known), not a PATCH per chunk.
            use_monolithic_push: true,
            ..ClientConfig::default()
        };
        let client =
            oci_client::Client::try_from(client_config).map_err(|e| RegistryError::Other {
                host: host.to_string(),
                message: format!("cannot set up the registry client: {e}"),
            })?;
        Ok((client, http, scheme))
    }
}

/// A `WWW-Authenticate: Bearer realm="…",service="…"` challenge.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct BearerChallenge {
    /// The token service's URL.
    pub realm: Option<String>,
    pub service: Option<String>,
}

impl BearerChallenge {
    /// The challenge in the header value `header`, if it is a bearer one.
    pub fn parse(header: &str) -> Option<BearerChallenge> {
        let params = header.strip_prefix("Bearer ")?;
        let param = |name: &str| {
            params.split(',').find_map(|p| {
                let (k, v) = p.trim().split_once('=')?;
                (k == name).then(|| v.trim_matches('"').to_string())
            })
        };
        Some(BearerChallenge {
            realm: param("realm"),
            service: param("service"),
        })
    }
}

/// Check `auth` against `host`'s `/v2/` (basic, or the bearer token
/// service's answer to those credentials): Ok when the registry accepts them.
pub async fn check_login(
    endpoint: &Endpoint,
    username: &str,
    password: &str,
) -> Result<(), RegistryError> {
    let host = &endpoint.host;
    let url = format!("{}://{host}/v2/", endpoint.scheme);
    let first = endpoint
        .http
        .get(&url)
        .send()
        .await
        .map_err(|e| from_request(host, &e))?;
    if first.status().is_success() {
        // An open registry: any credentials "work"; check them anyway with basic auth.
        let r = endpoint
            .http
            .get(&url)
            .basic_auth(username, Some(password))
            .send()
            .await
            .map_err(|e| from_request(host, &e))?;
        return if r.status().is_success() {
            Ok(())
        } else {
            Err(refused(host))
        };
    }
    let challenge = first
        .headers()
        .get(reqwest::header::WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let response = if let Some(bearer) = BearerChallenge::parse(&challenge) {
        let realm = bearer.realm.ok_or_else(|| RegistryError::Other {
            host: host.to_string(),
            message: "the registry's bearer challenge has no realm".into(),
        })?;
        let mut request = endpoint
            .http
            .get(realm)
            .basic_auth(username, Some(password));
        if let Some(service) = bearer.service {
            request = request.query(&[("service", service)]);
        }
        request.send().await.map_err(|e| from_request(host, &e))?
    } else {
        endpoint
            .http
            .get(&url)
            .basic_auth(username, Some(password))
            .send()
            .await
            .map_err(|e| from_request(host, &e))?
    };
    if response.status().is_success() {
        Ok(())
    } else {
        Err(refused(host))
    }
}

fn refused(host: &str) -> RegistryError {
    RegistryError::Unauthorized {
        host: host.to_string(),
        found_in: None,
    }
}

/// GET `/v2/{path}` on an open registry: one request, no auth probe. A 404
/// is `NotFound` (of `reference`), a 401 or 403 `NeedsLogin`.
pub async fn open_get(
    endpoint: &Endpoint,
    path: &str,
    accept: Option<&str>,
    reference: &str,
) -> Result<reqwest::Response, RegistryError> {
    let url = format!("{}://{}/v2/{path}", endpoint.scheme, endpoint.host);
    let mut request = endpoint.http.get(&url);
    if let Some(accept) = accept {
        request = request.header(reqwest::header::ACCEPT, accept);
    }
    let response = request
        .send()
        .await
        .map_err(|e| from_request(&endpoint.host, &e))?;
    let status = response.status();
    match status.as_u16() {
        404 => Err(RegistryError::NotFound {
            reference: reference.to_string(),
            tags: String::new(),
        }),
        401 | 403 => Err(RegistryError::NeedsLogin {
            host: endpoint.host.clone(),
        }),
        _ if !status.is_success() => Err(RegistryError::Other {
            host: endpoint.host.clone(),
            message: format!("GET {url} answered {status}"),
        }),
        _ => Ok(response),
    }
}
