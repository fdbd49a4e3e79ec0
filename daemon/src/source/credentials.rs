//! Credentials for a git host, from the files `git credential-store`
//! keeps (`~/.git-credentials`, then `$XDG_CONFIG_HOME/git/credentials`),
//! read here rather than by running `git`. Other helpers configured in
//! git's config (`credential.helper`: libsecret, osxkeychain, a token
//! program) are asked after these, by the git library, as git asks them.
//! Nothing read here is ever logged.

use std::path::{Path, PathBuf};

/// A user and password (or token) for one request.
#[derive(Clone, PartialEq, Eq)]
pub struct Login {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// What a request needs credentials for.
#[derive(Debug, Clone, Default)]
pub struct Asked<'a> {
    pub protocol: &'a str,
    /// `host` or `host:port`.
    pub host: &'a str,
    pub path: &'a str,
    pub username: Option<&'a str>,
}

/// The credential-store files, in the order git reads them.
pub fn store_files(home: &Path, xdg_config: Option<&Path>) -> Vec<PathBuf> {
    let xdg = xdg_config
        .map(Path::to_path_buf)
        .unwrap_or_else(|| home.join(".config"));
    vec![home.join(".git-credentials"), xdg.join("git/credentials")]
}

/// The first entry of `files` that matches `asked`, as
/// git-credential-store matches: same protocol and host, the entry's path
/// (when it has one) the same, and its user the one asked for (when one
/// is).
pub fn lookup(files: &[PathBuf], asked: &Asked<'_>) -> Option<Login> {
    files
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .find_map(|text| text.lines().find_map(|line| matches(line, asked)))
}

fn matches(line: &str, asked: &Asked<'_>) -> Option<Login> {
    let line = line.trim();
    let (protocol, rest) = line.split_once("://")?;
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (userinfo, host) = authority.rsplit_once('@')?;
    let (user, password) = userinfo.split_once(':')?;
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8()
            .ok()
            .map(|s| s.into_owned())
    };
    let (user, password) = (decode(user)?, decode(password)?);
    let path = decode(path)?;
    let same = protocol.eq_ignore_ascii_case(asked.protocol)
        && host.eq_ignore_ascii_case(asked.host)
        && (path.is_empty() || path.trim_end_matches('/') == asked.path.trim_matches('/'))
        && asked.username.is_none_or(|u| u == user);
    same.then_some(Login {
        username: user,
        password,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_matching_entry_of_the_first_file_wins() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path();
        std::fs::write(
            home.join(".git-credentials"),
            "https://alice:tok%40en1@git.example.com\n\
             http://bot:t2@127.0.0.1:8080/team/skills\n\
             not a url\n",
        )
        .unwrap();
        std::fs::create_dir_all(home.join(".config/git")).unwrap();
        std::fs::write(
            home.join(".config/git/credentials"),
            "https://carol:t3@other.example.com\nhttps://dave:t4@git.example.com\n",
        )
        .unwrap();
        let files = store_files(home, None);
        let ask = |protocol, host, path, username| {
            lookup(
                &files,
                &Asked {
                    protocol,
                    host,
                    path,
                    username,
                },
            )
            .map(|l| (l.username, l.password))
        };
        let own = |u: &str, p: &str| Some((u.to_string(), p.to_string()));
        assert_eq!(
            ask("https", "git.example.com", "a/b", None),
            own("alice", "tok@en1")
        );
        assert_eq!(
            ask("https", "git.example.com", "a/b", Some("dave")),
            own("dave", "t4"),
            "a user asked for is matched"
        );
        assert_eq!(
            ask("https", "other.example.com", "x", None),
            own("carol", "t3")
        );
        assert_eq!(
            ask("http", "127.0.0.1:8080", "/team/skills", None),
            own("bot", "t2")
        );
        assert_eq!(
            ask("http", "127.0.0.1:8080", "/team/other", None),
            None,
            "path differs"
        );
        assert_eq!(
            ask("http", "127.0.0.1", "/team/skills", None),
            None,
            "port differs"
        );
        assert_eq!(
            ask("https", "127.0.0.1:8080", "/team/skills", None),
            None,
            "protocol"
        );
        let login = lookup(
            &files,
            &Asked {
                protocol: "https",
                host: "git.example.com",
                ..Default::default()
            },
        )
        .unwrap();
        assert!(!format!("{login:?}").contains("tok"), "never printed");
    }
}
