//! The HTTP API under `/v1/`: the router, one handler file per endpoint
//! group, the error mapping and the body helpers.
//!
//! Every response carries the `skilld-protocol` header so a client notices a
//! daemon of another protocol on any route.

pub mod body;
pub mod build;
pub mod catalog;
pub mod collection;
pub mod doctor;
pub mod error;
pub mod events;
pub mod images;
pub mod install;
pub mod project;
pub mod registry;
pub mod scan;
pub mod shutdown;
pub mod skills;
pub mod status;
pub mod stream;
pub mod transfer;
pub mod trust;

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use serde::Serialize;
use skilld_proto::collection as collection_routes;
use skilld_proto::events as event_routes;
use skilld_proto::images as routes;
use skilld_proto::install as install_routes;
use skilld_proto::project as project_routes;
use skilld_proto::registry as registry_routes;
use skilld_proto::trust as trust_routes;
use skilld_proto::{PROTOCOL, PROTOCOL_HEADER, skill};

pub use error::ApiError;

use crate::state::State;

/// The body type of every response.
pub type ApiBody = BoxBody<Bytes, Infallible>;
/// A response.
pub type ApiResponse = Response<ApiBody>;

/// A JSON response with `status`.
pub fn json<T: Serialize>(status: StatusCode, value: &T) -> ApiResponse {
    match serde_json::to_vec(value) {
        Ok(body) => {
            let mut response = Response::new(Full::new(Bytes::from(body)).boxed());
            *response.status_mut() = status;
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            response
        }
        Err(e) => ApiError::new(
            skilld_proto::ErrorCode::Internal,
            format!("cannot encode the response: {e}"),
        )
        .into_response(),
    }
}

/// Entry point for every request.
pub async fn handle(state: State, req: Request<Incoming>) -> Result<ApiResponse, Infallible> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let mut response = match route(&state, req).await {
        Ok(response) => response,
        Err(error) => {
            tracing::debug!(%method, %path, %error, "request failed");
            error.into_response()
        }
    };
    response
        .headers_mut()
        .insert(PROTOCOL_HEADER, HeaderValue::from(PROTOCOL));
    Ok(response)
}

