//! `skillc build GIT_URL --all` of a 20-skill repository on a loopback git
//! server (git's `git http-backend`), beside its floor in the same run:
//! `git clone --depth 1` of the same URL, then `skillc build` of each
//! skill folder. Rounds alternate the order; the figure is the median of
//! the per-round ratios.
//!
//! Run (release binaries, which the bench refuses to run without):
//!   cargo build --release --workspace && cargo bench -p skilld-tests --bench build_git

use skilld_tests::helper::Home;
use skilld_tests::helper::bench::{median, timed};
use skilld_tests::helper::git::{self, GitServer};

const SKILLS: usize = 20;
const ROUNDS: usize = 9;

fn main() {
    // 20 skills of 12 files (about 40 KiB each), as real skill folders:
    // SKILL.md, scripts, references.
    let work = tempfile::tempdir().unwrap();
    for i in 0..SKILLS {
        let dir = work.path().join(format!("skills/skill-{i:02}"));
        skilld_tests::helper::generate::skill(&dir, &format!("skill-{i:02}"), 12, 40 << 10);
    }
    std::fs::write(work.path().join("README.md"), "# twenty skills\n").unwrap();
    git::git_in(work.path(), &["init", "-q", "-b", "main"]);
    git::git_in(work.path(), &["add", "-A"]);
    git::git_in(work.path(), &["commit", "-q", "-m", "twenty skills"]);
    let server = GitServer::start();
    server.publish("skills.git", work.path());
    let url = server.url("skills.git");

    let home = Home::new();
    let _daemon = home.start_daemon();
    // Warm both paths once (the daemon's first build, git's first clone).
    home.skillc(&["-q", "build", &url, "--all"]).expect_code(0);

    let ours = || timed(home.command("skillc").args(["-q", "build", &url, "--all"]));
    let floor = || {
        let clone = tempfile::tempdir().unwrap();
        let dest = clone.path().join("c");
        let start = std::time::Instant::now();
        git::git_in(clone.path(), &["clone", "-q", "--depth", "1", &url, "c"]);
        for i in 0..SKILLS {
            let dir = dest.join(format!("skills/skill-{i:02}"));
            let mut cmd = home.command("skillc");
            cmd.arg("-q").arg("build").arg(&dir);
            assert_eq!(cmd.status().unwrap().code(), Some(0));
        }
        start.elapsed().as_secs_f64()
    };
    let mut ratios = Vec::new();
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let (x, y) = if round % 2 == 0 {
            let x = ours();
            (x, floor())
        } else {
            let y = floor();
            (ours(), y)
        };
        ratios.push(x / y);
        a.push(x);
        b.push(y);
    }
    let ratio = median(ratios.clone());
    println!("| measure | value | beside | target |");
    println!("|---|---|---|---|");
    println!(
        "| `skillc build GIT_URL --all`, {SKILLS} skills (loopback git server) | **{:.0} ms** | `git clone --depth 1` + `skillc build` of each folder: {:.0} ms; median of per-round ratios **{ratio:.2}x** (rounds: {}) | within 1.2x: {} |",
        median(a) * 1e3,
        median(b) * 1e3,
        ratios
            .iter()
            .map(|r| format!("{r:.2}"))
            .collect::<Vec<_>>()
            .join(", "),
        if ratio <= 1.2 { "met" } else { "**not met**" }
    );
}
