//! Reading an NDJSON streaming answer: progress frames drawn as a bar on a
//! terminal, then the final result (or error) frame.

use std::io::{IsTerminal, Write};

use http_body_util::BodyExt;
use hyper::body::Incoming;
use skilld_proto::stream::Progress;

use crate::error::ClientError;
use crate::render;

/// Draws progress on stderr when it is a terminal.
pub struct ProgressBar {
    enabled: bool,
    drawn: bool,
}

impl ProgressBar {
    pub fn new(quiet: bool) -> ProgressBar {
        ProgressBar {
            enabled: !quiet && std::io::stderr().is_terminal(),
            drawn: false,
        }
    }

    pub fn update(&mut self, p: &Progress) {
        if !self.enabled {
            return;
        }
        let line = match p.total {
            Some(total) if total > 0 => {
                let frac = (p.current as f64 / total as f64).clamp(0.0, 1.0);
                let filled = (frac * 30.0) as usize;
                let amount = if p.unit.as_deref() == Some("bytes") {
                    format!("{} / {}", render::bytes(p.current), render::bytes(total))
                } else {
                    format!("{} / {}", p.current, total)
                };
                format!(
                    "{:<8} [{}{}] {:>3}% {amount}",
                    p.phase,
                    "#".repeat(filled),
                    ".".repeat(30 - filled),
                    (frac * 100.0) as u32
                )
            }
            _ => format!("{:<8} {}", p.phase, p.message.clone().unwrap_or_default()),
        };
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K{line}");
        let _ = err.flush();
        self.drawn = true;
    }

    pub fn clear(&mut self) {
        if self.drawn {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
            self.drawn = false;
        }
    }
}

/// Read frames until the final one; the raw JSON of the result value.
pub async fn read_final(mut body: Incoming, bar: &mut ProgressBar) -> Result<Vec<u8>, ClientError> {
    let mut buffer: Vec<u8> = Vec::new();
    loop {
        while let Some(end) = buffer.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buffer.drain(..=end).collect();
            if let Some(result) = handle_line(&line[..line.len() - 1], bar)? {
                bar.clear();
                return Ok(result);
            }
        }
        match body.frame().await {
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    buffer.extend_from_slice(&data);
                }
            }
            Some(Err(e)) => {
                bar.clear();
                return Err(ClientError::Other(format!(
                    "the daemon's answer broke off: {e}"
                )));
            }
            None => {
                bar.clear();
                return Err(ClientError::Other(
                    "the daemon ended the stream without a result; see its log (skillc status shows where)".into(),
                ));
            }
        }
    }
}

fn handle_line(line: &[u8], bar: &mut ProgressBar) -> Result<Option<Vec<u8>>, ClientError> {
    if line.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let value: serde_json::Value = serde_json::from_slice(line)
        .map_err(|e| ClientError::Other(format!("cannot understand the daemon's stream: {e}")))?;
    match value.get("type").and_then(|t| t.as_str()) {
        Some("progress") => {
            if let Ok(p) = serde_json::from_value::<Progress>(value) {
                bar.update(&p);
            }
            Ok(None)
        }
        Some("result") => Ok(Some(
            serde_json::to_vec(&value["value"]).unwrap_or_default(),
        )),
        Some("error") => {
            bar.clear();
            let raw = serde_json::to_vec(&serde_json::json!({ "error": value["error"] }))
                .unwrap_or_default();
            let body = serde_json::from_value(value["error"].clone()).map_err(|e| {
                ClientError::Other(format!("cannot understand the daemon's error: {e}"))
            })?;
            Err(ClientError::Daemon { body, raw })
        }
        _ => Err(ClientError::Other(format!(
            "unexpected frame from the daemon: {}",
            String::from_utf8_lossy(line)
        ))),
    }
}
