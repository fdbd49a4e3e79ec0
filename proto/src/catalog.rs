//! Discovery: the catalog of the skills in configured registries.
//!
//! | route | request | response | errors |
//! |---|---|---|---|
//! | `POST /v1/catalog/search` | [`SearchRequest`] | [`SearchResponse`] | `invalid_request` (a limit out of range) |
//! | `POST /v1/catalog/refresh` (NDJSON) | [`RefreshRequest`] | [`RefreshResponse`] | `invalid_request` (no `catalog.sources` configured) |
//! | `POST /v1/catalog/show` (NDJSON) | [`ShowRequest`] | [`ShowResponse`] | `not_found` (with the tags that exist), `upstream`, `invalid_request` (not a skill image) |
//!
//! The catalog is read from manifests alone (never a layer): per
//! repository its tags, per published version the annotations skillctl
//! and skilld write (`org.opencontainers.image.*`, `io.skillimage.*`).

use serde::{Deserialize, Serialize};

use crate::images::Lifecycle;

pub const SEARCH_ROUTE: &str = "/v1/catalog/search";
pub const REFRESH_ROUTE: &str = "/v1/catalog/refresh";
pub const SHOW_ROUTE: &str = "/v1/catalog/show";

/// Request of `POST /v1/catalog/search`. Every filter narrows; an empty
/// query lists every skill that passes the filters, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SearchRequest {
    /// Words to look for in a skill's name, title, description and tags
    /// (each a prefix: `pdf` finds `pdf-tools`). Any text is safe: it is
    /// never read as query syntax.
    #[serde(default)]
    pub query: String,
    /// Only versions in this lifecycle state (`draft`, `testing`,
    /// `published`, `deprecated`, `archived`). Without it, the newest
    /// published version is shown, else the newest of any state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Lifecycle>,
    /// Only skills carrying every one of these tags (`io.skillimage.tags`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Only this namespace (`org.opencontainers.image.vendor`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Only skills whose compatibility names this (`claude`, `cursor`):
    /// a word of `io.skillimage.compatibility`, any case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compatibility: Option<String>,
    /// At most this many results (default 20, at most 1000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// One skill found: a repository and the version shown for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CatalogSkill {
    /// The repository, `HOST[:PORT]/PATH`.
    pub repository: String,
    /// The last segment of the repository's path (as skillctl names it).
    pub name: String,
    /// The shown version's tag and manifest digest: `reference` installs it.
    pub tag: String,
    pub digest: String,
    /// `REPOSITORY:TAG`.
    pub reference: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Lifecycle>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compatibility: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authors: Option<String>,
    /// How many versions (tags) of the skill the catalog holds.
    pub versions: u32,
    /// Where it is installed on this machine (skill folders), if anywhere.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub installed: Vec<String>,
}

/// Response of `POST /v1/catalog/search`, best match first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SearchResponse {
    pub results: Vec<CatalogSkill>,
    /// How many skills matched (more than `results` when a limit cut them).
    pub total: u64,
    /// When the catalog was last refreshed (RFC 3339), if ever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refreshed_at: Option<String>,
}

/// Request of `POST /v1/catalog/refresh`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// Ask every tag of every repository again (a tag moved without the
    /// tag list changing is otherwise seen only when the list changes).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub full: bool,
}

/// Response of `POST /v1/catalog/refresh`: what the refresh asked and
/// found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RefreshResponse {
    /// Repositories listed by the sources.
    pub repositories: u64,
    /// Repositories whose tag list changed (or that are new).
    pub changed: u64,
    /// Repositories dropped: gone from their registry or their source.
    pub removed: u64,
    /// Requests: repository-list pages, tag lists, manifest HEADs and GETs.
    pub catalog_pages: u64,
    pub tag_lists: u64,
    pub manifest_heads: u64,
    pub manifests_fetched: u64,
    /// Skill versions (tags) in the catalog after the refresh.
    pub versions: u64,
    /// What failed, one line each (`HOST/PATH: why`); the rest went on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    /// When it finished (RFC 3339).
    pub refreshed_at: String,
}

/// Request of `POST /v1/catalog/show`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ShowRequest {
    /// An image: `HOST[:PORT]/PATH:TAG`, or a name in the local store.
    pub reference: String,
}

/// One file of the skill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ShowFile {
    pub path: String,
    pub size: u64,
}

/// What installing the shown image over one install would change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct InstalledChange {
    /// The install's folder.
    pub path: String,
    /// Its version and manifest digest now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    pub digest: String,
    /// Whether it already is the shown image.
    pub same: bool,
    /// Paths (from the skill's folder) the image adds, would remove, or
    /// holds with other content, against the folder as it is on disk.
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: Vec<String>,
}

/// Response of `POST /v1/catalog/show`: an image's card, its repository's
/// versions, its SKILL.md, and what it would change where it is installed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ShowResponse {
    pub reference: String,
    pub digest: String,
    /// The skill's name (SKILL.md's `name`).
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Lifecycle>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authors: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compatibility: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Where it was built from (`org.opencontainers.image.source`,
    /// `.revision`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// The repository's tags (none for an image only in the local store).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<crate::registry::RemoteTag>,
    /// SKILL.md as the image holds it (at most 1 MiB).
    pub skill_md: String,
    pub files: Vec<ShowFile>,
    /// For each install of the same skill name: what this image would change.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub installed: Vec<InstalledChange>,
    /// The skills it needs (its SkillCard's `spec.dependencies`), each
    /// with the repository its name means; an install brings them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<NeededSkill>,
}

/// One skill a shown image needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct NeededSkill {
    /// As the SkillCard writes it.
    pub name: String,
    /// The semver requirement.
    pub version: String,
    /// The repository `name` means (see the README's rule).
    pub repository: String,
}
