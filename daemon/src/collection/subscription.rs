//! Following a collection: at every upgrade check (and `skillc check`) one
//! HEAD request per subscription asks which manifest its tag names now;
//! when that is the manifest seen last time nothing else happens. When it
//! moved, the new collection is read by that digest, checked by the trust
//! policy (a `signed` rule for the collection's repository applies to the
//! collection itself), resolved, and the subscribed targets converge on it
//! as one transaction ([`converge`]); under `notify` the change is only
//! reported. Every step is an event (`subscription_updated`,
//! `subscription_refused`) and a history entry by
//! `subscription:<reference>`.

use futures_util::StreamExt;
use skilld_proto::collection::{
    KeptSkill, SubscribeRequest, Subscription, SubscriptionOutcome, SubscriptionPolicy,
    UnsubscribeResponse,
};
use skilld_proto::events::{EventKind, HistoryEntry};
use skilld_proto::install::InstallMode;
use skilld_proto::project::SyncChange;
use skilld_proto::stream::Progress;

use super::CollectionError;
use super::artifact::{self, Listing};
use super::converge::{self, Converged, Options};
use super::resolve;
use crate::events::EventBus;
use crate::image::reference::Reference;
use crate::index::installs;
use crate::index::subscriptions::{self, SubscriptionRow};
use crate::install::batch::Author;
use crate::install::{InstallError, targets};
use crate::registry::RegistryError;
use crate::state::State;
use crate::store::digest::Digest;

/// Subscriptions checked at once.
const PARALLEL: usize = 8;

fn now() -> String {
    crate::events::now()
}

/// The author of a subscription's changes.
pub fn author(reference: &str) -> Author {
    Author {
        actor: format!("subscription:{reference}"),
        message: format!("subscription to {reference}"),
    }
}

/// A reference one may subscribe to: a registry, and a tag to follow.
fn followable(reference: &str) -> Result<Reference, CollectionError> {
    let parsed =
        Reference::parse(reference).map_err(|e| CollectionError::Request(e.to_string()))?;
    if parsed.registry.is_none() {
        return Err(CollectionError::Request(format!(
            "{reference} names no registry; subscribe to REGISTRY/REPOSITORY:TAG"
        )));
    }
    if parsed.digest.is_some() {
        return Err(CollectionError::Request(format!(
            "{reference} names a digest, which never changes; subscribe to a tag, or install it once with `skillc collection install {reference}`"
        )));
    }
    Ok(parsed.with_tag(parsed.tag.as_deref().unwrap_or("latest")))
}

