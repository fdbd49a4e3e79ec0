//! The error object every failing route returns, and the one mapping from
//! error code to HTTP status.
//!
//! `{"error": {"code": "not_found", "message": "...", "details": {...}}}`.
//! The message is written for a person and says what to do next; `details`
//! carries machine-readable context (a path, a limit, the allowed methods).

use serde::{Deserialize, Serialize};

/// Machine-readable kind of failure. Adding a variant forces a decision about
/// its HTTP status in [`ErrorCode::http_status`], which has no wildcard arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The body is not valid JSON, or not the JSON the route expects.
    MalformedRequest,
    /// The request is well-formed but asks for something invalid.
    InvalidRequest,
    /// No such route, image, skill or install.
    NotFound,
    /// The route exists but not with this method.
    MethodNotAllowed,
    /// The request body is larger than `limits.max_body_bytes`.
    PayloadTooLarge,
    /// The client was too slow to send its request.
    RequestTimeout,
    /// The request conflicts with the current state (a hand-edited skill, ...).
    Conflict,
    /// The trust policy refused the image (unsigned, not signed by a
    /// trusted key, or from a rejected scope); `details.rule` names the rule.
    Untrusted,
    /// The scan policy refused the image (`scan.block`);
    /// `details.findings` are the findings that blocked it.
    UnsafeContent,
    /// The daemon is at its connection cap or shutting down.
    Unavailable,
    /// A registry failed or refused (see `details.kind`).
    Upstream,
    /// A bug or an unexpected failure inside the daemon.
    Internal,
}

impl ErrorCode {
    /// Every code (the OpenAPI document lists them with their statuses).
    pub const ALL: [ErrorCode; 12] = [
        ErrorCode::MalformedRequest,
        ErrorCode::InvalidRequest,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::PayloadTooLarge,
        ErrorCode::RequestTimeout,
        ErrorCode::Conflict,
        ErrorCode::Untrusted,
        ErrorCode::UnsafeContent,
        ErrorCode::Unavailable,
        ErrorCode::Upstream,
        ErrorCode::Internal,
    ];

    /// The HTTP status a response with this code carries.
    pub const fn http_status(self) -> u16 {
        match self {
            ErrorCode::MalformedRequest => 400,
            ErrorCode::InvalidRequest => 422,
            ErrorCode::NotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::RequestTimeout => 408,
            ErrorCode::Conflict => 409,
            ErrorCode::Untrusted => 403,
            ErrorCode::UnsafeContent => 403,
            ErrorCode::Unavailable => 503,
            ErrorCode::Upstream => 502,
            ErrorCode::Internal => 500,
        }
    }

    /// The code's wire name, as serialised.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::MalformedRequest => "malformed_request",
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::RequestTimeout => "request_timeout",
            ErrorCode::Conflict => "conflict",
            ErrorCode::Untrusted => "untrusted",
            ErrorCode::UnsafeContent => "unsafe_content",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Upstream => "upstream",
            ErrorCode::Internal => "internal",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The inner error object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub details: serde_json::Value,
}

/// The whole body of a failed response: `{"error": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ErrorResponse {
    pub error: ErrorBody,
}

impl ErrorBody {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ErrorBody {
            code,
            message: message.into(),
            details: serde_json::Value::Null,
        }
    }

    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `ALL` holds every variant: this match has no wildcard, so a new
    /// variant fails to compile until it has a place here (and in `ALL`).
    #[test]
    fn all_holds_every_code() {
        let place = |c: ErrorCode| match c {
            ErrorCode::MalformedRequest => 0,
            ErrorCode::InvalidRequest => 1,
            ErrorCode::NotFound => 2,
            ErrorCode::MethodNotAllowed => 3,
            ErrorCode::PayloadTooLarge => 4,
            ErrorCode::RequestTimeout => 5,
            ErrorCode::Conflict => 6,
            ErrorCode::Untrusted => 7,
            ErrorCode::UnsafeContent => 8,
            ErrorCode::Unavailable => 9,
            ErrorCode::Upstream => 10,
            ErrorCode::Internal => 11,
        };
        for (i, c) in ErrorCode::ALL.iter().enumerate() {
            assert_eq!(place(*c), i, "{c}");
        }
    }

    #[test]
    fn wire_names_match_serde() {
        for code in ErrorCode::ALL {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
    }

    #[test]
    fn error_object_shape_is_stable() {
        // A compatibility fixture: editor plugins parse exactly this shape.
        let fixture =
            r#"{"error":{"code":"payload_too_large","message":"too big","details":{"limit":10}}}"#;
        let parsed: ErrorResponse = serde_json::from_str(fixture).unwrap();
        assert_eq!(parsed.error.code, ErrorCode::PayloadTooLarge);
        assert_eq!(parsed.error.code.http_status(), 413);
        assert_eq!(serde_json::to_string(&parsed).unwrap(), fixture);
    }
}
