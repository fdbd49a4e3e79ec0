//! `skillc collection …`, `subscribe`, `unsubscribe`, `subscriptions`, and
//! `--k8s` on `install` and `pull`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use skilld_proto::collection::{
    CollectionInfo, CollectionSource, GENERATE_ROUTE, GenerateRequest, GenerateResponse,
    INSPECT_ROUTE, INSTALL_ROUTE, InstallRequest, InstallResponse, KeptSkill, LOCK_ROUTE,
    LockRequest, PULL_ROUTE, PUSH_ROUTE, PushRequest, PushResponse, SUBSCRIPTIONS_ROUTE,
    SubscribeRequest, SubscriptionOutcome, SubscriptionPolicy, SubscriptionsResponse,
    UNSUBSCRIBE_ROUTE, UnsubscribeRequest, UnsubscribeResponse,
};
use skilld_proto::install::InstallMode;
use skilld_proto::project::{LockResponse, SyncResponse};

use crate::cli::{CollectionCommand, K8sArgs, PolicyArg};
use crate::ctx::Ctx;
use crate::error::ClientError;
use crate::render;

fn absolute(path: &Path) -> Result<PathBuf, ClientError> {
    std::path::absolute(path)
        .map_err(|e| ClientError::Other(format!("cannot resolve {}: {e}", path.display())))
}

/// SOURCE: a file when one exists at that path, else a reference.
fn source(input: &str) -> Result<CollectionSource, ClientError> {
    let path = Path::new(input);
    if path.is_file() {
        return Ok(CollectionSource {
            reference: None,
            file: Some(absolute(path)?),
        });
    }
    if input.ends_with(".yaml") || input.ends_with(".yml") {
        return Err(ClientError::Other(format!(
            "{input}: no such file (a collection is a YAML file or REGISTRY/REPOSITORY:TAG)"
        )));
    }
    Ok(CollectionSource {
        reference: Some(input.to_string()),
        file: None,
    })
}

fn mode(link: bool, copy: bool) -> Option<InstallMode> {
    match (link, copy) {
        (true, _) => Some(InstallMode::Link),
        (_, true) => Some(InstallMode::Copy),
        _ => None,
    }
}

fn kept(ctx: &Ctx, kept: &[KeptSkill]) {
    for k in kept {
        ctx.say(format!("kept {} ({}): {}", k.name, k.path.display(), k.why));
    }
}

pub async fn dispatch(ctx: &Ctx, command: &CollectionCommand) -> Result<ExitCode, ClientError> {
    match command {
        CollectionCommand::Push {
            file,
            reference,
            pin,
        } => push(ctx, file, reference, *pin).await,
        CollectionCommand::Pull { reference, output } => {
            pull(ctx, reference, output.as_deref()).await
        }
        CollectionCommand::Inspect { source: s } => inspect(ctx, s).await,
        CollectionCommand::Install {
            source: s,
            targets,
            link,
            copy,
            project,
            force,
            dry_run,
        } => {
            let request = InstallRequest {
                source: source(s)?,
                targets: targets.clone(),
                project: project.as_deref().map(absolute).transpose()?,
                mode: mode(*link, *copy),
                force: *force,
                dry_run: *dry_run,
            };
            install(ctx, &request).await
        }
        CollectionCommand::Lock {
            source: s,
            targets,
            project,
        } => lock(ctx, s, targets, project).await,
        CollectionCommand::Generate { source: s, k8s } => {
            if !k8s.k8s {
                return Err(ClientError::Other(
                    "collection generate prints Kubernetes YAML: add --k8s".into(),
                ));
            }
            let mut request = generate_request(k8s);
            request.source = source(s)?;
            generate(ctx, &request).await
        }
    }
}

async fn push(ctx: &Ctx, file: &Path, reference: &str, pin: bool) -> Result<ExitCode, ClientError> {
    let request = PushRequest {
        file: absolute(file)?,
        reference: reference.into(),
        pin,
    };
    let (r, answer): (PushResponse, _) = ctx.post(PUSH_ROUTE, &request).await?;
    if ctx.cli.json {
        ctx.print_json(&answer);
        return Ok(ExitCode::SUCCESS);
    }
    for p in &r.pinned {
        ctx.say(format!("pinned {}: {}", p.name, p.to));
    }
    ctx.say(format!(
        "pushed collection {} ({} skills)",
        r.reference, r.skills
    ));
    ctx.say(format!("  digest  {}", r.digest));
    Ok(ExitCode::SUCCESS)
}

