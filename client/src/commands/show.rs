//! `skillc show REF`: an image's card, its repository's versions, what it
//! would change where it is installed, its files, and SKILL.md rendered for
//! the terminal.

use std::io::IsTerminal;
use std::process::ExitCode;

use skilld_proto::catalog::{SHOW_ROUTE, ShowRequest, ShowResponse};

use crate::ctx::Ctx;
use crate::error::ClientError;
use crate::markdown::{Style, render, visible};
use crate::render::{bytes, short_digest, shorten};

/// Files listed before "and N more".
const FILES_SHOWN: usize = 20;
/// Changed paths listed per install.
const CHANGES_SHOWN: usize = 20;

pub async fn show(ctx: &Ctx, reference: &str) -> Result<ExitCode, ClientError> {
    let request = ShowRequest {
        reference: reference.to_string(),
    };
    let (r, answer): (ShowResponse, _) = ctx.post_streaming(SHOW_ROUTE, &request).await?;
    if ctx.cli.json {
        ctx.print_json(&answer);
        return Ok(ExitCode::SUCCESS);
    }
    let style = Style {
        color: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    print!("{}", card(&r));
    if !r.versions.is_empty() {
        println!("\nVersions:");
        for v in &r.versions {
            let mark = if v.digest.as_deref() == Some(r.digest.as_str()) {
                "  <- this one"
            } else {
                ""
            };
            println!(
                "  {:<20} {:<10}{mark}",
                shorten(&v.tag, 20),
                v.status.map_or("-".to_string(), |s| s.to_string())
            );
        }
    }
    for i in &r.installed {
        println!(
            "\nInstalled at {} ({}):",
            i.path,
            i.version.as_deref().unwrap_or("?")
        );
        if i.same {
            println!("  this image; nothing would change");
            continue;
        }
        if i.added.is_empty() && i.removed.is_empty() && i.changed.is_empty() {
            println!("  another image with the same files");
            continue;
        }
        println!(
            "  installing this would add {}, change {}, remove {} file(s):",
            i.added.len(),
            i.changed.len(),
            i.removed.len()
        );
        let all = i
            .added
            .iter()
            .map(|p| ('+', p))
            .chain(i.changed.iter().map(|p| ('~', p)))
            .chain(i.removed.iter().map(|p| ('-', p)));
        for (n, (mark, path)) in all.enumerate() {
            if n == CHANGES_SHOWN {
                println!("    …");
                break;
            }
            println!("    {mark} {}", visible(path));
        }
    }
    println!("\nFiles ({}):", r.files.len());
    for f in r.files.iter().take(FILES_SHOWN) {
        println!(
            "  {:<48} {:>10}",
            shorten(&visible(&f.path), 48),
            bytes(f.size)
        );
    }
    if r.files.len() > FILES_SHOWN {
        println!("  and {} more", r.files.len() - FILES_SHOWN);
    }
    println!("\n──── SKILL.md ────\n");
    print!("{}", render(&r.skill_md, style));
    Ok(ExitCode::SUCCESS)
}

/// The card's lines.
fn card(r: &ShowResponse) -> String {
    let mut out = String::new();
    let status = r.status.map(|s| format!(" ({s})")).unwrap_or_default();
    out.push_str(&format!(
        "{} {}{status}\n",
        visible(&r.name),
        r.version.as_deref().map(visible).unwrap_or_default()
    ));
    let line = |out: &mut String, label: &str, value: &Option<String>| {
        if let Some(v) = value {
            out.push_str(&format!("  {label:<14}{}\n", shorten(v, 200)));
        }
    };
    line(&mut out, "reference", &Some(r.reference.clone()));
    line(&mut out, "digest", &Some(short_digest(&r.digest)));
    line(&mut out, "title", &r.display_name);
    if !r.description.is_empty() {
        line(&mut out, "description", &Some(r.description.clone()));
    }
    line(&mut out, "namespace", &r.namespace);
    line(&mut out, "license", &r.license);
    line(&mut out, "authors", &r.authors);
    line(&mut out, "compatibility", &r.compatibility);
    if !r.tags.is_empty() {
        line(&mut out, "tags", &Some(r.tags.join(", ")));
    }
    let source = match (&r.source, &r.revision) {
        (Some(s), Some(c)) => Some(format!("{s} @ {c}")),
        (Some(s), None) => Some(s.clone()),
        _ => None,
    };
    line(&mut out, "source", &source);
    for (i, d) in r.dependencies.iter().enumerate() {
        let label = if i == 0 { "needs" } else { "" };
        out.push_str(&format!(
            "  {label:<14}{} {}\n",
            visible(&shorten(&d.repository, 200)),
            visible(&shorten(&d.version, 60))
        ));
    }
    out
}
