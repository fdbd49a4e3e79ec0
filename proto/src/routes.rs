//! Every route of the socket API in one table: method, path, the request
//! and response types, whether the answer streams, and a line about it.
//! The daemon's tests check that it serves each route with each method
//! given here (and answers `method_not_allowed` naming them otherwise);
//! `docs/openapi.json` is generated from the same table (the `schema`
//! feature, `cargo run -p xtask -- openapi`), so the document, the daemon
//! and the clients cannot drift apart.

/// How a route answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// One JSON object.
    Json,
    /// NDJSON [`crate::stream::Frame`]s: progress, then one result or error.
    Frames,
    /// NDJSON lines of [`crate::events::Event`], no final frame.
    Events,
}

/// One route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    /// Whether it reads a JSON body.
    pub request: bool,
    pub answer: Answer,
    pub summary: &'static str,
    /// Query parameters: `(name, what it does)`.
    pub query: &'static [(&'static str, &'static str)],
}

/// Calls `$then!` with every route as
/// `(METHOD, path, [RequestType] or [], ResponseType, answer, summary, [query])`.
#[macro_export]
#[doc(hidden)]
macro_rules! with_routes {
    ($then:ident) => {
        $then! {
            (GET, $crate::status::ROUTE, [], $crate::status::StatusResponse, Json,
                "The daemon's version, wire protocol, pid, paths and counts, and the next upgrade check. A client compares `protocol` with its own.", []),
            (POST, $crate::status::SHUTDOWN_ROUTE, [], $crate::status::ShutdownResponse, Json,
                "Stop the daemon cleanly (202); the body is empty or `{}`.", []),
            (GET, $crate::doctor::DOCTOR_ROUTE, [], $crate::doctor::DoctorResponse, Json,
                "Checks of the daemon's setup, each with what to do when it fails.", []),
            (POST, $crate::skill::VALIDATE_ROUTE, [$crate::skill::ValidateRequest], $crate::skill::ValidateResponse, Json,
                "Validate a skill folder: problems with file, line and column.", []),
            (POST, $crate::images::BUILD_ROUTE, [$crate::images::BuildRequest], $crate::images::BuildResponse, Frames,
                "Build a skill folder, or a folder of a git repository, into an image in the store.", []),
            (POST, $crate::images::BUILD_ALL_ROUTE, [$crate::images::BuildAllRequest], $crate::images::BuildAllResponse, Frames,
                "Build every skill folder of a tree or git repository (and push them); one failing skill does not stop the others.", []),
            (POST, $crate::catalog::SEARCH_ROUTE, [$crate::catalog::SearchRequest], $crate::catalog::SearchResponse, Json,
                "Search the catalog of the configured registries' skills (no registry request).", []),
            (POST, $crate::catalog::REFRESH_ROUTE, [$crate::catalog::RefreshRequest], $crate::catalog::RefreshResponse, Frames,
                "Refresh the catalog from `catalog.sources`: one tag list per repository, manifests only when new.", []),
            (POST, $crate::catalog::SHOW_ROUTE, [$crate::catalog::ShowRequest], $crate::catalog::ShowResponse, Frames,
                "An image's card, its repository's versions, its SKILL.md, and what it would change where the skill is installed (pulled into the store, never installed).", []),
            (POST, $crate::scan::SCAN_ROUTE, [$crate::scan::ScanRequest], $crate::scan::ScanResponse, Frames,
                "Scan a folder or an image for hostile content.", []),
            (GET, $crate::images::IMAGES_ROUTE, [], $crate::images::ImagesResponse, Json,
                "The images in the store.", []),
            (POST, $crate::images::TAG_ROUTE, [$crate::images::TagRequest], $crate::images::TagResponse, Json,
                "Tag an image of the store.", []),
            (POST, $crate::images::INSPECT_ROUTE, [$crate::images::InspectRequest], $crate::images::InspectResponse, Json,
                "An image's manifest, annotations and layers (local, else the registry's).", []),
            (POST, $crate::images::REMOVE_ROUTE, [$crate::images::RemoveRequest], $crate::images::RemoveResponse, Json,
                "Untag images of the store.", []),
            (POST, $crate::images::PRUNE_ROUTE, [], $crate::images::PruneResponse, Json,
                "Remove the blobs no tag or install holds.", []),
            (POST, $crate::images::PROMOTE_ROUTE, [$crate::images::PromoteRequest], $crate::images::PromoteResponse, Json,
                "Promote an image along the lifecycle (draft, testing, release).", []),
            (POST, $crate::registry::PULL_ROUTE, [$crate::registry::PullRequest], $crate::registry::PullResponse, Frames,
                "Pull an image from a registry into the store (or into a folder).", []),
            (POST, $crate::registry::PUSH_ROUTE, [$crate::registry::PushRequest], $crate::registry::PushResponse, Frames,
                "Push an image of the store to a registry.", []),
            (POST, $crate::registry::TAGS_ROUTE, [$crate::registry::TagsRequest], $crate::registry::TagsResponse, Json,
                "A registry repository's tags.", []),
            (POST, $crate::registry::LOGIN_ROUTE, [$crate::registry::LoginRequest], $crate::registry::LoginResponse, Json,
                "Check and store credentials for a registry.", []),
            (POST, $crate::registry::LOGOUT_ROUTE, [$crate::registry::LogoutRequest], $crate::registry::LogoutResponse, Json,
                "Forget a registry's credentials.", []),
            (POST, $crate::registry::COPY_ROUTE, [$crate::registry::CopyRequest], $crate::registry::CopyResponse, Frames,
                "Copy an image between registries, the store and archives.", []),
            (POST, $crate::registry::SAVE_ROUTE, [$crate::registry::SaveRequest], $crate::registry::SaveResponse, Json,
                "Write images of the store to an OCI archive.", []),
            (POST, $crate::registry::LOAD_ROUTE, [$crate::registry::LoadRequest], $crate::registry::LoadResponse, Json,
                "Read images from an OCI archive into the store.", []),
            (POST, $crate::trust::KEYGEN_ROUTE, [$crate::trust::KeygenRequest], $crate::trust::KeygenResponse, Json,
                "Make a cosign key pair.", []),
            (POST, $crate::trust::SIGN_ROUTE, [$crate::trust::SignRequest], $crate::trust::SignResponse, Json,
                "Sign an image on its registry, cosign's way.", []),
            (POST, $crate::trust::VERIFY_ROUTE, [$crate::trust::VerifyRequest], $crate::trust::VerifyResponse, Json,
                "Verify an image's cosign signatures.", []),
            (GET, $crate::install::TARGETS_ROUTE, [], $crate::install::TargetsResponse, Json,
                "The agents' skill folders skilld installs into.", []),
            (POST, $crate::install::INSTALL_ROUTE, [$crate::install::InstallRequest], $crate::install::InstallResponse, Frames,
                "Install a skill into a target, atomically.", []),
            (POST, $crate::install::LIST_ROUTE, [$crate::install::ListRequest], $crate::install::ListResponse, Json,
                "The installs, each with its folder, status, upgradable version, signer and findings.", []),
            (POST, $crate::install::REMOVE_ROUTE, [$crate::install::RemoveRequest], $crate::install::ChangeResponse, Json,
                "Remove installs.", []),
            (POST, $crate::install::AUTOREMOVE_ROUTE, [$crate::install::AutoremoveRequest], $crate::install::ChangeResponse, Json,
                "Remove the installs made only as dependencies that nothing needs any more.", []),
            (POST, $crate::install::ROLLBACK_ROUTE, [$crate::install::RollbackRequest], $crate::install::ChangeResponse, Json,
                "Put an install back to the version before.", []),
            (POST, $crate::install::PIN_ROUTE, [$crate::install::PinRequest], $crate::install::ChangeResponse, Json,
                "Pin or unpin installs (pinned ones are never upgraded).", []),
            (POST, $crate::install::UPGRADE_ROUTE, [$crate::install::UpgradeRequest], $crate::install::UpgradeResponse, Frames,
                "Upgrade installs within their policy.", []),
            (POST, $crate::install::CHECK_ROUTE, [], $crate::install::CheckResponse, Json,
                "Check every install for upgrades now.", []),
            (POST, $crate::install::POLICY_ROUTE, [$crate::install::PolicyRequest], $crate::install::ChangeResponse, Json,
                "Set installs' upgrade policy.", []),
            (POST, $crate::project::ADD_ROUTE, [$crate::project::AddRequest], $crate::project::SyncResponse, Frames,
                "Add a skill to a project's skills.json, lock and sync it.", []),
            (POST, $crate::project::LOCK_ROUTE, [$crate::project::LockRequest], $crate::project::LockResponse, Frames,
                "Resolve a project's skills.json into skills.lock.json.", []),
            (POST, $crate::project::SYNC_ROUTE, [$crate::project::SyncRequest], $crate::project::SyncResponse, Frames,
                "Make a project's skills what its lockfile says, in one transaction.", []),
            (POST, $crate::project::OUTDATED_ROUTE, [$crate::project::OutdatedRequest], $crate::project::OutdatedResponse, Json,
                "A project's skills with newer versions.", []),
            (POST, $crate::collection::PUSH_ROUTE, [$crate::collection::PushRequest], $crate::collection::PushResponse, Json,
                "Push a SkillCollection file as skillctl's artifact.", []),
            (POST, $crate::collection::INSPECT_ROUTE, [$crate::collection::CollectionSource], $crate::collection::CollectionInfo, Json,
                "A collection's skills, from a file or a registry.", []),
            (POST, $crate::collection::PULL_ROUTE, [$crate::collection::CollectionSource], $crate::collection::CollectionInfo, Frames,
                "A collection and every skill it lists, into the store.", []),
            (POST, $crate::collection::INSTALL_ROUTE, [$crate::collection::InstallRequest], $crate::collection::InstallResponse, Frames,
                "Install a collection's skills, all or nothing.", []),
            (POST, $crate::collection::LOCK_ROUTE, [$crate::collection::LockRequest], $crate::project::LockResponse, Frames,
                "Pin a collection's skills by digest.", []),
            (POST, $crate::collection::GENERATE_ROUTE, [$crate::collection::GenerateRequest], $crate::collection::GenerateResponse, Json,
                "Kubernetes YAML mounting a collection's skills.", []),
            (GET, $crate::collection::SUBSCRIPTIONS_ROUTE, [], $crate::collection::SubscriptionsResponse, Json,
                "The collections this daemon follows.", []),
            (POST, $crate::collection::SUBSCRIPTIONS_ROUTE, [$crate::collection::SubscribeRequest], $crate::collection::SubscriptionOutcome, Frames,
                "Follow a collection: install it now and keep it converged.", []),
            (POST, $crate::collection::UNSUBSCRIBE_ROUTE, [$crate::collection::UnsubscribeRequest], $crate::collection::UnsubscribeResponse, Json,
                "Stop following a collection.", []),
            (GET, $crate::events::EVENTS_ROUTE, [], $crate::events::Event, Events,
                "The recent events, one JSON object per line; with `follow=true` the stream stays open for new ones.",
                [("follow", "`true` to keep the stream open and receive events as they happen")]),
            (GET, $crate::events::HISTORY_ROUTE, [], $crate::events::HistoryResponse, Json,
                "What was installed, upgraded, rolled back, removed or refused, oldest first.",
                [("skill", "only the history of this skill")]),
        }
    };
}

