//! `POST /v1/shutdown`: reply first, then trip the daemon's one shutdown
//! token; the server stops accepting and drains in-flight requests within
//! `limits.shutdown_grace`. The body is optional: `{}` or empty.

use hyper::Request;
use hyper::body::Incoming;
use serde::Deserialize;
use skilld_proto::status::ShutdownResponse;

use super::{ApiError, ApiResponse, body, json};
use crate::state::State;

/// Request body of `POST /v1/shutdown`; every field optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ShutdownRequest {}

pub async fn post(state: &State, req: Request<Incoming>) -> Result<ApiResponse, ApiError> {
    let ShutdownRequest {} = body::read_optional_json(req, &state.config().limits).await?;
    tracing::info!("shutdown requested over the API");
    let response = json(
        hyper::StatusCode::ACCEPTED,
        &ShutdownResponse {
            pid: std::process::id(),
            shutting_down: true,
        },
    );
    // Cancel after this handler returns, so the reply is written first:
    // graceful shutdown lets in-flight responses finish.
    let token = state.shutdown().clone();
    tokio::spawn(async move { token.cancel() });
    Ok(response)
}
