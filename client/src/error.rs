//! What can go wrong on the client side, each with what to do about it.

use std::path::PathBuf;

use skilld_proto::ErrorBody;

#[derive(Debug)]
pub enum ClientError {
    /// No daemon answers and autostart is off.
    NotRunning { socket: PathBuf },
    /// The daemon answered with an error object: shown as it is.
    Daemon { body: ErrorBody, raw: Vec<u8> },
    /// The daemon speaks another protocol.
    ProtocolMismatch { daemon: String, socket: PathBuf },
    /// Starting the daemon failed.
    StartFailed { reason: String, log: PathBuf },
    /// Anything else: I/O, HTTP, unparsable answers.
    Other(String),
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientError::NotRunning { socket } => write!(
                f,
                "no skilld answers on {}; start it with `skillc daemon start` (or drop --no-autostart)",
                socket.display()
            ),
            ClientError::Daemon { body, .. } => f.write_str(&body.message),
            ClientError::ProtocolMismatch { daemon, socket } => write!(
                f,
                "the skilld on {} speaks protocol {daemon}, but this skillc speaks protocol {}; \
                 restart the daemon with `skillc daemon stop` (the next command starts a matching one)",
                socket.display(),
                skilld_proto::PROTOCOL
            ),
            ClientError::StartFailed { reason, log } => {
                write!(
                    f,
                    "could not start skilld: {reason} (its log: {})",
                    log.display()
                )
            }
            ClientError::Other(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for ClientError {}

impl ClientError {
    /// The error as the daemon's JSON error object, for `--json`.
    pub fn to_json(&self) -> Vec<u8> {
        if let ClientError::Daemon { raw, .. } = self {
            return raw.clone();
        }
        let code = match self {
            ClientError::NotRunning { .. } | ClientError::StartFailed { .. } => {
                skilld_proto::ErrorCode::Unavailable
            }
            _ => skilld_proto::ErrorCode::Internal,
        };
        serde_json::to_vec(&skilld_proto::ErrorResponse {
            error: ErrorBody::new(code, self.to_string()),
        })
        .unwrap_or_default()
    }
}

impl ClientError {
    /// Skill problems the daemon attached to its error (`details.problems`).
    pub fn problems(&self) -> Vec<skilld_proto::skill::Problem> {
        match self {
            ClientError::Daemon { body, .. } => body
                .details
                .get("problems")
                .and_then(|p| serde_json::from_value(p.clone()).ok())
                .unwrap_or_default(),
            _ => Vec::new(),
        }
    }
}
