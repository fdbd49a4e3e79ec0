//! `POST /v1/build` and `POST /v1/build/all` (NDJSON streams): a skill
//! folder on this machine (named by its absolute path) or in a git
//! repository (fetched by [`crate::source`]), built into the local store;
//! with `all`, every skill folder of the tree, each pushed on request, one
//! failure not stopping the others.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use hyper::Request;
use hyper::body::Incoming;
use skilld_proto::ErrorCode;
use skilld_proto::images::{
    BuildAllRequest, BuildAllResponse, BuildOutcome, BuildRequest, BuildResponse, GitSource,
    ImageFormat, MediaTypes, SkillBuild,
};
use skilld_proto::skill::{Provenance, Severity};
use skilld_proto::stream::Progress;

use super::skills::{load, skill_dir};
use super::stream::{StreamSender, ndjson};

/// Where a build's progress goes (the stream's reporter, or nowhere).
type Report = Arc<dyn Fn(Progress) + Send + Sync>;
use super::{ApiError, ApiResponse, body};
use crate::image::build::{self, BuildError, BuildSpec};
use crate::image::lifecycle;
use crate::image::reference::Reference;
use crate::skill::LoadOptions;
use crate::source::SourceError;
use crate::source::fetch::Fetched;
use crate::source::url::GitUrl;
use crate::state::State;

impl From<SourceError> for ApiError {
    fn from(e: SourceError) -> ApiError {
        let code = match &e {
            SourceError::Url { .. } | SourceError::BadPath { .. } => ErrorCode::InvalidRequest,
            SourceError::NoSuchRef { .. } | SourceError::NoSuchPath { .. } => ErrorCode::NotFound,
            SourceError::Fetch { .. } => ErrorCode::Upstream,
            SourceError::Io(_) => ErrorCode::Internal,
        };
        ApiError::new(code, e.to_string())
    }
}

/// What a build reads from: a folder, or a commit checked out (removed
/// when this is dropped).
struct Source {
    root: PathBuf,
    git: Option<(GitUrl, Fetched)>,
}

impl Source {
    /// The folder at `path`, or `git` fetched (progress to `report`).
    async fn open(
        state: &State,
        path: &Path,
        git: Option<&GitSource>,
        report: &Report,
    ) -> Result<Source, ApiError> {
        let Some(git) = git else {
            return Ok(Source {
                root: skill_dir(path)?,
                git: None,
            });
        };
        if !path.as_os_str().is_empty() {
            return Err(ApiError::new(
                ErrorCode::InvalidRequest,
                "give a folder or a git URL, not both",
            ));
        }
        let url = GitUrl::parse(&git.url)?;
        report(Progress {
            phase: "fetch".into(),
            current: 0,
            total: None,
            unit: None,
            message: Some(format!(
                "fetching {url}{}",
                git.reference
                    .as_deref()
                    .map(|r| format!(" at {r}"))
                    .unwrap_or_default()
            )),
            item: None,
        });
        let reference = git.reference.clone().filter(|r| !r.trim().is_empty());
        let home = state.target_env().home.clone().unwrap_or_default();
        let xdg = std::env::var_os("XDG_CONFIG_HOME").map(PathBuf::from);
        let files = crate::source::credentials::store_files(&home, xdg.as_deref());
        // Under the daemon's own (private) data folder, not a shared /tmp.
        let parent = state.config().paths.data_dir.join("tmp").join("git");
        let fetch_url = url.clone();
        let only = git.path.clone().unwrap_or_default();
        let fetched = tokio::task::spawn_blocking(move || {
            let interrupt = AtomicBool::new(false);
            crate::source::fetch::fetch(
                &fetch_url,
                reference.as_deref(),
                &only,
                &parent,
                files,
                &interrupt,
            )
        })
        .await
        .map_err(|e| ApiError::new(ErrorCode::Internal, format!("fetch task failed: {e}")))??;
        tracing::info!(url = %url, commit = %fetched.commit, "fetched");
        Ok(Source {
            root: fetched.checkout.path().to_path_buf(),
            git: Some((url, fetched)),
        })
    }

    /// The folder `sub` of the source (a folder source takes none).
    fn folder(&self, sub: Option<&str>) -> Result<PathBuf, ApiError> {
        match (&self.git, sub) {
            (Some((url, fetched)), Some(sub)) => Ok(fetched.folder(url, sub)?),
            (Some((url, fetched)), None) => Ok(fetched.folder(url, "")?),
            (None, _) => Ok(self.root.clone()),
        }
    }

    /// Provenance of the skill in `dir` (a folder of this source).
    fn provenance(&self, dir: &Path) -> Option<Provenance> {
        let (url, fetched) = self.git.as_ref()?;
        let root = fetched.checkout.path().canonicalize().ok()?;
        let relative = dir.strip_prefix(&root).ok()?;
        let path = relative.to_string_lossy().to_string();
        Some(Provenance {
            source: Some(url.shown().to_string()),
            commit: Some(fetched.commit.clone()),
            path: (!path.is_empty()).then_some(path),
        })
    }

