//! `skillc events [--follow]` and `skillc history [NAME]`.

use std::io::Write;
use std::process::ExitCode;

use http_body_util::BodyExt;
use skilld_proto::events::{EVENTS_ROUTE, Event, HISTORY_ROUTE, HistoryResponse};

use crate::ctx::Ctx;
use crate::error::ClientError;
use crate::render;

fn describe(e: &Event) -> String {
    let kind = serde_json::to_value(e.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let mut line = format!("{} {kind:<17}", e.at);
    if let Some(skill) = &e.skill {
        line.push_str(&format!(" {skill}"));
    }
    if let Some(target) = &e.target {
        line.push_str(&format!(" ({target})"));
    }
    match (&e.from_version, &e.to_version) {
        (Some(a), Some(b)) => line.push_str(&format!(" {a} → {b}")),
        (None, Some(b)) => line.push_str(&format!(" {b}")),
        (Some(a), None) => line.push_str(&format!(" {a}")),
        (None, None) => {}
    }
    if let Some(m) = &e.message {
        line.push_str(&format!(": {m}"));
    }
    line
}

pub async fn events(ctx: &Ctx, follow: bool) -> Result<ExitCode, ClientError> {
    let route = if follow {
        format!("{EVENTS_ROUTE}?follow=true")
    } else {
        EVENTS_ROUTE.to_string()
    };
    let mut body = ctx.get_streaming(&route).await?.into_body();
    let mut buffer = Vec::new();
    let mut out = std::io::stdout();
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|e| ClientError::Other(format!("the event stream broke off: {e}")))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        buffer.extend_from_slice(&data);
        while let Some(end) = buffer.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buffer.drain(..=end).collect();
            if ctx.cli.json {
                let _ = out.write_all(&line);
            } else if let Ok(event) = serde_json::from_slice::<Event>(&line) {
                let _ = writeln!(out, "{}", describe(&event));
            }
            let _ = out.flush();
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn history(ctx: &Ctx, name: Option<&str>) -> Result<ExitCode, ClientError> {
    let route = match name {
        Some(n) => format!("{HISTORY_ROUTE}?skill={n}"),
        None => HISTORY_ROUTE.to_string(),
    };
    let (r, answer): (HistoryResponse, _) = ctx.get(&route).await?;
    if ctx.cli.json {
        ctx.print_json(&answer);
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = r
        .entries
        .iter()
        .map(|e| {
            let change = match (&e.from_version, &e.to_version) {
                (Some(a), Some(b)) if a != b => format!("{a} → {b}"),
                (_, Some(b)) => b.clone(),
                (Some(a), None) => a.clone(),
                (None, None) => "-".into(),
            };
            vec![
                e.at.clone(),
                e.action.clone(),
                e.actor.clone(),
                e.skill.clone(),
                e.target.clone(),
                change,
                e.outcome.clone(),
                e.message.clone().unwrap_or_default(),
            ]
        })
        .collect();
    if !ctx.cli.quiet {
        print!(
            "{}",
            render::table(
                &[
                    "TIME", "ACTION", "BY", "SKILL", "TARGET", "VERSION", "OUTCOME", "MESSAGE"
                ],
                &rows
            )
        );
    }
    Ok(ExitCode::SUCCESS)
}
