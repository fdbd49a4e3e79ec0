//! Installing one image into one folder.

use std::path::{Path, PathBuf};

use skilld_proto::install::Installed;

use super::error::InstallError;
use super::stage::{self, Source};
use super::swap;
use crate::events::EventBus;
use crate::image::lifecycle::image_version;
use crate::image::reference::Reference;
use crate::image::unpack::UnpackLimits;
use crate::index::installs::{self, InstallRow};
use crate::oci::{Descriptor, Manifest};
use crate::state::State;
use crate::store::digest::Digest;
use skilld_proto::events::{EventKind, HistoryEntry};

/// An image ready to install: its reference, manifest descriptor and
/// manifest, and the signatures fetched beside its blobs (under a `signed`
/// trust rule), not yet checked.
#[derive(Clone)]
pub struct Image {
    pub reference: Reference,
    pub descriptor: Descriptor,
    pub manifest: Manifest,
    pub signatures: Option<std::sync::Arc<crate::trust::signatures::Signatures>>,
    /// The local tag this install's pull created (the store lacked the
    /// image): removed again if the trust policy refuses the image.
    pub pulled_tag: Option<String>,
    /// The image index the reference named on its registry, when the
    /// manifest was chosen from one (recorded in the skill's provenance).
    pub index: Option<Digest>,
}

impl Image {
    /// What the trust policy says of this image (its signatures fetched
    /// with it, if any, checked now).
    pub async fn verdict(
        &self,
        state: &State,
    ) -> Result<crate::trust::enforce::Verdict, crate::trust::enforce::TrustError> {
        crate::trust::enforce::check(
            state,
            &self.reference,
            &self.descriptor.digest,
            self.signatures.clone(),
        )
        .await
    }
}

impl std::fmt::Debug for Image {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Image")
            .field("reference", &self.reference)
            .field("digest", &self.descriptor.digest)
            .field("signatures", &self.signatures.is_some())
            .finish_non_exhaustive()
    }
}

/// The result of installing into one target.
pub struct Applied {
    pub installed: Installed,
    pub backup: Option<PathBuf>,
    /// Version and digest of what was there before, if skilld had installed it.
    pub previous: Option<(Option<String>, String)>,
    /// The links to this copy in other targets, pointed at the new content
    /// (their records follow the copy's).
    pub linked: Vec<Installed>,
}

/// Why an image is being installed: decides the event and the history entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Install,
    Upgrade,
    Rollback,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Install => "install",
            Action::Upgrade => "upgrade",
            Action::Rollback => "rollback",
        }
    }

    fn event(self) -> EventKind {
        match self {
            Action::Install => EventKind::Installed,
            Action::Upgrade => EventKind::Upgraded,
            Action::Rollback => EventKind::RolledBack,
        }
    }
}

/// Install `image` into the target folder `parent`, and record it: an event
/// on success, a history entry either way. `by` is `cli` or `auto`.
pub async fn install_into(
    state: &State,
    target: &str,
    parent: &Path,
    image: &Image,
    force: bool,
    by: &str,
    action: Action,
) -> Result<Applied, InstallError> {
    // One writer per target folder: concurrent installs into it queue.
    let _folder = state.folders().lock(parent).await;
    let result = match image.verdict(state).await {
        Ok(verdict) => {
            let written = install_inner(
                state,
                target,
                parent,
                image,
                force,
                by,
                verdict.signer.clone(),
            )
            .await;
            if written.is_ok() {
                verdict.keep_signatures(state, &image.descriptor.digest);
            }
            written
        }
        Err(refused) => {
            // The scheduler meets the same untrusted version at every
            // check: say so once, not every few hours.
            forget_pulled(state, image).await;
            let is_refusal = matches!(refused, crate::trust::enforce::TrustError::Refused { .. });
            if by == "auto" && already_refused(state, target, image).await {
                return Err(refused.into());
            }
            if is_refusal {
                refusal_event(state, target, image, &refused);
            }
            Err(refused.into())
        }
    };
    record(state, target, image, by, action, &result).await;
    result
}

