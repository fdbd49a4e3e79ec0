//! Project tasks. `cargo run -p xtask -- man` writes the man pages into
//! `docs/man/` from the same clap definitions the binaries parse: `skilld.1`,
//! and one page per skillc command and subcommand (`skillc.1`,
//! `skillc-install.1`, ...); a test checks the committed pages match the
//! code, so CI fails when they drift. `cargo run -p xtask -- agents` writes
//! the README's table of targets from `daemon/data/agents.yaml` (between its
//! `<!-- agents:begin -->` and `<!-- agents:end -->` lines), checked the
//! same way. `cargo run -p xtask -- openapi` writes `docs/openapi.json`
//! from the wire types and the route table (`skilld_proto::openapi`),
//! checked the same way.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::CommandFactory;

/// Where the pages live, from the workspace root.
const MAN_DIR: &str = "docs/man";

/// The OpenAPI document, from the workspace root.
const OPENAPI: &str = "docs/openapi.json";

/// The OpenAPI document as committed: pretty JSON and a final newline.
fn openapi_text() -> String {
    let mut text = serde_json::to_string_pretty(&skilld_proto::openapi::document())
        .expect("the document serializes");
    text.push('\n');
    text
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["man"] => match write_pages(&workspace().join(MAN_DIR)) {
            Ok(pages) => {
                println!("wrote {} man pages to {MAN_DIR}/", pages.len());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("xtask: cannot write the man pages: {e}");
                ExitCode::FAILURE
            }
        },
        ["agents"] => {
            let path = workspace().join("README.md");
            let result = std::fs::read_to_string(&path)
                .and_then(|text| with_agents_table(&text))
                .and_then(|text| std::fs::write(&path, text));
            match result {
                Ok(()) => {
                    println!("wrote the table of targets into README.md");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("xtask: cannot write README.md's table of targets: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        ["openapi"] => match std::fs::write(workspace().join(OPENAPI), openapi_text()) {
            Ok(()) => {
                println!("wrote {OPENAPI}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("xtask: cannot write {OPENAPI}: {e}");
                ExitCode::FAILURE
            }
        },
        _ => {
            eprintln!(
                "usage: cargo run -p xtask -- man      (write skillc's man pages to {MAN_DIR}/)\n       cargo run -p xtask -- agents   (write README.md's table of targets)\n       cargo run -p xtask -- openapi  (write {OPENAPI})"
            );
            ExitCode::from(2)
        }
    }
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

const AGENTS_BEGIN: &str = "<!-- agents:begin -->";
const AGENTS_END: &str = "<!-- agents:end -->";

/// `readme` with the table of targets between its markers made anew.
fn with_agents_table(readme: &str) -> std::io::Result<String> {
    let missing =
        || std::io::Error::other(format!("README.md lacks {AGENTS_BEGIN} … {AGENTS_END}"));
    let start = readme.find(AGENTS_BEGIN).ok_or_else(missing)? + AGENTS_BEGIN.len();
    let end = readme[start..].find(AGENTS_END).ok_or_else(missing)? + start;
    Ok(format!(
        "{}\n{}{}",
        &readme[..start],
        skilld::install::targets::markdown_table(),
        &readme[end..]
    ))
}

/// Write every page into `dir` (made if missing, stale pages removed); their
/// file names, sorted.
fn write_pages(dir: &Path) -> std::io::Result<Vec<String>> {
    std::fs::create_dir_all(dir)?;
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "1") {
            std::fs::remove_file(path)?;
        }
    }
    clap_mangen::generate_to(skillc::cli::Cli::command(), dir)?;
    let mut page = Vec::new();
    clap_mangen::Man::new(skilld::cli::Args::command()).render(&mut page)?;
    std::fs::write(dir.join("skilld.1"), page)?;
    let mut pages: Vec<String> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_, _>>()?;
    pages.sort();
    Ok(pages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readme_table_of_targets_matches_agents_yaml() {
        let readme = std::fs::read_to_string(workspace().join("README.md")).unwrap();
        let fresh = with_agents_table(&readme).unwrap();
        assert!(fresh.contains("| kiro | `~/.kiro/skills` | `.kiro/skills` | Kiro CLI |"));
        assert!(
            fresh == readme,
            "README.md's table of targets is out of date; run `cargo run -p xtask -- agents`"
        );
    }

    #[test]
    fn the_committed_openapi_document_matches_the_code() {
        let committed = std::fs::read_to_string(workspace().join(OPENAPI)).unwrap_or_default();
        assert!(
            committed == openapi_text(),
            "{OPENAPI} is out of date; run `cargo run -p xtask -- openapi`"
        );
    }

    #[test]
    fn the_committed_man_pages_match_the_code() {
        let fresh = tempfile::tempdir().unwrap();
        let pages = write_pages(fresh.path()).unwrap();
        assert!(pages.len() > 40, "one page per command: {pages:?}");
        assert!(pages.contains(&"skillc-install.1".to_string()));
        assert!(pages.contains(&"skilld.1".to_string()));
        let committed = workspace().join(MAN_DIR);
        let mut stale = Vec::new();
        for page in &pages {
            let want = std::fs::read(fresh.path().join(page)).unwrap();
            if std::fs::read(committed.join(page)).ok() != Some(want) {
                stale.push(page.clone());
            }
        }
        let extra: Vec<String> = std::fs::read_dir(&committed)
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.ends_with(".1") && !pages.contains(n))
                    .collect()
            })
            .unwrap_or_default();
        assert!(
            stale.is_empty() && extra.is_empty(),
            "docs/man is out of date (changed: {stale:?}, no longer made: {extra:?}); run `cargo run -p xtask -- man` and commit docs/man"
        );
    }
}
