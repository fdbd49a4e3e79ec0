//! `GET /v1/status`: version, protocol, pid, uptime, paths and counts.

use skilld_proto::status::{Counts, StatusResponse};

use super::{ApiError, ApiResponse, json};
use crate::state::State;

pub async fn get(state: &State) -> Result<ApiResponse, ApiError> {
    let (images, installs) = state.index().counts().await?;
    let status = StatusResponse {
        version: env!("CARGO_PKG_VERSION").to_string(),
        protocol: skilld_proto::PROTOCOL,
        pid: std::process::id(),
        uptime_secs: state.uptime_secs(),
        paths: state.config().paths.clone(),
        counts: Counts {
            images,
            installs,
            connections: state.connections(),
        },
        next_check: state.health().next_check(),
        last_check: state.health().last_check(),
        failing_registries: state.health().failing(),
    };
    Ok(json(hyper::StatusCode::OK, &status))
}