/// `POST /v1/subscriptions`: follow `request.reference` and converge now.
pub async fn subscribe(
    state: &State,
    request: &SubscribeRequest,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<SubscriptionOutcome, CollectionError> {
    let reference = followable(&request.reference)?;
    for t in &request.targets {
        targets::find(t).map_err(|e| CollectionError::Request(e.to_string()))?;
    }
    crate::trust::enforce::precheck(state, &reference).map_err(InstallError::from)?;
    let key = reference.to_string();
    let previous = state
        .index()
        .read({
            let key = key.clone();
            move |conn| subscriptions::get(conn, &key)
        })
        .await?;
    let mode = request.mode.unwrap_or(state.config().install.mode);
    let mut row = SubscriptionRow {
        reference: key.clone(),
        targets: request.targets.clone(),
        mode: mode.as_str().to_string(),
        policy: request.policy.as_str().to_string(),
        digest: previous.as_ref().and_then(|p| p.digest.clone()),
        seen: None,
        name: previous.as_ref().and_then(|p| p.name.clone()),
        version: previous.as_ref().and_then(|p| p.version.clone()),
        created_at: previous
            .as_ref()
            .map(|p| p.created_at.clone())
            .unwrap_or_else(now),
        checked_at: None,
        updated_at: previous.as_ref().and_then(|p| p.updated_at.clone()),
        outcome: None,
        message: None,
    };
    let digest = crate::registry::remote::head_digest(state.registries(), &reference).await?;
    // What is subscribed to must be a collection, before it is recorded.
    let listing = read(state, &reference, &digest).await?;
    let outcome = apply(state, &mut row, &reference, digest, listing, progress).await;
    save(state, &row).await?;
    match outcome {
        Ok(o) => Ok(o),
        Err(e) => {
            // Nothing was installed: a first subscribe that fails is not kept.
            if previous.is_none() {
                let key = key.clone();
                state
                    .index()
                    .write(move |conn| subscriptions::delete(conn, &key))
                    .await?;
            }
            Err(e)
        }
    }
}

async fn save(state: &State, row: &SubscriptionRow) -> Result<(), CollectionError> {
    let row = row.clone();
    state
        .index()
        .write(move |conn| subscriptions::upsert(conn, &row))
        .await?;
    Ok(())
}

/// The collection `reference` names at `digest`, checked by the trust
/// policy of its repository.
async fn read(
    state: &State,
    reference: &Reference,
    digest: &Digest,
) -> Result<Listing, CollectionError> {
    let mut pinned = reference.clone();
    pinned.digest = Some(digest.clone());
    let mut listing = artifact::fetch(state.registries(), &pinned).await?;
    listing.origin = reference.to_string();
    crate::trust::enforce::check(state, &pinned, digest, None)
        .await
        .map_err(InstallError::from)?;
    Ok(listing)
}

/// Converge `row`'s targets on `listing` (the collection at `digest`) and
/// record the outcome in `row` (saved by the caller), events and history.
async fn apply(
    state: &State,
    row: &mut SubscriptionRow,
    reference: &Reference,
    digest: Digest,
    listing: Listing,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<SubscriptionOutcome, CollectionError> {
    let from = row.digest.clone();
    row.seen = Some(digest.to_string());
    row.checked_at = Some(now());
    let converged = async {
        let resolved = resolve::resolve(state.registries(), &listing, progress).await?;
        converge::converge(
            state,
            &resolved,
            &Options {
                targets: row.targets.clone(),
                mode: mode_of(row),
                force: false,
                dry_run: false,
                owner: Some(row.reference.clone()),
                by: "auto",
                author: author(&row.reference),
            },
            progress,
        )
        .await
    }
    .await;
    match converged {
        Ok(done) => {
            row.digest = Some(digest.to_string());
            row.name = Some(listing.name.clone());
            row.version = Some(listing.version.clone());
            row.updated_at = Some(now());
            let outcome = outcome(row, "updated", from, &done, summary(&listing, &done));
            row.outcome = Some(outcome.result.clone());
            row.message = outcome.message.clone();
            report(state, reference, EventKind::SubscriptionUpdated, &outcome).await;
            Ok(outcome)
        }
        Err(e) => {
            let refused = matches!(
                e,
                CollectionError::Install(InstallError::Trust(_) | InstallError::Unsafe(_))
                    | CollectionError::Invalid { .. }
                    | CollectionError::Conflict(_)
                    | CollectionError::Request(_)
            );
            let message = format!(
                "{reference} moved to {} ({} {}), not applied: {e}; the targets keep the previous set",
                short(&digest),
                listing.name,
                listing.version
            );
            row.outcome = Some(if refused { "refused" } else { "failed" }.into());
            row.message = Some(message.clone());
            if !refused {
                // A registry that failed: ask again at the next check.
                row.seen = from.clone();
            }
            let failed = SubscriptionOutcome {
                reference: row.reference.clone(),
                result: row.outcome.clone().unwrap_or_default(),
                from_digest: from,
                to_digest: Some(digest.to_string()),
                version: Some(listing.version.clone()),
                changes: Vec::new(),
                kept: Vec::new(),
                message: Some(message),
            };
            report(state, reference, EventKind::SubscriptionRefused, &failed).await;
            Err(e)
        }
    }
}

fn mode_of(row: &SubscriptionRow) -> InstallMode {
    match row.mode.as_str() {
        "copy" => InstallMode::Copy,
        _ => InstallMode::Link,
    }
}

fn short(digest: &Digest) -> String {
    digest.as_str().chars().take(19).collect()
}

fn summary(listing: &Listing, done: &Converged) -> String {
    let count = |a: &str| done.changes.iter().filter(|c| c.action == a).count();
    let mut parts = vec![format!(
        "{} {}: {} installed, {} updated, {} linked, {} removed, {} unchanged",
        listing.name,
        listing.version,
        count("install"),
        count("update"),
        count("link"),
        count("remove"),
        count("keep")
    )];
    for k in &done.kept {
        parts.push(format!("{} kept ({}): {}", k.name, k.path.display(), k.why));
    }
    parts.join("; ")
}

fn outcome(
    row: &SubscriptionRow,
    result: &str,
    from: Option<String>,
    done: &Converged,
    message: String,
) -> SubscriptionOutcome {
    SubscriptionOutcome {
        reference: row.reference.clone(),
        result: result.into(),
        from_digest: from,
        to_digest: row.digest.clone(),
        version: row.version.clone(),
        changes: done
            .changes
            .iter()
            .map(|c| SyncChange {
                name: c.name.clone(),
                action: c.action.to_string(),
                from: c.from.clone(),
                to: c.to.clone(),
                path: c.path.clone(),
            })
            .collect(),
        kept: done
            .kept
            .iter()
            .map(|k| KeptSkill {
                name: k.name.clone(),
                path: k.path.clone(),
                why: k.why.clone(),
            })
            .collect(),
        message: Some(message),
    }
}

/// An event and a history entry for a subscription's step.
async fn report(
    state: &State,
    reference: &Reference,
    kind: EventKind,
    outcome: &SubscriptionOutcome,
) {
    let mut event = EventBus::event(kind);
    event.skill = reference.path.rsplit('/').next().map(str::to_string);
    event.from_digest = outcome.from_digest.clone();
    event.to_digest = outcome.to_digest.clone();
    event.to_version = outcome.version.clone();
    event.message = outcome.message.clone();
    state.events().emit(event);
    crate::install::audit(
        state,
        HistoryEntry {
            at: now(),
            action: "subscription".into(),
            actor: format!("subscription:{reference}"),
            skill: reference.to_string(),
            target: String::new(),
            from_version: None,
            to_version: outcome.version.clone(),
            from_digest: outcome.from_digest.clone(),
            to_digest: outcome.to_digest.clone(),
            outcome: outcome.result.clone(),
            message: outcome.message.clone(),
        },
    )
    .await;
}

/// Check every subscription: one HEAD each; act on those that moved.
pub async fn check_all(state: &State) -> Vec<SubscriptionOutcome> {
    let rows = state
        .index()
        .read(subscriptions::all)
        .await
        .unwrap_or_default();
    let heads: Vec<(SubscriptionRow, Result<Digest, RegistryError>)> =
        futures_util::stream::iter(rows)
            .map(|row| async move {
                let head = match Reference::parse(&row.reference) {
                    Ok(r) => crate::registry::remote::head_digest(state.registries(), &r).await,
                    Err(e) => Err(RegistryError::Invalid {
                        reference: row.reference.clone(),
                        message: e.to_string(),
                    }),
                };
                (row, head)
            })
            .buffer_unordered(PARALLEL)
            .collect()
            .await;
    let mut out = Vec::new();
    for (mut row, head) in heads {
        out.push(check_one(state, &mut row, head).await);
        if let Err(e) = save(state, &row).await {
            tracing::warn!(subscription = %row.reference, error = %e, "cannot record a subscription check");
        }
    }
    out.sort_by(|a, b| a.reference.cmp(&b.reference));
    out
}

/// Record a check that changed nothing in `row`; its outcome.
fn plain(
    row: &mut SubscriptionRow,
    result: &str,
    message: Option<String>,
    to: Option<String>,
) -> SubscriptionOutcome {
    row.checked_at = Some(now());
    row.outcome = Some(result.into());
    row.message = message.clone();
    SubscriptionOutcome {
        reference: row.reference.clone(),
        result: result.into(),
        from_digest: row.digest.clone(),
        to_digest: to,
        version: row.version.clone(),
        changes: Vec::new(),
        kept: Vec::new(),
        message,
    }
}

async fn check_one(
    state: &State,
    row: &mut SubscriptionRow,
    head: Result<Digest, RegistryError>,
) -> SubscriptionOutcome {
    let digest = match head {
        Ok(d) => d,
        Err(e) => return plain(row, "failed", Some(e.to_string()), None),
    };
    let now_seen = Some(digest.to_string());
    if now_seen == row.seen || (row.seen.is_none() && now_seen == row.digest) {
        let (result, message) = (row.outcome.clone(), row.message.clone());
        let result = match result.as_deref() {
            // A change still reported, or still refused, stays so.
            Some("available") | Some("refused") => result.unwrap_or_default(),
            _ => "unchanged".into(),
        };
        return plain(row, &result, message, now_seen);
    }
    let Ok(reference) = Reference::parse(&row.reference) else {
        return plain(
            row,
            "failed",
            Some("the reference no longer parses".into()),
            None,
        );
    };
    let listing = match read(state, &reference, &digest).await {
        Ok(l) => l,
        Err(e) => {
            let message = format!(
                "{reference} moved to {}, not applied: {e}; the targets keep the previous set",
                short(&digest)
            );
            let refused = !matches!(e, CollectionError::Registry(_));
            if refused {
                row.seen = now_seen.clone();
            }
            let o = plain(
                row,
                if refused { "refused" } else { "failed" },
                Some(message),
                now_seen,
            );
            report(state, &reference, EventKind::SubscriptionRefused, &o).await;
            return o;
        }
    };
    if row.policy == SubscriptionPolicy::Notify.as_str() {
        row.seen = now_seen.clone();
        let message = format!(
            "{reference} moved to {} {} ({}); the notify policy leaves the targets as they are: apply it with `skillc subscribe {reference}`",
            listing.name,
            listing.version,
            short(&digest)
        );
        let mut o = plain(row, "available", Some(message), now_seen);
        o.version = Some(listing.version.clone());
        report(state, &reference, EventKind::SubscriptionUpdated, &o).await;
        return o;
    }
    let noop = |_: Progress| {};
    match apply(state, row, &reference, digest, listing, &noop).await {
        Ok(o) => o,
        Err(_) => SubscriptionOutcome {
            reference: row.reference.clone(),
            result: row.outcome.clone().unwrap_or_else(|| "failed".into()),
            from_digest: row.digest.clone(),
            to_digest: row.seen.clone(),
            version: row.version.clone(),
            changes: Vec::new(),
            kept: Vec::new(),
            message: row.message.clone(),
        },
    }
}

/// `GET /v1/subscriptions`.
pub async fn list(state: &State) -> Result<Vec<Subscription>, CollectionError> {
    let (rows, installs) = state
        .index()
        .read(|conn| Ok((subscriptions::all(conn)?, installs::all(conn)?)))
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| Subscription {
            installs: installs
                .iter()
                .filter(|i| i.subscription.as_deref() == Some(r.reference.as_str()))
                .count() as u64,
            reference: r.reference,
            targets: r.targets,
            mode: r.mode,
            policy: r.policy,
            digest: r.digest,
            seen: r.seen,
            name: r.name,
            version: r.version,
            checked_at: r.checked_at,
            updated_at: r.updated_at,
            outcome: r.outcome,
            message: r.message,
        })
        .collect())
}

