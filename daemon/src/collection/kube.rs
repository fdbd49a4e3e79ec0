//! Kubernetes YAML that mounts skills into a pod, every skill pinned by
//! digest (`registry/repository@sha256:…`), so a pod started tomorrow
//! gets the bytes resolved today:
//!
//! - image volumes (KEP-4639; Kubernetes 1.33+, OpenShift 4.20+): one
//!   `image` volume per skill, `pullPolicy: IfNotPresent`, mounted read-only
//!   at `MOUNT/<name>` in the agent container (skillctl's `collection
//!   generate` shape, as a whole Pod or Deployment);
//! - for older clusters, init containers: one per skill running `skillc
//!   pull --verify --key … -o MOUNT REF` into a shared volume (`emptyDir`,
//!   or a PersistentVolumeClaim), the public key mounted from a Secret,
//!   and an `emptyDir` at `/tmp` for skillc's daemon (the image keeps its
//!   state in `/tmp/skilld`, so a read-only root file system is fine).

/// What kind of object to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Pod,
    Deployment,
}

/// The older-cluster form.
#[derive(Debug, Clone)]
pub struct Init {
    /// An image with `skillc` and `skilld` (see the README's Containerfile).
    pub image: String,
    /// A PersistentVolumeClaim instead of `emptyDir`.
    pub pvc: Option<String>,
    /// The Secret holding `cosign.pub`.
    pub key_secret: String,
}

/// What to print.
#[derive(Debug, Clone)]
pub struct Spec {
    pub kind: Kind,
    pub name: String,
    /// Where the skills are mounted (`/skills`).
    pub mount: String,
    pub agent_image: String,
    pub init: Option<Init>,
}

/// Where the Secret's key is mounted in an init container.
pub const KEY_DIR: &str = "/etc/skilld/keys";

/// A string as YAML reads it back exactly (JSON's quoting is YAML's).
fn q(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// `s` as a DNS-1123 label (what volume and container names must be).
pub fn label(s: &str) -> String {
    let mut out: String = s
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    out.truncate(63);
    let trimmed = out.trim_matches('-').to_string();
    if trimmed.is_empty() {
        "skill".into()
    } else {
        trimmed
    }
}

/// The YAML for `skills` (`(name, registry/repository@digest)`).
pub fn render(spec: &Spec, skills: &[(String, String)]) -> String {
    let pod = pod_spec(spec, skills);
    let name = label(&spec.name);
    match spec.kind {
        Kind::Pod => format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  labels:\n    app: {name}\nspec:\n{}",
            indent(&pod, 2)
        ),
        Kind::Deployment => format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  labels:\n    app: {name}\nspec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: {name}\n  template:\n    metadata:\n      labels:\n        app: {name}\n    spec:\n{}",
            indent(&pod, 6)
        ),
    }
}

fn indent(text: &str, by: usize) -> String {
    let pad = " ".repeat(by);
    text.lines().map(|l| format!("{pad}{l}\n")).collect()
}