fn show(ctx: &Ctx, info: &CollectionInfo) {
    ctx.say(format!(
        "{} {} ({} collection, {} skills)",
        info.name,
        info.version,
        info.form,
        info.skills.len()
    ));
    if let Some(d) = &info.description {
        ctx.say(format!("  {d}"));
    }
    if let Some(d) = &info.digest {
        ctx.say(format!("  digest  {d}"));
    }
    if ctx.cli.quiet {
        return;
    }
    let rows: Vec<Vec<String>> = info
        .skills
        .iter()
        .map(|s| {
            vec![
                s.name.clone(),
                if s.git {
                    format!("{} (git)", s.reference)
                } else {
                    s.reference.clone()
                },
            ]
        })
        .collect();
    print!("{}", render::table(&["SKILL", "REFERENCE"], &rows));
}

async fn inspect(ctx: &Ctx, input: &str) -> Result<ExitCode, ClientError> {
    let (r, answer): (CollectionInfo, _) = ctx.post(INSPECT_ROUTE, &source(input)?).await?;
    if ctx.cli.json {
        ctx.print_json(&answer);
        return Ok(ExitCode::SUCCESS);
    }
    show(ctx, &r);
    Ok(ExitCode::SUCCESS)
}

async fn pull(ctx: &Ctx, reference: &str, output: Option<&Path>) -> Result<ExitCode, ClientError> {
    let request = CollectionSource {
        reference: Some(reference.into()),
        file: None,
    };
    let (r, answer): (CollectionInfo, _) = ctx.post_streaming(PULL_ROUTE, &request).await?;
    if let Some(out) = output {
        let yaml = r.yaml.as_deref().unwrap_or_default();
        std::fs::write(out, yaml)
            .map_err(|e| ClientError::Other(format!("cannot write {}: {e}", out.display())))?;
    }
    if ctx.cli.json {
        ctx.print_json(&answer);
        return Ok(ExitCode::SUCCESS);
    }
    show(ctx, &r);
    ctx.say(format!("pulled {} skill(s) into the store", r.skills.len()));
    if let Some(out) = output {
        ctx.say(format!("wrote {}", out.display()));
    }
    Ok(ExitCode::SUCCESS)
}

async fn install(ctx: &Ctx, request: &InstallRequest) -> Result<ExitCode, ClientError> {
    let (r, answer): (InstallResponse, _) = ctx.post_streaming(INSTALL_ROUTE, request).await?;
    if ctx.cli.json {
        ctx.print_json(&answer);
        return Ok(ExitCode::SUCCESS);
    }
    if request.dry_run {
        ctx.say("dry run: nothing was changed");
    }
    ctx.say(format!(
        "collection {} {} ({} skills)",
        r.collection.name,
        r.collection.version,
        r.collection.skills.len()
    ));
    super::project::report(
        ctx,
        &SyncResponse {
            changes: r.changes,
            backups: r.backups,
            relocked: false,
        },
    );
    kept(ctx, &r.kept);
    if !r.seen_by.is_empty() {
        ctx.say(format!("seen by: {}", r.seen_by.join(", ")));
    }
    Ok(ExitCode::SUCCESS)
}

async fn lock(
    ctx: &Ctx,
    input: &str,
    targets: &[String],
    project: &Path,
) -> Result<ExitCode, ClientError> {
    let request = LockRequest {
        source: source(input)?,
        project: absolute(project)?,
        targets: targets.to_vec(),
    };
    let (r, answer): (LockResponse, _) = ctx.post_streaming(LOCK_ROUTE, &request).await?;
    if ctx.cli.json {
        ctx.print_json(&answer);
        return Ok(ExitCode::SUCCESS);
    }
    for s in &r.skills {
        ctx.say(format!("{}: {} ({})", s.name, s.tag, s.digest));
    }
    ctx.say(format!(
        "wrote skills.json and skills.lock.json ({} skills from the collection); `skillc sync` installs them",
        r.skills.len()
    ));
    Ok(ExitCode::SUCCESS)
}

/// The generate request `--k8s` and its options say.
pub fn generate_request(k8s: &K8sArgs) -> GenerateRequest {
    GenerateRequest {
        source: CollectionSource::default(),
        skills: Vec::new(),
        mount_path: Some(k8s.mount_path.clone()),
        pod: k8s.pod.clone(),
        deployment: k8s.deployment.clone(),
        agent_image: k8s.agent_image.clone(),
        init_container: k8s.init_container.clone(),
        pvc: k8s.pvc.clone(),
        key_secret: k8s.key_secret.clone(),
    }
}