/// Tell subscribers and the history what became of an install, upgrade
/// or rollback into `target`.
pub(super) async fn record(
    state: &State,
    target: &str,
    image: &Image,
    by: &str,
    action: Action,
    result: &Result<Applied, InstallError>,
) {
    let version = match result {
        Ok(applied) => applied.installed.version.clone(),
        Err(_) => image_version(&image.manifest.annotations, image.reference.tag.as_deref()),
    };
    let digest = image.descriptor.digest.to_string();
    let (skill, outcome, message, previous) = match result {
        Ok(applied) => {
            let mut event = EventBus::event(action.event());
            event.skill = Some(applied.installed.name.clone());
            event.target = Some(target.to_string());
            event.from_version = applied.previous.as_ref().and_then(|p| p.0.clone());
            event.from_digest = applied.previous.as_ref().map(|p| p.1.clone());
            event.to_version = version.clone();
            event.to_digest = Some(digest.clone());
            state.events().emit(event);
            (
                applied.installed.name.clone(),
                "ok",
                None,
                applied.previous.clone(),
            )
        }
        Err(e) => {
            let outcome = if e.is_refusal() { "refused" } else { "failed" };
            (
                image.reference.name().to_string(),
                outcome,
                Some(e.to_string()),
                None,
            )
        }
    };
    super::audit(
        state,
        HistoryEntry {
            at: crate::events::now(),
            action: action.as_str().into(),
            actor: by.into(),
            skill,
            target: target.into(),
            from_version: previous.as_ref().and_then(|p| p.0.clone()),
            to_version: version,
            from_digest: previous.map(|p| p.1),
            to_digest: Some(digest),
            outcome: outcome.into(),
            message,
        },
    )
    .await;
}

/// Install `image` in place of the install `row` (an upgrade or rollback):
/// into the folder and target it was installed in. A link changes with its
/// copy: the copy is replaced, and every link to it follows.
pub async fn replace_install(
    state: &State,
    row: &InstallRow,
    image: &Image,
    force: bool,
    by: &str,
    action: Action,
) -> Result<Applied, InstallError> {
    let owner = owner_of(state, row).await?;
    let parent = parent_of(&owner.path);
    install_set(state, &owner.target, &parent, image, force, by, action).await
}

/// The copy the install `row` is (a copy), or links to.
pub async fn owner_of(state: &State, row: &InstallRow) -> Result<InstallRow, InstallError> {
    Ok(match row.link_of.clone() {
        Some(copy) => state
            .index()
            .read(move |conn| installs::by_path(conn, &copy))
            .await?
            .unwrap_or_else(|| row.clone()),
        None => row.clone(),
    })
}

/// Install `image` into `parent` ([`install_into`]), then point the links
/// other targets have to that folder at the new content.
pub async fn install_set(
    state: &State,
    target: &str,
    parent: &Path,
    image: &Image,
    force: bool,
    by: &str,
    action: Action,
) -> Result<Applied, InstallError> {
    let mut applied = install_into(state, target, parent, image, force, by, action).await?;
    follow_links(state, image, force, by, action, &mut applied, &[]).await?;
    Ok(applied)
}

/// Point the links other targets have to the copy `applied` installed
/// (from `image`) at its new content, but those at `moved` (already moved
/// with it); each is recorded with `applied`.
pub async fn follow_links(
    state: &State,
    image: &Image,
    force: bool,
    by: &str,
    action: Action,
    applied: &mut Applied,
    moved: &[String],
) -> Result<(), InstallError> {
    let lookup = applied.installed.path.display().to_string();
    let (members, copy) = state
        .index()
        .read(move |conn| {
            Ok((
                installs::links_to(conn, &lookup)?,
                installs::by_path(conn, &lookup)?,
            ))
        })
        .await?;
    let Some(copy) = copy else {
        return Ok(());
    };
    for member in members.iter().filter(|m| !moved.contains(&m.path)) {
        let member_parent = parent_of(&member.path);
        // Recorded in the history either way; a link replaced by hand is
        // left alone without `force` (its install shows it modified).
        match link_into(
            state,
            &member.target,
            &member_parent,
            image,
            &copy,
            force,
            by,
            action,
        )
        .await
        {
            Ok(linked) => {
                if applied.backup.is_none() {
                    applied.backup = linked.backup;
                }
                applied.linked.push(linked.installed);
            }
            Err(e) => {
                tracing::warn!(path = %member.path, error = %e, "a link to an upgraded copy was not updated")
            }
        }
    }
    Ok(())
}

