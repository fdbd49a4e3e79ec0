//! Pushing hand-made images to a real registry: any manifest, config and
//! blobs, byte for byte as given (hostile layers, image indexes, manifests
//! no tool would write), through the distribution API with Python's
//! standard library, so the registry stores exactly what the test made.

use std::process::Command;

use super::Run;
use super::tools::require;

const PUSH_PY: &str = r#"
import hashlib, sys, urllib.request
host, repo, tag, media_type = sys.argv[1:5]
base = f"http://{host}/v2/{repo}"
def put_blob(data):
    d = "sha256:" + hashlib.sha256(data).hexdigest()
    loc = urllib.request.urlopen(urllib.request.Request(base + "/blobs/uploads/", method="POST")).headers["Location"]
    sep = "&" if "?" in loc else "?"
    url = loc if loc.startswith("http") else f"http://{host}{loc}"
    urllib.request.urlopen(urllib.request.Request(f"{url}{sep}digest={d}", data=data, method="PUT", headers={"Content-Type": "application/octet-stream"}))
for path in sys.argv[6:]:
    put_blob(open(path, "rb").read())
manifest = open(sys.argv[5], "rb").read()
urllib.request.urlopen(urllib.request.Request(f"{base}/manifests/{tag}", data=manifest, method="PUT", headers={"Content-Type": media_type}))
"#;

/// `sha256:<hex>` of `data`.
pub fn digest(data: &[u8]) -> String {
    use sha2::Digest as _;
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(data)))
}

/// Push `blobs` and then `manifest` (of `media_type`) as `repo:tag` to the
/// plain-HTTP registry at `host`.
pub fn push(host: &str, repo: &str, tag: &str, media_type: &str, manifest: &[u8], blobs: &[&[u8]]) {
    require("python3", "python3");
    let dir = tempfile::tempdir().unwrap();
    let manifest_path = dir.path().join("manifest");
    std::fs::write(&manifest_path, manifest).unwrap();
    let mut args = vec![
        "-c".to_string(),
        PUSH_PY.to_string(),
        host.to_string(),
        repo.to_string(),
        tag.to_string(),
        media_type.to_string(),
        manifest_path.display().to_string(),
    ];
    for (i, blob) in blobs.iter().enumerate() {
        let path = dir.path().join(format!("blob{i}"));
        std::fs::write(&path, blob).unwrap();
        args.push(path.display().to_string());
    }
    let run = Run::of(Command::new("python3").args(&args));
    assert_eq!(run.code, Some(0), "push {repo}:{tag}: {}", run.stderr);
}

const PUSH_MANY_PY: &str = r#"
import concurrent.futures, hashlib, json, sys, urllib.request
host = sys.argv[1]
spec = json.load(open(sys.argv[2]))
blobs = [open(p, "rb").read() for p in spec["blobs"]]
by_repo = {}
for item in spec["items"]:
    by_repo.setdefault(item["repo"], []).append(item)
def push_repo(repo):
    base = f"http://{host}/v2/{repo}"
    for data in blobs:
        d = "sha256:" + hashlib.sha256(data).hexdigest()
        loc = urllib.request.urlopen(urllib.request.Request(base + "/blobs/uploads/", method="POST")).headers["Location"]
        sep = "&" if "?" in loc else "?"
        url = loc if loc.startswith("http") else f"http://{host}{loc}"
        urllib.request.urlopen(urllib.request.Request(f"{url}{sep}digest={d}", data=data, method="PUT", headers={"Content-Type": "application/octet-stream"}))
    for item in by_repo[repo]:
        manifest = open(item["manifest"], "rb").read()
        urllib.request.urlopen(urllib.request.Request(f"{base}/manifests/{item['tag']}", data=manifest, method="PUT", headers={"Content-Type": item["type"]}))
with concurrent.futures.ThreadPoolExecutor(8) as pool:
    list(pool.map(push_repo, list(by_repo)))
