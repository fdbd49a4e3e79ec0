//! One function per command: flags in, request out, answer printed.

mod collection;
mod daemon;
mod doctor;
mod events;
mod images;
mod install;
mod project;
mod registry;
mod scan;
mod search;
mod service;
mod show;
mod skills;
mod trust;

use std::process::ExitCode;

use crate::cli::{Command, DaemonCommand, ServiceCommand};
use crate::ctx::Ctx;
use crate::error::ClientError;

pub async fn dispatch(ctx: &Ctx) -> Result<ExitCode, ClientError> {
    match &ctx.cli.command {
        Command::Validate(args) => skills::validate(ctx, args).await,
        Command::Build(args) => skills::build(ctx, args).await,
        Command::Images => images::list(ctx).await,
        Command::Tag { source, target } => images::tag(ctx, source, target).await,
        Command::Inspect { reference, remote } => images::inspect(ctx, reference, *remote).await,
        Command::Push {
            reference,
            destination,
        } => registry::push(ctx, reference, destination.as_deref()).await,
        Command::Pull { reference, k8s, .. } if k8s.k8s => {
            let mut request = collection::generate_request(k8s);
            request.skills = vec![reference.clone()];
            collection::generate(ctx, &request).await
        }
        Command::Pull {
            reference,
            output,
            verify: _,
            keys,
            k8s: _,
        } => registry::pull(ctx, reference, output.as_deref(), keys).await,
        Command::Tags {
            repository,
            published,
        } => registry::tags(ctx, repository, *published).await,
        Command::Login {
            registry,
            username,
            password_stdin,
        } => registry::login(ctx, registry, username.as_deref(), *password_stdin).await,
        Command::Logout { registry } => registry::logout(ctx, registry).await,
        Command::Copy {
            source,
            destination,
        } => registry::copy(ctx, source, destination).await,
        Command::Save { references, output } => registry::save(ctx, references, output).await,
        Command::Load { input } => registry::load(ctx, input).await,
        Command::Rmi { references } => images::remove(ctx, references).await,
        Command::Prune => images::prune(ctx).await,
        Command::Promote {
            reference,
            to,
            local,
            sign: _,
            key,
        } => images::promote(ctx, reference, *to, *local, key.as_deref()).await,
        Command::Targets { all } => install::targets(ctx, *all).await,
        Command::Install { reference, k8s, .. } if k8s.k8s => {
            let mut request = collection::generate_request(k8s);
            request.skills = vec![reference.clone()];
            collection::generate(ctx, &request).await
        }
        Command::Install {
            reference,
            targets,
            link,
            copy,
            project,
            output,
            force,
            no_deps,
            k8s: _,
        } => {
            let mode = match (link, copy) {
                (true, _) => Some(skilld_proto::install::InstallMode::Link),
                (_, true) => Some(skilld_proto::install::InstallMode::Copy),
                _ => None,
            };
            install::install(
                ctx,
                reference,
                install::Where {
                    targets,
                    project: project.as_deref(),
                    output: output.as_deref(),
                    mode,
                },
                *force,
                *no_deps,
            )
            .await
        }
        Command::Add {
            references,
            targets,
            project: dir,
        } => project::add(ctx, dir, references, targets).await,
        Command::Lock {
            update,
            names,
            project: dir,
        } => project::lock(ctx, dir, *update, names).await,
        Command::Sync {
            frozen,
            dry_run,
            force,
            project: dir,
        } => project::sync(ctx, dir, *frozen, *dry_run, *force).await,
        Command::Outdated { project: dir } => project::outdated(ctx, dir).await,
        Command::List {
            target,
            upgradable,
            project,
            tree,
            ..
        } => {
            install::list(
                ctx,
                target.as_deref(),
                *upgradable,
                project.as_deref(),
                *tree,
            )
            .await
        }
        Command::Upgrade {
            names,
            all,
            target,
            dry_run,
            force,
        } => install::upgrade(ctx, names, *all, target.as_deref(), *dry_run, *force).await,
        Command::Remove { which, force } => install::remove(ctx, which, *force).await,
        Command::Autoremove {
            target,
            dry_run,
            force,
        } => install::autoremove(ctx, target.as_deref(), *dry_run, *force).await,
        Command::Rollback { which, force } => install::rollback(ctx, which, *force).await,
        Command::Pin { which } => install::pin(ctx, which, true).await,
        Command::Unpin { which } => install::pin(ctx, which, false).await,
        Command::Check => install::check(ctx).await,
        Command::Search(args) => search::search(ctx, args).await,
        Command::Show { reference } => show::show(ctx, reference).await,
        Command::Catalog(crate::cli::CatalogCommand::Refresh { full }) => {
            search::refresh(ctx, *full).await
        }
        Command::Scan {
            subject,
            format,
            fail_on,
        } => scan::scan(ctx, subject, *format, *fail_on).await,
        Command::Collection(command) => collection::dispatch(ctx, command).await,
        Command::Subscribe {
            reference,
            targets,
            policy,
            link,
            copy,
        } => collection::subscribe(ctx, reference, targets, *policy, *link, *copy).await,
        Command::Unsubscribe { reference, remove } => {
            collection::unsubscribe(ctx, reference, *remove).await
        }
        Command::Subscriptions => collection::subscriptions(ctx).await,
        Command::Policy {
            name,
            policy,
            target,
        } => install::policy(ctx, name, policy, target.as_deref()).await,
        Command::Events { follow } => events::events(ctx, *follow).await,
        Command::History { name } => events::history(ctx, name.as_deref()).await,
        Command::Keygen { output_key_prefix } => trust::keygen(ctx, output_key_prefix).await,
        Command::Sign {
            reference,
            key,
            annotations,
        } => trust::sign(ctx, reference, key, annotations).await,
        Command::Verify {
            reference,
            keys,
            local,
        } => trust::verify(ctx, reference, keys, *local).await,
        Command::Status => daemon::status(ctx).await,
        Command::Completions { shell } => completions(shell),
        Command::Doctor => doctor::doctor(ctx).await,
        Command::Daemon(DaemonCommand::Status) => daemon::daemon_status(ctx).await,
        Command::Daemon(DaemonCommand::Start) => daemon::start(ctx).await,
        Command::Daemon(DaemonCommand::Stop) => daemon::stop(ctx).await,
        Command::Service(ServiceCommand::Install) => service::install(ctx),
        Command::Service(ServiceCommand::Uninstall) => service::uninstall(ctx),
        Command::Service(ServiceCommand::Status) => service::status(ctx),
    }
}

/// `skillc completions SHELL`: the registration script of clap_complete's
/// dynamic completion for SHELL (see `crate::complete`).
fn completions(shell: &str) -> Result<ExitCode, ClientError> {
    let shells = clap_complete::env::Shells::builtins();
    let completer = shells
        .completer(shell)
        .ok_or_else(|| ClientError::Other(format!("no completion for the shell {shell:?}")))?;
    let mut out = std::io::stdout().lock();
    completer
        .write_registration("COMPLETE", "skillc", "skillc", "skillc", &mut out)
        .map_err(|e| ClientError::Other(format!("cannot write the completion script: {e}")))?;
    Ok(ExitCode::SUCCESS)
}
