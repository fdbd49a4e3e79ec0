#!/usr/bin/env bash
# Build the init-container image (see Containerfile) as an OCI image layout,
# without a container engine: static binaries by cargo, the image by umoci.
#
#   container/build.sh [--profile release|dev] [--out DIR] [--tag TAG]
#
# Prints the layout reference (oci:DIR:TAG). Copy it to a registry with
# `skopeo copy oci:DIR:TAG docker://REGISTRY/skilld/skillc:TAG`.
set -euo pipefail
cd "$(dirname "$0")/.."

profile=release
out=target/container/layout
tag=latest
while (($#)); do
  case "$1" in
    --profile) profile=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --tag) tag=$2; shift 2 ;;
    *) echo "usage: container/build.sh [--profile release|dev] [--out DIR] [--tag TAG]" >&2; exit 2 ;;
  esac
done
command -v umoci >/dev/null || { echo "build.sh: umoci is missing (Debian package umoci)" >&2; exit 1; }

triple=$(rustc -vV | sed -n 's/^host: //p')
# glibc, linked statically: the binaries need nothing from the image.
RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
  cargo build --quiet --profile "$profile" --target "$triple" -p skillc -p skilld
dir=target/$triple/$([[ $profile == dev ]] && echo debug || echo "$profile")
for bin in skillc skilld; do
  if ldd "$dir/$bin" 2>&1 | grep -q '=>'; then
    echo "build.sh: $dir/$bin is not static" >&2
    exit 1
  fi
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rm -rf "$out"
mkdir -p "$(dirname "$out")"
umoci init --layout "$out"
umoci new --image "$out:$tag"
umoci unpack --rootless --image "$out:$tag" "$work/bundle" >/dev/null
root=$work/bundle/rootfs
install -D -m 0755 "$dir/skillc" "$root/usr/local/bin/skillc"
install -D -m 0755 "$dir/skilld" "$root/usr/local/bin/skilld"
install -d -m 1777 "$root/tmp"
# Registries' TLS certificates are checked against the system's roots.
if [[ -f /etc/ssl/certs/ca-certificates.crt ]]; then
  install -D -m 0644 /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
fi
install -d -m 0755 "$root/etc"
printf 'nonroot:x:65532:65532::/tmp:/sbin/nologin\n' >"$root/etc/passwd"
printf 'nonroot:x:65532:\n' >"$root/etc/group"
umoci repack --image "$out:$tag" "$work/bundle" >/dev/null
umoci config --image "$out:$tag" \
  --config.entrypoint /usr/local/bin/skillc \
  --config.env SKILLD_HOME=/tmp/skilld --config.env HOME=/tmp \
  --config.env SKILLD_BIN=/usr/local/bin/skilld \
  --config.env PATH=/usr/local/bin \
  --config.user 65532:65532 \
  --os linux --architecture amd64 \
  --config.label org.opencontainers.image.title=skillc \
  --config.label org.opencontainers.image.source=https://github.com/skilld/skilld
umoci gc --layout "$out"
echo "oci:$out:$tag"
