//! One commit of a git repository, fetched shallow (depth 1) and checked
//! out into a temporary folder that is removed when dropped. Blocking:
//! run it on a blocking thread.

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use super::SourceError;
use super::credentials::{self, Asked};
use super::url::GitUrl;

/// A checked-out commit.
#[derive(Debug)]
pub struct Fetched {
    /// The work tree (and its `.git`), removed when this is dropped.
    pub checkout: tempfile::TempDir,
    /// Full commit id.
    pub commit: String,
    /// Committer time, seconds since 1970.
    pub time: i64,
}

impl Fetched {
    /// The folder `path` of the checkout (`""`: its root); refused when it
    /// leaves the checkout or is not a folder of it.
    pub fn folder(&self, url: &GitUrl, path: &str) -> Result<PathBuf, SourceError> {
        let clean = path.trim_matches('/');
        let bad = || SourceError::BadPath {
            path: path.to_string(),
        };
        if Path::new(clean).is_absolute() {
            return Err(bad());
        }
        let mut dir = self.checkout.path().to_path_buf();
        for part in Path::new(clean).components() {
            match part {
                std::path::Component::Normal(p) if p != ".git" => dir.push(p),
                std::path::Component::CurDir => {}
                _ => return Err(bad()),
            }
        }
        // A symbolic link in the path could lead out of the checkout.
        let real = dir.canonicalize().ok().filter(|d| d.is_dir());
        let root = self.checkout.path().canonicalize()?;
        match real {
            Some(d) if d.starts_with(&root) => Ok(d),
            _ => Err(SourceError::NoSuchPath {
                url: url.to_string(),
                commit: self.commit.clone(),
                path: clean.to_string(),
            }),
        }
    }
}

/// Is `reference` a full commit id (SHA-1 or SHA-256)?
fn is_commit_id(reference: &str) -> bool {
    matches!(reference.len(), 40 | 64) && reference.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Fetch `reference` (a branch, a tag, a full ref name or a full commit
/// id; the remote's HEAD when None) of `url` into a new folder under
/// `parent`. `credential_files`: git-credential-store files to read first.
pub fn fetch(
    url: &GitUrl,
    reference: Option<&str>,
    parent: &Path,
    credential_files: Vec<PathBuf>,
    interrupt: &AtomicBool,
) -> Result<Fetched, SourceError> {
    std::fs::create_dir_all(parent)?;
    let checkout = tempfile::Builder::new().prefix("git-").tempdir_in(parent)?;
    let failed = |e: &dyn std::fmt::Display| SourceError::Fetch {
        url: url.to_string(),
        message: url.redact(&format!("{e:#}")),
    };
    let mut prepare = gix::prepare_clone(url.for_fetch(), checkout.path())
        .map_err(|e| failed(&e))?
        .with_shallow(gix::remote::fetch::Shallow::DepthAtRemote(
            NonZeroU32::new(1).expect("one"),
        ));
    prepare = match reference {
        None => prepare,
        Some(r) if is_commit_id(r) || r.starts_with("refs/") => {
            prepare.with_revision(Some(r)).map_err(|e| failed(&e))?
        }
        Some(r) => prepare.with_ref_name(Some(r)).map_err(|e| failed(&e))?,
    };
    prepare = prepare.configure_connection(move |connection| {
        let files = credential_files.clone();
        let configured = connection.configured_credentials_for_current_url();
        let mut configured = Some(configured);
        connection.set_credentials(move |action| {
            if let gix::credentials::helper::Action::Get(context) = &action {
                let mut parts = context.clone();
                let _ = parts.destructure_url_in_place(true);
                if !may_send_credentials(
                    parts.protocol.as_deref().unwrap_or(""),
                    parts.host.as_deref().unwrap_or(""),
                ) {
                    return Err(gix::error::Message::new(format!(
                        "will not send credentials in clear text to {}: use https (plain http is for loopback hosts only)",
                        parts.host.as_deref().unwrap_or("?")
                    ))
                    .into());
                }
                if let Some(login) = credentials::lookup(
                        &files,
                        &Asked {
                            protocol: parts.protocol.as_deref().unwrap_or(""),
                            host: parts.host.as_deref().unwrap_or(""),
                            path: parts
                                .path
                                .as_ref()
                                .map(|p| std::str::from_utf8(p).unwrap_or(""))
                                .unwrap_or(""),
                            username: parts.username.as_deref(),
                        },
                    )
                {
                    return Ok(Some(gix::credentials::protocol::Outcome {
                        credentials: gix::sec::identity::Credentials::UsernamePassword {
                            username: login.username,
                            password: login.password,
                            oauth_refresh_token: None,
                        },
                        next: context.clone().into(),
                    }));
                }
            }
            // Git's own configuration: credential.helper, as git asks.
            match configured.as_mut() {
                Some(helper) => helper(action),
                None => Ok(None),
            }
        });
        Ok(())
    });
    let (mut checkout_prepared, _) = prepare
        .fetch_then_checkout(gix::progress::Discard, interrupt)
        .map_err(|e| {
            let text = format!("{e:#}");
            match reference {
                Some(r) if looks_missing(&text) => SourceError::NoSuchRef {
                    url: url.to_string(),
                    reference: r.to_string(),
                },
                _ => failed(&text),
            }
        })?;
    let (repo, _) = checkout_prepared
        .main_worktree(gix::progress::Discard, interrupt)
        .map_err(|e| failed(&e))?;
    let commit = repo.head_commit().map_err(|e| failed(&e))?;
    let time = commit.time().map_err(|e| failed(&e))?.seconds;
    Ok(Fetched {
        commit: commit.id().to_string(),
        time,
        checkout,
    })
}

/// Credentials go over https, ssh, or to this machine (`http://` to a
/// loopback address, as for registries); never in clear text elsewhere.
pub fn may_send_credentials(protocol: &str, host: &str) -> bool {
    if !protocol.eq_ignore_ascii_case("http") {
        return true;
    }
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    let name = name.trim_start_matches('[').trim_end_matches(']');
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Does a fetch error say the reference does not exist?
fn looks_missing(text: &str) -> bool {
    let text = text.to_ascii_lowercase();
    [
        "not found",
        "no such",
        "could not find",
        "did not match",
        "not our ref",
        "couldn't find",
    ]
    .iter()
    .any(|w| text.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_clear_text_only_to_this_machine() {
        for (protocol, host, ok) in [
            ("https", "git.example.com", true),
            ("ssh", "git.example.com", true),
            ("http", "127.0.0.1:8080", true),
            ("http", "localhost", true),
            ("http", "[::1]:9000", true),
            ("http", "git.example.com", false),
            ("http", "10.0.0.1:80", false),
            ("HTTP", "127.0.0.2.example.com", false),
        ] {
            assert_eq!(
                may_send_credentials(protocol, host),
                ok,
                "{protocol} {host}"
            );
        }
    }

    #[test]
    fn commit_ids_are_told_from_names() {
        assert!(is_commit_id(&"a".repeat(40)));
        assert!(is_commit_id(&"0".repeat(64)));
        assert!(!is_commit_id("v1.0.0"));
        assert!(!is_commit_id(&"g".repeat(40)));
    }
}
