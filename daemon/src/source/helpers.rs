//! Git's configured credential helpers (`credential.helper`, for the URL
//! asked about), run as git runs them: each in turn is sent the request
//! on its stdin and answers on its stdout, until one gives a username and
//! a password; a helper that fails is passed over, and one that exits
//! without reading its request (`!f() { echo username=…; echo
//! password=…; }; f`, the form CI documentation gives) is heard, not
//! refused. Git ignores a closed stdin (`SIGPIPE` set aside while it
//! writes); gitoxide's own cascade fails the fetch with "Broken pipe"
//! when such a helper exits first, so skilld runs the programs itself,
//! still from gitoxide's reading of the configuration and with its
//! command lines.
//!
//! Nothing is prompted for (a daemon has no terminal) and a helper's
//! stderr is not kept (it might print what it was sent). Unlike git, which
//! waits for ever, a helper that has not answered within a minute is
//! ended with everything it started (its own process group) and passed
//! over like one that failed: a hung helper must not hang a build.

use std::io::{ErrorKind, Read, Write};
use std::os::unix::process::CommandExt;
use std::process::Stdio;
use std::time::Duration;

use gix::credentials::Program;
use gix::credentials::helper::{Action, Outcome};
use gix::credentials::protocol::{self, Context};

/// What `set_credentials` takes: each action answered by the helpers git
/// would ask for the action's URL.
pub type Answer = gix::Result<Option<protocol::Outcome>>;

/// How long a helper may take to answer: long enough for one that opens
/// a browser to sign in.
const ANSWER_WITHIN: Duration = Duration::from_secs(60);

/// The helpers configured in `repo` for each `Get`'s URL; a `Store` or
/// `Erase` after it goes to the same helpers.
pub fn configured(repo: gix::Repository) -> impl FnMut(Action) -> Answer {
    let mut last: Option<Helpers> = None;
    move |action| {
        if let Action::Get(context) = &action {
            let url = context
                .url
                .clone()
                .or_else(|| context.to_url())
                .ok_or_else(|| gix::error::Message::new("a credential request without a URL"))?;
            let url = gix::url::parse(url.as_slice())?;
            let (cascade, _, _) = repo.config_snapshot().credential_helpers(url)?;
            last = Some(Helpers {
                programs: cascade.programs,
                use_http_path: cascade.use_http_path,
                options: cascade.context_options,
                within: ANSWER_WITHIN,
            });
        }
        match last.as_ref() {
            Some(helpers) => helpers.ask(action),
            None => Ok(None),
        }
    }
}

/// The helpers for one URL, in the order git asks them.
struct Helpers {
    programs: Vec<Program>,
    use_http_path: bool,
    options: protocol::ContextOptions,
    /// How long each may take to answer.
    within: Duration,
}

impl Helpers {
    fn ask(&self, mut action: Action) -> Answer {
        let Some(context) = action.context_mut() else {
            // Store and erase: every helper is told, and nothing it says
            // or fails with stops the fetch.
            for program in &self.programs {
                let _ = run(program, &action, self.within);
            }
            return Ok(None);
        };
        context.options = self.options;
        context.destructure_url_in_place(self.use_http_path)?;
        // Git sends the parts, not the URL, and announces only what it
        // understands in an answer: a username and password here, not
        // another `authtype` (the handshake's request offers one).
        context.url = None;
        context.capability.clear();
        let asked = context.clone();
        let mut merged = context.clone();
        for program in &self.programs {
            let request = Action::Get(asked_with(&asked, &merged));
            let Ok(Some(said)) = run(program, &request, self.within) else {
                continue;
            };
            let Ok(said) = Context::from_bytes(&said, self.options) else {
                continue;
            };
            merged.username = said.username.or(merged.username.take());
            merged.password = said.password.or(merged.password.take());
            if said.quit == Some(true) {
                return Err(gix::error::Message::new(
                    "a credential helper asked to stop trying to obtain credentials",
                )
                .into());
            }
            if merged.username.is_some() && merged.password.is_some() {
                break;
            }
        }
        if merged.username.is_none() || merged.password.is_none() {
            // As gitoxide says it: which credentials were missing.
            return protocol::helper_outcome_to_result(None, action);
        }
        let outcome = Outcome {
            username: merged.username.clone(),
            password: merged.password.clone(),
            authtype: None,
            credential: None,
            oauth_refresh_token: None,
            quit: false,
            next: merged.into(),
        };
        protocol::helper_outcome_to_result(Some(outcome), action)
    }
}

/// The request sent to the next helper: what was asked, with what earlier
/// helpers answered (git sends the username found so far).
fn asked_with(asked: &Context, merged: &Context) -> Context {
    let mut next = asked.clone();
    next.username = merged.username.clone();
    next.password = merged.password.clone();
    next
}

