//! A git server on a loopback port: git's own `git http-backend` (the CGI
//! program behind every smart-HTTP git host) behind a small HTTP/1.1 server,
//! optionally asking for a token with HTTP basic auth, and a log of what
//! was asked. Plus a few `git` commands to make the repositories it serves.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine as _;

use super::tools::require;

/// The user and token of [`GitServer::start_with_token`].
pub const USER: &str = "builder";
pub const TOKEN: &str = "s3cret-git-token";

/// One request the server answered: method, path and query, status.
#[derive(Debug, Clone)]
pub struct Asked {
    pub method: String,
    pub target: String,
    pub status: u16,
    pub authorization: Option<String>,
}

/// A running git server over the repositories under its root; stopped
/// when dropped.
pub struct GitServer {
    pub root: tempfile::TempDir,
    addr: String,
    log: Arc<Mutex<Vec<Asked>>>,
    stop: Arc<AtomicBool>,
    tls: Option<Tls>,
}

/// TLS in front of the server: `socat` on its own loopback port with a
/// certificate from a throwaway CA.
struct Tls {
    socat: std::process::Child,
    addr: String,
    certificates: tempfile::TempDir,
}

impl GitServer {
    /// Serve the repositories under a new root, without authentication.
    pub fn start() -> GitServer {
        GitServer::serve(None)
    }

    /// Serve, answering 401 unless the request carries [`USER`]:[`TOKEN`].
    pub fn start_with_token() -> GitServer {
        GitServer::serve(Some(format!("{USER}:{TOKEN}")))
    }

    fn serve(credentials: Option<String>) -> GitServer {
        let git = require("git", "git");
        let root = tempfile::tempdir().expect("git root");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let addr = listener.local_addr().unwrap().to_string();
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let expected = credentials.map(|c| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(c)
            )
        });
        {
            let (log, stop, project) =
                (Arc::clone(&log), Arc::clone(&stop), root.path().to_owned());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::Acquire) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let (log, git, project, expected) = (
                        Arc::clone(&log),
                        git.clone(),
                        project.clone(),
                        expected.clone(),
                    );
                    std::thread::spawn(move || {
                        let _ = answer(stream, &git, &project, expected.as_deref(), &log);
                    });
                }
            });
        }
        GitServer {
            root,
            addr,
            log,
            stop,
            tls: None,
        }
    }

    /// Serve over https only (the plain port stays for the server's own
    /// use): `socat` terminates TLS with a certificate signed by a new CA,
    /// whose certificate [`GitServer::ca_cert`] gives.
    pub fn start_tls() -> GitServer {
        let socat = require("socat", "socat");
        let mut server = GitServer::serve(None);
        let certificates = tempfile::tempdir().expect("certificate folder");
        super::registry::make_certificates(certificates.path());
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let at = |name: &str| certificates.path().join(name).display().to_string();
        let child = Command::new(socat)
            .arg(format!(
                "OPENSSL-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork,cert={},key={},verify=0",
                at("server.crt"),
                at("server.key")
            ))
            .arg(format!("TCP:{}", server.addr))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start socat");
        let addr = format!("127.0.0.1:{port}");
        super::wait_until(
            "socat to listen",
            std::time::Duration::from_secs(10),
            || TcpStream::connect(&addr).is_ok(),
        );
        server.tls = Some(Tls {
            socat: child,
            addr,
            certificates,
        });
        server
    }

    /// The CA certificate of [`GitServer::start_tls`].
    pub fn ca_cert(&self) -> Option<PathBuf> {
        self.tls
            .as_ref()
            .map(|t| t.certificates.path().join("ca.crt"))
    }

    /// `http://127.0.0.1:PORT/NAME` for the repository `NAME` under the root
    /// (`https://` with TLS).
    pub fn url(&self, name: &str) -> String {
        match &self.tls {
            Some(tls) => format!("https://{}/{name}", tls.addr),
            None => format!("http://{}/{name}", self.addr),
        }
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Everything asked so far.
    pub fn asked(&self) -> Vec<Asked> {
        self.log.lock().unwrap().clone()
    }

    /// A new bare repository `NAME` under the root holding what
    /// `work` (a repository with commits) has, every branch and tag.
    pub fn publish(&self, name: &str, work: &Path) -> PathBuf {
        let bare = self.root.path().join(name);
        git_in(
            work,
            &["clone", "-q", "--bare", ".", bare.to_str().unwrap()],
        );
        // Fetching a commit by id (`--ref SHA`), as GitHub allows.
        git_in(&bare, &["config", "uploadpack.allowAnySHA1InWant", "true"]);
        bare
    }

    /// Update `NAME` from `work` again (after more commits or tags).
    pub fn republish(&self, name: &str, work: &Path) {
        let bare = self.root.path().join(name);
        git_in(
            work,
            &[
                "push",
                "-q",
                "--force",
                "--tags",
                bare.to_str().unwrap(),
                "HEAD:refs/heads/main",
            ],
        );
    }
}

impl Drop for GitServer {
    fn drop(&mut self) {
        if let Some(tls) = self.tls.as_mut() {
            let _ = tls.socat.kill();
            let _ = tls.socat.wait();
        }
        self.stop.store(true, Ordering::Release);
        let _ = TcpStream::connect(&self.addr);
    }
}