    /// The commit's time: the default `SOURCE_DATE_EPOCH`.
    fn epoch(&self) -> Option<i64> {
        self.git.as_ref().map(|(_, f)| f.time)
    }
}

/// How to build each skill.
#[derive(Debug, Clone)]
struct Options {
    tag: Option<String>,
    /// `PREFIX/<name>` when no tag is given (`build --all -t PREFIX`).
    prefix: Option<String>,
    media_types: MediaTypes,
    format: ImageFormat,
    strict: bool,
    namespace: Option<String>,
    epoch: Option<i64>,
}

pub async fn build(state: &State, req: Request<Incoming>) -> Result<ApiResponse, ApiError> {
    let request: BuildRequest = body::read_json(req, &state.config().limits).await?;
    if request.git.is_none() {
        // Refused before the stream starts, as before git sources.
        skill_dir(&request.path)?;
    }
    let (tx, response) = ndjson::<BuildResponse>();
    let state = state.clone();
    tokio::spawn(async move {
        let report: Report = Arc::new(tx.reporter());
        let outcome = async {
            let source = Source::open(&state, &request.path, request.git.as_ref(), &report).await?;
            let dir = source.folder(request.git.as_ref().and_then(|g| g.path.as_deref()))?;
            let options = Options {
                tag: request.tag.clone(),
                prefix: None,
                media_types: request.media_types,
                format: request.format,
                strict: request.strict,
                namespace: request.namespace.clone(),
                epoch: request.source_date_epoch.or(source.epoch()),
            };
            let provenance = source.provenance(&dir);
            build_folder(&state, dir, &options, provenance, &report)
                .await
                .map(|(built, _)| built)
        }
        .await;
        tx.finish(outcome).await;
    });
    Ok(response)
}

pub async fn build_all(state: &State, req: Request<Incoming>) -> Result<ApiResponse, ApiError> {
    let request: BuildAllRequest = body::read_json(req, &state.config().limits).await?;
    if request.git.is_none() {
        skill_dir(&request.path)?;
    }
    if let Some(prefix) = &request.prefix {
        let r = Reference::parse(&format!("{}/probe", prefix.trim_end_matches('/')))?;
        if r.tag.is_some() || r.digest.is_some() {
            return Err(ApiError::new(
                ErrorCode::InvalidRequest,
                format!(
                    "-t {prefix} with --all names where the skills go (REGISTRY/NAMESPACE); each is tagged <name>:<version>-draft"
                ),
            ));
        }
    }
    let (tx, response) = ndjson::<BuildAllResponse>();
    let state = state.clone();
    tokio::spawn(async move {
        let outcome = run_all(&state, request, &tx).await;
        tx.finish(outcome).await;
    });
    Ok(response)
}

async fn run_all(
    state: &State,
    request: BuildAllRequest,
    tx: &StreamSender<BuildAllResponse>,
) -> Result<BuildAllResponse, ApiError> {
    let report: Report = Arc::new(tx.reporter());
    let source = Source::open(state, &request.path, request.git.as_ref(), &report).await?;
    let base = source.folder(request.git.as_ref().and_then(|g| g.path.as_deref()))?;
    let walked = base.clone();
    let folders =
        tokio::task::spawn_blocking(move || crate::source::discover::skill_folders(&walked))
            .await
            .map_err(|e| ApiError::new(ErrorCode::Internal, format!("walk task failed: {e}")))?
            .map_err(|e| {
                ApiError::new(
                    ErrorCode::InvalidRequest,
                    format!("cannot look for skills: {e}"),
                )
            })?;
    if folders.is_empty() {
        return Err(ApiError::new(
            ErrorCode::NotFound,
            format!(
                "no skill folder (a folder with a SKILL.md) under {}",
                match &source.git {
                    Some((url, _)) => url.to_string(),
                    None => base.display().to_string(),
                }
            ),
        ));
    }
    let options = Options {
        tag: None,
        prefix: request
            .prefix
            .as_ref()
            .map(|p| p.trim_end_matches('/').to_string()),
        media_types: request.media_types,
        format: request.format,
        strict: request.strict,
        namespace: request.namespace.clone(),
        epoch: request.source_date_epoch.or(source.epoch()),
    };
    let total = folders.len() as u64;
    let mut skills = Vec::with_capacity(folders.len());
    for (i, relative) in folders.iter().enumerate() {
        let shown = if relative.as_os_str().is_empty() {
            ".".to_string()
        } else {
            relative.to_string_lossy().to_string()
        };
        report(Progress {
            phase: "build".into(),
            current: i as u64,
            total: Some(total),
            unit: Some("skills".into()),
            message: Some(format!("building {shown}")),
            item: Some(shown.clone()),
        });
        let dir = base.join(relative);
        let provenance = source.provenance(&dir.canonicalize().unwrap_or(dir.clone()));
        // Progress of one skill's build is not forwarded: the lines are per skill.
        let quiet: Report = Arc::new(|_| {});
        let one = build_folder(state, dir, &options, provenance, &quiet).await;
        let mut row = SkillBuild {
            path: shown,
            outcome: BuildOutcome::Failed,
            reference: None,
            digest: None,
            pushed: false,
            problem: None,
        };
        match one {
            Err(e) => row.problem = Some(first_problem(&e)),
            Ok((built, unchanged)) => {
                row.reference = Some(built.reference.clone());
                row.digest = Some(built.digest.clone());
                row.outcome = if unchanged {
                    BuildOutcome::Skipped
                } else {
                    BuildOutcome::Built
                };
                if request.push {
                    match push_built(state, &built).await {
                        Ok(sent) => {
                            row.pushed = true;
                            if sent {
                                row.outcome = BuildOutcome::Built;
                            }
                        }
                        Err(e) => {
                            row.outcome = BuildOutcome::Failed;
                            row.problem = Some(format!("built, not pushed: {}", e.0.message));
                        }
                    }
                }
            }
        }
        tracing::info!(path = %row.path, outcome = ?row.outcome, "build --all");
        skills.push(row);
    }
    let count = |o: BuildOutcome| skills.iter().filter(|s| s.outcome == o).count() as u32;
    Ok(BuildAllResponse {
        source: source.git.as_ref().map(|(url, fetched)| Provenance {
            source: Some(url.shown().to_string()),
            commit: Some(fetched.commit.clone()),
            path: request
                .git
                .as_ref()
                .and_then(|g| g.path.clone())
                .filter(|p| !p.trim_matches('/').is_empty()),
        }),
        built: count(BuildOutcome::Built),
        skipped: count(BuildOutcome::Skipped),
        failed: count(BuildOutcome::Failed),
        skills,
    })
}

