//! Reading an NDJSON streaming answer: progress frames drawn on a terminal
//! (one line per item the daemon names, e.g. each blob of a parallel pull,
//! with bytes, rate and time left; a spinner for steps of unknown size),
//! then the final result (or error) frame.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::time::Duration;

use http_body_util::BodyExt;
use hyper::body::Incoming;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use skilld_proto::stream::Progress;

use crate::error::ClientError;

/// Draws the daemon's progress frames on stderr when it is a terminal (and
/// neither `--json` nor `-q` was given); otherwise draws nothing.
pub struct ProgressView {
    multi: Option<MultiProgress>,
    lines: HashMap<String, ProgressBar>,
}

/// The style of a line: a transfer in bytes, a count, or a spinner.
fn style(p: &Progress) -> ProgressStyle {
    let template = match (p.total, p.unit.as_deref()) {
        (Some(_), Some("bytes")) => {
            "{prefix:>7} {msg:<19} [{bar:28}] {bytes:>10} / {total_bytes:<10} {binary_bytes_per_sec:>12}  {eta:>3} left"
        }
        (Some(_), _) => {
            "{prefix:>7} {msg:<19} [{bar:28}] {pos:>6} / {len:<6} {per_sec:>10}  {eta:>3} left"
        }
        (None, _) => "{prefix:>7} {spinner} {msg}",
    };
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

impl ProgressView {
    pub fn new(quiet: bool) -> ProgressView {
        let on = !quiet && std::io::stderr().is_terminal();
        ProgressView {
            multi: on.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr())),
            lines: HashMap::new(),
        }
    }

    /// Show one frame: its item's line is created on first sight and
    /// updated after; a line whose count reaches its total is finished.
    pub fn update(&mut self, p: &Progress) {
        let Some(multi) = &self.multi else { return };
        let key = format!("{}\0{}", p.phase, p.item.as_deref().unwrap_or(""));
        let label = match (&p.item, &p.message) {
            (Some(item), _) => item.clone(),
            (None, Some(message)) => message.clone(),
            (None, None) => String::new(),
        };
        let line = self.lines.entry(key).or_insert_with(|| {
            let line = match p.total {
                Some(total) => ProgressBar::new(total),
                None => ProgressBar::new_spinner(),
            }
            .with_style(style(p))
            .with_prefix(p.phase.clone())
            .with_message(label.clone());
            let line = multi.add(line);
            if p.total.is_none() {
                line.enable_steady_tick(Duration::from_millis(100));
            }
            line
        });
        if let Some(total) = p.total
            && line.length() != Some(total)
        {
            line.set_length(total);
        }
        line.set_message(label);
        line.set_position(p.current);
        if p.total.is_some_and(|t| p.current >= t) {
            line.finish();
        }
    }

    /// Take every line off the terminal (before the result is printed).
    pub fn clear(&mut self) {
        for (_, line) in self.lines.drain() {
            line.finish_and_clear();
        }
        if let Some(multi) = &self.multi {
            let _ = multi.clear();
        }
    }
}

/// Read frames until the final one; the raw JSON of the result value.
pub async fn read_final(
    mut body: Incoming,
    bar: &mut ProgressView,
) -> Result<Vec<u8>, ClientError> {
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

fn handle_line(line: &[u8], bar: &mut ProgressView) -> Result<Option<Vec<u8>>, ClientError> {
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
