//! Finding credentials for a registry, in order:
//! 1. `skillc login` entries (skilld's own `auth.json`),
//! 2. `$REGISTRY_AUTH_FILE`,
//! 3. podman's `auth.json` (`$XDG_RUNTIME_DIR/containers/auth.json`, then
//!    `~/.config/containers/auth.json`),
//! 4. docker's `config.json` (`$DOCKER_CONFIG`, else `~/.docker`): `auths`,
//!    then `credHelpers` and `credsStore` through the docker-credential-helper
//!    protocol.
//!
//! Keys may name a host or a repository prefix (`host/ns/repo`); the most
//! specific wins. Credentials never reach a log, an error or a response:
//! [`Credential`]'s `Debug` hides them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

/// A user name and a secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Where a credential was found (for messages; never the secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub credential: Credential,
    pub source: String,
}

/// Why credentials could not be read or saved.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("cannot read {}: {message}", path.display())]
    Read { path: PathBuf, message: String },
    #[error("credential helper docker-credential-{helper} failed: {message}")]
    Helper { helper: String, message: String },
    #[error("cannot save credentials to {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The environment credential lookup reads, captured once.
#[derive(Debug, Clone, Default)]
pub struct CredentialEnv {
    pub registry_auth_file: Option<PathBuf>,
    pub xdg_runtime_dir: Option<PathBuf>,
    pub xdg_config_home: Option<PathBuf>,
    pub docker_config: Option<PathBuf>,
    pub home: Option<PathBuf>,
}

impl CredentialEnv {
    pub fn from_process() -> CredentialEnv {
        let abs = |k: &str| {
            std::env::var_os(k)
                .map(PathBuf::from)
                .filter(|p| p.is_absolute())
        };
        CredentialEnv {
            registry_auth_file: abs("REGISTRY_AUTH_FILE"),
            xdg_runtime_dir: abs("XDG_RUNTIME_DIR"),
            xdg_config_home: abs("XDG_CONFIG_HOME"),
            docker_config: abs("DOCKER_CONFIG"),
            home: abs("HOME"),
        }
    }
}

/// The auth file format shared by podman (`auth.json`) and docker (`config.json`).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct AuthFile {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub auths: BTreeMap<String, AuthEntry>,
    #[serde(
        default,
        rename = "credHelpers",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub cred_helpers: BTreeMap<String, String>,
    #[serde(
        default,
        rename = "credsStore",
        skip_serializing_if = "Option::is_none"
    )]
    pub creds_store: Option<String>,
    /// Every other key (docker keeps much more in config.json).
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

#[derive(Default, Serialize, Deserialize)]
pub struct AuthEntry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

impl std::fmt::Debug for AuthEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuthEntry(<redacted>)")
    }
}

impl AuthEntry {
    fn credential(&self) -> Option<Credential> {
        if let Some(auth) = &self.auth {
            let decoded = STANDARD.decode(auth.trim()).ok()?;
            let text = String::from_utf8(decoded).ok()?;
            let (username, password) = text.split_once(':')?;
            return Some(Credential {
                username: username.to_string(),
                password: password.to_string(),
            });
        }
        Some(Credential {
            username: self.username.clone()?,
            password: self.password.clone()?,
        })
    }
}

/// `https://host/v1/` → `host`; `host/ns` stays.
fn normalise_key(key: &str) -> String {
    let key = key
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let key = key.trim_end_matches('/');
    let key = key
        .strip_suffix("/v1")
        .or_else(|| key.strip_suffix("/v2"))
        .unwrap_or(key);
    let (host, path) = match key.split_once('/') {
        Some((h, p)) => (h, Some(p)),
        None => (key, None),
    };
    // One identity per registry: `LOCALHOST:05000` in an auth file is the
    // entry of `localhost:5000`. A key with no canonical form stays as
    // written, so it matches only itself.
    let host = match host {
        "registry-1.docker.io" => "docker.io".to_string(),
        other => {
            crate::image::registry_name::canonical(other).unwrap_or_else(|_| other.to_string())
        }
    };
    match path {
        Some(p) => format!("{host}/{p}"),
        None => host,
    }
}

/// Candidate keys for `repository` (`host/ns/repo`), most specific first.
fn candidates(host: &str, repository: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut path = format!("{host}/{repository}");
    loop {
        out.push(path.clone());
        match path.rfind('/') {
            Some(i) => path.truncate(i),
            None => break,
        }
    }
    out
}

fn read_auth_file(path: &Path) -> Result<Option<AuthFile>, CredentialError> {
    match crate::user_file::read_regular(path, 4 << 20) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(CredentialError::Read {
            path: path.to_path_buf(),
            message: e.to_string(),
        }),
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| CredentialError::Read {
                path: path.to_path_buf(),
                message: format!("not a valid auth file: {e}"),
            }),
    }
}

/// Looks credentials up; saves `skillc login` entries.
#[derive(Debug, Clone)]
pub struct CredentialStore {
    login_file: PathBuf,
    env: CredentialEnv,
}