async fn route(state: &State, req: Request<Incoming>) -> Result<ApiResponse, ApiError> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    match path.as_str() {
        skilld_proto::status::ROUTE => match method {
            Method::GET => status::get(state).await,
            _ => Err(ApiError::method_not_allowed(&method, &path, &["GET"])),
        },
        skilld_proto::status::SHUTDOWN_ROUTE => match method {
            Method::POST => shutdown::post(state, req).await,
            _ => Err(ApiError::method_not_allowed(&method, &path, &["POST"])),
        },
        skilld_proto::catalog::SEARCH_ROUTE
        | skilld_proto::catalog::REFRESH_ROUTE
        | skilld_proto::catalog::SHOW_ROUTE => match (method, path.as_str()) {
            (Method::POST, skilld_proto::catalog::SEARCH_ROUTE) => {
                catalog::search(state, req).await
            }
            (Method::POST, skilld_proto::catalog::REFRESH_ROUTE) => {
                catalog::refresh(state, req).await
            }
            (Method::POST, skilld_proto::catalog::SHOW_ROUTE) => catalog::show(state, req).await,
            (method, _) => Err(ApiError::method_not_allowed(&method, &path, &["POST"])),
        },
        skilld_proto::scan::SCAN_ROUTE => match method {
            Method::POST => scan::scan(state, req).await,
            _ => Err(ApiError::method_not_allowed(&method, &path, &["POST"])),
        },
        skill::VALIDATE_ROUTE => match method {
            Method::POST => skills::validate(state, req).await,
            _ => Err(ApiError::method_not_allowed(&method, &path, &["POST"])),
        },
        routes::BUILD_ROUTE => match method {
            Method::POST => build::build(state, req).await,
            _ => Err(ApiError::method_not_allowed(&method, &path, &["POST"])),
        },
        routes::BUILD_ALL_ROUTE => match method {
            Method::POST => build::build_all(state, req).await,
            _ => Err(ApiError::method_not_allowed(&method, &path, &["POST"])),
        },
        skilld_proto::doctor::DOCTOR_ROUTE => match method {
            Method::GET => doctor::get(state).await,
            _ => Err(ApiError::method_not_allowed(&method, &path, &["GET"])),
        },
        routes::IMAGES_ROUTE => match method {
            Method::GET => images::list(state).await,
            _ => Err(ApiError::method_not_allowed(&method, &path, &["GET"])),
        },
        routes::TAG_ROUTE
        | routes::INSPECT_ROUTE
        | routes::REMOVE_ROUTE
        | routes::PRUNE_ROUTE
        | routes::PROMOTE_ROUTE => match (method, path.as_str()) {
            (Method::POST, routes::TAG_ROUTE) => images::tag(state, req).await,
            (Method::POST, routes::INSPECT_ROUTE) => images::inspect(state, req).await,
            (Method::POST, routes::REMOVE_ROUTE) => images::remove(state, req).await,
            (Method::POST, routes::PRUNE_ROUTE) => images::prune(state).await,
            (Method::POST, routes::PROMOTE_ROUTE) => images::promote(state, req).await,
            (method, _) => Err(ApiError::method_not_allowed(&method, &path, &["POST"])),
        },
        registry_routes::PULL_ROUTE
        | registry_routes::PUSH_ROUTE
        | registry_routes::TAGS_ROUTE
        | registry_routes::LOGIN_ROUTE
        | registry_routes::LOGOUT_ROUTE
        | registry_routes::COPY_ROUTE
        | registry_routes::SAVE_ROUTE
        | registry_routes::LOAD_ROUTE => match (method, path.as_str()) {
            (Method::POST, registry_routes::PULL_ROUTE) => registry::pull(state, req).await,
            (Method::POST, registry_routes::PUSH_ROUTE) => registry::push(state, req).await,
            (Method::POST, registry_routes::TAGS_ROUTE) => registry::tags(state, req).await,
            (Method::POST, registry_routes::LOGIN_ROUTE) => registry::login(state, req).await,
            (Method::POST, registry_routes::LOGOUT_ROUTE) => registry::logout(state, req).await,
            (Method::POST, registry_routes::COPY_ROUTE) => transfer::copy(state, req).await,
            (Method::POST, registry_routes::SAVE_ROUTE) => transfer::save(state, req).await,
            (Method::POST, registry_routes::LOAD_ROUTE) => transfer::load(state, req).await,
            (method, _) => Err(ApiError::method_not_allowed(&method, &path, &["POST"])),
        },
        event_routes::EVENTS_ROUTE => match method {
            Method::GET => events::events(state, req).await,
            _ => Err(ApiError::method_not_allowed(&method, &path, &["GET"])),
        },
        event_routes::HISTORY_ROUTE => match method {
            Method::GET => events::history(state, req).await,
            _ => Err(ApiError::method_not_allowed(&method, &path, &["GET"])),
        },
        trust_routes::KEYGEN_ROUTE | trust_routes::SIGN_ROUTE | trust_routes::VERIFY_ROUTE => {
            match (method, path.as_str()) {
                (Method::POST, trust_routes::KEYGEN_ROUTE) => trust::keygen(state, req).await,
                (Method::POST, trust_routes::SIGN_ROUTE) => trust::sign(state, req).await,
                (Method::POST, trust_routes::VERIFY_ROUTE) => trust::verify(state, req).await,
                (method, _) => Err(ApiError::method_not_allowed(&method, &path, &["POST"])),
            }
        }
        install_routes::TARGETS_ROUTE => match method {
            Method::GET => install::targets(state).await,
            _ => Err(ApiError::method_not_allowed(&method, &path, &["GET"])),
        },
        install_routes::INSTALL_ROUTE
        | install_routes::LIST_ROUTE
        | install_routes::REMOVE_ROUTE
        | install_routes::AUTOREMOVE_ROUTE
        | install_routes::ROLLBACK_ROUTE
        | install_routes::PIN_ROUTE
        | install_routes::UPGRADE_ROUTE
        | install_routes::CHECK_ROUTE
        | install_routes::POLICY_ROUTE => match (method, path.as_str()) {
            (Method::POST, install_routes::INSTALL_ROUTE) => install::install(state, req).await,
            (Method::POST, install_routes::LIST_ROUTE) => install::list(state, req).await,
            (Method::POST, install_routes::REMOVE_ROUTE) => install::remove(state, req).await,
            (Method::POST, install_routes::AUTOREMOVE_ROUTE) => {
                install::autoremove(state, req).await
            }
            (Method::POST, install_routes::ROLLBACK_ROUTE) => install::rollback(state, req).await,
            (Method::POST, install_routes::PIN_ROUTE) => install::pin(state, req).await,
            (Method::POST, install_routes::UPGRADE_ROUTE) => install::upgrade(state, req).await,
            (Method::POST, install_routes::CHECK_ROUTE) => install::check(state).await,
            (Method::POST, install_routes::POLICY_ROUTE) => install::policy(state, req).await,
            (method, _) => Err(ApiError::method_not_allowed(&method, &path, &["POST"])),
        },
        project_routes::ADD_ROUTE
        | project_routes::LOCK_ROUTE
        | project_routes::SYNC_ROUTE
        | project_routes::OUTDATED_ROUTE => match (method, path.as_str()) {
            (Method::POST, project_routes::ADD_ROUTE) => project::add(state, req).await,
            (Method::POST, project_routes::LOCK_ROUTE) => project::lock(state, req).await,
            (Method::POST, project_routes::SYNC_ROUTE) => project::sync(state, req).await,
            (Method::POST, project_routes::OUTDATED_ROUTE) => project::outdated(state, req).await,
            (method, _) => Err(ApiError::method_not_allowed(&method, &path, &["POST"])),
        },
        collection_routes::PUSH_ROUTE
        | collection_routes::INSPECT_ROUTE
        | collection_routes::PULL_ROUTE
        | collection_routes::INSTALL_ROUTE
        | collection_routes::LOCK_ROUTE
        | collection_routes::GENERATE_ROUTE
        | collection_routes::UNSUBSCRIBE_ROUTE => match (method, path.as_str()) {
            (Method::POST, collection_routes::PUSH_ROUTE) => collection::push(state, req).await,
            (Method::POST, collection_routes::INSPECT_ROUTE) => {
                collection::inspect(state, req).await
            }
            (Method::POST, collection_routes::PULL_ROUTE) => collection::pull(state, req).await,
            (Method::POST, collection_routes::INSTALL_ROUTE) => {
                collection::install(state, req).await
            }
            (Method::POST, collection_routes::LOCK_ROUTE) => collection::lock(state, req).await,
            (Method::POST, collection_routes::GENERATE_ROUTE) => {
                collection::generate(state, req).await
            }
            (Method::POST, collection_routes::UNSUBSCRIBE_ROUTE) => {
                collection::unsubscribe(state, req).await
            }
            (method, _) => Err(ApiError::method_not_allowed(&method, &path, &["POST"])),
        },
        collection_routes::SUBSCRIPTIONS_ROUTE => match method {
            Method::GET => collection::subscriptions(state).await,
            Method::POST => collection::subscribe(state, req).await,
            _ => Err(ApiError::method_not_allowed(
                &method,
                &path,
                &["GET", "POST"],
            )),
        },
        _ => Err(ApiError::not_found_route(&method, &path)),
    }
}
