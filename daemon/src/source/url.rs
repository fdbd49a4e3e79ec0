//! Git URLs as users type them. Accepted: `https://`, `http://`,
//! `ssh://`, `git://` and `file://` URLs, scp-like `[user@]host:path`, and
//! `OWNER/REPO` as shorthand for `https://github.com/OWNER/REPO`. Refused:
//! git's `ext::` and `fd::` transports (they run commands) and anything
//! that starts with `-` (it would reach `ssh` as an option).

use super::SourceError;

/// A git URL: the form to fetch from (it may carry a user and token) and
/// the form to show and record (never any password or token).
#[derive(Clone, PartialEq, Eq)]
pub struct GitUrl {
    fetch: String,
    shown: String,
}

impl std::fmt::Debug for GitUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("GitUrl").field(&self.shown).finish()
    }
}

impl std::fmt::Display for GitUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown)
    }
}

const SCHEMES: &[&str] = &["https", "http", "ssh", "git", "file"];

impl GitUrl {
    /// Parse what a user typed.
    pub fn parse(input: &str) -> Result<GitUrl, SourceError> {
        let text = input.trim();
        let bad = |why: &str| SourceError::Url {
            input: input.to_string(),
            why: why.to_string(),
        };
        if text.is_empty() {
            return Err(bad("it is empty"));
        }
        if text.starts_with('-') {
            return Err(bad("it starts with `-`"));
        }
        if text.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(bad("it holds spaces or control characters"));
        }
        if text.contains("::") && !text.contains("://") {
            return Err(bad(
                "remote helpers (`ext::`, `fd::`, …) are not allowed; use https, ssh or file",
            ));
        }
        if let Some((scheme, rest)) = text.split_once("://") {
            let scheme = scheme.to_ascii_lowercase();
            if !SCHEMES.contains(&scheme.as_str()) {
                return Err(bad(&format!(
                    "the scheme {scheme:?} is not one of https, http, ssh, git, file"
                )));
            }
            if rest.is_empty() || (scheme != "file" && rest.starts_with('/')) {
                return Err(bad("it names no host"));
            }
            let url =
                gix::url::parse(gix::bstr::BStr::new(text)).map_err(|e| bad(&e.to_string()))?;
            if scheme == "http"
                && url.password().is_some()
                && !super::fetch::may_send_credentials("http", url.host().unwrap_or(""))
            {
                return Err(bad(
                    "it holds a password for plain http to another machine; use https",
                ));
            }
            let mut shown = url.clone();
            if matches!(scheme.as_str(), "https" | "http") {
                // A user in an http(s) URL is usually a token's name, and
                // the token may follow: neither is recorded.
                shown.set_user(None);
            }
            shown.set_password(None);
            return Ok(GitUrl {
                fetch: text.to_string(),
                shown: shown.to_bstring().to_string(),
            });
        }
        if let Some((host, path)) = text.split_once(':')
            && !host.contains('/')
            && !path.is_empty()
        {
            // scp-like: [user@]host:path, always ssh.
            let url =
                gix::url::parse(gix::bstr::BStr::new(text)).map_err(|e| bad(&e.to_string()))?;
            if url.scheme != gix::url::Scheme::Ssh {
                return Err(bad("it is neither a URL nor user@host:path"));
            }
            return Ok(GitUrl {
                fetch: text.to_string(),
                shown: text.to_string(),
            });
        }
        let segments: Vec<&str> = text.trim_end_matches('/').split('/').collect();
        let name_like = |s: &str| {
            !s.is_empty()
                && !s.starts_with('.')
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        if segments.len() == 2 && segments.iter().all(|s| name_like(s)) {
            let url = format!("https://github.com/{}/{}", segments[0], segments[1]);
            return Ok(GitUrl {
                fetch: url.clone(),
                shown: url,
            });
        }
        Err(bad(
            "use https://HOST/OWNER/REPO, ssh://HOST/PATH, user@HOST:PATH, file:///PATH, or OWNER/REPO for GitHub",
        ))
    }

    /// The URL to fetch from, credentials included: never log it.
    pub fn for_fetch(&self) -> &str {
        &self.fetch
    }

    /// The URL without credentials, for messages and provenance.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// `text` with the fetch URL (which may hold a token) replaced by the
    /// shown one: for errors from the git library, which may quote it.
    pub fn redact(&self, text: &str) -> String {
        if self.fetch == self.shown {
            text.to_string()
        } else {
            text.replace(&self.fetch, &self.shown)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_forms_and_what_is_shown() {
        for (input, fetch, shown) in [
            (
                "https://github.com/acme/skills",
                "https://github.com/acme/skills",
                "https://github.com/acme/skills",
            ),
            (
                "https://bot:ghp_secret@git.example.com/acme/skills.git",
                "https://bot:ghp_secret@git.example.com/acme/skills.git",
                "https://git.example.com/acme/skills.git",
            ),
            (
                "http://127.0.0.1:8080/skills",
                "http://127.0.0.1:8080/skills",
                "http://127.0.0.1:8080/skills",
            ),
            (
                "ssh://git@example.com:2222/acme/skills.git",
                "ssh://git@example.com:2222/acme/skills.git",
                "ssh://git@example.com:2222/acme/skills.git",
            ),
            (
                "git@github.com:acme/skills.git",
                "git@github.com:acme/skills.git",
                "git@github.com:acme/skills.git",
            ),
            (
                "file:///srv/git/skills",
                "file:///srv/git/skills",
                "file:///srv/git/skills",
            ),
            (
                "acme/skills",
                "https://github.com/acme/skills",
                "https://github.com/acme/skills",
            ),
        ] {
            let url = GitUrl::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(url.for_fetch(), fetch, "{input}");
            assert_eq!(url.shown(), shown, "{input}");
            assert!(!format!("{url:?} {url}").contains("secret"));
        }
    }

    #[test]
    fn refused_forms_say_why() {
        for (input, why) in [
            ("", "empty"),
            ("-oProxyCommand=touch /tmp/x", "starts with `-`"),
            ("ext::sh -c touch% /tmp/pwned", "spaces"),
            ("ext::sh", "remote helpers"),
            ("fd::3", "remote helpers"),
            ("ftp://example.com/x", "scheme \"ftp\""),
            ("https:///nohost", "no host"),
            ("just-a-word", "OWNER/REPO"),
            ("a/b/c", "OWNER/REPO"),
            ("http://u:p@git.example.com/r", "use https"),
            ("../x", "OWNER/REPO"),
        ] {
            let e = GitUrl::parse(input).expect_err(input).to_string();
            assert!(e.contains(why), "{input}: {e}");
        }
    }

    #[test]
    fn redaction_replaces_the_url_with_its_token() {
        let url = GitUrl::parse("https://bot:tok3n@example.com/r").unwrap();
        let message = url.redact("failed to fetch https://bot:tok3n@example.com/r: 401");
        assert_eq!(message, "failed to fetch https://example.com/r: 401");
    }
}
