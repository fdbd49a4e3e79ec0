//! Signing and verification against a real registry: keygen, sign, verify,
//! a second key, appended signatures, an independent check of the format
//! with Python's `cryptography`, keys in cosign's encrypted format read and
//! written by Python (`pynacl`), `promote --sign`, and the forgeries that
//! must be refused.

use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use skilld_tests::helper::tools::{copy_tree, testdata};
use skilld_tests::helper::{Home, Registry, Run, Variant};

fn home() -> Home {
    Home::with_env(&[("COSIGN_PASSWORD", OsStr::new("correct horse"))])
}

fn publish(home: &Home, host: &str, repo: &str, fixture: &str) -> (String, String) {
    let dir = home
        .root()
        .join("src")
        .join(repo.replace('/', "_"))
        .join(fixture);
    copy_tree(&testdata().join("valid").join(fixture), &dir);
    let built = home
        .skillc(&[
            "--json",
            "build",
            "-t",
            &format!("{host}/{repo}"),
            dir.to_str().unwrap(),
        ])
        .expect_code(0)
        .json();
    let reference = built["reference"].as_str().unwrap().to_string();
    home.skillc(&["push", &reference]).expect_code(0);
    (reference, built["digest"].as_str().unwrap().to_string())
}

fn keygen(home: &Home, prefix: &str) -> std::path::PathBuf {
    let p = home.root().join(prefix);
    home.skillc(&["keygen", "--output-key-prefix", p.to_str().unwrap()])
        .expect_code(0);
    p
}

/// Run a Python snippet with the registry host, an image digest and a repo.
fn python(script: &str, args: &[&str]) -> Run {
    Run::of(Command::new("python3").arg("-c").arg(script).args(args))
}

const REGISTRY_PY: &str = r#"
import json, sys, urllib.request, hashlib
host, repo, digest = sys.argv[1], sys.argv[2], sys.argv[3]
base = f"http://{host}/v2/{repo}"
OCI = "application/vnd.oci.image.manifest.v1+json"
def get(path, accept=OCI):
    req = urllib.request.Request(base + path, headers={"Accept": accept})
    return urllib.request.urlopen(req).read()
def put_blob(data):
    d = "sha256:" + hashlib.sha256(data).hexdigest()
    loc = urllib.request.urlopen(urllib.request.Request(base + "/blobs/uploads/", method="POST")).headers["Location"]
    sep = "&" if "?" in loc else "?"
    url = loc if loc.startswith("http") else f"http://{host}{loc}"
    urllib.request.urlopen(urllib.request.Request(f"{url}{sep}digest={d}", data=data, method="PUT", headers={"Content-Type": "application/octet-stream"}))
    return d
def put_manifest(tag, data):
    urllib.request.urlopen(urllib.request.Request(f"{base}/manifests/{tag}", data=data, method="PUT", headers={"Content-Type": OCI}))
sigtag = "sha256-" + digest.split(":")[1] + ".sig"
"#;

