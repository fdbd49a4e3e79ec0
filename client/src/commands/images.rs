//! `skillc images`, `tag`, `inspect`, `rmi`, `prune` and `promote`.

use std::process::ExitCode;

use skilld_proto::images::{
    IMAGES_ROUTE, INSPECT_ROUTE, ImagesResponse, InspectRequest, InspectResponse, Lifecycle,
    PROMOTE_ROUTE, PRUNE_ROUTE, PromoteRequest, PromoteResponse, PruneResponse, REMOVE_ROUTE,
    RemoveRequest, RemoveResponse, TAG_ROUTE, TagRequest, TagResponse,
};

use crate::ctx::Ctx;
use crate::error::ClientError;
use crate::render;

pub async fn list(ctx: &Ctx) -> Result<ExitCode, ClientError> {
    let (response, answer): (ImagesResponse, _) = ctx.get(IMAGES_ROUTE).await?;
    if ctx.cli.json {
        ctx.print_json(&answer);
        return Ok(ExitCode::SUCCESS);
    }
    let rows = response
        .images
        .iter()
        .map(|i| {
            vec![
                i.repository.clone(),
                i.tag.clone(),
                i.status.map_or("-".into(), |s| s.to_string()),
                render::short_digest(&i.digest),
                i.created.clone().unwrap_or_else(|| "-".into()),
                render::bytes(i.size),
            ]
        })
        .collect::<Vec<_>>();
    if !ctx.cli.quiet {
        print!(
            "{}",
            render::table(
                &["NAME", "TAG", "STATUS", "DIGEST", "CREATED", "SIZE"],
                &rows
            )
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn tag(ctx: &Ctx, source: &str, target: &str) -> Result<ExitCode, ClientError> {
    let request = TagRequest {
        source: source.into(),
        target: target.into(),
    };
    let (response, answer): (TagResponse, _) = ctx.post(TAG_ROUTE, &request).await?;
    if ctx.cli.json {
        ctx.print_json(&answer);
    } else {
        ctx.say(format!(
            "tagged {} ({})",
            response.reference,
            render::short_digest(&response.digest)
        ));
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn inspect(ctx: &Ctx, reference: &str, remote: bool) -> Result<ExitCode, ClientError> {
    let request = InspectRequest {
        reference: reference.into(),
        remote,
    };
    let (i, answer): (InspectResponse, _) = ctx.post(INSPECT_ROUTE, &request).await?;
    if ctx.cli.json {
        ctx.print_json(&answer);
        return Ok(ExitCode::SUCCESS);
    }
    if !ctx.cli.quiet {
        print!("{}", render::inspect(&i));
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn remove(ctx: &Ctx, references: &[String]) -> Result<ExitCode, ClientError> {
    let request = RemoveRequest {
        references: references.to_vec(),
    };
    let (response, answer): (RemoveResponse, _) = ctx.post(REMOVE_ROUTE, &request).await?;
    if ctx.cli.json {
        ctx.print_json(&answer);
        return Ok(ExitCode::SUCCESS);
    }
    for r in &response.removed {
        ctx.say(format!(
            "untagged {} ({})",
            r.reference,
            render::short_digest(&r.digest)
        ));
    }
    if response.reclaimable_bytes > 0 {
        ctx.say(format!(
            "{} can be freed with `skillc prune`",
            render::bytes(response.reclaimable_bytes)
        ));
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn prune(ctx: &Ctx) -> Result<ExitCode, ClientError> {
    let (response, answer): (PruneResponse, _) =
        ctx.post(PRUNE_ROUTE, &serde_json::json!({})).await?;
    if ctx.cli.json {
        ctx.print_json(&answer);
    } else {
        ctx.say(format!(
            "removed {} blob(s), freed {}",
            response.blobs_removed,
            render::bytes(response.bytes_freed)
        ));
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn promote(
    ctx: &Ctx,
    reference: &str,
    to: Lifecycle,
    local: bool,
    sign_key: Option<&std::path::Path>,
) -> Result<ExitCode, ClientError> {
    let request = PromoteRequest {
        reference: reference.into(),
        to,
        local,
    };
    let (response, answer): (PromoteResponse, _) = ctx.post(PROMOTE_ROUTE, &request).await?;
    let signed = match sign_key {
        Some(key) => Some(super::trust::sign_request(ctx, &response.reference, key, &[]).await?),
        None => None,
    };
    if ctx.cli.json {
        match &signed {
            // Both answers as sent, side by side.
            Some((_, sign_answer)) => {
                let mut body = b"{\"promote\":".to_vec();
                body.extend_from_slice(&answer.body);
                body.extend_from_slice(b",\"sign\":");
                body.extend_from_slice(&sign_answer.body);
                body.push(b'}');
                ctx.print_json(&crate::conn::Answer { body: body.into() });
            }
            None => ctx.print_json(&answer),
        }
        return Ok(ExitCode::SUCCESS);
    }
    ctx.say(format!(
        "promoted {reference}: {} → {}",
        response.from, response.to
    ));
    ctx.say(format!("  digest  {}", response.digest));
    ctx.say(format!("  tags    {}", response.tags.join(", ")));
    if !response.untagged.is_empty() {
        ctx.say(format!("  removed {}", response.untagged.join(", ")));
    }
    if let Some((r, _)) = &signed {
        super::trust::say_signed(ctx, r);
    }
    Ok(ExitCode::SUCCESS)
}