impl CredentialStore {
    pub fn new(login_file: PathBuf, env: CredentialEnv) -> CredentialStore {
        CredentialStore { login_file, env }
    }

    pub fn login_file(&self) -> &Path {
        &self.login_file
    }

    /// Auth files in lookup order, with a name for messages.
    fn files(&self) -> Vec<(PathBuf, &'static str)> {
        let mut files = vec![(self.login_file.clone(), "skillc login")];
        if let Some(p) = &self.env.registry_auth_file {
            files.push((p.clone(), "REGISTRY_AUTH_FILE"));
        }
        if let Some(run) = &self.env.xdg_runtime_dir {
            files.push((run.join("containers/auth.json"), "podman auth.json"));
        }
        let config_home = self
            .env
            .xdg_config_home
            .clone()
            .or_else(|| self.env.home.as_ref().map(|h| h.join(".config")));
        if let Some(c) = config_home {
            files.push((c.join("containers/auth.json"), "podman auth.json"));
        }
        let docker = self
            .env
            .docker_config
            .clone()
            .or_else(|| self.env.home.as_ref().map(|h| h.join(".docker")));
        if let Some(d) = docker {
            files.push((d.join("config.json"), "docker config.json"));
        }
        files
    }

    /// The credential for `repository` on `host`, if any source has one.
    pub async fn lookup(
        &self,
        host: &str,
        repository: &str,
    ) -> Result<Option<Found>, CredentialError> {
        let keys = candidates(&normalise_key(host), repository);
        for (path, name) in self.files() {
            let Some(file) = read_auth_file(&path)? else {
                continue;
            };
            let entries: BTreeMap<String, &AuthEntry> = file
                .auths
                .iter()
                .map(|(k, v)| (normalise_key(k), v))
                .collect();
            for key in &keys {
                if let Some(credential) = entries.get(key).and_then(|e| e.credential()) {
                    return Ok(Some(Found {
                        credential,
                        source: format!("{name} ({})", path.display()),
                    }));
                }
            }
            let helpers: BTreeMap<String, &String> = file
                .cred_helpers
                .iter()
                .map(|(k, v)| (normalise_key(k), v))
                .collect();
            let helper = keys
                .iter()
                .find_map(|k| helpers.get(k).map(|h| h.to_string()))
                .or(file.creds_store.clone());
            if let Some(helper) = helper
                && let Some(credential) = run_helper(&helper, host).await?
            {
                return Ok(Some(Found {
                    credential,
                    source: format!("docker-credential-{helper}"),
                }));
            }
        }
        Ok(None)
    }

    /// Save a `skillc login` entry (podman's auth.json format, mode 0600).
    pub fn save_login(&self, host: &str, credential: &Credential) -> Result<(), CredentialError> {
        self.update_login(|file| {
            let auth = STANDARD.encode(format!("{}:{}", credential.username, credential.password));
            file.auths.insert(
                normalise_key(host),
                AuthEntry {
                    auth: Some(auth),
                    ..AuthEntry::default()
                },
            );
        })
        .map(|_| ())
    }

    /// Remove a `skillc login` entry; whether there was one.
    pub fn remove_login(&self, host: &str) -> Result<bool, CredentialError> {
        self.update_login(|file| file.auths.remove(&normalise_key(host)).is_some())
    }

    fn update_login<R>(&self, f: impl FnOnce(&mut AuthFile) -> R) -> Result<R, CredentialError> {
        let path = &self.login_file;
        let mut file = read_auth_file(path)?.unwrap_or_default();
        let result = f(&mut file);
        let write = |e| CredentialError::Write {
            path: path.clone(),
            source: e,
        };
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(write)?;
        let mut tmp = tempfile::Builder::new()
            .prefix(".auth.json.")
            .tempfile_in(dir)
            .map_err(write)?;
        // tempfile creates the file 0600: the secret is never readable by others.
        serde_json::to_writer_pretty(&mut tmp, &file).map_err(|e| write(e.into()))?;
        tmp.as_file().sync_all().map_err(write)?;
        tmp.persist(path).map_err(|e| write(e.error))?;
        Ok(result)
    }
}

/// Ask `docker-credential-<helper>` for the credential of `host`.
async fn run_helper(helper: &str, host: &str) -> Result<Option<Credential>, CredentialError> {
    let failed = |message: String| CredentialError::Helper {
        helper: helper.to_string(),
        message,
    };
    if helper.is_empty()
        || !helper
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    {
        return Err(failed(
            "the helper name may hold only letters, digits, '-', '_' and '.'".into(),
        ));
    }
    let mut command = tokio::process::Command::new(format!("docker-credential-{helper}"));
    command.arg("get");
    ask_helper(command, host).await.map_err(failed)
}

