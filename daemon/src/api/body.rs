//! Reading a JSON request body within the configured limits: a size cap
//! (413 before and while reading), a time cap (408) and strict parsing (400
//! with the line and column of the problem).

use http_body_util::{BodyExt, Limited};
use hyper::Request;
use hyper::body::Incoming;
use hyper::header::CONTENT_LENGTH;
use serde::de::DeserializeOwned;
use skilld_proto::ErrorCode;

use super::ApiError;
use crate::config::Limits;

fn too_large(limit: u64) -> ApiError {
    ApiError::new(
        ErrorCode::PayloadTooLarge,
        format!("request body is larger than {limit} bytes; raise limits.max_body_bytes in config.yaml if this is expected"),
    )
    .with_details(serde_json::json!({ "limit": limit }))
}

/// Read the whole body as bytes, within `limits`.
pub async fn read_bytes(req: Request<Incoming>, limits: &Limits) -> Result<bytes::Bytes, ApiError> {
    let limit = limits.max_body_bytes;
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large(limit));
    }
    let limited = Limited::new(
        req.into_body(),
        usize::try_from(limit).unwrap_or(usize::MAX),
    );
    match tokio::time::timeout(limits.body_timeout, limited.collect()).await {
        Err(_) => Err(ApiError::new(
            ErrorCode::RequestTimeout,
            format!(
                "the request body did not arrive within {}",
                humantime_serde::re::humantime::format_duration(limits.body_timeout)
            ),
        )),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(too_large(limit)),
        Ok(Err(e)) => Err(ApiError::new(
            ErrorCode::MalformedRequest,
            format!("cannot read the request body: {e}"),
        )),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
    }
}

/// Read and parse a JSON body that the route requires.
pub async fn read_json<T: DeserializeOwned>(
    req: Request<Incoming>,
    limits: &Limits,
) -> Result<T, ApiError> {
    let bytes = read_bytes(req, limits).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::new(
            ErrorCode::MalformedRequest,
            "this route needs a JSON body; see docs/api.md",
        ));
    }
    parse(&bytes)
}

/// Read and parse a JSON body that may be empty (then `T::default()`).
pub async fn read_optional_json<T: DeserializeOwned + Default>(
    req: Request<Incoming>,
    limits: &Limits,
) -> Result<T, ApiError> {
    let bytes = read_bytes(req, limits).await?;
    parse_json(&bytes)
}

/// Parse a JSON body; an empty body is `T::default()`.
pub fn parse_json<T: DeserializeOwned + Default>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    parse(bytes)
}

fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::new(
            ErrorCode::MalformedRequest,
            format!("the request body is not valid JSON for this route: {e}"),
        )
        .with_details(serde_json::json!({ "line": e.line(), "column": e.column() }))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, serde::Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Req {
        n: Option<u32>,
    }

    #[test]
    fn empty_body_is_default() {
        assert_eq!(parse_json::<Req>(b"").unwrap(), Req::default());
        assert_eq!(parse_json::<Req>(b" \n").unwrap(), Req::default());
    }

    #[test]
    fn malformed_json_reports_position() {
        let err = parse_json::<Req>(b"{\"n\": ").unwrap_err();
        assert_eq!(err.code(), ErrorCode::MalformedRequest);
        assert_eq!(err.0.details["line"], 1);
        let err = parse_json::<Req>(b"{\"m\": 1}").unwrap_err();
        assert!(
            err.0.message.contains("unknown field `m`"),
            "{}",
            err.0.message
        );
    }
}
