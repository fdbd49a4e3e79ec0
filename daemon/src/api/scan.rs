//! `POST /v1/scan`: a folder, or an image from the store (pulled when the
//! store lacks it), scanned by the rules in force (NDJSON).

use hyper::Request;
use hyper::body::Incoming;
use skilld_proto::scan::{ScanRequest, ScanResponse};

use super::stream::ndjson;
use super::{ApiError, ApiResponse, body};
use crate::scan::engine::Report;
use crate::state::State;

pub async fn scan(state: &State, req: Request<Incoming>) -> Result<ApiResponse, ApiError> {
    let request: ScanRequest = body::read_json(req, &state.config().limits).await?;
    let invalid = |m: &str| ApiError::new(skilld_proto::ErrorCode::InvalidRequest, m.to_string());
    match (&request.path, &request.reference) {
        (Some(p), None) if !p.is_absolute() => {
            return Err(invalid(
                "the folder must be an absolute path (skillc sends one)",
            ));
        }
        (Some(p), None) if !p.is_dir() => {
            return Err(invalid(&format!(
                "{} is not a folder; name a skill folder or an image",
                p.display()
            )));
        }
        (Some(_), None) | (None, Some(_)) => {}
        _ => return Err(invalid("name one thing to scan: a folder or an image")),
    }
    let (tx, response) = ndjson::<ScanResponse>();
    let state = state.clone();
    tokio::spawn(async move {
        let progress = tx.reporter();
        let outcome = async {
            let (subject, report): (String, Report) = match (request.path, request.reference) {
                (Some(dir), _) => {
                    let shown = dir.display().to_string();
                    let report = crate::scan::policy::scan_folder(&state.config().scan, dir)
                        .await
                        .map_err(|e| invalid(&format!("cannot read {shown}: {e}")))?;
                    (shown, report)
                }
                (None, Some(reference)) => {
                    let image =
                        crate::install::ops::resolve_image(&state, &reference, &progress).await?;
                    let report = crate::scan::policy::scan_image(&state, &image.manifest)
                        .await
                        .map_err(crate::install::InstallError::from)?;
                    (image.reference.to_string(), report)
                }
                (None, None) => unreachable!("checked above"),
            };
            Ok::<_, ApiError>(ScanResponse {
                subject,
                summary: crate::scan::summary(&report.findings),
                findings: report.findings,
                files: report.files,
                bytes: report.bytes,
                complete: report.complete,
            })
        }
        .await;
        tx.finish(outcome).await;
    });
    Ok(response)
}
