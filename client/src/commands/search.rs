//! `skillc search`: the daemon's catalog, for a person or as JSON.

use std::process::ExitCode;

use skilld_proto::catalog::{
    REFRESH_ROUTE, RefreshRequest, RefreshResponse, SEARCH_ROUTE, SearchRequest, SearchResponse,
};

use crate::cli::SearchArgs;
use crate::ctx::Ctx;
use crate::error::ClientError;
use crate::render;

/// The widest description shown in the table (characters).
const DESCRIPTION: usize = 60;

/// `skillc catalog refresh`.
pub async fn refresh(ctx: &Ctx, full: bool) -> Result<ExitCode, ClientError> {
    let (r, answer): (RefreshResponse, _) = ctx
        .post_streaming(REFRESH_ROUTE, &RefreshRequest { full })
        .await?;
    if ctx.cli.json {
        ctx.print_json(&answer);
    } else {
        report(ctx, &r);
    }
    Ok(if r.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn report(ctx: &Ctx, r: &RefreshResponse) {
    if ctx.human() {
        eprintln!(
            "catalog refreshed: {} repositories ({} changed, {} removed), {} skill versions; asked {} tag lists, {} HEADs, {} manifests",
            r.repositories,
            r.changed,
            r.removed,
            r.versions,
            r.tag_lists,
            r.manifest_heads,
            r.manifests_fetched
        );
    }
    for e in &r.errors {
        eprintln!("warning: {}", render::shorten(e, 300));
    }
}

pub async fn search(ctx: &Ctx, args: &SearchArgs) -> Result<ExitCode, ClientError> {
    if args.refresh {
        let (r, _): (RefreshResponse, _) = ctx
            .post_streaming(REFRESH_ROUTE, &RefreshRequest { full: args.full })
            .await?;
        report(ctx, &r);
    }
    let request = SearchRequest {
        query: args.query.join(" "),
        status: args.status,
        tags: args.tags.clone(),
        namespace: args.namespace.clone(),
        compatibility: args.compatibility.clone(),
        limit: Some(args.limit),
    };
    let (r, answer): (SearchResponse, _) = ctx.post(SEARCH_ROUTE, &request).await?;
    if ctx.cli.json {
        ctx.print_json(&answer);
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = r
        .results
        .iter()
        .map(|s| {
            vec![
                s.name.clone(),
                s.version.clone().unwrap_or_else(|| s.tag.clone()),
                s.status.map_or("-".into(), |st| st.to_string()),
                render::shorten(&s.description, DESCRIPTION),
                s.reference.clone(),
                if s.installed.is_empty() {
                    String::new()
                } else {
                    "installed".into()
                },
            ]
        })
        .collect();
    if !rows.is_empty() {
        print!(
            "{}",
            render::table(
                &["NAME", "VERSION", "STATUS", "DESCRIPTION", "REFERENCE", ""],
                &rows
            )
        );
    }
    if ctx.human() {
        let shown = r.results.len() as u64;
        let mut line = match (r.total, shown) {
            (0, _) => "no skill matches".to_string(),
            (t, s) if t > s => format!("{s} of {t} skills (--limit shows more)"),
            (t, _) => format!("{t} skill(s)"),
        };
        match &r.refreshed_at {
            Some(at) => line.push_str(&format!("; catalog refreshed {at}")),
            None => line.push_str(
                "; the catalog was never refreshed: configure catalog.sources and run `skillc search --refresh`",
            ),
        }
        eprintln!("{line}");
    }
    Ok(ExitCode::SUCCESS)
}