/// Link `parent/<name>` to the install `copy` (installed from `image`),
/// and record it: an event on success, a history entry either way.
#[allow(clippy::too_many_arguments)]
pub async fn link_into(
    state: &State,
    target: &str,
    parent: &Path,
    image: &Image,
    copy: &InstallRow,
    force: bool,
    by: &str,
    action: Action,
) -> Result<Applied, InstallError> {
    let _folder = state.folders().lock(parent).await;
    let result = super::links::place(state, target, parent, copy, force, by).await;
    record(state, target, image, by, action, &result).await;
    result
}

/// The folder an install's path is in.
pub(super) fn parent_of(path: &str) -> PathBuf {
    Path::new(path)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// A refused image that was pulled for this install leaves no tag behind
/// (its blobs go with the next `prune`).
async fn forget_pulled(state: &State, image: &Image) {
    if let Some(tag) = &image.pulled_tag
        && let Err(e) = state.catalog().untag(tag).await
    {
        tracing::warn!(%tag, error = %e, "cannot untag a refused image");
    }
}

/// Whether the newest history entry of `image`'s skill in `target` is an
/// automatic refusal of this very digest.
async fn already_refused(state: &State, target: &str, image: &Image) -> bool {
    let (skill, target) = (image.reference.name().to_string(), target.to_string());
    let digest = image.descriptor.digest.to_string();
    state
        .index()
        .read(move |conn| crate::index::history::latest(conn, &skill, &target))
        .await
        .ok()
        .flatten()
        .is_some_and(|e| {
            e.actor == "auto" && e.outcome == "refused" && e.to_digest.as_deref() == Some(&digest)
        })
}

/// Tell subscribers that the trust policy refused `image` for `target`.
fn refusal_event(
    state: &State,
    target: &str,
    image: &Image,
    refused: &crate::trust::enforce::TrustError,
) {
    let mut event = EventBus::event(EventKind::TrustRefused);
    event.skill = Some(image.reference.name().to_string());
    event.target = Some(target.to_string());
    event.to_version = image_version(&image.manifest.annotations, image.reference.tag.as_deref());
    event.to_digest = Some(image.descriptor.digest.to_string());
    event.message = Some(refused.to_string());
    state.events().emit(event);
}

/// Record a refusal decided before any image was fetched (a `reject`
/// rule): an event and a history entry for `target`.
pub async fn record_refusal(
    state: &State,
    target: &str,
    reference: &Reference,
    refused: &crate::trust::enforce::TrustError,
) {
    let mut event = EventBus::event(EventKind::TrustRefused);
    event.skill = Some(reference.name().to_string());
    event.target = Some(target.to_string());
    event.message = Some(refused.to_string());
    state.events().emit(event);
    super::audit(
        state,
        HistoryEntry {
            at: crate::events::now(),
            action: Action::Install.as_str().into(),
            actor: "cli".into(),
            skill: reference.name().to_string(),
            target: target.into(),
            from_version: None,
            to_version: None,
            from_digest: None,
            to_digest: None,
            outcome: "refused".into(),
            message: Some(refused.to_string()),
        },
    )
    .await;
}

fn limits(state: &State) -> UnpackLimits {
    UnpackLimits::of_build(&state.config().build)
}

async fn install_inner(
    state: &State,
    target: &str,
    parent: &Path,
    image: &Image,
    force: bool,
    by: &str,
    signer: Option<String>,
) -> Result<Applied, InstallError> {
    let prepared = prepare_copy(state, target, parent, image, force, by, signer, None).await?;
    finish_one(state, prepared).await
}

/// A change staged beside its folder and judged, ready to swap in (alone,
/// or with others as one: a project sync).
pub struct Prepared {
    pub item: swap::Item,
    pub record: InstallRow,
    /// What the index had at the folder.
    pub existing: Option<InstallRow>,
    /// Whether what is there goes to the backups (the item's `displaced`
    /// is then in the backup folder, and stays).
    pub backup: bool,
}

impl Prepared {
    /// Drop what was staged (the change is not made).
    pub fn discard(&self) {
        if let Some(staged) = &self.item.staged {
            swap::remove_any(staged);
            if let Some(parent) = self.item.dest.parent() {
                swap::tidy_area(parent);
            }
        }
    }

    /// After the swap: remove what was displaced (unless it is a backup);
    /// the answer for the wire.
    pub fn done(self) -> Applied {
        if !self.backup {
            swap::remove_any(&self.item.displaced);
        }
        if let Some(parent) = self.item.dest.parent() {
            swap::tidy_area(parent);
        }
        Applied {
            installed: super::to_wire(&self.record),
            backup: self.backup.then_some(self.item.displaced),
            previous: self.existing.map(|r| (r.version, r.digest)),
            linked: Vec::new(),
        }
    }
}

/// Swap one prepared change in, on its own.
pub async fn finish_one(state: &State, prepared: Prepared) -> Result<Applied, InstallError> {
    let item = &prepared.item;
    let staged = item.staged.clone().unwrap_or_default();
    if let Err(e) = swap::replace(
        state.index(),
        &item.dest,
        &staged,
        &item.displaced,
        Some(prepared.record.clone()),
    )
    .await
    {
        prepared.discard();
        return Err(InstallError::internal(e.to_string()));
    }
    state.watch().refresh().await;
    let r = &prepared.record;
    tracing::info!(name = %r.name, target = %r.target, path = %r.path, digest = %r.digest, link = ?r.link_of, "installed");
    Ok(prepared.done())
}

/// Stage `image` beside `parent/<name>` and judge what is there (see
/// [`judge_way`]): nothing on disk changes but the staging folder.
#[allow(clippy::too_many_arguments)]
pub async fn prepare_copy(
    state: &State,
    target: &str,
    parent: &Path,
    image: &Image,
    force: bool,
    by: &str,
    signer: Option<String>,
    project: Option<String>,
) -> Result<Prepared, InstallError> {
    let (reference, descriptor, manifest) = (&image.reference, &image.descriptor, &image.manifest);
    let source_name = reference.to_string();
    let fallback = reference.name().to_string();
    let namespace = reference
        .path
        .rsplit_once('/')
        .map(|(ns, _)| ns.to_string());
    let (digest, manifest_owned, parent_owned, limits) = (
        descriptor.digest.clone(),
        manifest.clone(),
        parent.to_path_buf(),
        limits(state),
    );
    // Provenance names what the user named: the index, when it was one.
    let source_for_stage = match &image.index {
        Some(index) => {
            let mut named = reference.clone();
            named.digest = Some(index.clone());
            named.to_string()
        }
        None => source_name.clone(),
    };
    let tag = reference.tag.clone();
    let findings_of;
    swap::claim_area(state.index(), parent).await?;
    // The layers not scanned before are scanned as they are unpacked (one
    // inflate for both, the rules on the second core); what the policy
    // refuses is removed from the staging area before anything reaches
    // the target.
    let pending = crate::scan::policy::before_unpack(state, manifest).await?;
    let job = pending.as_ref().and_then(|p| p.job.clone());
    let staging = state.catalog().blocking(move |store| {
        let source = Source {
            reference: &source_for_stage,
            digest: &digest,
            manifest: &manifest_owned,
            fallback_name: &fallback,
            namespace: namespace.as_deref(),
            tag: tag.as_deref(),
        };
        Ok(crate::scan::unpacking::tapping(job.as_ref(), |tap| {
            stage::stage(store, &source, &parent_owned, limits, tap)
        }))
    });
    let (staged, fresh) = staging.await?;
    let staged = staged?;
    let scanned =
        crate::scan::policy::after_unpack(state, reference, manifest, pending, fresh, Some(target))
            .await;
    let staged = match scanned {
        Ok(report) => {
            findings_of = Some(crate::scan::summary(&report.findings));
            staged
        }
        Err(refused) => {
            let _ = std::fs::remove_dir_all(&staged.dir);
            swap::tidy_area(parent);
            return Err(refused.into());
        }
    };
    let dest = parent.join(&staged.name);
    let judged = judge_way(state, &dest, &staged.name, reference, &source_name, force).await;
    let (existing, backup) = match judged {
        Ok(found) => found,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staged.dir);
            swap::tidy_area(parent);
            return Err(e);
        }
    };
    let previous = existing.as_ref().filter(|row| {
        row.repository == reference.repository() && row.digest != descriptor.digest.as_str()
    });
    let record = InstallRow {
        name: staged.name.clone(),
        target: target.to_string(),
        path: dest.display().to_string(),
        source_ref: source_name,
        registry: reference.registry.clone(),
        repository: reference.repository(),
        digest: descriptor.digest.to_string(),
        version: staged.version.clone(),
        content_hash: staged.content_hash.to_string(),
        status: "ok".into(),
        pinned: existing.as_ref().is_some_and(|r| r.pinned),
        installed_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        installed_by: by.to_string(),
        previous_ref: previous
            .map(|r| r.source_ref.clone())
            .or_else(|| existing.as_ref().and_then(|r| r.previous_ref.clone())),
        previous_digest: previous
            .map(|r| r.digest.clone())
            .or_else(|| existing.as_ref().and_then(|r| r.previous_digest.clone())),
        previous_version: previous
            .and_then(|r| r.version.clone())
            .or_else(|| existing.as_ref().and_then(|r| r.previous_version.clone())),
        signer,
        link_of: None,
        project,
        subscription: None,
        findings: findings_of,
    };
    let displaced = if backup {
        super::backup_path(state, &staged.name)?
    } else {
        swap::sibling(&dest, "old")
    };
    Ok(Prepared {
        item: swap::Item {
            dest,
            staged: Some(staged.dir),
            displaced,
            record: Some(record.clone()),
        },
        record,
        existing,
        backup,
    })
}

