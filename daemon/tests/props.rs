//! Property tests (bounded: a fixed number of cases per property, so they
//! run in every `cargo test`): whatever the input, the reference parser,
//! the registry canonicaliser and the scope parser either refuse it or give
//! a canonical result that parses back to itself; and a layer of arbitrary
//! links either is refused by unpack or leaves every link inside the skill,
//! as the real kernel resolves it on a temp folder.

use proptest::prelude::*;
use skilld::image::links::Links;
use skilld::image::reference::Reference;
use skilld::image::registry_name::canonical;
use skilld::image::unpack::{UnpackLimits, unpack};
use skilld::trust::policy::Scope;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Host-like text: the characters hosts, ports and addresses are made of,
/// and a few that should never pass.
fn hostish() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[a-zA-Z0-9.:\\[\\]%_-]{0,24}").unwrap()
}

fn is_canonical(registry: &str) -> bool {
    let no_upper = !registry.bytes().any(|b| b.is_ascii_uppercase());
    let port_ok = match registry.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(':') && !registry.ends_with(']') => {
            !port.starts_with('0') && port != "443" && port.parse::<u16>().is_ok()
        }
        _ => true,
    };
    no_upper && port_ok && !registry.ends_with('.') && !registry.contains('%')
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn canonical_registries_are_fixed_points(input in hostish()) {
        if let Ok(c) = canonical(&input) {
            prop_assert_eq!(canonical(&c), Ok(c.clone()), "{} → {}", input, c);
            prop_assert!(is_canonical(&c), "{} → {}", input, c);
        }
    }

    #[test]
    fn references_parse_back_to_themselves(
        registry in proptest::option::of(hostish()),
        path in "[a-zA-Z0-9._/-]{1,24}",
        tag in proptest::option::of("[a-zA-Z0-9._-]{0,12}"),
    ) {
        let mut input = String::new();
        if let Some(r) = &registry {
            input.push_str(r);
            input.push('/');
        }
        input.push_str(&path);
        if let Some(t) = &tag {
            input.push(':');
            input.push_str(t);
        }
        if let Ok(parsed) = Reference::parse(&input) {
            let text = parsed.to_string();
            let again = Reference::parse(&text);
            prop_assert_eq!(again.as_ref(), Ok(&parsed), "{} → {}", input, text);
            if let Some(r) = &parsed.registry {
                prop_assert_eq!(canonical(r), Ok(r.clone()));
            }
        }
    }

    #[test]
    fn scopes_are_canonical_or_refused(input in "[ a-zA-Z0-9.:/*@_-]{0,32}") {
        if let Ok(scope) = Scope::parse(&input) {
            if let Some(r) = &scope.registry {
                prop_assert_eq!(canonical(r), Ok(r.clone()));
            }
            for part in &scope.path {
                prop_assert!(!part.is_empty() && !part.contains(['*', ' ', ':', '@']), "{}", input);
                prop_assert!(part.bytes().all(|b| !b.is_ascii_uppercase()), "{}", input);
            }
        }
    }
}

/// One entry of a generated layer.
#[derive(Debug, Clone)]
enum Node {
    Dir(String),
    File(String),
    Link(String, String),
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("a"),
        Just("b"),
        Just("u"),
        Just("d/a"),
        Just("d/u"),
        Just("d/e/b")
    ]
    .prop_map(str::to_string)
}

fn target() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("."),
            Just(".."),
            Just("a"),
            Just("b"),
            Just("u"),
            Just("d"),
            Just("e")
        ],
        1..7,
    )
    .prop_map(|parts| parts.join("/"))
}

fn node() -> impl Strategy<Value = Node> {
    prop_oneof![
        name().prop_map(Node::Dir),
        name().prop_map(Node::File),
        (name(), target()).prop_map(|(n, t)| Node::Link(n, t)),
        (name(), target()).prop_map(|(n, t)| Node::Link(n, t)),
    ]
}

