//! `skillc push`, `pull`, `tags`, `login` and `logout`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use skilld_proto::registry::{
    COPY_ROUTE, CopyRequest, CopyResponse, LOAD_ROUTE, LOGIN_ROUTE, LOGOUT_ROUTE, LoadRequest,
    LoadResponse, LoginRequest, LoginResponse, LogoutRequest, LogoutResponse, PULL_ROUTE,
    PUSH_ROUTE, PullRequest, PullResponse, PushRequest, PushResponse, SAVE_ROUTE, SaveRequest,
    SaveResponse, TAGS_ROUTE, TagsRequest, TagsResponse,
};

use crate::ctx::Ctx;
use crate::error::ClientError;
use crate::render;

pub async fn push(
    ctx: &Ctx,
    reference: &str,
    destination: Option<&str>,
) -> Result<ExitCode, ClientError> {
    let request = PushRequest {
        reference: reference.into(),
        destination: destination.map(str::to_string),
    };
    let (r, answer): (PushResponse, _) = ctx.post_streaming(PUSH_ROUTE, &request).await?;
    if ctx.cli.json {
        ctx.print_json(&answer);
        return Ok(ExitCode::SUCCESS);
    }
    ctx.say(format!("pushed {}", r.reference));
    ctx.say(format!("  digest  {}", r.digest));
    ctx.say(format!(
        "  blobs   {} sent ({}), {} already there",
        r.pushed_blobs,
        render::bytes(r.pushed_bytes),
        r.skipped_blobs
    ));
    for signature in &r.signatures {
        ctx.say(format!("  signatures {signature}"));
    }
    if !ctx.cli.quiet {
        render::findings(&r.findings);
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn pull(
    ctx: &Ctx,
    reference: &str,
    output: Option<&Path>,
    keys: &[std::path::PathBuf],
) -> Result<ExitCode, ClientError> {
    let verify_keys = keys
        .iter()
        .map(|k| {
            std::path::absolute(k)
                .map_err(|e| ClientError::Other(format!("cannot resolve {}: {e}", k.display())))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let output = output
        .map(|o| {
            std::path::absolute(o)
                .map_err(|e| ClientError::Other(format!("cannot resolve {}: {e}", o.display())))
        })
        .transpose()?;
    let request = PullRequest {
        reference: reference.into(),
        output,
        verify_keys,
    };
    let (r, answer): (PullResponse, _) = ctx.post_streaming(PULL_ROUTE, &request).await?;
    if ctx.cli.json {
        ctx.print_json(&answer);
        return Ok(ExitCode::SUCCESS);
    }
    ctx.say(format!("pulled {}", r.reference));
    ctx.say(format!("  digest  {}", r.digest));
    if r.source != r.reference {
        ctx.say(format!("  from    {}", r.source));
    }
    if let Some(signer) = &r.signer {
        ctx.say(format!("  signed  by {signer} (verified)"));
    }
    ctx.say(format!(
        "  blobs   {} fetched ({}), {} already in the store",
        r.fetched_blobs,
        render::bytes(r.fetched_bytes),
        r.present_blobs
    ));
    if let Some(dir) = &r.unpacked_to {
        ctx.say(format!(
            "  unpacked {} file(s) into {}",
            r.files.unwrap_or(0),
            dir.display()
        ));
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn tags(ctx: &Ctx, repository: &str, published: bool) -> Result<ExitCode, ClientError> {
    let request = TagsRequest {
        repository: repository.into(),
        published,
    };
    let (r, answer): (TagsResponse, _) = ctx.post(TAGS_ROUTE, &request).await?;
    if ctx.cli.json {
        ctx.print_json(&answer);
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = r
        .tags
        .iter()
        .map(|t| {
            // A release tag whose status is not published looks like a
            // version upgrades would take; say that they do not.
            let note = if is_release(&t.tag) && !t.published {
                "not published: upgrades skip it"
            } else {
                ""
            };
            vec![
                t.tag.clone(),
                t.status.map_or("-".into(), |s| s.to_string()),
                t.digest.as_deref().map_or("-".into(), render::short_digest),
                note.to_string(),
            ]
        })
        .collect();
    if !ctx.cli.quiet {
        print!(
            "{}",
            render::table(&["TAG", "STATUS", "DIGEST", "NOTE"], &rows)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `MAJOR.MINOR.PATCH` with no pre-release or build part.
fn is_release(tag: &str) -> bool {
    let parts: Vec<&str> = tag.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes().all(|b| b.is_ascii_digit())
                && (*p == "0" || !p.starts_with('0'))
        })
}

fn prompt(question: &str) -> Result<String, ClientError> {
    eprint!("{question}");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| ClientError::Other(format!("cannot read the answer: {e}")))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

pub async fn login(
    ctx: &Ctx,
    registry: &str,
    username: Option<&str>,
    password_stdin: bool,
) -> Result<ExitCode, ClientError> {
    let interactive = std::io::stdin().is_terminal();
    let username = match username {
        Some(u) => u.to_string(),
        None if interactive && !password_stdin => prompt("Username: ")?,
        None => return Err(ClientError::Other("give the user name with -u USER".into())),
    };
    let password = if password_stdin {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).map_err(|e| {
            ClientError::Other(format!("cannot read the password from standard input: {e}"))
        })?;
        text.trim_end_matches(['\r', '\n']).to_string()
    } else if interactive {
        rpassword::prompt_password("Password: ")
            .map_err(|e| ClientError::Other(format!("cannot read the password: {e}")))?
    } else {
        return Err(ClientError::Other(
            "standard input is not a terminal; pass the password with --password-stdin".into(),
        ));
    };
    let request = LoginRequest {
        registry: registry.into(),
        username,
        password,
    };
    let (r, answer): (LoginResponse, _) = ctx.post(LOGIN_ROUTE, &request).await?;
    if ctx.cli.json {
        ctx.print_json(&answer);
    } else {
        ctx.say(format!(
            "logged in to {} as {} (saved in {})",
            r.registry,
            r.username,
            r.saved_to.display()
        ));
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn logout(ctx: &Ctx, registry: &str) -> Result<ExitCode, ClientError> {
    let request = LogoutRequest {
        registry: registry.into(),
    };
    let (r, answer): (LogoutResponse, _) = ctx.post(LOGOUT_ROUTE, &request).await?;
    if ctx.cli.json {
        ctx.print_json(&answer);
    } else if r.removed {
        ctx.say(format!("logged out of {}", r.registry));
    } else {
        ctx.say(format!("no saved login for {}", r.registry));
    }
    Ok(ExitCode::SUCCESS)
}

fn absolute(path: &Path) -> Result<std::path::PathBuf, ClientError> {
    std::path::absolute(path)
        .map_err(|e| ClientError::Other(format!("cannot resolve {}: {e}", path.display())))
}

pub async fn copy(ctx: &Ctx, source: &str, destination: &str) -> Result<ExitCode, ClientError> {
    let request = CopyRequest {
        source: source.into(),
        destination: destination.into(),
    };
    let (r, answer): (CopyResponse, _) = ctx.post_streaming(COPY_ROUTE, &request).await?;
    if ctx.cli.json {
        ctx.print_json(&answer);
        return Ok(ExitCode::SUCCESS);
    }
    ctx.say(format!("copied {} → {}", r.source, r.destination));
    ctx.say(format!("  digest      {}", r.digest));
    ctx.say(format!(
        "  blobs       {} copied ({}), {} already there",
        r.copied_blobs,
        render::bytes(r.copied_bytes),
        r.skipped_blobs
    ));
    if !r.signatures.is_empty() {
        ctx.say(format!("  signatures  {}", r.signatures.join(", ")));
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn save(
    ctx: &Ctx,
    references: &[String],
    output: &Path,
) -> Result<ExitCode, ClientError> {
    let request = SaveRequest {
        references: references.to_vec(),
        output: absolute(output)?,
    };
    let (r, answer): (SaveResponse, _) = ctx.post(SAVE_ROUTE, &request).await?;
    if ctx.cli.json {
        ctx.print_json(&answer);
    } else {
        ctx.say(format!(
            "saved {} ({} blob(s), {}) to {}",
            r.references.join(", "),
            r.blobs,
            render::bytes(r.bytes),
            r.output.display()
        ));
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn load(ctx: &Ctx, input: &Path) -> Result<ExitCode, ClientError> {
    let request = LoadRequest {
        input: absolute(input)?,
    };
    let (r, answer): (LoadResponse, _) = ctx.post(LOAD_ROUTE, &request).await?;
    if ctx.cli.json {
        ctx.print_json(&answer);
    } else {
        for reference in &r.references {
            ctx.say(format!("loaded {reference}"));
        }
        ctx.say(format!("{} new blob(s) in the store", r.blobs));
    }
    Ok(ExitCode::SUCCESS)
}
