//! `POST /v1/validate`: a skill folder on this machine, named by its
//! absolute path, checked (building is in [`super::build`]).

use std::path::{Path, PathBuf};

use hyper::Request;
use hyper::body::Incoming;
use skilld_proto::ErrorCode;
use skilld_proto::skill::{ValidateRequest, ValidateResponse};

use super::{ApiError, ApiResponse, body, json};
use crate::skill::{self, LoadOptions, Loaded};
use crate::state::State;

/// Check that `path` is an absolute path to a folder.
pub(super) fn skill_dir(path: &Path) -> Result<PathBuf, ApiError> {
    if !path.is_absolute() {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            format!(
                "{} is not an absolute path; the daemon does not know your working folder",
                path.display()
            ),
        ));
    }
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => Ok(path.to_path_buf()),
        Ok(_) => Err(ApiError::new(
            ErrorCode::InvalidRequest,
            format!(
                "{} is not a folder; give the skill's folder",
                path.display()
            ),
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(ApiError::new(
            ErrorCode::NotFound,
            format!(
                "{} does not exist; give the folder that holds the skill's SKILL.md",
                path.display()
            ),
        )),
        Err(e) => Err(ApiError::new(
            ErrorCode::NotFound,
            format!("cannot open {}: {e}", path.display()),
        )),
    }
}

pub(super) async fn load(dir: PathBuf, options: LoadOptions) -> Result<Loaded, ApiError> {
    tokio::task::spawn_blocking(move || skill::load(&dir, &options))
        .await
        .map_err(|e| ApiError::new(ErrorCode::Internal, format!("validation task failed: {e}")))
}

pub async fn validate(state: &State, req: Request<Incoming>) -> Result<ApiResponse, ApiError> {
    let request: ValidateRequest = body::read_json(req, &state.config().limits).await?;
    let dir = skill_dir(&request.path)?;
    let loaded = load(
        dir,
        LoadOptions {
            strict: request.strict,
            namespace: request.namespace,
        },
    )
    .await?;
    Ok(json(
        hyper::StatusCode::OK,
        &ValidateResponse {
            valid: loaded.is_valid(),
            card: loaded.card.clone(),
            frontmatter: loaded.frontmatter,
            problems: loaded.problems,
        },
    ))
}
