//! `POST /v1/catalog/search` (from the index alone) and
//! `POST /v1/catalog/refresh` (NDJSON progress, then what it asked).

use hyper::Request;
use hyper::body::Incoming;
use skilld_proto::catalog::{RefreshRequest, RefreshResponse, SearchRequest};

use super::stream::ndjson;
use super::{ApiError, ApiResponse, body, json};
use crate::catalog::search::MAX_LIMIT;
use crate::state::State;

pub async fn search(state: &State, req: Request<Incoming>) -> Result<ApiResponse, ApiError> {
    let request: SearchRequest = body::read_json(req, &state.config().limits).await?;
    if request.limit.is_some_and(|l| l == 0 || l > MAX_LIMIT) {
        return Err(ApiError::new(
            skilld_proto::ErrorCode::InvalidRequest,
            format!("limit must be from 1 to {MAX_LIMIT}"),
        ));
    }
    let answer = crate::catalog::search::search(state.index(), request).await?;
    Ok(json(hyper::StatusCode::OK, &answer))
}

pub async fn refresh(state: &State, req: Request<Incoming>) -> Result<ApiResponse, ApiError> {
    let request: RefreshRequest = body::read_optional_json(req, &state.config().limits).await?;
    if state.config().catalog.sources.is_empty() {
        return Err(crate::catalog::RefreshError::NoSources.into());
    }
    let (tx, response) = ndjson::<RefreshResponse>();
    let state = state.clone();
    tokio::spawn(async move {
        let progress = tx.reporter();
        let outcome = crate::catalog::refresh::refresh(
            &state.config().catalog,
            state.registries(),
            state.index(),
            request.full,
            &progress,
        )
        .await
        .map_err(ApiError::from);
        tx.finish(outcome).await;
    });
    Ok(response)
}