/// One helper run with `action`: its stdout for a `Get` (None when it
/// failed), nothing for the others. A helper that exits before reading
/// its request is not an error; one that has not answered `within` is
/// ended, with what it started, and is an error.
fn run(program: &Program, action: &Action, within: Duration) -> std::io::Result<Option<Vec<u8>>> {
    let mut command = program
        .to_command(action)
        .map_err(|e| std::io::Error::new(ErrorKind::InvalidInput, e.to_string()))?;
    command.stderr(Stdio::null());
    // Its own process group: a helper given up on is ended with what it
    // started (the shell of a `!` helper, and that shell's children).
    command.process_group(0);
    let mut request = Vec::new();
    match action {
        Action::Get(context) => context.write_to(&mut request)?,
        Action::Store(payload) | Action::Erase(payload) => {
            request.extend_from_slice(payload);
            request.push(b'\n');
        }
    }
    let mut child = command.spawn()?;
    let group = rustix::process::Pid::from_child(&child);
    let (mut stdin, stdout) = (child.stdin.take(), child.stdout.take());
    // Writing and reading on a thread of their own: either may block on a
    // helper that neither reads nor answers.
    let (done, talked) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let sent = stdin.as_mut().map_or(Ok(()), |s| s.write_all(&request));
        drop(stdin);
        let mut said = Vec::new();
        let read = stdout.map_or(Ok(0), |mut s| s.read_to_end(&mut said));
        let _ = done.send((sent, read.map(|_| said)));
    });
    let (sent, said) = match talked.recv_timeout(within) {
        Ok(talked) => talked,
        Err(_) => {
            let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
            let _ = child.wait();
            return Err(std::io::Error::new(
                ErrorKind::TimedOut,
                format!("the credential helper did not answer within {within:?}"),
            ));
        }
    };
    if let Err(e) = sent
        && e.kind() != ErrorKind::BrokenPipe
    {
        let _ = child.kill();
        let _ = child.wait();
        return Err(e);
    }
    let said = said?;
    let status = child.wait()?;
    Ok((status.success() && action.expects_output()).then_some(said))
}

#[cfg(test)]
mod tests {
    use super::*;
    use gix::sec::identity::Credentials;

    fn helpers(definitions: &[&str]) -> Helpers {
        Helpers {
            programs: definitions
                .iter()
                .map(|d| Program::from_custom_definition(*d).unwrap())
                .collect(),
            use_http_path: true,
            options: protocol::ContextOptions::default(),
            within: ANSWER_WITHIN,
        }
    }

    /// The handshake's request, made larger than a pipe holds so that the
    /// write is still going on when a helper that never reads it exits:
    /// the race CI lost with a short request is certain here (gitoxide's
    /// cascade fails this one with "Broken pipe").
    fn long_request() -> Action {
        let path = "a/".repeat(64 * 1024);
        let mut action = Action::get_for_url(format!("https://git.example/{path}team.git"));
        if let Some(context) = action.context_mut() {
            context.capability = vec![protocol::Capability::Authtype];
        }
        action
    }

    fn login(answer: Answer) -> (String, String) {
        match answer
            .expect("credentials")
            .expect("an outcome")
            .credentials
        {
            Credentials::UsernamePassword {
                username, password, ..
            } => (username, password),
            other => panic!("a username and password, not {other:?}"),
        }
    }

    #[test]
    fn a_helper_that_answers_without_reading_its_request_is_heard() {
        let said =
            helpers(&["!f() { echo username=ci; echo password=token; }; f"]).ask(long_request());
        assert_eq!(login(said), ("ci".into(), "token".into()));
    }

    #[test]
    fn a_failing_helper_is_passed_over_and_the_next_answers() {
        let said = helpers(&[
            "!f() { cat >/dev/null; exit 3; }; f",
            "!f() { cat >/dev/null; echo username=second; }; f",
            "!f() { cat >/dev/null; echo password=third; }; f",
            "!f() { echo password=never-asked; }; f",
        ])
        .ask(long_request());
        assert_eq!(login(said), ("second".into(), "third".into()));
    }

    #[test]
    fn the_helper_is_sent_the_parts_of_the_url_and_the_action() {
        let dir = tempfile::tempdir().unwrap();
        let seen = dir.path().join("seen");
        let script = format!(
            "!f() {{ echo \"$1\" > {0}; cat >> {0}; echo username=u; echo password=p; }}; f",
            seen.display()
        );
        let mut action = Action::get_for_url("https://git.example/o/r.git");
        if let Some(context) = action.context_mut() {
            context.capability = vec![protocol::Capability::Authtype];
        }
        login(helpers(&[&script]).ask(action));
        let seen = std::fs::read_to_string(&seen).unwrap();
        let mut lines: Vec<&str> = seen.lines().filter(|l| !l.is_empty()).collect();
        lines[1..].sort_unstable();
        assert_eq!(
            lines,
            ["get", "host=git.example", "path=o/r.git", "protocol=https"],
            "{seen}"
        );
    }

    #[test]
    fn no_answer_or_a_quit_is_an_error_naming_no_secret() {
        let none = helpers(&["!f() { cat >/dev/null; }; f"]).ask(long_request());
        assert!(none.is_err());
        let quit = helpers(&["!f() { echo quit=1; }; f", "!f() { echo password=x; }; f"])
            .ask(long_request());
        let message = format!("{:#}", quit.unwrap_err());
        assert!(message.contains("stop"), "{message}");
    }

    /// A helper that never answers (nor reads) is ended, with the process
    /// it started, once its time is up, and the next one is asked.
    #[test]
    fn a_helper_that_hangs_is_ended_and_passed_over() {
        let dir = tempfile::tempdir().unwrap();
        let pid = dir.path().join("pid");
        let hangs = format!(
            "!f() {{ sleep 300 & echo $! > {}; wait; }}; f",
            pid.display()
        );
        let mut asked = helpers(&[&hangs, "!f() { echo username=next; echo password=p; }; f"]);
        asked.within = Duration::from_secs(1);
        let started = std::time::Instant::now();
        let said = asked.ask(long_request());
        assert_eq!(login(said), ("next".into(), "p".into()));
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{:?}",
            started.elapsed()
        );
        // The sleep the helper started is gone too (or a zombie not yet
        // reaped: killed either way).
        let sleep = std::fs::read_to_string(&pid).unwrap();
        let stat = format!("/proc/{}/stat", sleep.trim());
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let state = std::fs::read_to_string(&stat).ok().and_then(|s| {
                s.rsplit(')')
                    .next()?
                    .split_whitespace()
                    .next()
                    .map(str::to_string)
            });
            if state.as_deref().is_none_or(|s| s == "Z" || s == "X") {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the helper's sleep still runs: {state:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