/// The pod spec (unindented).
fn pod_spec(spec: &Spec, skills: &[(String, String)]) -> String {
    let mount = spec.mount.trim_end_matches('/');
    let mut out = String::new();
    match &spec.init {
        None => {
            out.push_str(&format!(
                "containers:\n  - name: agent\n    image: {}\n    volumeMounts:\n",
                q(&spec.agent_image)
            ));
            for (name, _) in skills {
                out.push_str(&format!(
                    "      - name: {}\n        mountPath: {}\n        readOnly: true\n",
                    label(name),
                    q(&format!("{mount}/{name}"))
                ));
            }
            out.push_str("volumes:\n");
            for (name, reference) in skills {
                out.push_str(&format!(
                    "  - name: {}\n    image:\n      reference: {}\n      pullPolicy: IfNotPresent\n",
                    label(name),
                    q(reference)
                ));
            }
        }
        Some(init) => {
            out.push_str("initContainers:\n");
            for (name, reference) in skills {
                let args = [
                    "pull",
                    "--verify",
                    "--key",
                    &format!("{KEY_DIR}/cosign.pub"),
                    "-o",
                    mount,
                    reference,
                ]
                .iter()
                .map(|a| q(a))
                .collect::<Vec<_>>()
                .join(", ");
                out.push_str(&format!(
                    "  - name: {}\n    image: {}\n    command: [\"skillc\"]\n    args: [{args}]\n    volumeMounts:\n      - name: skills\n        mountPath: {}\n      - name: skilld-keys\n        mountPath: {KEY_DIR}\n        readOnly: true\n      - name: skilld-tmp\n        mountPath: /tmp\n",
                    label(&format!("pull-{name}")),
                    q(&init.image),
                    q(mount)
                ));
            }
            out.push_str(&format!(
                "containers:\n  - name: agent\n    image: {}\n    volumeMounts:\n      - name: skills\n        mountPath: {}\n        readOnly: true\n",
                q(&spec.agent_image),
                q(mount)
            ));
            out.push_str("volumes:\n  - name: skills\n");
            match &init.pvc {
                Some(claim) => out.push_str(&format!(
                    "    persistentVolumeClaim:\n      claimName: {}\n",
                    q(claim)
                )),
                None => out.push_str("    emptyDir: {}\n"),
            }
            out.push_str(&format!(
                "  - name: skilld-keys\n    secret:\n      secretName: {}\n  - name: skilld-tmp\n    emptyDir: {{}}\n",
                q(&init.key_secret)
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skills() -> Vec<(String, String)> {
        vec![(
            "tone".into(),
            format!("r.io/acme/tone@sha256:{}", "a".repeat(64)),
        )]
    }

    #[test]
    fn image_volumes_are_pinned_and_mounted() {
        let yaml = render(
            &Spec {
                kind: Kind::Pod,
                name: "Team Skills".into(),
                mount: "/skills/".into(),
                agent_image: "agent:1".into(),
                init: None,
            },
            &skills(),
        );
        let v: serde_norway::Value = serde_norway::from_str(&yaml).unwrap();
        assert_eq!(v["metadata"]["name"], "team-skills");
        let volume = &v["spec"]["volumes"][0];
        assert_eq!(volume["name"], "tone");
        assert_eq!(volume["image"]["pullPolicy"], "IfNotPresent");
        assert!(
            volume["image"]["reference"]
                .as_str()
                .unwrap()
                .contains("@sha256:")
        );
        let mount = &v["spec"]["containers"][0]["volumeMounts"][0];
        assert_eq!(mount["mountPath"], "/skills/tone");
        assert_eq!(mount["readOnly"], true);
    }

    #[test]
    fn init_containers_pull_with_the_key() {
        let yaml = render(
            &Spec {
                kind: Kind::Deployment,
                name: "agent".into(),
                mount: "/skills".into(),
                agent_image: "agent:1".into(),
                init: Some(Init {
                    image: "r.io/skilld/skillc:1".into(),
                    pvc: Some("skills-claim".into()),
                    key_secret: "keys".into(),
                }),
            },
            &skills(),
        );
        let v: serde_norway::Value = serde_norway::from_str(&yaml).unwrap();
        let pod = &v["spec"]["template"]["spec"];
        let init = &pod["initContainers"][0];
        assert_eq!(init["name"], "pull-tone");
        let args: Vec<&str> = init["args"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert_eq!(
            &args[..6],
            [
                "pull",
                "--verify",
                "--key",
                "/etc/skilld/keys/cosign.pub",
                "-o",
                "/skills"
            ]
        );
        assert_eq!(
            pod["volumes"][0]["persistentVolumeClaim"]["claimName"],
            "skills-claim"
        );
        assert_eq!(pod["volumes"][1]["secret"]["secretName"], "keys");
    }
}
