//! Dependencies between skills: a SkillCard's `spec.dependencies: [{name,
//! version}]` made real.
//!
//! - [`name`]: which repository a dependency's `name` means (a full
//!   repository, or a name in the depending skill's registry namespace).
//! - [`resolve`]: one version per skill for a whole graph, the newest
//!   published versions that satisfy every requirement, or the chain of
//!   requirements that makes it impossible (a conflict, a cycle, a missing
//!   skill), found before anything is written.

pub mod image;
pub mod name;
pub mod registry;
pub mod resolve;

/// Why a dependency graph cannot be installed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DependError {
    #[error("dependency {name:?} of {by}: {why}")]
    BadName {
        name: String,
        by: String,
        why: String,
    },
    #[error(
        "dependency {repository} {requirement:?} of {by}: not a semver requirement ({why}); write e.g. \"^1.2\", \">=1.0, <2\" or \"*\""
    )]
    BadRequirement {
        repository: String,
        requirement: String,
        by: String,
        why: String,
    },
    #[error("{chain}: {repository} has no published version{}", published_list(.published))]
    Missing {
        chain: String,
        repository: String,
        published: Vec<String>,
    },
    #[error("no version of {repository} satisfies every requirement: {}{}", .requirements.join("; "), published_list(.published))]
    Conflict {
        repository: String,
        /// `^1.0 (from a 1.2.0)`, one per requirement.
        requirements: Vec<String>,
        published: Vec<String>,
    },
    #[error(
        "two skills named {name:?} would share a folder: {first} and {second} (a dependency); rename one, or name the dependency by its full repository"
    )]
    NameClash {
        name: String,
        first: String,
        second: String,
    },
    #[error("dependency cycle: {0}")]
    Cycle(String),
    #[error("cannot read the versions of {repository}: {message}")]
    Unreadable { repository: String, message: String },
    /// What a version needs cannot be read from its image.
    #[error("cannot read what {image} needs: {message}")]
    Undeclared { image: String, message: String },
    /// The trust policy refuses a version the graph needs.
    #[error("{image}, needed by the skill being installed, is refused: {message}")]
    Refused { image: String, message: String },
    #[error("the dependency graph needs more than {0} steps to resolve; simplify its requirements")]
    TooComplex(usize),
    /// More skills than a graph may hold, or one skill needing more than
    /// a skill may: a hostile card must not make the daemon fetch without
    /// end.
    #[error("{what}: more than {limit}; a skill's dependencies are kept to a few")]
    TooLarge { what: String, limit: usize },
}

fn published_list(published: &[String]) -> String {
    if published.is_empty() {
        String::new()
    } else {
        format!(" (published: {})", published.join(", "))
    }
}
