//! Command-line flags. Every subcommand maps to one request to the daemon.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use clap_complete::engine::ArgValueCompleter;
use skilld_proto::images::{ImageFormat, Lifecycle, MediaTypes};

/// skillc: the command-line client of skilld, which distributes AI agent
/// skills as OCI images.
///
/// skillc sends each command to the skilld daemon over its private Unix
/// socket and prints the answer. When no daemon answers, skillc starts one in
/// the background first (unless --no-autostart is given).
///
/// Exit status: 0 on success, 1 on failure, 2 on a usage error.
#[derive(Debug, Parser)]
#[command(name = "skillc", version, propagate_version = true)]
pub struct Cli {
    /// Print the daemon's JSON answer exactly as sent, for scripts.
    #[arg(long, global = true)]
    pub json: bool,

    /// Talk to the daemon on this socket [env: SKILLD_SOCKET].
    #[arg(long, global = true, value_name = "PATH")]
    pub socket: Option<PathBuf>,

    /// Print nothing but errors and requested data.
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// Fail instead of starting a daemon when none answers.
    #[arg(long, global = true)]
    pub no_autostart: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a skill folder: SKILL.md frontmatter and skill.yaml.
    ///
    /// Every problem is listed with its file, line, field and a hint. Unknown
    /// SKILL.md keys are warnings unless --strict. Exit status 1 when there
    /// is any error.
    Validate(ValidateArgs),
    /// Build a skill folder, or a skill in a git repository, into a
    /// versioned OCI image in the local store.
    ///
    /// Every file of the folder is packed, dotfiles too, except VCS folders
    /// and what .skillignore (gitignore syntax) excludes. The build is
    /// reproducible: the same folder gives the same layer digest on any
    /// machine; with SOURCE_DATE_EPOCH set, the same manifest digest too.
    /// The default tag is <namespace>/<name>:<version>-draft.
    ///
    /// A source that is not a folder here is a git URL (https://, ssh://,
    /// user@host:path, file://, or OWNER/REPO for GitHub): the daemon
    /// fetches that commit alone (--ref; default the remote's HEAD) into a
    /// temporary folder and builds --path from it, with the URL, commit and
    /// folder as the image's provenance and SOURCE_DATE_EPOCH the commit's
    /// time, so the same commit gives the same digest anywhere. Credentials
    /// come from ~/.git-credentials, git's credential helpers, or ssh's
    /// agent, as for git; they are never shown or recorded.
    ///
    /// With --all, every skill folder of the tree (a folder with a
    /// SKILL.md; vendored, build and ignored folders skipped) is built, and
    /// with --push pushed: one line per skill, then a summary. A skill that
    /// fails does not stop the others; the exit code is 1 when any failed.
    Build(BuildArgs),
    /// List the images in the local store.
    Images,
    /// Give a local image another name: skillc tag SRC DST.
    Tag {
        /// The image to tag (name:tag, or a digest).
        #[arg(add = ArgValueCompleter::new(crate::complete::images))]
        source: String,
        /// The new name:tag.
        target: String,
    },
    /// Show what an image says about itself (manifest and config only).
    ///
    /// The local store is asked first; a reference that names a registry
    /// and is not in the store is read from the registry (never its layer).
    Inspect {
        /// name:tag, name@digest, or a digest.
        #[arg(add = ArgValueCompleter::new(crate::complete::images))]
        reference: String,
        /// Read the registry even if the image is in the local store.
        #[arg(long)]
        remote: bool,
    },
    /// Push a local image to its registry (or to DESTINATION).
    ///
    /// Blobs the registry already has are not sent again.
    Push {
        /// The local image: HOST[:PORT]/NAME:TAG, or any local name with DESTINATION.
        #[arg(add = ArgValueCompleter::new(crate::complete::images))]
        reference: String,
        /// Where to push it (HOST[:PORT]/NAME[:TAG]).
        destination: Option<String>,
    },
    /// Pull an image from its registry into the local store.
    ///
    /// Every blob is checked against its digest before it is stored. With
    /// -o DIR the skill is also unpacked into DIR/<name>, safely, under the
    /// trust policy of config.yaml. With --verify, a signature by one of
    /// the --key public keys is required whatever the policy says, and
    /// nothing is unpacked without one (for init containers and CI).
    Pull {
        /// HOST[:PORT]/NAME[:TAG][@DIGEST]
        reference: String,
        /// Also unpack the skill into DIR/<name>.
        #[arg(short = 'o', long = "output", value_name = "DIR")]
        output: Option<PathBuf>,
        /// Require a signature verified by one of the --key public keys.
        #[arg(long, requires = "keys")]
        verify: bool,
        /// A public key (cosign.pub) for --verify; repeatable, any one suffices.
        #[arg(long = "key", value_name = "FILE", requires = "verify")]
        keys: Vec<PathBuf>,
        #[command(flatten)]
        k8s: K8sArgs,
    },
    /// List a repository's tags on its registry, semver-sorted, with status.
    Tags {
        /// HOST[:PORT]/NAME
        repository: String,
        /// Only published releases (strict semver, not deprecated or archived).
        #[arg(long)]
        published: bool,
    },
    /// Copy an image, with its cosign signature tag, to a registry.
    ///
    /// A SOURCE that names a registry is copied registry to registry (blobs
    /// stream through, never to disk; on one registry they are mounted); a
    /// SOURCE without one is a local image. Blobs the destination has are
    /// skipped.
    Copy {
        /// HOST[:PORT]/NAME:TAG, or a local image.
        source: String,
        /// HOST[:PORT]/NAME[:TAG]
        destination: String,
    },
    /// Write local images (and their signature tags) to an OCI layout archive.
    ///
    /// The archive is what `skopeo copy oci-archive:FILE:REF` reads, for
    /// air-gapped transfer; `skillc load` reads it back.
    Save {
        /// Local images.
        #[arg(required = true, add = ArgValueCompleter::new(crate::complete::images))]
        references: Vec<String>,
        /// The .tar to write.
        #[arg(short = 'o', long = "output", value_name = "FILE", required = true)]
        output: PathBuf,
    },
    /// Read an OCI layout archive into the local store, every blob checked.
    Load {
        /// The .tar to read.
        input: PathBuf,
    },
    /// Make a cosign-compatible ECDSA P-256 key pair (cosign.key, cosign.pub).
    ///
    /// The private key is encrypted with the password from COSIGN_PASSWORD,
    /// or one asked for on the terminal. Keys from `cosign generate-key-pair`
    /// work here, and these work with cosign.
    Keygen {
        /// Write PREFIX.key and PREFIX.pub.
        #[arg(long, value_name = "PREFIX", default_value = "cosign")]
        output_key_prefix: PathBuf,
    },
    /// Sign an image on its registry the way `cosign sign --key` does.
    ///
    /// The signature goes to the sha256-<hex>.sig tag, after the signatures
    /// already there.
    Sign {
        reference: String,
        /// The encrypted private key (cosign.key); COSIGN_PASSWORD or a prompt opens it.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// A claim to sign along, KEY=VALUE (repeatable).
        #[arg(short = 'a', long = "annotation", value_name = "KEY=VALUE")]
        annotations: Vec<String>,
    },
    /// Check every signature on an image's digest; exit 1 when none verifies.
    Verify {
        reference: String,
        /// A public key (cosign.pub); repeatable, any one suffices.
        #[arg(long = "key", value_name = "FILE", required = true)]
        keys: Vec<PathBuf>,
        /// Check the local store's image and the signatures it keeps (from
        /// a verified install, save or load), with no network; implied for
        /// a reference without a registry.
        #[arg(long)]
        local: bool,
    },
    /// Check credentials against a registry and save them (podman auth.json format, 0600).
    Login {
        /// The registry host[:port].
        registry: String,
        /// User name (asked for when missing).
        #[arg(short = 'u', long = "username")]
        username: Option<String>,
        /// Read the password from standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Forget the credentials `skillc login` saved for a registry.
    Logout {
        /// The registry host[:port].
        registry: String,
    },
    /// Remove tags from the local store; `skillc prune` then frees the space.
    Rmi {
        /// name:tag, or a digest to remove every tag of that image.
        #[arg(required = true, add = ArgValueCompleter::new(crate::complete::images))]
        references: Vec<String>,
    },
    /// Delete blobs that no tag and no installed skill needs.
    Prune,
    /// Move an image one lifecycle step forward, locally or on its registry.
    ///
    /// draft → testing → published → deprecated → archived. Tags follow:
    /// V-draft, V-testing, then V and latest when published. latest never
    /// stays on a deprecated version. Only the status annotation changes;
    /// the layer is the same.
    Promote {
        /// The image to promote (name:tag).
        #[arg(add = ArgValueCompleter::new(crate::complete::images))]
        reference: String,
        /// The state to move to: testing, published, deprecated or archived.
        #[arg(long, value_parser = parse_state)]
        to: Lifecycle,
        /// Promote in the local store although REF names a registry (a
        /// reference with a registry is promoted on the registry by default).
        #[arg(long)]
        local: bool,
        /// Sign the promoted image on its registry (as `skillc sign` does).
        #[arg(long, requires = "key", conflicts_with = "local")]
        sign: bool,
        /// The encrypted private key (cosign.key) for --sign.
        #[arg(long, value_name = "FILE", requires = "sign")]
        key: Option<PathBuf>,
    },
    /// List the agent skill folders (targets) with their resolved paths.
    ///
    /// Shown: the targets whose agent is installed on this machine (its own
    /// folder exists, e.g. ~/.claude for Claude Code) or whose skill folder
    /// exists, and the default target. The table of every known agent, with
    /// the source of each row, is daemon/data/agents.yaml.
    Targets {
        /// Every known target, installed or not.
        #[arg(long)]
        all: bool,
    },
    /// Install a skill into agents' skill folders, atomically.
    ///
    /// A local image (from `skillc build`) needs no registry; a reference
    /// that names a registry is pulled when the store lacks it. The folder
    /// is named after the skill's name. A hand-edited skill, or a folder
    /// skilld did not install, is replaced only with --force, and then kept
    /// in a backup folder first.
    ///
    /// Without -t, the skill goes to the agents found on this machine (their
    /// own folder, such as ~/.claude, exists), or to install.default_target
    /// when configured, or to `agents` (~/.agents/skills) when none is found;
    /// `skillc targets` shows which. Into several folders, it is one copy in
    /// the shared folder (~/.agents/skills, or the project's .agents/skills)
    /// linked into each other one (--link, the default install.mode), or a
    /// copy in each (--copy). Linked installs upgrade, roll back, pin and
    /// are removed together; agents that do not load linked folders get a
    /// copy.
    ///
    /// The skills its SkillCard's spec.dependencies names are installed
    /// beside it, in the same change: the newest published version of each
    /// that satisfies every requirement in the graph, one per skill. A
    /// conflict, a cycle or a missing skill fails with the chain that
    /// caused it, and nothing is written. A bare dependency name is a
    /// sibling in the skill's own registry namespace, `team/x` a path in
    /// its registry, `host/team/x` a full repository.
    Install {
        /// A local image (name:tag) or HOST[:PORT]/NAME:TAG.
        #[arg(add = ArgValueCompleter::new(crate::complete::images))]
        reference: String,
        /// Target(s), e.g. claude, agents, cursor, codex (skillc targets
        /// --all lists them; default: the agents found here).
        #[arg(short = 't', long = "target", value_name = "T", add = ArgValueCompleter::new(crate::complete::targets))]
        targets: Vec<String>,
        /// One copy, linked into each other target (the default).
        #[arg(long, conflicts_with_all = ["copy", "output"])]
        link: bool,
        /// A copy in each target.
        #[arg(long)]
        copy: bool,
        /// Use the targets of a project (DIR, default the current folder).
        #[arg(long, value_name = "DIR", num_args = 0..=1, default_missing_value = ".")]
        project: Option<PathBuf>,
        /// Install into DIR/<name> instead of a target.
        #[arg(short = 'o', long = "output", value_name = "DIR", conflicts_with_all = ["targets", "project"])]
        output: Option<PathBuf>,
        /// Replace a hand-edited or foreign skill (a backup is kept).
        #[arg(long)]
        force: bool,
        /// Install this skill only, not the skills its SkillCard's
        /// spec.dependencies names.
        #[arg(long)]
        no_deps: bool,
        #[command(flatten)]
        k8s: K8sArgs,
    },
    /// List installed skills (and skill folders skilld did not install).
    #[command(visible_alias = "ls")]
    List {
        /// Only this target.
        #[arg(short = 't', long = "target", value_name = "T", add = ArgValueCompleter::new(crate::complete::targets))]
        target: Option<String>,
        /// Ask the registries for newer published versions (adds LATEST).
        #[arg(long)]
        upgradable: bool,
        /// Accepted for `skillc ls --installed`.
        #[arg(long, hide = true)]
        installed: bool,
        /// Only the skills of the project in DIR (default the current
        /// folder), with LOCK: locked, drifted, missing or not in lock.
        #[arg(long, value_name = "DIR", num_args = 0..=1, default_missing_value = ".", conflicts_with = "target")]
        project: Option<PathBuf>,
        /// Show which installs need which: per folder, each skill nothing
        /// else needs, with its dependencies below it.
        #[arg(long, conflicts_with = "upgradable")]
        tree: bool,
    },
    /// Upgrade installed skills to their newest published version.
    ///
    /// Only published versions count: strict semver without pre-release,
    /// never draft, testing, deprecated or archived. Pinned skills stay.
    Upgrade {
        /// Installed skills to upgrade (or --all).
        #[arg(add = ArgValueCompleter::new(crate::complete::installed))]
        names: Vec<String>,
        #[arg(long)]
        all: bool,
        #[arg(short = 't', long = "target", value_name = "T", add = ArgValueCompleter::new(crate::complete::targets))]
        target: Option<String>,
        /// Say what would change, change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Upgrade hand-edited skills too (a backup is kept).
        #[arg(long)]
        force: bool,
    },
    /// Add skills to the project in this folder: skills.json, the lock, and
    /// its folders.
    ///
    /// Each REF is REGISTRY/REPOSITORY, with a tag (`:1.2.0`, kept as the
    /// version) or a semver requirement (`@^1.2`, `@~1.4.0`); none means the
    /// newest published version. skills.json is created when missing (the
    /// format arconia-cli and skills-oci use), skills.lock.json pins each
    /// skill by digest, and the project is synced: the skill goes to
    /// .agents/skills/NAME, linked into the -t targets' project folders.
    Add {
        /// REGISTRY/REPOSITORY[:TAG] or REGISTRY/REPOSITORY@REQUIREMENT.
        #[arg(required = true, value_name = "REF")]
        references: Vec<String>,
        /// Also link into these targets' project folders (e.g. claude).
        #[arg(short = 't', long = "target", value_name = "T", add = ArgValueCompleter::new(crate::complete::targets))]
        targets: Vec<String>,
        /// The project folder (default: the current folder).
        #[arg(long, value_name = "DIR", default_value = ".")]
        project: PathBuf,
    },
    /// Resolve the project's skills.json into skills.lock.json.
    ///
    /// Each requirement goes to the newest published version it allows
    /// (strict semver, published: the rule upgrades follow), pinned by
    /// digest. Entries the lock already satisfies are kept unless named
    /// with --update (or all, with --update and no names). Nothing is
    /// installed; the file is written only when something changed.
    Lock {
        /// Resolve again even what the lock satisfies.
        #[arg(long)]
        update: bool,
        /// With --update: only these skills.
        #[arg(requires = "update")]
        names: Vec<String>,
        #[arg(long, value_name = "DIR", default_value = ".")]
        project: PathBuf,
    },
    /// Make the project's folders match skills.lock.json, all or nothing.
    ///
    /// Skills are fetched by digest (from the store when it has them, so a
    /// sync works offline), checked by the trust policy, staged, and then
    /// swapped in as one transaction: a failure or a crash leaves the
    /// previous set. Skills a sync installed that left the lock are removed;
    /// a hand-edited one stops the sync unless --force.
    Sync {
        /// For CI: fail, changing nothing, when skills.json and the lock
        /// disagree; never write the lock.
        #[arg(long)]
        frozen: bool,
        /// Say what would change; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Replace or remove hand-edited skills (a backup is kept).
        #[arg(long)]
        force: bool,
        #[arg(long, value_name = "DIR", default_value = ".")]
        project: PathBuf,
    },
    /// Per skill of the project: locked, wanted (newest within its
    /// requirement) and latest published version. Exit 1 when a newer
    /// published version exists than one locked.
    Outdated {
        #[arg(long, value_name = "DIR", default_value = ".")]
        project: PathBuf,
    },
    /// Remove an installed skill.
    ///
    /// Every install of NAME (in the target given with -t) is removed, each
    /// on its own: one edited by hand is kept (unless --force) and reported,
    /// the others go. Exit 1 when any could not be removed. In a project
    /// folder whose skills.json lists NAME, the skill leaves the project:
    /// skills.json, skills.lock.json, then its folders, as a sync.
    ///
    /// A skill that other installs need (it was installed as their
    /// dependency) is not removed unless --force; removing the last skill
    /// that needed a dependency says so, and `skillc autoremove` removes it.
    Remove {
        #[command(flatten)]
        which: Which,
        /// Remove even if edited by hand (a backup is kept), or needed by
        /// other installs (they may stop working).
        #[arg(long)]
        force: bool,
    },
    /// Remove the skills installed only as dependencies that nothing
    /// needs any more (then what only they needed).
    Autoremove {
        /// Only in this target.
        #[arg(short = 't', long = "target", value_name = "T", add = ArgValueCompleter::new(crate::complete::targets))]
        target: Option<String>,
        /// Say what would be removed; remove nothing.
        #[arg(long)]
        dry_run: bool,
        /// Remove hand-edited ones too (a backup is kept).
        #[arg(long)]
        force: bool,
    },
    /// Go back to the version installed before (from the store, no network).
    Rollback {
        #[command(flatten)]
        which: Which,
        #[arg(long)]
        force: bool,
    },
    /// Keep a skill at its version: upgrades leave it alone.
    Pin {
        #[command(flatten)]
        which: Which,
    },
    /// Let upgrades move a pinned skill again.
    Unpin {
        #[command(flatten)]
        which: Which,
    },
    /// Run an upgrade check now (the daemon also runs one every check_interval).
    ///
    /// Also asks each subscribed collection's registry, with one HEAD
    /// request, whether the collection moved, and converges on it if so.
    Check,
    /// Search the skills of the registries in catalog.sources.
    ///
    /// Answered from the daemon's catalog (no registry request): the words
    /// of QUERY are matched, each as a prefix, against each skill's name,
    /// title, description and tags, best match first (an exact name first
    /// of all). Each skill shows its newest published version (with
    /// --status, the newest in that state), its reference to install, and
    /// whether it is installed here. Without QUERY, every skill that passes
    /// the filters, by name. The daemon refreshes the catalog every
    /// catalog.refresh_interval; --refresh does it first (one tag list per
    /// repository; a manifest only when it is new).
    Search(SearchArgs),
    /// Show a skill before installing it: its card, versions, files and
    /// SKILL.md.
    ///
    /// The image is pulled into the local store (never installed) and read
    /// there: the card from its annotations, the repository's versions
    /// from the catalog (else from the registry), SKILL.md rendered for
    /// the terminal with nothing hidden (raw HTML and comments are shown
    /// as text, control characters as symbols). Where the same skill is
    /// installed, what installing this image would change: files added,
    /// changed and removed, against the folder as it is on disk.
    Show {
        /// HOST[:PORT]/NAME:TAG, or an image in the local store.
        #[arg(add = ArgValueCompleter::new(crate::complete::images))]
        reference: String,
    },
    /// The daemon's catalog of the skills in catalog.sources.
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Scan a skill folder or an image for what a signature cannot tell.
    ///
    /// Hidden text (Unicode tags, bidirectional overrides, zero-width
    /// characters, homoglyphs, instructions in HTML comments), prompt
    /// injection, code that runs something fetched, credential theft,
    /// persistence, destructive commands, reverse shells, miners, binaries
    /// and archives, and allowed-tools wider than needed. An image is read
    /// from the store (pulled when it names a registry and the store lacks
    /// it), never unpacked to disk. Rules: the shipped file plus scan.rules
    /// of config.yaml. Exit 1 when a finding is at or above --fail-on.
    Scan {
        /// A skill folder, or an image (name:tag, HOST/NAME:TAG).
        subject: String,
        /// text (for a person), json, or sarif (SARIF 2.1.0 for code scanning).
        #[arg(long, value_enum, default_value_t = ScanFormat::Text)]
        format: ScanFormat,
        /// The lowest severity that makes the exit status 1.
        #[arg(long, value_enum, default_value_t = SeverityArg::Critical, value_name = "SEVERITY")]
        fail_on: SeverityArg,
    },
    /// Collections: a named set of skills, published once.
    ///
    /// A collection is skillctl's SkillCollection YAML (apiVersion
    /// skillimage.io/v1alpha1) pushed as an OCI artifact, or an Agent Skills
    /// collection index (arconia, skills-oci). SOURCE is a registry
    /// reference or, where it names an existing file, a YAML file.
    #[command(subcommand)]
    Collection(CollectionCommand),
    /// Follow a collection: install it now, and converge on it whenever it
    /// changes.
    ///
    /// At every upgrade check (upgrades.check_interval, and `skillc check`)
    /// the daemon asks the registry with one HEAD request whether the tag
    /// names another collection manifest. If it does, the new collection is
    /// checked by the trust policy (a signed rule for the collection's
    /// repository applies to the collection itself) and the targets
    /// converge on it as one transaction: skills added are installed,
    /// moved ones updated, and those that left removed if this
    /// subscription installed them. A skill edited by hand is never
    /// overwritten or removed: it is kept and reported. With --policy
    /// notify a change is only reported (an event, `skillc subscriptions`);
    /// subscribing again applies it.
    Subscribe {
        /// REGISTRY/REPOSITORY:TAG of the collection.
        reference: String,
        /// Target(s); default: the agents found here.
        #[arg(short = 't', long = "target", value_name = "T", add = ArgValueCompleter::new(crate::complete::targets))]
        targets: Vec<String>,
        /// auto (converge on changes) or notify (only report them).
        #[arg(long, value_enum, default_value_t = PolicyArg::Auto)]
        policy: PolicyArg,
        /// One copy, linked into each other target (the default).
        #[arg(long, conflicts_with = "copy")]
        link: bool,
        /// A copy in each target.
        #[arg(long)]
        copy: bool,
    },
    /// Stop following a collection; its skills stay (as installs of their
    /// own) unless --remove.
    Unsubscribe {
        reference: String,
        /// Remove the skills the subscription installed (hand-edited ones
        /// are kept).
        #[arg(long)]
        remove: bool,
    },
    /// List followed collections: what the targets hold, what the registry
    /// names now, and the last check's result.
    Subscriptions,
    /// Set how a skill is upgraded on its own.
    ///
    /// patch: same major.minor; minor (default) or auto: same major;
    /// major: any newer; notify: only report; pin: never.
    Policy {
        /// The installed skill.
        #[arg(add = ArgValueCompleter::new(crate::complete::installed))]
        name: String,
        /// auto, patch, minor, major, notify or pin.
        policy: String,
        #[arg(short = 't', long = "target", value_name = "T", add = ArgValueCompleter::new(crate::complete::targets))]
        target: Option<String>,
    },
    /// Print the daemon's recent events; with --follow, keep printing new ones.
    ///
    /// installed, upgraded, removed, rolled_back, upgrade_available,
    /// drift_detected, check_started, check_finished, check_failed.
    Events {
        #[arg(short = 'f', long)]
        follow: bool,
    },
    /// Every change to installs (by you or the scheduler) and its outcome.
    History {
        /// Only this skill.
        #[arg(add = ArgValueCompleter::new(crate::complete::installed))]
        name: Option<String>,
    },
    /// Show the daemon's version, protocol, paths and what it holds.
    Status,
    /// Check this machine's skilld set-up, and say how to fix what is wrong.
    ///
    /// The daemon (answering, same protocol), the user service, the socket
    /// and data folders, config.yaml as it is on disk now, free disk space,
    /// every target folder, every registry in use (reachable, TLS, where
    /// credentials come from; never a secret), the trust policy's keys, and
    /// what interrupted installs left. Exit 1 when any check fails; --json
    /// for a support ticket.
    Doctor,
    /// Print the shell code that makes SHELL complete skillc's commands.
    ///
    /// Completion is dynamic: the shell asks skillc, which completes
    /// subcommands and flags, and asks a running daemon (never starting one,
    /// and waiting at most 300 ms) for installed skill names, targets and
    /// local images. Add to your shell's start-up file:
    ///
    ///   bash:        source <(skillc completions bash)       (~/.bashrc)
    ///   zsh:         source <(skillc completions zsh)        (~/.zshrc)
    ///   fish:        skillc completions fish | source        (~/.config/fish/config.fish)
    ///   powershell:  skillc completions powershell | Out-String | Invoke-Expression
    ///   elvish:      eval (skillc completions elvish | slurp)
    Completions {
        /// bash, zsh, fish, powershell or elvish.
        #[arg(value_parser = ["bash", "zsh", "fish", "powershell", "elvish"])]
        shell: String,
    },
    /// Start, stop or query the background daemon.
    #[command(subcommand)]
    Daemon(DaemonCommand),
    /// Run skilld as a user service (systemd socket activation, or launchd).
    #[command(subcommand)]
    Service(ServiceCommand),
}

#[derive(Debug, Subcommand)]
pub enum ServiceCommand {
    /// Write the user units (or LaunchAgent) and enable them where possible;
    /// otherwise print the exact commands to run.
    Install,
    /// Disable and remove them.
    Uninstall,
    /// Say whether they are installed and active.
    Status,
}

/// `skillc scan --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScanFormat {
    Text,
    Json,
    Sarif,
}

