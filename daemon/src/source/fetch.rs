//! One commit of a git repository, fetched shallow (depth 1), and the
//! files of the folder asked for written from its tree into a temporary
//! folder that is removed when dropped (skilld writes them itself, with
//! each name checked, rather than through a full checkout). Blocking: run
//! it on a blocking thread.

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use super::SourceError;
use super::credentials::{self, Asked};
use super::helpers;
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
/// `parent`, writing the files of its folder `only` (`""`: all of them).
/// `credential_files`: git-credential-store files to read first.
pub fn fetch(
    url: &GitUrl,
    reference: Option<&str>,
    only: &str,
    parent: &Path,
    credential_files: Vec<PathBuf>,
    interrupt: &AtomicBool,
) -> Result<Fetched, SourceError> {
    std::fs::create_dir_all(parent)?;
    let checkout = tempfile::Builder::new().prefix("git-").tempdir_in(parent)?;
    let failed = |e: &dyn std::fmt::Display| SourceError::Fetch {
        url: url.to_string(),
        message: url.redact(&briefly(&format!("{e:#}"))),
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
        trust_configured_ca(connection)?;
        let files = credential_files.clone();
        let mut configured = helpers::configured(connection.remote().repo().clone());
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
            configured(action)
        });
        Ok(())
    });
    let (repo, _) = prepare
        .fetch_only(gix::progress::Discard, interrupt)
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
    let commit = repo.head_commit().map_err(|e| failed(&e))?;
    let time = commit.time().map_err(|e| failed(&e))?.seconds;
    let id = commit.id().to_string();
    // Only the folder asked for is written (with the folders above it).
    let mut tree = commit.tree().map_err(|e| failed(&e))?;
    let mut dest = checkout.path().to_path_buf();
    for part in only.split('/').filter(|p| !p.is_empty() && *p != ".") {
        let missing = || SourceError::NoSuchPath {
            url: url.to_string(),
            commit: id.clone(),
            path: only.trim_matches('/').to_string(),
        };
        if part == ".." || part.eq_ignore_ascii_case(".git") {
            return Err(SourceError::BadPath {
                path: only.to_string(),
            });
        }
        let entry = tree.find_entry(part).ok_or_else(missing)?;
        if entry.mode().kind() != gix::object::tree::EntryKind::Tree {
            return Err(missing());
        }
        let next = entry.id().detach();
        tree = repo.find_tree(next).map_err(|e| failed(&e))?;
        dest.push(part);
        std::fs::create_dir_all(&dest)?;
    }
    let mut budget = Budget::default();
    write_tree(&repo, &tree, &dest, 0, &mut budget).map_err(|e| match e {
        Written::Io(e) => SourceError::Io(e),
        Written::Git(e) => failed(&e),
        Written::Unsafe(why) => SourceError::Fetch {
            url: url.to_string(),
            message: format!("refused at {id}: {why}"),
        },
    })?;
    Ok(Fetched {
        commit: id,
        time,
        checkout,
    })
}

/// Files and bytes a checkout may hold: a repository of skills is small,
/// and a hostile one must not fill the disk.
const MAX_FILES: u64 = 100_000;
const MAX_BYTES: u64 = 2 << 30;
const MAX_DEPTH: usize = 64;

#[derive(Default)]
struct Budget {
    files: u64,
    bytes: u64,
}

enum Written {
    Io(std::io::Error),
    Git(String),
    Unsafe(String),
}

impl From<std::io::Error> for Written {
    fn from(e: std::io::Error) -> Written {
        Written::Io(e)
    }
}

/// Is `name` a tree entry that is safe to write as one path component?
fn safe_name(name: &[u8]) -> bool {
    !name.is_empty()
        && name != b"."
        && name != b".."
        && !name.iter().any(|b| matches!(b, b'/' | b'\\' | 0))
}

/// Write the files of `tree` into `dir` (which exists): blobs as files
/// (the executable bit kept), links as links (the build checks where they
/// point), sub-trees as folders; submodules and `.git` are left out, and
/// names that could leave `dir` refuse the whole checkout.
fn write_tree(
    repo: &gix::Repository,
    tree: &gix::Tree<'_>,
    dir: &Path,
    depth: usize,
    budget: &mut Budget,
) -> Result<(), Written> {
    use gix::object::tree::EntryKind;
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;

    if depth > MAX_DEPTH {
        return Err(Written::Unsafe(format!(
            "folders nested deeper than {MAX_DEPTH}"
        )));
    }
    for entry in tree.iter() {
        let entry = entry.map_err(|e| Written::Git(e.to_string()))?;
        let name: &[u8] = entry.filename().as_ref();
        if !safe_name(name) {
            return Err(Written::Unsafe(format!(
                "a file named {:?}",
                String::from_utf8_lossy(name)
            )));
        }
        if name.eq_ignore_ascii_case(b".git") {
            continue;
        }
        let Ok(name) = std::str::from_utf8(name) else {
            return Err(Written::Unsafe("a file name that is not UTF-8".into()));
        };
        let path = dir.join(name);
        budget.files += 1;
        if budget.files > MAX_FILES {
            return Err(Written::Unsafe(format!(
                "more than {MAX_FILES} files; use --path"
            )));
        }
        let id = entry.id().detach();
        match entry.mode().kind() {
            EntryKind::Tree => {
                std::fs::create_dir(&path)?;
                let sub = repo
                    .find_tree(id)
                    .map_err(|e| Written::Git(e.to_string()))?;
                write_tree(repo, &sub, &path, depth + 1, budget)?;
            }
            kind @ (EntryKind::Blob | EntryKind::BlobExecutable | EntryKind::Link) => {
                let blob = repo
                    .find_blob(id)
                    .map_err(|e| Written::Git(e.to_string()))?;
                budget.bytes += blob.data.len() as u64;
                if budget.bytes > MAX_BYTES {
                    return Err(Written::Unsafe(format!(
                        "more than {} GiB of files; use --path",
                        MAX_BYTES >> 30
                    )));
                }
                if kind == EntryKind::Link {
                    let target = std::str::from_utf8(&blob.data)
                        .map_err(|_| Written::Unsafe(format!("the link {name} is not UTF-8")))?;
                    std::os::unix::fs::symlink(target, &path)?;
                } else {
                    let mode = if kind == EntryKind::BlobExecutable {
                        0o755
                    } else {
                        0o644
                    };
                    // A new file, never through something already there.
                    let mut file = std::fs::OpenOptions::new()
                        .write(true)
                        .create_new(true)
                        .mode(mode)
                        .open(&path)?;
                    file.write_all(&blob.data)?;
                }
            }
            // A submodule's commit: not part of this repository's files.
            EntryKind::Commit => {}
        }
    }
    Ok(())
}