/// What the index has at `dest`, and whether what is there must go to the
/// backups for a skill `name` from `reference` to take its place: a
/// different skill, a hand edit, or a folder skilld did not put there is
/// refused without `force`, and backed up with it. Nothing is moved here.
pub async fn judge_way(
    state: &State,
    dest: &Path,
    name: &str,
    reference: &Reference,
    source_name: &str,
    force: bool,
) -> Result<(Option<InstallRow>, bool), InstallError> {
    let lookup = dest.display().to_string();
    let existing = state
        .index()
        .read(move |conn| installs::by_path(conn, &lookup))
        .await?;
    let backup_needed = match &existing {
        Some(row) if row.repository != reference.repository() => {
            if !force {
                return Err(InstallError::conflict(format!(
                    "{} already holds a skill named {name:?} installed from {}; this one comes from {source_name}. Two different skills with one name cannot share a target: remove the other first, or use --force to replace it (a backup is kept)",
                    dest.display(),
                    row.source_ref,
                )));
            }
            true
        }
        Some(row) if super::is_modified(row) => {
            if !force {
                return Err(InstallError::conflict(format!(
                    "{} was edited by hand since it was installed; nothing was changed. Use --force to replace it (the edited copy is kept in a backup folder)",
                    dest.display()
                )));
            }
            true
        }
        Some(_) => false,
        None if std::fs::symlink_metadata(dest).is_ok() => {
            if !force {
                return Err(InstallError::conflict(format!(
                    "{} exists and was not installed by skilld; nothing was changed. Use --force to replace it (it is kept in a backup folder)",
                    dest.display()
                )));
            }
            true
        }
        None => false,
    };
    Ok((
        existing,
        backup_needed && std::fs::symlink_metadata(dest).is_ok(),
    ))
}