/// A finding's severity, least to most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum SeverityArg {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

/// `skillc subscribe --policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PolicyArg {
    Auto,
    Notify,
}

/// Kubernetes YAML instead of installing (`--k8s`).
#[derive(Debug, Clone, Default, Args)]
pub struct K8sArgs {
    /// Print Kubernetes YAML that mounts the skill(s) into a pod, pinned
    /// by digest, instead of installing anything: image volumes
    /// (Kubernetes 1.33+, OpenShift 4.20+), or init containers with
    /// --init-container.
    #[arg(long)]
    pub k8s: bool,
    /// Where the skills are mounted, each at MOUNT/<name>.
    #[arg(long, value_name = "PATH", default_value = "/skills", requires = "k8s")]
    pub mount_path: String,
    /// Print a Pod of this name (the default, named after the collection).
    #[arg(
        long,
        value_name = "NAME",
        requires = "k8s",
        conflicts_with = "deployment"
    )]
    pub pod: Option<String>,
    /// Print a Deployment of this name.
    #[arg(long, value_name = "NAME", requires = "k8s")]
    pub deployment: Option<String>,
    /// The agent container's image.
    #[arg(long, value_name = "IMAGE", requires = "k8s")]
    pub agent_image: Option<String>,
    /// For clusters without image volumes: init containers of IMAGE (with
    /// skillc, see the README) run `skillc pull --verify --key` per skill
    /// into a shared volume.
    #[arg(long, value_name = "IMAGE", requires = "k8s")]
    pub init_container: Option<String>,
    /// With --init-container: a PersistentVolumeClaim instead of emptyDir.
    #[arg(long, value_name = "CLAIM", requires = "init_container")]
    pub pvc: Option<String>,
    /// With --init-container: the Secret holding cosign.pub [default: skilld-trust].
    #[arg(long, value_name = "SECRET", requires = "init_container")]
    pub key_secret: Option<String>,
}

