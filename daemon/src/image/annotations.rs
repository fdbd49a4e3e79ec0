//! Manifest annotations from a SkillCard, as redhat-et/skillimage writes
//! them: the `org.opencontainers.image.*` keys plus `io.skillimage.*`.

use std::collections::BTreeMap;

use skilld_proto::images::Lifecycle;
use skilld_proto::skill::SkillCard;

use crate::oci::annotation as key;

/// The annotations of a freshly built image.
pub fn for_card(
    card: &SkillCard,
    words: u64,
    created: &str,
    status: Lifecycle,
) -> BTreeMap<String, String> {
    let m = &card.metadata;
    let mut a = BTreeMap::new();
    let mut put = |k: &str, v: &str| {
        if !v.is_empty() {
            a.insert(k.to_string(), v.to_string());
        }
    };
    put(key::TITLE, m.display_name.as_deref().unwrap_or(&m.name));
    put(key::DESCRIPTION, &m.description);
    put(key::VERSION, &m.version);
    let authors: Vec<String> = m
        .authors
        .iter()
        .map(|a| match &a.email {
            Some(email) => format!("{} <{email}>", a.name),
            None => a.name.clone(),
        })
        .collect();
    put(key::AUTHORS, &authors.join(", "));
    put(key::LICENSES, m.license.as_deref().unwrap_or(""));
    put(key::VENDOR, m.namespace.as_deref().unwrap_or(""));
    put(key::CREATED, created);
    if let Some(p) = &card.provenance {
        put(key::SOURCE, p.source.as_deref().unwrap_or(""));
        put(key::REVISION, p.commit.as_deref().unwrap_or(""));
    }
    put(key::STATUS, status.as_str());
    if !m.tags.is_empty() {
        put(
            key::TAGS,
            &serde_json::to_string(&m.tags).unwrap_or_default(),
        );
    }
    put(key::COMPATIBILITY, m.compatibility.as_deref().unwrap_or(""));
    if words > 0 {
        put(key::WORDCOUNT, &words.to_string());
    }
    // Always, `[]` too: a resolver then never opens the layer of an image
    // skilld built to learn that it needs nothing.
    let dependencies = card
        .spec
        .as_ref()
        .map(|s| s.dependencies.as_slice())
        .unwrap_or_default();
    put(
        key::DEPENDENCIES,
        &serde_json::to_string(dependencies).unwrap_or_else(|_| "[]".into()),
    );
    a
}
