//! Project endpoints: add, lock and sync (NDJSON streams), outdated.

use hyper::Request;
use hyper::body::Incoming;
use skilld_proto::project::{
    AddRequest, LockRequest, LockResponse, LockedSkill, OutdatedRequest, OutdatedResponse,
    SyncChange, SyncRequest, SyncResponse,
};

use super::stream::ndjson;
use super::{ApiError, ApiResponse, body, json};
use crate::project::lock::Update;
use crate::project::sync::{Options, Synced};
use crate::project::{self, add, lock, outdated, sync};
use crate::state::State;

pub(crate) fn sync_response(synced: Synced) -> SyncResponse {
    SyncResponse {
        changes: synced
            .changes
            .into_iter()
            .map(|c| SyncChange {
                name: c.name,
                action: c.action.to_string(),
                from: c.from,
                to: c.to,
                path: c.path,
            })
            .collect(),
        backups: synced.backups,
        relocked: synced.relocked,
    }
}

pub async fn add(state: &State, req: Request<Incoming>) -> Result<ApiResponse, ApiError> {
    let request: AddRequest = body::read_json(req, &state.config().limits).await?;
    let root = project::root(&request.project)?;
    let (tx, response) = ndjson::<SyncResponse>();
    let state = state.clone();
    tokio::spawn(async move {
        let report = tx.reporter();
        let outcome = add::add(
            &state,
            &root,
            &request.references,
            &request.targets,
            &report,
        )
        .await
        .map(sync_response)
        .map_err(ApiError::from);
        tx.finish(outcome).await;
    });
    Ok(response)
}

pub async fn lock(state: &State, req: Request<Incoming>) -> Result<ApiResponse, ApiError> {
    let request: LockRequest = body::read_json(req, &state.config().limits).await?;
    let root = project::root(&request.project)?;
    let update = match (request.update, request.names.is_empty()) {
        (false, true) => Update::None,
        (true, true) => Update::All,
        (_, false) => Update::Only(request.names.clone()),
    };
    let (tx, response) = ndjson::<LockResponse>();
    let state = state.clone();
    tokio::spawn(async move {
        let outcome = lock::lock(&state, &root, &update)
            .await
            .map(|locking| LockResponse {
                skills: locking
                    .lock
                    .skills
                    .iter()
                    .map(|l| {
                        let previous = locking
                            .previous
                            .iter()
                            .find(|(n, _)| *n == l.name)
                            .and_then(|(_, p)| p.clone());
                        LockedSkill {
                            name: l.name.clone(),
                            tag: l.source.tag.clone(),
                            digest: l.source.digest.clone(),
                            reference: l.source.reference.clone(),
                            changed: previous.as_deref() != Some(l.source.tag.as_str()),
                            previous,
                        }
                    })
                    .collect(),
                written: locking.written,
            })
            .map_err(ApiError::from);
        tx.finish(outcome).await;
    });
    Ok(response)
}

pub async fn sync(state: &State, req: Request<Incoming>) -> Result<ApiResponse, ApiError> {
    let request: SyncRequest = body::read_json(req, &state.config().limits).await?;
    let root = project::root(&request.project)?;
    let options = Options {
        frozen: request.frozen,
        dry_run: request.dry_run,
        force: request.force,
    };
    let (tx, response) = ndjson::<SyncResponse>();
    let state = state.clone();
    tokio::spawn(async move {
        let report = tx.reporter();
        let outcome = sync::sync(&state, &root, options, &report)
            .await
            .map(sync_response)
            .map_err(ApiError::from);
        tx.finish(outcome).await;
    });
    Ok(response)
}

pub async fn outdated(state: &State, req: Request<Incoming>) -> Result<ApiResponse, ApiError> {
    let request: OutdatedRequest = body::read_json(req, &state.config().limits).await?;
    let root = project::root(&request.project)?;
    let skills = outdated::outdated(state, &root).await?;
    Ok(json(hyper::StatusCode::OK, &OutdatedResponse { skills }))
}
