//! Frames of an NDJSON streaming response, used by long operations (pull,
//! push, install, upgrade, sync): any number of `progress` frames, then
//! exactly one `result` or `error` frame, one JSON object per line.
//!
//! ```text
//! {"type":"progress","phase":"pull","current":1024,"total":4096,"message":null}
//! {"type":"result","value":{...the endpoint's response...}}
//! ```
//! A stream that ends without a final frame means the daemon went away; a
//! client must treat it as a failure.

use serde::{Deserialize, Serialize};

use crate::ErrorBody;

/// Content type of streaming responses.
pub const NDJSON: &str = "application/x-ndjson";

/// How far along a long operation is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Progress {
    /// What is being done: `pull`, `push`, `unpack`, ...
    pub phase: String,
    /// Units done so far (bytes, blobs or files: see `unit`).
    pub current: u64,
    /// Units in all, when known.
    #[serde(default)]
    pub total: Option<u64>,
    /// `bytes`, `blobs` or `files`.
    #[serde(default)]
    pub unit: Option<String>,
    /// A line for a person, if any.
    #[serde(default)]
    pub message: Option<String>,
    /// The part of the operation this frame counts, when it has several
    /// that advance at once (each blob of a pull or push, named by its
    /// short digest, e.g. `sha256:3c068f30930e`): `current` and `total` are
    /// then that part's own, and a client draws one line per item. Absent
    /// for a frame about the operation as a whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
}

/// One line of a streaming response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename = "{T}Frame"))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Frame<T> {
    Progress(Progress),
    Result { value: T },
    Error { error: ErrorBody },
}

impl<T> Frame<T> {
    /// Whether this frame ends the stream.
    pub fn is_final(&self) -> bool {
        !matches!(self, Frame::Progress(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    #[test]
    fn frames_round_trip_as_single_lines() {
        let frames: Vec<Frame<serde_json::Value>> = vec![
            Frame::Progress(Progress {
                phase: "pull".into(),
                current: 10,
                total: Some(20),
                unit: Some("bytes".into()),
                message: None,
                item: Some("sha256:3c068f30930e".into()),
            }),
            Frame::Error {
                error: ErrorBody::new(ErrorCode::NotFound, "no such tag"),
            },
            Frame::Result {
                value: serde_json::json!({"ok": true}),
            },
        ];
        for frame in frames {
            let line = serde_json::to_string(&frame).unwrap();
            assert!(!line.contains('\n'));
            let back: Frame<serde_json::Value> = serde_json::from_str(&line).unwrap();
            assert_eq!(back, frame);
        }
        let progress = r#"{"type":"progress","phase":"push","current":3}"#;
        let parsed: Frame<()> = serde_json::from_str(progress).unwrap();
        assert!(!parsed.is_final());
    }
}
