//! Shell completion: clap_complete's dynamic completion, where the shell
//! asks `skillc` itself (`COMPLETE=bash skillc -- skillc remove he`), and
//! `skillc` asks the daemon for installed skill names, targets and local
//! images. The daemon is asked over its socket with a short deadline and is
//! never started for a completion: with none running, only flags and
//! subcommands complete.

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use clap_complete::engine::CompletionCandidate;
use serde::de::DeserializeOwned;
use skilld_proto::paths::{Overrides, Paths};

/// How long a completion may wait for the daemon: a shell user is waiting.
const DEADLINE: Duration = Duration::from_millis(300);
/// Largest answer read (a store or install list of thousands fits).
const MAX_ANSWER: u64 = 8 << 20;

/// `method path` with `body` to the daemon, its JSON answer; `None` when no
/// daemon answers in time or the answer is not what was asked for.
fn ask<T: DeserializeOwned>(method: &str, path: &str, body: &str) -> Option<T> {
    let socket = Paths::from_env(&Overrides::default()).ok()?.socket;
    let mut stream = UnixStream::connect(socket).ok()?;
    stream.set_read_timeout(Some(DEADLINE)).ok()?;
    stream.set_write_timeout(Some(DEADLINE)).ok()?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nhost: skilld\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut answer = Vec::new();
    stream.take(MAX_ANSWER).read_to_end(&mut answer).ok()?;
    let split = answer.windows(4).position(|w| w == b"\r\n\r\n")?;
    let (head, json) = (&answer[..split], &answer[split + 4..]);
    if !head.starts_with(b"HTTP/1.1 200") {
        return None;
    }
    serde_json::from_slice(json).ok()
}

fn matching(values: impl IntoIterator<Item = String>, current: &OsStr) -> Vec<CompletionCandidate> {
    let current = current.to_string_lossy();
    let mut values: Vec<String> = values
        .into_iter()
        .filter(|v| v.starts_with(current.as_ref()))
        .collect();
    values.sort();
    values.dedup();
    values.into_iter().map(CompletionCandidate::new).collect()
}

/// Names of installed skills.
pub fn installed(current: &OsStr) -> Vec<CompletionCandidate> {
    let list: Option<skilld_proto::install::ListResponse> = ask("POST", "/v1/installs", "{}");
    let names = list
        .map(|l| {
            l.installs
                .into_iter()
                .filter(|i| i.status != "unmanaged")
                .map(|i| i.name)
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    matching(names, current)
}

/// Names of targets (agents' skill folders), and `dir`.
pub fn targets(current: &OsStr) -> Vec<CompletionCandidate> {
    let answer: Option<skilld_proto::install::TargetsResponse> = ask("GET", "/v1/targets", "");
    let mut names: Vec<String> = answer
        .map(|t| t.targets.into_iter().map(|t| t.name).collect())
        .unwrap_or_default();
    if !names.is_empty() {
        names.push("dir".into());
    }
    matching(names, current)
}

/// References of images in the local store.
pub fn images(current: &OsStr) -> Vec<CompletionCandidate> {
    let answer: Option<skilld_proto::images::ImagesResponse> = ask("GET", "/v1/images", "");
    let refs = answer
        .map(|i| {
            i.images
                .into_iter()
                .map(|i| i.reference)
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    matching(refs, current)
}