macro_rules! route_table {
    ($(($method:ident, $path:expr, [$($request:ty)?], $response:ty, $answer:ident, $summary:expr, [$(($q:expr, $qd:expr)),*])),* $(,)?) => {
        /// Every route, in the order of the API reference.
        pub const ROUTES: &[Route] = &[$(Route {
            method: stringify!($method),
            path: $path,
            request: route_table!(@has $($request)?),
            answer: Answer::$answer,
            summary: $summary,
            query: &[$(($q, $qd)),*],
        }),*];
    };
    (@has $request:ty) => { true };
    (@has) => { false };
}

with_routes!(route_table);

/// The methods `path` answers to.
pub fn methods(path: &str) -> Vec<&'static str> {
    ROUTES
        .iter()
        .filter(|r| r.path == path)
        .map(|r| r.method)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_method_and_path_is_listed_once() {
        let mut seen = std::collections::HashSet::new();
        for r in ROUTES {
            assert!(r.path.starts_with(crate::API_PREFIX), "{}", r.path);
            assert!(seen.insert((r.method, r.path)), "{} {}", r.method, r.path);
        }
        assert_eq!(
            methods(crate::collection::SUBSCRIPTIONS_ROUTE),
            ["GET", "POST"]
        );
    }

    /// Routes are named only by the `*ROUTE` constants of this crate (the
    /// daemon's router matches on them): each is in the table.
    #[test]
    fn every_route_constant_is_in_the_table() {
        // Every module of the crate, read when the test runs, so a new
        // module's routes cannot be left out of this check.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let sources: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "rs"))
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect();
        let mut found = 0;
        for source in &sources {
            for line in source.lines() {
                let Some(rest) = line.strip_prefix("pub const ") else {
                    continue;
                };
                let (name, value) = rest.split_once(": &str = ").unwrap_or_default();
                if !name.ends_with("ROUTE") {
                    continue;
                }
                let path = value.trim_end_matches(';').trim_matches('"');
                assert!(
                    !methods(path).is_empty(),
                    "{name} = {path} is not in ROUTES"
                );
                found += 1;
            }
        }
        let paths: std::collections::HashSet<_> = ROUTES.iter().map(|r| r.path).collect();
        assert_eq!(found, paths.len(), "a path in ROUTES has no constant");
    }
}