/// Trust the CA certificates git's `http.sslCAInfo` (or `GIT_SSL_CAINFO`)
/// names for an https remote, besides the system's: an internal git server
/// with a private CA works as it does for `git clone`. The git library's
/// HTTP backend reads that setting but does not apply it; skilld hands the
/// certificates to the client it builds.
fn trust_configured_ca<T: gix::protocol::transport::client::blocking_io::Transport>(
    connection: &mut gix::remote::Connection<'_, '_, '_, T>,
) -> Result<(), gix::error::Message> {
    use gix::protocol::transport::client::blocking_io::http;
    let remote = connection.remote();
    let Some(url) = remote.url(gix::remote::Direction::Fetch) else {
        return Ok(());
    };
    if url.scheme != gix::url::Scheme::Https {
        return Ok(());
    }
    let url = url.to_bstring();
    let url: &gix::bstr::BStr = url.as_ref();
    let Ok(Some(options)) = remote.repo().transport_options(url, None) else {
        return Ok(());
    };
    let Ok(mut options) = options.downcast::<http::Options>() else {
        return Ok(());
    };
    let Some(ca) = options.ssl_ca_info.clone() else {
        return Ok(());
    };
    let unusable = |why: String| {
        gix::error::Message::new(format!(
            "http.sslCAInfo names {}, which {why}",
            ca.display()
        ))
    };
    let pem = std::fs::read(&ca).map_err(|e| unusable(format!("cannot be read: {e}")))?;
    let certificates = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| unusable(format!("holds no PEM certificate: {e}")))?;
    if certificates.is_empty() {
        return Err(unusable("holds no PEM certificate".into()));
    }
    options.backend = Some(std::sync::Arc::new(std::sync::Mutex::new(
        http::reqwest::Options {
            configure_client: Some(Box::new(move |mut builder| {
                for certificate in &certificates {
                    builder = builder.add_root_certificate(certificate.clone());
                }
                Ok(builder)
            })),
            configure_request: None,
        },
    )));
    connection.set_transport_options(options);
    Ok(())
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

/// The git library's error report (its first line, then a `Caused by:`
/// chain, with its own message type printed as a struct) as one line: the
/// first message, then the innermost cause when there is one.
fn briefly(report: &str) -> String {
    let unwrap = |line: &str| -> String {
        let line = line.trim();
        let line = line
            .split_once(": ")
            .filter(|(n, _)| n.chars().all(|c| c.is_ascii_digit()))
            .map_or(line, |(_, rest)| rest);
        match line.strip_prefix("Message { message: \"") {
            Some(rest) => rest.split("\"").next().unwrap_or(rest).to_string(),
            None => line.trim_matches('"').to_string(),
        }
    };
    let mut lines = report.lines().filter(|l| !l.trim().is_empty());
    let head = lines.next().map(unwrap).unwrap_or_default();
    let cause = report
        .split_once("Caused by:")
        .and_then(|(_, chain)| chain.lines().rev().find(|l| !l.trim().is_empty()))
        .map(unwrap)
        .filter(|c| !c.is_empty() && *c != head);
    match cause {
        Some(cause) => format!("{head}: {cause}"),
        None => head,
    }
}

/// Does a fetch error say the reference does not exist?
fn looks_missing(text: &str) -> bool {
    let text = text.to_ascii_lowercase();
    [
        "not found",
        "no such",
        "could not find",
        "did not match",
        "didn't have any ref",
        "class: notfound",
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
    fn library_reports_become_one_line() {
        let report = "Message { message: \"Transport handshake failed\" }\n\nCaused by:\n    0: Io(Custom { kind: Other })\n    1: I/O error (Other)\n    2: \"failed to lookup address information: Name or service not known\"";
        assert_eq!(
            briefly(report),
            "Transport handshake failed: failed to lookup address information: Name or service not known"
        );
        let report = "Message { message: \"The remote didn't have any ref that matched 'nope'\", class: NotFound }";
        assert_eq!(
            briefly(report),
            "The remote didn't have any ref that matched 'nope'"
        );
        assert!(looks_missing(report));
        assert_eq!(briefly("plain words"), "plain words");
    }

    #[test]
    fn commit_ids_are_told_from_names() {
        assert!(is_commit_id(&"a".repeat(40)));
        assert!(is_commit_id(&"0".repeat(64)));
        assert!(!is_commit_id("v1.0.0"));
        assert!(!is_commit_id(&"g".repeat(40)));
    }
}
