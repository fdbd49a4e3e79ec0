//! `GET /v1/events[?follow=true]` (NDJSON) and `GET /v1/history[?skill=NAME]`.

use bytes::Bytes;
use hyper::Request;
use hyper::body::Incoming;
use skilld_proto::events::{EventKind, HistoryResponse};
use tokio::sync::broadcast::error::RecvError;

use super::{ApiError, ApiResponse, json, stream};
use crate::events::EventBus;
use crate::index::history;
use crate::state::State;

/// The value of `key` in the query string, if any.
pub fn query_param(req: &Request<Incoming>, key: &str) -> Option<String> {
    req.uri().query()?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == key).then(|| percent_decode(v))
    })
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        // Hex digits are read as bytes: slicing the text at byte offsets
        // would panic on a multi-byte character after '%'.
        let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn line(event: &skilld_proto::events::Event) -> Bytes {
    let mut bytes = serde_json::to_vec(event).unwrap_or_default();
    bytes.push(b'\n');
    Bytes::from(bytes)
}

pub async fn events(state: &State, req: Request<Incoming>) -> Result<ApiResponse, ApiError> {
    let follow = matches!(
        query_param(&req, "follow").as_deref(),
        Some("true" | "1" | "yes")
    );
    let (recent, mut live) = state.events().subscribe();
    let (tx, response) = stream::lines(64);
    let shutdown = state.shutdown().clone();
    tokio::spawn(async move {
        for event in &recent {
            if tx.send(line(event)).await.is_err() {
                return;
            }
        }
        if !follow {
            return;
        }
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                next = live.recv() => match next {
                    Ok(event) => {
                        if tx.send(line(&event)).await.is_err() {
                            return;
                        }
                    }
                    Err(RecvError::Lagged(missed)) => {
                        let mut event = EventBus::event(EventKind::Lagged);
                        event.message = Some(format!("this client fell {missed} events behind and was dropped; reconnect"));
                        let _ = tx.try_send(line(&event));
                        return;
                    }
                    Err(RecvError::Closed) => return,
                },
            }
        }
    });
    Ok(response)
}

pub async fn history(state: &State, req: Request<Incoming>) -> Result<ApiResponse, ApiError> {
    let skill = query_param(&req, "skill");
    let entries = state
        .index()
        .read(move |conn| history::list(conn, skill.as_deref()))
        .await?;
    Ok(json(hyper::StatusCode::OK, &HistoryResponse { entries }))
}

#[cfg(test)]
mod tests {
    use super::percent_decode;

    #[test]
    fn percent_decoding_never_panics() {
        assert_eq!(percent_decode("hello%2Dworld+x"), "hello-world x");
        assert_eq!(percent_decode("%aé"), "%aé");
        assert_eq!(percent_decode("%é%"), "%é%");
        assert_eq!(percent_decode("%4"), "%4");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}