/// The first thing to fix: the first error among a skill's problems, or
/// the error's message.
fn first_problem(e: &ApiError) -> String {
    e.0.details
        .get("problems")
        .and_then(|p| p.as_array())
        .and_then(|p| {
            p.iter()
                .find(|p| p.get("severity").and_then(|s| s.as_str()) == Some("error"))
        })
        .and_then(|p| serde_json::from_value::<skilld_proto::skill::Problem>(p.clone()).ok())
        .map(|p| p.to_string())
        .unwrap_or_else(|| e.0.message.clone())
}

/// Push a built image to its registry; false when the registry already
/// had that digest under that tag (nothing sent).
async fn push_built(state: &State, built: &BuildResponse) -> Result<bool, ApiError> {
    let target = Reference::parse(&built.reference)?;
    if target.registry.is_none() {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            format!(
                "{} names no registry; give --all -t REGISTRY/NAMESPACE",
                built.reference
            ),
        ));
    }
    if let Ok(digest) = crate::registry::remote::head_digest(state.registries(), &target).await
        && digest.to_string() == built.digest
    {
        return Ok(false);
    }
    let (_, descriptor) = state.catalog().find(&built.reference).await?;
    crate::registry::push::push(
        state.catalog(),
        state.registries(),
        &descriptor,
        &target,
        &|_| {},
    )
    .await?;
    Ok(true)
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

/// Build the skill in `dir` into the store and tag it; true when the tag
/// already named the same image.
async fn build_folder(
    state: &State,
    dir: PathBuf,
    options: &Options,
    provenance: Option<Provenance>,
    report: &Report,
) -> Result<(BuildResponse, bool), ApiError> {
    report(Progress {
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
            strict: options.strict,
            namespace: options.namespace.clone(),
        },
    )
    .await?;
    let Some(mut card) = loaded.card.clone().filter(|_| loaded.is_valid()) else {
        return Err(problems_error(loaded.problems, "the skill"));
    };
    if let Some(provenance) = &provenance {
        // Where it was fetched from is exact; a skill.yaml's own words are not.
        card.provenance = Some(provenance.clone());
    }
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
    let reference = match (&options.tag, &options.prefix) {
        (Some(tag), _) => {
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
        (None, Some(prefix)) => {
            Reference::parse(&format!("{prefix}/{}:{default_tag}", card.metadata.name))?
        }
        (None, None) => {
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
    if options.strict && !blocking.is_empty() {
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
    let progress = Arc::clone(report);
    let (format, media_types, epoch) = (options.format, options.media_types, options.epoch);
    let built = catalog
        .blocking(move |store| {
            let spec = BuildSpec {
                dir: &dir,
                card: &card,
                words,
                frontmatter: &frontmatter,
                format,
                media_types,
                epoch,
                limits,
            };
            let mut last = 0u64;
            let mut report = |done: u64, total: u64| {
                // About a hundred updates per build, not one per file.
                if done == 0 || done == total || done - last >= (total / 100).max(1) {
                    last = done;
                    progress(Progress {
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
    let unchanged = catalog
        .get(&name)
        .await?
        .is_some_and(|row| row.digest == built.manifest.digest.to_string());
    catalog.tag(&name, &built.manifest).await?;
    tracing::info!(reference = %name, digest = %built.manifest.digest, files = built.files, "built");
    Ok((
        BuildResponse {
            reference: name,
            digest: built.manifest.digest.to_string(),
            layer_digest: built.layer.to_string(),
            config_digest: built.config.to_string(),
            size: built.size,
            files: built.files,
            content_bytes: built.content_bytes,
            warnings,
            provenance,
            findings,
        },
        unchanged,
    ))
}