/// Print the YAML (or, with --json, the answer).
pub async fn generate(ctx: &Ctx, request: &GenerateRequest) -> Result<ExitCode, ClientError> {
    let (r, answer): (GenerateResponse, _) = ctx.post(GENERATE_ROUTE, request).await?;
    if ctx.cli.json {
        ctx.print_json(&answer);
    } else {
        print!("{}", r.yaml);
    }
    Ok(ExitCode::SUCCESS)
}

fn outcome_line(ctx: &Ctx, o: &SubscriptionOutcome) {
    let version = o.version.as_deref().unwrap_or("-");
    match o.result.as_str() {
        "unchanged" => ctx.say(format!("{}: unchanged ({version})", o.reference)),
        "updated" => {
            ctx.say(format!("{}: now at {version}", o.reference));
            super::project::report(
                ctx,
                &SyncResponse {
                    changes: o.changes.clone(),
                    backups: Vec::new(),
                    relocked: false,
                },
            );
            kept(ctx, &o.kept);
        }
        other => ctx.say(format!(
            "{}: {other}: {}",
            o.reference,
            o.message.as_deref().unwrap_or("")
        )),
    }
}

/// Subscription lines of `skillc check`.
pub fn check_lines(ctx: &Ctx, outcomes: &[SubscriptionOutcome]) {
    for o in outcomes {
        outcome_line(ctx, o);
    }
}

pub async fn subscribe(
    ctx: &Ctx,
    reference: &str,
    targets: &[String],
    policy: PolicyArg,
    link: bool,
    copy: bool,
) -> Result<ExitCode, ClientError> {
    let request = SubscribeRequest {
        reference: reference.into(),
        targets: targets.to_vec(),
        policy: match policy {
            PolicyArg::Auto => SubscriptionPolicy::Auto,
            PolicyArg::Notify => SubscriptionPolicy::Notify,
        },
        mode: mode(link, copy),
    };
    let (r, answer): (SubscriptionOutcome, _) =
        ctx.post_streaming(SUBSCRIPTIONS_ROUTE, &request).await?;
    if ctx.cli.json {
        ctx.print_json(&answer);
        return Ok(ExitCode::SUCCESS);
    }
    outcome_line(ctx, &r);
    ctx.say(format!(
        "following {} ({}): checked at every upgrade check",
        r.reference,
        request.policy.as_str()
    ));
    Ok(ExitCode::SUCCESS)
}

pub async fn unsubscribe(
    ctx: &Ctx,
    reference: &str,
    remove: bool,
) -> Result<ExitCode, ClientError> {
    let request = UnsubscribeRequest {
        reference: reference.into(),
        remove,
    };
    let (r, answer): (UnsubscribeResponse, _) = ctx.post(UNSUBSCRIBE_ROUTE, &request).await?;
    if ctx.cli.json {
        ctx.print_json(&answer);
        return Ok(ExitCode::SUCCESS);
    }
    super::project::report(
        ctx,
        &SyncResponse {
            changes: r.removed,
            backups: Vec::new(),
            relocked: false,
        },
    );
    kept(ctx, &r.kept);
    ctx.say(format!(
        "no longer following {reference}; {} install(s) left in place as your own",
        r.released
    ));
    Ok(ExitCode::SUCCESS)
}

pub async fn subscriptions(ctx: &Ctx) -> Result<ExitCode, ClientError> {
    let (r, answer): (SubscriptionsResponse, _) = ctx.get(SUBSCRIPTIONS_ROUTE).await?;
    if ctx.cli.json {
        ctx.print_json(&answer);
        return Ok(ExitCode::SUCCESS);
    }
    if r.subscriptions.is_empty() {
        ctx.say("no subscriptions; follow a collection with `skillc subscribe REF`");
        return Ok(ExitCode::SUCCESS);
    }
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let rows: Vec<Vec<String>> = r
        .subscriptions
        .iter()
        .map(|s| {
            vec![
                s.reference.clone(),
                dash(&s.version),
                s.policy.clone(),
                if s.targets.is_empty() {
                    "(default)".into()
                } else {
                    s.targets.join(",")
                },
                s.installs.to_string(),
                dash(&s.outcome),
                dash(&s.checked_at),
            ]
        })
        .collect();
    if !ctx.cli.quiet {
        print!(
            "{}",
            render::table(
                &[
                    "COLLECTION",
                    "VERSION",
                    "POLICY",
                    "TARGETS",
                    "INSTALLS",
                    "LAST",
                    "CHECKED"
                ],
                &rows
            )
        );
        for s in &r.subscriptions {
            if let Some(m) = s.message.as_ref().filter(|_| {
                matches!(
                    s.outcome.as_deref(),
                    Some("available" | "refused" | "failed")
                )
            }) {
                println!("{}: {m}", s.reference);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