/// `skillc catalog …`.
#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// Refresh the catalog now, and say what it asked of the registries.
    ///
    /// Per repository one tag list; a repository whose list changed has
    /// its known tags asked with a HEAD and only manifests new to the
    /// catalog fetched. Repositories gone from their registry or source
    /// are dropped. A source that fails keeps what the catalog had of it;
    /// each failure is a warning and the exit status is 1.
    Refresh {
        /// Ask every tag again, not only those of changed tag lists (a tag
        /// moved to another manifest is otherwise seen when the list
        /// changes).
        #[arg(long)]
        full: bool,
    },
}

/// `skillc collection …`.
#[derive(Debug, Subcommand)]
pub enum CollectionCommand {
    /// Push a collection YAML to a registry as skillctl does (an OCI
    /// artifact holding the file's bytes).
    ///
    /// The file is checked first (skillctl's rules, and apiVersion
    /// skillimage.io/v1alpha1, at most 1000 skills; problems name the
    /// line). With --pin each image that names a tag is resolved and
    /// written as REPOSITORY:TAG@DIGEST, so this collection version means
    /// the same bytes forever (skillctl reads that form too).
    Push {
        /// The SkillCollection YAML.
        file: PathBuf,
        /// REGISTRY/REPOSITORY:TAG to push to.
        reference: String,
        /// Pin every tagged image to the digest it names now.
        #[arg(long)]
        pin: bool,
    },
    /// Fetch a collection and every skill it lists into the local store
    /// (nothing is installed); -o writes its YAML.
    Pull {
        reference: String,
        /// Write the collection's YAML to FILE (an Agent Skills index is
        /// written as the equivalent SkillCollection).
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Show what a collection lists (its manifest and YAML only).
    Inspect {
        /// REFERENCE or FILE.
        source: String,
    },
    /// Install every skill of a collection, all or nothing.
    ///
    /// Every skill is resolved to a digest, checked by the trust policy and
    /// staged before any folder changes; then all are swapped in as one
    /// transaction. With --project the skills are written into the
    /// project's skills.json and skills.lock.json (at the collection's
    /// digests) and the project is synced.
    Install {
        /// REFERENCE or FILE.
        source: String,
        #[arg(short = 't', long = "target", value_name = "T", add = ArgValueCompleter::new(crate::complete::targets))]
        targets: Vec<String>,
        /// One copy, linked into each other target (the default).
        #[arg(long, conflicts_with = "copy")]
        link: bool,
        /// A copy in each target.
        #[arg(long)]
        copy: bool,
        /// Into the project in DIR (default the current folder).
        #[arg(long, value_name = "DIR", num_args = 0..=1, default_missing_value = ".")]
        project: Option<PathBuf>,
        /// Replace hand-edited or foreign skills (backups are kept).
        #[arg(long)]
        force: bool,
        /// Say what would change; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Write a collection's skills into a project's skills.json and
    /// skills.lock.json (the lock `skillc lock` writes, at the digests the
    /// collection names), so a collection can seed a project.
    Lock {
        /// REFERENCE or FILE.
        source: String,
        /// Folders to link the skills into besides .agents/skills.
        #[arg(short = 't', long = "target", value_name = "T", add = ArgValueCompleter::new(crate::complete::targets))]
        targets: Vec<String>,
        #[arg(long, value_name = "DIR", default_value = ".")]
        project: PathBuf,
    },
    /// Print Kubernetes YAML mounting a collection's skills into a pod.
    ///
    /// One image volume per skill, pinned by digest (REPOSITORY@sha256:…),
    /// pullPolicy IfNotPresent, mounted read-only at MOUNT/<name>; or with
    /// --init-container, init containers that pull and verify each skill
    /// into a shared volume.
    Generate {
        /// REFERENCE or FILE.
        source: String,
        #[command(flatten)]
        k8s: K8sArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum DaemonCommand {
    /// Start skilld in the background unless one already answers.
    Start,
    /// Ask skilld to finish in-flight work and exit; waits until it has.
    Stop,
    /// Say whether skilld answers, without starting it (exit 1 if not).
    Status,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The skill folder.
    pub dir: PathBuf,
    /// Treat unknown SKILL.md keys as errors.
    #[arg(long)]
    pub strict: bool,
    /// Namespace to use when neither skill.yaml nor SKILL.md names one.
    #[arg(long, value_name = "NS")]
    pub namespace: Option<String>,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The skill folder, or a git URL (with --all: the tree holding skills).
    #[arg(value_name = "DIR|GIT_URL")]
    pub source: String,
    /// Tag the image REF (a missing tag becomes <version>-draft). With
    /// --all, REGISTRY/NAMESPACE: each skill becomes
    /// REGISTRY/NAMESPACE/<name>:<version>-draft.
    #[arg(short = 't', long = "tag", value_name = "REF")]
    pub tag: Option<String>,
    /// The branch, tag, full ref name or commit id to build (git only).
    #[arg(long = "ref", value_name = "REF")]
    pub reference: Option<String>,
    /// The skill's folder inside the repository; with --all, where to look
    /// (git only).
    #[arg(long, value_name = "SUBDIR")]
    pub path: Option<String>,
    /// Build every skill folder of the tree.
    #[arg(long)]
    pub all: bool,
    /// With --all: push each image built to its registry.
    #[arg(long, requires = "all")]
    pub push: bool,
    /// Media types of the skillimage form.
    #[arg(long, value_enum, default_value = "standard")]
    pub media_type: MediaTypeArg,
    /// Image form: files at the layer root, or the Agent Skills artifact.
    #[arg(long, value_enum, default_value = "skillimage")]
    pub format: FormatArg,
    /// Treat unknown SKILL.md keys as errors.
    #[arg(long)]
    pub strict: bool,
    /// Namespace to use when neither skill.yaml nor SKILL.md names one.
    #[arg(long, value_name = "NS")]
    pub namespace: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum MediaTypeArg {
    /// Standard OCI media types (podman, skopeo, Kubernetes image volumes).
    Standard,
    /// application/vnd.redhat.agentskill.* media types (for oc-mirror).
    Redhat,
}

impl From<MediaTypeArg> for MediaTypes {
    fn from(a: MediaTypeArg) -> MediaTypes {
        match a {
            MediaTypeArg::Standard => MediaTypes::Standard,
            MediaTypeArg::Redhat => MediaTypes::Redhat,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    /// Files at the layer root (redhat-et/skillimage compatible).
    Skillimage,
    /// The Agent Skills OCI artifact, layer rooted at <name>/.
    Agentskills,
}

impl From<FormatArg> for ImageFormat {
    fn from(a: FormatArg) -> ImageFormat {
        match a {
            FormatArg::Skillimage => ImageFormat::Skillimage,
            FormatArg::Agentskills => ImageFormat::Agentskills,
        }
    }
}

/// `skillc search`.
#[derive(Debug, Clone, Args)]
pub struct SearchArgs {
    /// Words to look for (any text; none lists every skill).
    pub query: Vec<String>,
    /// Only versions in this state: draft, testing, published, deprecated
    /// or archived.
    #[arg(long, value_parser = parse_any_state, value_name = "STATE")]
    pub status: Option<Lifecycle>,
    /// Only skills with this tag (repeat for several: all must be there).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Only this namespace (org.opencontainers.image.vendor).
    #[arg(long, value_name = "NS")]
    pub namespace: Option<String>,
    /// Only skills whose compatibility names this (claude, cursor, ...).
    #[arg(long, value_name = "AGENT")]
    pub compatibility: Option<String>,
    /// Show at most this many (1 to 1000).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub limit: u32,
    /// Refresh the catalog from its sources first.
    #[arg(long)]
    pub refresh: bool,
    /// With --refresh: ask every tag again, not only those of changed
    /// tag lists.
    #[arg(long, requires = "refresh")]
    pub full: bool,
}

fn parse_any_state(s: &str) -> Result<Lifecycle, String> {
    Lifecycle::parse(s)
        .ok_or_else(|| "expected draft, testing, published, deprecated or archived".to_string())
}

fn parse_state(s: &str) -> Result<Lifecycle, String> {
    Lifecycle::parse(s)
        .ok_or_else(|| "expected testing, published, deprecated or archived".to_string())
}

/// Which installs a remove, rollback, pin or unpin acts on.
#[derive(Debug, Clone, clap::Args)]
pub struct Which {
    /// The skill's name.
    #[arg(add = ArgValueCompleter::new(crate::complete::installed))]
    pub name: String,
    /// Only the installs in this target.
    #[arg(short = 't', long = "target", value_name = "T", add = ArgValueCompleter::new(crate::complete::targets))]
    pub target: Option<String>,
    /// Only the install in this folder (the DIR it was installed into with
    /// `install -o DIR`), when several folders hold NAME.
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    pub output: Option<std::path::PathBuf>,
}