/// Run a docker credential helper's `get` for `host` and read its answer.
/// A helper that answers without reading the host it was sent is heard
/// (as docker's own client does: its `Stdin` copy ignores a closed pipe).
async fn ask_helper(
    mut command: tokio::process::Command,
    host: &str,
) -> Result<Option<Credential>, String> {
    use tokio::io::AsyncWriteExt;
    let mut child = command
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot run it: {e}"))?;
    let mut stdin = child.stdin.take();
    let answered = async move {
        if let Some(stdin) = stdin.as_mut() {
            match stdin.write_all(host.as_bytes()).await {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e),
                _ => {}
            }
        }
        drop(stdin);
        child.wait_with_output().await
    };
    let output = tokio::time::timeout(Duration::from_secs(30), answered)
        .await
        .map_err(|_| "no answer within 30 s".to_string())?
        .map_err(|e| e.to_string())?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let stdout = String::from_utf8_lossy(&output.stdout);
        // The protocol's "not found" answer is not an error: look further.
        if stdout.contains("credentials not found") || stderr.contains("credentials not found") {
            return Ok(None);
        }
        return Err(format!("exited with {}", output.status));
    }
    #[derive(Deserialize)]
    struct Answer {
        #[serde(rename = "Username")]
        username: String,
        #[serde(rename = "Secret")]
        secret: String,
    }
    let answer: Answer =
        serde_json::from_slice(&output.stdout).map_err(|e| format!("unreadable answer: {e}"))?;
    Ok(Some(Credential {
        username: answer.username,
        password: answer.secret,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(dir: &Path) -> CredentialStore {
        CredentialStore::new(
            dir.join("skilld/auth.json"),
            CredentialEnv {
                home: Some(dir.join("home")),
                ..CredentialEnv::default()
            },
        )
    }

    #[test]
    fn keys_are_normalised() {
        assert_eq!(normalise_key("https://index.docker.io/v1/"), "docker.io");
        assert_eq!(normalise_key("quay.io"), "quay.io");
        assert_eq!(normalise_key("http://127.0.0.1:5000/"), "127.0.0.1:5000");
        assert_eq!(
            candidates("quay.io", "acme/x"),
            ["quay.io/acme/x", "quay.io/acme", "quay.io"]
        );
    }

    #[tokio::test]
    async fn login_entries_round_trip_with_mode_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        let cred = Credential {
            username: "u".into(),
            password: "p:w".into(),
        };
        s.save_login("127.0.0.1:5000", &cred).unwrap();
        let mode = std::fs::metadata(s.login_file())
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
        let found = s.lookup("127.0.0.1:5000", "a/b").await.unwrap().unwrap();
        assert_eq!(found.credential, cred);
        assert!(found.source.starts_with("skillc login"));
        assert!(
            !format!("{found:?}").contains("p:w"),
            "Debug hides the secret"
        );
        assert!(s.remove_login("127.0.0.1:5000").unwrap());
        assert!(s.lookup("127.0.0.1:5000", "a/b").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn the_most_specific_key_wins_and_podman_comes_before_docker() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        std::fs::create_dir_all(home.join(".config/containers")).unwrap();
        std::fs::create_dir_all(home.join(".docker")).unwrap();
        let enc = |s: &str| STANDARD.encode(s);
        std::fs::write(
            home.join(".config/containers/auth.json"),
            format!(
                r#"{{"auths":{{"r.io":{{"auth":"{}"}},"r.io/team":{{"auth":"{}"}}}}}}"#,
                enc("host:1"),
                enc("team:2")
            ),
        )
        .unwrap();
        std::fs::write(
            home.join(".docker/config.json"),
            format!(
                r#"{{"auths":{{"https://d.io/v1/":{{"auth":"{}"}}}}}}"#,
                enc("docker:3")
            ),
        )
        .unwrap();
        let s = store(dir.path());
        assert_eq!(
            s.lookup("r.io", "team/x")
                .await
                .unwrap()
                .unwrap()
                .credential
                .username,
            "team"
        );
        assert_eq!(
            s.lookup("r.io", "other/x")
                .await
                .unwrap()
                .unwrap()
                .credential
                .username,
            "host"
        );
        let docker = s.lookup("d.io", "x").await.unwrap().unwrap();
        assert_eq!(docker.credential.username, "docker");
        assert!(docker.source.starts_with("docker config.json"));
        assert!(s.lookup("none.io", "x").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_docker_helper_that_answers_without_reading_the_host_is_heard() {
        // A host longer than a pipe holds: the write is still going on
        // when the helper exits, so the closed pipe is certain.
        let host = "h".repeat(256 * 1024);
        let mut command = tokio::process::Command::new("sh");
        command.args([
            "-c",
            r#"printf '{"ServerURL":"r.io","Username":"ci","Secret":"token"}'"#,
        ]);
        let answer = ask_helper(command, &host).await.unwrap().unwrap();
        assert_eq!(
            (answer.username.as_str(), answer.password.as_str()),
            ("ci", "token")
        );
        let mut failing = tokio::process::Command::new("sh");
        failing.args(["-c", "exit 3"]);
        let failed = ask_helper(failing, &host).await.unwrap_err();
        assert!(failed.starts_with("exited with"), "{failed}");
    }
}