/// Run `git ARGS` in `dir` with a fixed identity and dates unless the
/// caller's environment sets them; panics with git's output on failure.
pub fn git_in(dir: &Path, args: &[&str]) -> String {
    let mut git = Command::new(require("git", "git"));
    git.args(args);
    run_in(dir, &mut git, &format!("git {args:?}"))
}

/// Run the shell `script` in `dir` with the same identity and dates as
/// [`git_in`] (for git plumbing fed through pipes); its output.
pub fn script_in(dir: &Path, script: &str) -> String {
    let mut sh = Command::new("sh");
    sh.args(["-c", script]);
    run_in(dir, &mut sh, script)
}

fn run_in(dir: &Path, cmd: &mut Command, what: &str) -> String {
    let out = cmd
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Ada")
        .env("GIT_AUTHOR_EMAIL", "ada@example.com")
        .env("GIT_COMMITTER_NAME", "Ada")
        .env("GIT_COMMITTER_EMAIL", "ada@example.com")
        .env("GIT_AUTHOR_DATE", "2026-05-01T10:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-05-01T10:00:00Z")
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "{what} in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A new work repository on `main` holding `files` (path, content) in one
/// commit; returns its folder.
pub fn work_repository(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git_in(dir.path(), &["init", "-q", "-b", "main"]);
    commit_files(dir.path(), files, "first");
    dir
}

/// Write `files` into the work repository and commit them.
pub fn commit_files(work: &Path, files: &[(&str, &str)], message: &str) -> String {
    for (path, content) in files {
        let path = work.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    git_in(work, &["add", "-A"]);
    git_in(work, &["commit", "-q", "-m", message]);
    git_in(work, &["rev-parse", "HEAD"])
}

fn answer(
    stream: TcpStream,
    git: &Path,
    project: &Path,
    expected: Option<&str>,
    log: &Mutex<Vec<Asked>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("").to_string();
        let target = parts.next().unwrap_or("").to_string();
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            reader.read_line(&mut h)?;
            let h = h.trim_end().to_string();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
        }
        let header = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let body = if header("transfer-encoding").is_some_and(|t| t.contains("chunked")) {
            read_chunked(&mut reader)?
        } else {
            let n: usize = header("content-length")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let mut body = vec![0; n];
            reader.read_exact(&mut body)?;
            body
        };
        let authorization = header("authorization");
        let record = |status: u16| {
            log.lock().unwrap().push(Asked {
                method: method.clone(),
                target: target.clone(),
                status,
                authorization: authorization.clone(),
            })
        };
        if let Some(expected) = expected
            && authorization.as_deref() != Some(expected)
        {
            record(401);
            writer.write_all(
                b"HTTP/1.1 401 Unauthorized\r\nwww-authenticate: Basic realm=\"git\"\r\ncontent-length: 0\r\n\r\n",
            )?;
            continue;
        }
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        let mut cgi = Command::new(git);
        cgi.arg("http-backend")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("GIT_PROJECT_ROOT", project)
            .env("GIT_HTTP_EXPORT_ALL", "1")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("REQUEST_METHOD", &method)
            .env("PATH_INFO", path)
            .env("QUERY_STRING", query)
            .env("CONTENT_LENGTH", body.len().to_string())
            .env("REMOTE_ADDR", "127.0.0.1")
            .env("REMOTE_USER", USER)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (name, var) in [
            ("content-type", "CONTENT_TYPE"),
            ("git-protocol", "GIT_PROTOCOL"),
            ("content-encoding", "HTTP_CONTENT_ENCODING"),
        ] {
            if let Some(v) = header(name) {
                cgi.env(var, v);
            }
        }
        let mut child = cgi.spawn()?;
        let mut stdin = child.stdin.take().unwrap();
        let feeder = std::thread::spawn(move || {
            let _ = stdin.write_all(&body);
        });
        let mut out = Vec::new();
        child.stdout.take().unwrap().read_to_end(&mut out)?;
        let _ = feeder.join();
        child.wait()?;
        // CGI: headers, a blank line, the body.
        let split = out
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map(|i| (i, 4))
            .or_else(|| out.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2)));
        let (head, body) = match split {
            Some((i, n)) => (
                String::from_utf8_lossy(&out[..i]).to_string(),
                &out[i + n..],
            ),
            None => (String::new(), &out[..]),
        };
        let mut status = 200u16;
        let mut response = Vec::new();
        let mut fields = String::new();
        for h in head.lines() {
            if let Some(s) = h.strip_prefix("Status:") {
                status = s.trim()[..3].parse().unwrap_or(500);
            } else if !h.trim().is_empty() {
                fields.push_str(h.trim());
                fields.push_str("\r\n");
            }
        }
        record(status);
        write!(
            response,
            "HTTP/1.1 {status} {}\r\n{fields}content-length: {}\r\n\r\n",
            if status == 200 { "OK" } else { "Error" },
            body.len()
        )?;
        response.extend_from_slice(body);
        writer.write_all(&response)?;
    }
}

fn read_chunked(reader: &mut impl BufRead) -> std::io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        reader.read_line(&mut size)?;
        let size = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        if size == 0 {
            // Trailers, then the blank line.
            loop {
                let mut line = String::new();
                reader.read_line(&mut line)?;
                if line.trim().is_empty() {
                    return Ok(body);
                }
            }
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..])?;
        let mut crlf = [0; 2];
        reader.read_exact(&mut crlf)?;
    }
}
