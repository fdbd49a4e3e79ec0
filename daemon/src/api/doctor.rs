//! `GET /v1/doctor`: the checks of [`crate::doctor`].

use skilld_proto::doctor::DoctorResponse;

use super::{ApiError, ApiResponse, json};
use crate::state::State;

pub async fn get(state: &State) -> Result<ApiResponse, ApiError> {
    let checks = crate::doctor::run(state).await;
    Ok(json(hyper::StatusCode::OK, &DoctorResponse { checks }))
}