"#;

/// Push many manifests (`repo`, `tag`, OCI image manifest bytes) to the
/// plain-HTTP registry at `host` in one Python process (eight repositories
/// at once, each repository's manifests in the order given), with `blobs`
/// (the blobs they all name) pushed once to each repository.
pub fn push_many(host: &str, items: &[(String, String, Vec<u8>)], blobs: &[&[u8]]) {
    require("python3", "python3");
    let dir = tempfile::tempdir().unwrap();
    let blob_paths: Vec<String> = blobs
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let p = dir.path().join(format!("blob{i}"));
            std::fs::write(&p, b).unwrap();
            p.display().to_string()
        })
        .collect();
    let list: Vec<serde_json::Value> = items
        .iter()
        .enumerate()
        .map(|(i, (repo, tag, manifest))| {
            let p = dir.path().join(format!("manifest{i}"));
            std::fs::write(&p, manifest).unwrap();
            serde_json::json!({"repo": repo, "tag": tag, "manifest": p, "type": MANIFEST})
        })
        .collect();
    let spec = dir.path().join("spec.json");
    std::fs::write(
        &spec,
        serde_json::to_vec(&serde_json::json!({"blobs": blob_paths, "items": list})).unwrap(),
    )
    .unwrap();
    let run =
        Run::of(Command::new("python3").args(["-c", PUSH_MANY_PY, host, spec.to_str().unwrap()]));
    assert_eq!(run.code, Some(0), "push_many: {}", run.stderr);
}

/// An OCI image manifest of `config` and one gzip layer, with
/// `annotations` (a skill image as skillctl describes one).
pub fn annotated_manifest(config: &[u8], layer: &[u8], annotations: &serde_json::Value) -> Vec<u8> {
    let mut m: serde_json::Value =
        serde_json::from_slice(&image_manifest(config, &[layer])).unwrap();
    m["annotations"] = annotations.clone();
    serde_json::to_vec(&m).unwrap()
}

/// The config of a plain image (`podman build` of `FROM scratch`).
pub const PLAIN_CONFIG: &[u8] =
    br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;

/// The media type of an OCI image manifest.
pub const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// The media type of a gzip tar layer.
pub const LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

/// An OCI image manifest of `config` and `layers` (gzip tar layers).
pub fn image_manifest(config: &[u8], layers: &[&[u8]]) -> Vec<u8> {
    let typed: Vec<(&str, &[u8])> = layers.iter().map(|l| (LAYER_GZIP, *l)).collect();
    manifest_of(config, &typed)
}

/// An OCI image manifest of `config` and `layers` (media type, bytes).
pub fn manifest_of(config: &[u8], layers: &[(&str, &[u8])]) -> Vec<u8> {
    let layers: Vec<serde_json::Value> = layers
        .iter()
        .map(|(media_type, l)| {
            serde_json::json!({
                "mediaType": media_type,
                "digest": digest(l),
                "size": l.len(),
            })
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest(config), "size": config.len()},
        "layers": layers,
    }))
    .unwrap()
}

/// Push a plain image of `layers` (media type, bytes) as `repo:tag`, as
/// `podman build` of `FROM scratch` and one COPY per layer makes it; its
/// manifest digest.
pub fn push_layers(host: &str, repo: &str, tag: &str, layers: &[(&str, &[u8])]) -> String {
    let manifest = manifest_of(PLAIN_CONFIG, layers);
    let mut blobs: Vec<&[u8]> = vec![PLAIN_CONFIG];
    blobs.extend(layers.iter().map(|(_, l)| *l));
    push(host, repo, tag, MANIFEST, &manifest, &blobs);
    digest(&manifest)
}

/// Push a one-layer image of `layer` as `repo:tag`; its manifest digest.
pub fn push_image(host: &str, repo: &str, tag: &str, layer: &[u8]) -> String {
    push_layers(host, repo, tag, &[(LAYER_GZIP, layer)])
}
