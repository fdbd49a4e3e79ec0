//! `skillc keygen`, `sign` and `verify`.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use skilld_proto::trust::{
    KEYGEN_ROUTE, KeygenRequest, KeygenResponse, SIGN_ROUTE, SignRequest, SignResponse,
    VERIFY_ROUTE, VerifyRequest, VerifyResponse,
};

use crate::ctx::Ctx;
use crate::error::ClientError;

fn absolute(path: &Path) -> Result<PathBuf, ClientError> {
    std::path::absolute(path)
        .map_err(|e| ClientError::Other(format!("cannot resolve {}: {e}", path.display())))
}

/// COSIGN_PASSWORD, else a prompt (twice when `confirm`).
fn password(confirm: bool) -> Result<String, ClientError> {
    if let Ok(p) = std::env::var("COSIGN_PASSWORD") {
        return Ok(p);
    }
    if !std::io::stdin().is_terminal() {
        return Err(ClientError::Other(
            "set COSIGN_PASSWORD: standard input is not a terminal to ask on".into(),
        ));
    }
    let first = rpassword::prompt_password("Password for the private key: ")
        .map_err(|e| ClientError::Other(e.to_string()))?;
    if confirm {
        let again =
            rpassword::prompt_password("Again: ").map_err(|e| ClientError::Other(e.to_string()))?;
        if again != first {
            return Err(ClientError::Other("the passwords differ".into()));
        }
    }
    Ok(first)
}

pub async fn keygen(ctx: &Ctx, prefix: &Path) -> Result<ExitCode, ClientError> {
    let request = KeygenRequest {
        prefix: absolute(prefix)?,
        password: password(true)?,
    };
    let (r, answer): (KeygenResponse, _) = ctx.post(KEYGEN_ROUTE, &request).await?;
    if ctx.cli.json {
        ctx.print_json(&answer);
    } else {
        ctx.say(format!(
            "wrote {} (keep it secret) and {}",
            r.private_key.display(),
            r.public_key.display()
        ));
        ctx.say(format!("fingerprint {}", r.fingerprint));
    }
    Ok(ExitCode::SUCCESS)
}

/// Sign `reference` with `key`; the daemon's answer, parsed and as sent.
pub async fn sign_request(
    ctx: &Ctx,
    reference: &str,
    key: &Path,
    annotations: &[String],
) -> Result<(SignResponse, crate::conn::Answer), ClientError> {
    let mut claims = BTreeMap::new();
    for a in annotations {
        let (k, v) = a
            .split_once('=')
            .ok_or_else(|| ClientError::Other(format!("annotation {a:?} is not KEY=VALUE")))?;
        claims.insert(k.to_string(), v.to_string());
    }
    let request = SignRequest {
        reference: reference.into(),
        key: absolute(key)?,
        password: password(false)?,
        annotations: claims,
    };
    ctx.post(SIGN_ROUTE, &request).await
}

/// The lines `sign` prints.
pub fn say_signed(ctx: &Ctx, r: &SignResponse) {
    ctx.say(format!("signed {} ({})", r.reference, r.digest));
    ctx.say(format!("  key         {}", r.fingerprint));
    ctx.say(format!(
        "  signatures  {} in {}",
        r.signatures, r.signature_tag
    ));
}

pub async fn sign(
    ctx: &Ctx,
    reference: &str,
    key: &Path,
    annotations: &[String],
) -> Result<ExitCode, ClientError> {
    let (r, answer) = sign_request(ctx, reference, key, annotations).await?;
    if ctx.cli.json {
        ctx.print_json(&answer);
    } else {
        say_signed(ctx, &r);
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn verify(
    ctx: &Ctx,
    reference: &str,
    keys: &[PathBuf],
    local: bool,
) -> Result<ExitCode, ClientError> {
    let request = VerifyRequest {
        reference: reference.into(),
        keys: keys.iter().map(|k| absolute(k)).collect::<Result<_, _>>()?,
        local,
    };
    let (r, answer): (VerifyResponse, _) = ctx.post(VERIFY_ROUTE, &request).await?;
    if ctx.cli.json {
        ctx.print_json(&answer);
    } else {
        if r.signatures.is_empty() {
            eprintln!("{} ({}) has no signatures", r.reference, r.digest);
        }
        for s in &r.signatures {
            if s.verified {
                let claims = if s.annotations.is_empty() {
                    String::new()
                } else {
                    format!(
                        " {}",
                        serde_json::Value::from(
                            s.annotations
                                .clone()
                                .into_iter()
                                .collect::<serde_json::Map<_, _>>()
                        )
                    )
                };
                ctx.say(format!(
                    "verified: signed by {}{claims}",
                    s.fingerprint.as_deref().unwrap_or("-")
                ));
            } else {
                eprintln!("not verified: {}", s.reason.as_deref().unwrap_or("unknown"));
            }
        }
    }
    Ok(if r.verified {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