#[test]
fn keygen_sign_verify_and_a_second_key() {
    let registry = Registry::start(Variant::Anonymous);
    let host = registry.host();
    let home = home();
    let key = keygen(&home, "cosign");
    let pem = std::fs::read_to_string(key.with_extension("key")).unwrap();
    assert!(
        pem.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----"),
        "{pem}"
    );
    assert_eq!(
        std::fs::metadata(key.with_extension("key"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    assert!(
        std::fs::read_to_string(key.with_extension("pub"))
            .unwrap()
            .starts_with("-----BEGIN PUBLIC KEY-----")
    );
    let run = home
        .skillc(&["keygen", "--output-key-prefix", key.to_str().unwrap()])
        .expect_code(1);
    assert!(run.stderr.contains("exists"), "{}", run.stderr);

    let (reference, digest) = publish(&home, &host, "acme/hello-world", "hello-world");
    let run = home
        .skillc(&[
            "verify",
            &reference,
            "--key",
            key.with_extension("pub").to_str().unwrap(),
        ])
        .expect_code(1);
    assert!(run.stderr.contains("has no signatures"), "{}", run.stderr);

    let signed = home
        .skillc(&[
            "--json",
            "sign",
            &reference,
            "--key",
            key.with_extension("key").to_str().unwrap(),
            "-a",
            "team=platform",
        ])
        .expect_code(0)
        .json();
    assert_eq!(signed["digest"], digest.as_str());
    assert_eq!(signed["signatures"], 1);
    let verified = home
        .skillc(&[
            "--json",
            "verify",
            &reference,
            "--key",
            key.with_extension("pub").to_str().unwrap(),
        ])
        .expect_code(0)
        .json();
    assert_eq!(verified["verified"], true);
    assert_eq!(
        verified["signatures"][0]["fingerprint"],
        signed["fingerprint"]
    );
    assert_eq!(verified["signatures"][0]["annotations"]["team"], "platform");

    let other = keygen(&home, "other");
    home.skillc(&[
        "verify",
        &reference,
        "--key",
        other.with_extension("pub").to_str().unwrap(),
    ])
    .expect_code(1);
    let wrong = Home::with_env(&[("COSIGN_PASSWORD", OsStr::new("wrong"))]);
    let run = wrong
        .skillc(&[
            "sign",
            &reference,
            "--key",
            key.with_extension("key").to_str().unwrap(),
        ])
        .expect_code(1);
    assert!(run.stderr.contains("wrong password"), "{}", run.stderr);

    // A second signature is appended, not a replacement.
    let again = home
        .skillc(&[
            "--json",
            "sign",
            &reference,
            "--key",
            other.with_extension("key").to_str().unwrap(),
        ])
        .expect_code(0)
        .json();
    assert_eq!(again["signatures"], 2);
    for k in [&key, &other] {
        home.skillc(&[
            "verify",
            &reference,
            "--key",
            k.with_extension("pub").to_str().unwrap(),
        ])
        .expect_code(0);
    }
    let both = home
        .skillc(&[
            "--json",
            "verify",
            &reference,
            "--key",
            key.with_extension("pub").to_str().unwrap(),
            "--key",
            other.with_extension("pub").to_str().unwrap(),
        ])
        .expect_code(0)
        .json();
    assert_eq!(
        both["signatures"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["verified"] == true)
            .count(),
        2
    );

    // Independently: Python's cryptography verifies our signature as cosign documents it.
    let script = format!(
        "{REGISTRY_PY}\nimport base64\nfrom cryptography.hazmat.primitives import hashes, serialization\nfrom cryptography.hazmat.primitives.asymmetric import ec\nm = json.loads(get('/manifests/' + sigtag))\nlayer = m['layers'][0]\nassert layer['mediaType'] == 'application/vnd.dev.cosign.simplesigning.v1+json'\npayload = get('/blobs/' + layer['digest'], '*/*')\nsig = base64.b64decode(layer['annotations']['dev.cosignproject.cosign/signature'])\nkey = serialization.load_pem_public_key(open(sys.argv[4], 'rb').read())\nkey.verify(sig, payload, ec.ECDSA(hashes.SHA256()))\nclaims = json.loads(payload)\nassert claims['critical']['image']['docker-manifest-digest'] == digest, claims\nassert claims['critical']['type'] == 'cosign container image signature'\nassert claims['critical']['identity']['docker-reference'] == host + '/' + repo\nprint('ok')\n"
    );
    let run = python(
        &script,
        &[
            &host,
            "acme/hello-world",
            &digest,
            key.with_extension("pub").to_str().unwrap(),
        ],
    );
    assert_eq!(
        run.stdout.trim(),
        "ok",
        "pip install cryptography: {}",
        run.stderr
    );
}

#[test]
fn forgeries_are_refused_and_copies_keep_their_signatures() {
    let registry = Registry::start(Variant::Anonymous);
    let host = registry.host();
    let home = home();
    let key = keygen(&home, "cosign");
    let public = key.with_extension("pub");
    let (a_ref, a_digest) = publish(&home, &host, "acme/a", "hello-world");
    home.skillc(&[
        "sign",
        &a_ref,
        "--key",
        key.with_extension("key").to_str().unwrap(),
    ])
    .expect_code(0);
    home.skillc(&["verify", &a_ref, "--key", public.to_str().unwrap()])
        .expect_code(0);

    // A tampered payload: the claims change, the signature does not.
    let (t_ref, t_digest) = publish(&home, &host, "acme/tampered", "crlf-skill");
    home.skillc(&[
        "sign",
        &t_ref,
        "--key",
        key.with_extension("key").to_str().unwrap(),
    ])
    .expect_code(0);
    let script = format!(
        "{REGISTRY_PY}\nm = json.loads(get('/manifests/' + sigtag))\nlayer = m['layers'][0]\npayload = json.loads(get('/blobs/' + layer['digest'], '*/*'))\npayload['optional'] = {{'approved': 'yes'}}\ndata = json.dumps(payload).encode()\nlayer['digest'] = put_blob(data)\nlayer['size'] = len(data)\nput_manifest(sigtag, json.dumps(m).encode())\nprint('ok')\n"
    );
    let run = python(&script, &[&host, "acme/tampered", &t_digest]);
    assert_eq!(run.stdout.trim(), "ok", "{}", run.stderr);
    let run = home
        .skillc(&["verify", &t_ref, "--key", public.to_str().unwrap()])
        .expect_code(1);
    assert!(
        run.stderr.contains("no given key verifies"),
        "{}",
        run.stderr
    );

    // A signature for another digest: A's signatures put under B's .sig tag.
    let (b_ref, b_digest) = publish(&home, &host, "acme/a", "crlf-skill");
    let script = format!(
        "{REGISTRY_PY}\nput_manifest('sha256-' + sys.argv[4].split(':')[1] + '.sig', get('/manifests/' + sigtag))\nprint('ok')\n"
    );
    let run = python(&script, &[&host, "acme/a", &a_digest, &b_digest]);
    assert_eq!(run.stdout.trim(), "ok", "{}", run.stderr);
    let run = home
        .skillc(&["verify", &b_ref, "--key", public.to_str().unwrap()])
        .expect_code(1);
    assert!(
        run.stderr
            .contains(&format!("the signature is for {a_digest}")),
        "{}",
        run.stderr
    );

    // A re-tagged manifest: A's tag now points at B's manifest.
    let script = format!(
        "{REGISTRY_PY}\nput_manifest(sys.argv[4], get('/manifests/' + sys.argv[5]))\nprint('ok')\n"
    );
    let a_tag = a_ref.rsplit(':').next().unwrap();
    let run = python(&script, &[&host, "acme/a", &a_digest, a_tag, &b_digest]);
    assert_eq!(run.stdout.trim(), "ok", "{}", run.stderr);
    home.skillc(&["verify", &a_ref, "--key", public.to_str().unwrap()])
        .expect_code(1);

    // A copy to a second repository carries verifiable signatures.
    let (c_ref, _) = publish(&home, &host, "acme/original", "toolbox");
    home.skillc(&[
        "sign",
        &c_ref,
        "--key",
        key.with_extension("key").to_str().unwrap(),
    ])
    .expect_code(0);
    let copy = format!("{host}/mirror/toolbox:2.1.0-draft");
    let copied = home
        .skillc(&["--json", "copy", &c_ref, &copy])
        .expect_code(0)
        .json();
    assert_eq!(copied["signatures"].as_array().unwrap().len(), 1);
    home.skillc(&["verify", &copy, "--key", public.to_str().unwrap()])
        .expect_code(0);
}

#[test]
fn promote_to_published_signs_as_it_publishes() {
    let registry = Registry::start(Variant::Anonymous);
    let host = registry.host();
    let home = home();
    let key = keygen(&home, "cosign");
    let (draft, _) = publish(&home, &host, "acme/hello-world", "hello-world");
    home.skillc(&["promote", &draft, "--to", "testing"])
        .expect_code(0);
    let testing = draft.replace("-draft", "-testing");
    let done = home
        .skillc(&[
            "--json",
            "promote",
            &testing,
            "--to",
            "published",
            "--sign",
            "--key",
            key.with_extension("key").to_str().unwrap(),
        ])
        .expect_code(0)
        .json();
    let published = done["promote"]["reference"].as_str().unwrap();
    assert_eq!(done["sign"]["reference"], published);
    assert_eq!(done["sign"]["digest"], done["promote"]["digest"]);
    let verified = home
        .skillc(&[
            "--json",
            "verify",
            published,
            "--key",
            key.with_extension("pub").to_str().unwrap(),
        ])
        .expect_code(0)
        .json();
    assert_eq!(verified["digest"], done["promote"]["digest"]);
    // --sign needs a key, and a local promotion has no registry to sign on.
    assert_eq!(
        home.skillc(&["promote", &testing, "--to", "published", "--sign"])
            .code,
        Some(2)
    );
    assert_eq!(
        home.skillc(&[
            "promote",
            &testing,
            "--to",
            "published",
            "--local",
            "--sign",
            "--key",
            "k"
        ])
        .code,
        Some(2)
    );
}

/// cosign's encrypted private key format, written and read independently
/// of the sigstore crate (scrypt + NaCl secretbox over a PKCS#8 key, as
/// go-securesystemslib's `encrypted` package does for `cosign
/// generate-key-pair`): `read KEY PUB` decrypts ours and checks it matches
/// the public key; `write PREFIX` makes a pair the way cosign would.
const COSIGN_KEYS_PY: &str = r#"
import base64, hashlib, json, os, sys
import nacl.secret
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
password = os.environ["COSIGN_PASSWORD"].encode()
def pem(kind, data):
    b = base64.encodebytes(data).decode().replace("\n", "")
    lines = [b[i:i + 64] for i in range(0, len(b), 64)]
    return f"-----BEGIN {kind}-----\n" + "\n".join(lines) + f"\n-----END {kind}-----\n"
def unpem(text):
    return base64.b64decode("".join(l for l in text.strip().splitlines() if not l.startswith("-----")))
def public_der(key):
    return key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
if sys.argv[1] == "read":
    text = open(sys.argv[2]).read()
    assert text.startswith("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----"), text[:60]
    box = json.loads(unpem(text))
    kdf = box["kdf"]
    assert kdf["name"] == "scrypt" and box["cipher"]["name"] == "nacl/secretbox", box
    p = kdf["params"]
    secret = hashlib.scrypt(password, salt=base64.b64decode(kdf["salt"]), n=p["N"], r=p["r"], p=p["p"], maxmem=128 * 1024 * 1024, dklen=32)
    der = nacl.secret.SecretBox(secret).decrypt(base64.b64decode(box["ciphertext"]), base64.b64decode(box["cipher"]["nonce"]))
    key = serialization.load_der_private_key(der, password=None)
    assert isinstance(key.curve, ec.SECP256R1), key.curve
    assert public_der(key) == unpem(open(sys.argv[3]).read()), "the private key does not match cosign.pub"
else:
    key = ec.generate_private_key(ec.SECP256R1())
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    salt = os.urandom(32)
    secret = hashlib.scrypt(password, salt=salt, n=32768, r=8, p=1, maxmem=128 * 1024 * 1024, dklen=32)
    nonce = os.urandom(24)
    sealed = nacl.secret.SecretBox(secret).encrypt(der, nonce).ciphertext
    box = {"kdf": {"name": "scrypt", "params": {"N": 32768, "r": 8, "p": 1}, "salt": base64.b64encode(salt).decode()},
           "cipher": {"name": "nacl/secretbox", "nonce": base64.b64encode(nonce).decode()},
           "ciphertext": base64.b64encode(sealed).decode()}
    prefix = sys.argv[2]
    open(prefix + ".key", "w").write(pem("ENCRYPTED SIGSTORE PRIVATE KEY", json.dumps(box).encode()))
    open(prefix + ".pub", "w").write(pem("PUBLIC KEY", public_der(key)))
print("ok")
"#;

#[test]
fn keys_in_cosigns_format_work_both_ways() {
    let registry = Registry::start(Variant::Anonymous);
    let home = home();
    let python = |args: &[&str]| {
        let mut cmd = Command::new("python3");
        cmd.arg("-c")
            .arg(COSIGN_KEYS_PY)
            .args(args)
            .env("COSIGN_PASSWORD", "correct horse");
        let run = Run::of(&mut cmd);
        assert_eq!(
            run.stdout.trim(),
            "ok",
            "pip install pynacl cryptography: {}",
            run.stderr
        );
    };
    // Ours, read as cosign reads it.
    let ours = keygen(&home, "ours");
    python(&[
        "read",
        ours.with_extension("key").to_str().unwrap(),
        ours.with_extension("pub").to_str().unwrap(),
    ]);
    // One written as cosign writes it signs here, and verifies.
    let theirs = home.root().join("theirs");
    python(&["write", theirs.to_str().unwrap()]);
    let (reference, digest) = publish(&home, &registry.host(), "acme/hello-world", "hello-world");
    let signed = home
        .skillc(&[
            "--json",
            "sign",
            &reference,
            "--key",
            theirs.with_extension("key").to_str().unwrap(),
        ])
        .expect_code(0)
        .json();
    assert_eq!(signed["digest"], digest.as_str());
    home.skillc(&[
        "verify",
        &reference,
        "--key",
        theirs.with_extension("pub").to_str().unwrap(),
    ])
    .expect_code(0);
    home.skillc(&[
        "verify",
        &reference,
        "--key",
        ours.with_extension("pub").to_str().unwrap(),
    ])
    .expect_code(1);
}