/// `POST /v1/subscriptions/remove`: stop following; with `remove`, the
/// skills it installed go too (hand-edited ones stay).
pub async fn unsubscribe(
    state: &State,
    reference: &str,
    remove: bool,
) -> Result<UnsubscribeResponse, CollectionError> {
    let key = followable(reference)?.to_string();
    let row = state
        .index()
        .read({
            let key = key.clone();
            move |conn| subscriptions::get(conn, &key)
        })
        .await?
        .ok_or_else(|| {
            CollectionError::NotFound(format!(
                "there is no subscription to {key}; `skillc subscriptions` lists them"
            ))
        })?;
    let mut event = EventBus::event(EventKind::SubscriptionUpdated);
    event.message = Some(format!(
        "no longer following {key}{}",
        if remove {
            "; removing the skills it installed"
        } else {
            "; its skills stay"
        }
    ));
    state.events().emit(event);
    let mut response = UnsubscribeResponse {
        removed: Vec::new(),
        kept: Vec::new(),
        released: 0,
    };
    if remove {
        let noop = |_: Progress| {};
        let done = converge::converge(
            state,
            &[],
            &Options {
                targets: row.targets.clone(),
                mode: mode_of(&row),
                force: false,
                dry_run: false,
                owner: Some(key.clone()),
                by: "cli",
                author: author(&key),
            },
            &noop,
        )
        .await?;
        let o = outcome(&row, "removed", None, &done, String::new());
        response.removed = o.changes;
        response.kept = o.kept;
    }
    let (released, key2) = (
        state
            .index()
            .read({
                let key = key.clone();
                move |conn| {
                    installs::all(conn).map(|all| {
                        all.into_iter()
                            .filter(|i| i.subscription.as_deref() == Some(key.as_str()))
                            .count()
                    })
                }
            })
            .await?,
        key.clone(),
    );
    response.released = released as u64;
    state
        .index()
        .write(move |conn| subscriptions::delete(conn, &key2))
        .await?;
    Ok(response)
}