fn layer(nodes: &[Node]) -> Vec<u8> {
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    for node in nodes {
        let mut h = tar::Header::new_gnu();
        let (path, kind, link) = match node {
            Node::Dir(p) => (p.as_str(), tar::EntryType::Directory, None),
            Node::File(p) => (p.as_str(), tar::EntryType::Regular, None),
            Node::Link(p, t) => (p.as_str(), tar::EntryType::Symlink, Some(t.as_str())),
        };
        h.set_path(path).unwrap();
        h.set_entry_type(kind);
        h.set_mode(0o644);
        h.set_size(0);
        if let Some(t) = link {
            h.set_link_name(t).unwrap();
        }
        h.set_cksum();
        builder.append(&h, std::io::empty()).unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

/// Every symlink under `dir`, links not followed.
fn links_under(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let t = e.file_type().unwrap();
        if t.is_symlink() {
            out.push(e.path());
        } else if t.is_dir() {
            links_under(&e.path(), out);
        }
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn unpacked_links_stay_inside_as_the_kernel_resolves_them(
        nodes in proptest::collection::vec(node(), 1..8),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir(&root).unwrap();
        let limits = UnpackLimits { max_bytes: 1 << 20, max_entries: 100 };
        if unpack(&layer(&nodes)[..], &root, None, limits).is_ok() {
            let real_root = root.canonicalize().unwrap();
            let mut links = Vec::new();
            links_under(&root, &mut links);
            for link in links {
                // Dangling links cannot be resolved; every other one must
                // land inside.
                if let Ok(real) = link.canonicalize() {
                    prop_assert!(
                        real.starts_with(&real_root),
                        "{} resolves to {} ({:?})",
                        link.display(),
                        real.display(),
                        nodes
                    );
                }
            }
            // The model agrees: nothing it accepted escapes.
            let mut model = Links::default();
            for node in &nodes {
                if let Node::Link(p, t) = node {
                    let at: Vec<&str> = p.split('/').collect();
                    model.insert(&at, t);
                }
            }
            prop_assert!(model.first_escape().is_none());
        }
        prop_assert!(!dir.path().join("a").exists() && !dir.path().join("b").exists());
    }
}

/// Text with the shapes YAML front matter and cards are made of: keys,
/// colons, dashes, quotes, anchors, tags, brackets, line ends, and any
/// Unicode now and then.
fn yamlish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("---\n".to_string()),
        Just("name: ".to_string()),
        Just("description: ".to_string()),
        Just("metadata:\n  ".to_string()),
        Just("version: ".to_string()),
        Just("apiVersion: skillimage.io/v1alpha1\n".to_string()),
        Just("kind: SkillCard\n".to_string()),
        Just("&a [*a, *a]\n".to_string()),
        Just("!!binary ".to_string()),
        Just("\r\n".to_string()),
        Just("\u{feff}".to_string()),
        "[a-z0-9 :\"'{}\\[\\],#|>-]{0,12}",
        any::<String>().prop_map(|s| s.chars().take(8).collect()),
    ];
    proptest::collection::vec(piece, 0..24).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(config())]

    /// SKILL.md and skill.yaml checks answer (valid or problems) on any
    /// text: no panic, no hang, whatever a hostile skill holds.
    #[test]
    fn skill_metadata_checks_answer_on_any_text(text in yamlish()) {
        let mut problems = Vec::new();
        let md = skilld::skill::frontmatter::check(&text, "demo", true, &mut problems);
        let _ = skilld::skill::card::check(&text, md.as_ref(), &mut problems);
    }

    #[test]
    fn digests_parse_or_are_refused(text in "(sha256:)?[0-9a-fA-Fxz:]{0,70}") {
        if let Ok(d) = skilld::store::digest::Digest::parse(&text) {
            prop_assert_eq!(skilld::store::digest::Digest::parse(d.as_str()).ok(), Some(d.clone()));
        }
    }
}
