//! `POST /v1/validate` and `POST /v1/build` (NDJSON stream): a skill folder
//! on this machine, named by its absolute path, checked or built into the
//! local store.

use std::path::{Path, PathBuf};

use hyper::Request;
use hyper::body::Incoming;
use skilld_proto::ErrorCode;
use skilld_proto::images::{BuildRequest, BuildResponse};
use skilld_proto::skill::{Severity, ValidateRequest, ValidateResponse};
use skilld_proto::stream::Progress;

use super::stream::{StreamSender, ndjson};
use super::{ApiError, ApiResponse, body, json};
use crate::image::build::{self, BuildError, BuildSpec};
use crate::image::lifecycle;
use crate::image::reference::Reference;
use crate::skill::{self, LoadOptions, Loaded};
use crate::state::State;

/// Check that `path` is an absolute path to a folder.
fn skill_dir(path: &Path) -> Result<PathBuf, ApiError> {
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

async fn load(dir: PathBuf, options: LoadOptions) -> Result<Loaded, ApiError> {
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

pub async fn build(state: &State, req: Request<Incoming>) -> Result<ApiResponse, ApiError> {
    let request: BuildRequest = body::read_json(req, &state.config().limits).await?;
    let dir = skill_dir(&request.path)?;
    let (tx, response) = ndjson::<BuildResponse>();
    let state = state.clone();
    tokio::spawn(async move {
        let outcome = run_build(&state, request, dir, &tx).await;
        tx.finish(outcome).await;
    });
    Ok(response)
}

fn problems_error(problems: Vec<skilld_proto::skill::Problem>, what: &str) -> ApiError {
    let errors = problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .count();
    ApiError::new(
        ErrorCode::InvalidRequest,
        format!("{what} has {errors} problem(s); nothing was built (see the list, or run `skillc validate`)"),
    )
    .with_details(serde_json::json!({ "problems": problems }))
}

async fn run_build(
    state: &State,
    request: BuildRequest,
    dir: PathBuf,
    tx: &StreamSender<BuildResponse>,
) -> Result<BuildResponse, ApiError> {
    tx.progress(Progress {
        phase: "validate".into(),
        current: 0,
        total: None,
        unit: None,
        message: Some(format!("checking {}", dir.display())),
        item: None,
    });
    let loaded = load(
        dir.clone(),
        LoadOptions {
            strict: request.strict,
            namespace: request.namespace.clone(),
        },
    )
    .await?;
    let Some(card) = loaded.card.clone().filter(|_| loaded.is_valid()) else {
        return Err(problems_error(loaded.problems, "the skill"));
    };
    let warnings: Vec<_> = loaded
        .problems
        .iter()
        .filter(|p| p.severity == Severity::Warning)
        .cloned()
        .collect();
    let default_tag = lifecycle::tag_for(
        &card.metadata.version,
        skilld_proto::images::Lifecycle::Draft,
    );
    let reference = match &request.tag {
        Some(tag) => {
            let r = Reference::parse(tag)?;
            if r.digest.is_some() {
                return Err(ApiError::new(
                    ErrorCode::InvalidRequest,
                    "-t takes a tag, not a digest",
                ));
            }
            if r.tag.is_some() {
                r
            } else {
                r.with_tag(&default_tag)
            }
        }
        None => {
            let path = match &card.metadata.namespace {
                Some(ns) => format!("{ns}/{}:{default_tag}", card.metadata.name),
                None => format!("{}:{default_tag}", card.metadata.name),
            };
            Reference::parse(&path)?
        }
    };

    // The content scan warns; with --strict, a finding at `scan.block`
    // stops the build.
    let scanned = crate::scan::policy::scan_folder(&state.config().scan, dir.clone())
        .await
        .map_err(|e| {
            ApiError::new(
                ErrorCode::InvalidRequest,
                format!("cannot scan the skill: {e}"),
            )
        })?;
    let repository = reference.repository();
    let blocking = state.config().scan.blocking(&scanned.findings, &repository);
    if request.strict && !blocking.is_empty() {
        return Err(
            crate::install::InstallError::from(crate::scan::policy::Unsafe {
                reference: reference.to_string(),
                block: state
                    .config()
                    .scan
                    .block
                    .map(crate::scan::Severity::as_str)
                    .unwrap_or("off")
                    .into(),
                findings: blocking,
            })
            .into(),
        );
    }
    let findings = state.config().scan.warnings(&scanned.findings);

    let catalog = state.catalog().clone();
    let _hold = catalog.write_guard().await;
    let limits = state.config().build;
    let words = loaded.words;
    let frontmatter = loaded.frontmatter.clone();
    let progress_tx = tx.clone();
    let built = catalog
        .blocking(move |store| {
            let spec = BuildSpec {
                dir: &dir,
                card: &card,
                words,
                frontmatter: &frontmatter,
                format: request.format,
                media_types: request.media_types,
                epoch: request.source_date_epoch,
                limits,
            };
            let mut last = 0u64;
            let mut report = |done: u64, total: u64| {
                // About a hundred updates per build, not one per file.
                if done == 0 || done == total || done - last >= (total / 100).max(1) {
                    last = done;
                    progress_tx.progress(Progress {
                        phase: "pack".into(),
                        current: done,
                        total: Some(total),
                        unit: Some("bytes".into()),
                        message: None,
                        item: None,
                    });
                }
            };
            Ok(build::build(store, &spec, &mut report))
        })
        .await?
        .map_err(|e| match e {
            BuildError::Problems(problems) => problems_error(problems, "the skill folder"),
            BuildError::Invalid(message) => ApiError::new(ErrorCode::InvalidRequest, message),
            BuildError::Store(e) => e.into(),
            BuildError::Io(e) => ApiError::new(
                ErrorCode::InvalidRequest,
                format!("cannot pack the skill: {e}"),
            ),
        })?;
    let name = reference.to_string();
    catalog.tag(&name, &built.manifest).await?;
    tracing::info!(reference = %name, digest = %built.manifest.digest, files = built.files, "built");
    Ok(BuildResponse {
        reference: name,
        digest: built.manifest.digest.to_string(),
        layer_digest: built.layer.to_string(),
        config_digest: built.config.to_string(),
        size: built.size,
        files: built.files,
        content_bytes: built.content_bytes,
        warnings,
        findings,
    })
}
