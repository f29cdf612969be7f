#!/usr/bin/env bash
# A real multi-arch Docker test environment for graviton's `docker` tests, from Debian packages only.
#
#   * bookworm: docker.io (for runc, iptables and friends), qemu-user-static, binfmt-support,
#     docker-registry, busybox-static (amd64 + arm64, unpacked for FROM-scratch test images)
#   * trixie:   Docker 26, containerd 1.7 and buildx 0.13, downloaded with apt's own lists and
#               unpacked (`dpkg -x`) into $PREFIX -- trixie is never added to the system sources
#   * dockerd with the containerd image store (buildx's `docker` driver builds multi-platform only
#     with it), bookworm's runc (trixie's needs GLIBC_2.38), logs in $STATE/dockerd.log
#   * a registry on 127.0.0.1:5000, QEMU binfmt for arm64 with the F flag
#
# Idempotent: every step first checks whether it is already done; with everything up it changes
# nothing and exits 0. Run as root:  bash scripts/docker-test-env.sh
# See /work/shared/docs/docker-test-env.md for what was verified on these machines.
set -euo pipefail

PREFIX=${GRAVITON_DOCKER_PREFIX:-/opt/graviton-docker}
STATE=${GRAVITON_DOCKER_STATE:-/var/lib/graviton-docker}
BUSYBOX_DIR=${GRAVITON_BUSYBOX_DIR:-/var/cache/graviton/busybox}
REGISTRY_ADDR=127.0.0.1:5000
TRIXIE_PACKAGES=(docker.io containerd docker-buildx)
BOOKWORM_PACKAGES=(docker.io qemu-user-static binfmt-support docker-registry curl
    mmdebstrap arch-test gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
# a real arm64 CPython image (graviton validate's tests), built from Debian's packages, cached
PYTHON_ARM64_DIR=${GRAVITON_PYTHON_ARM64_DIR:-/var/cache/graviton/python-arm64}
PYTHON_ARM64_IMAGE=localhost:5000/graviton-test/python-arm64:3.11-bookworm
# arm64 CPython headers for cross-compiling test extensions with aarch64-linux-gnu-gcc
PYTHON_ARM64_DEV_DIR=${GRAVITON_PYTHON_ARM64_DEV_DIR:-/var/cache/graviton/python-arm64-dev}
PLUGIN_DIR=/usr/local/lib/docker/cli-plugins
ROOT="$PREFIX/root"
DOCKER_PATH="$ROOT/usr/sbin:$ROOT/usr/bin:$ROOT/usr/libexec/docker:/usr/sbin:/usr/bin:/sbin:/bin"

say() { printf 'docker-test-env: %s\n' "$*"; }
die() { printf 'docker-test-env: error: %s\n' "$*" >&2; exit 1; }
changed=0

if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null && exec sudo -E bash "$0" "$@"
    die "run as root (installs packages and starts dockerd)"
fi
export DEBIAN_FRONTEND=noninteractive

# -- 1. bookworm packages ---------------------------------------------------------------------------
missing=()
for pkg in "${BOOKWORM_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
        missing+=("$pkg")
done
if ((${#missing[@]})); then
    say "installing from bookworm: ${missing[*]}"
    apt-get update -qq
    # policy-rc.d 101: the packages' postinst must not try to start services (no init here)
    policy_added=0
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
        policy_added=1
    fi
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    ((policy_added)) && rm -f /usr/sbin/policy-rc.d
    changed=1
fi

# apt with its own sources and lists (never the system's): apt_private DIR SUITE ARCH ARGS...
apt_private() {
    local dir=$1 suite=$2 arch=$3
    shift 3
    mkdir -p "$dir/lists/partial" "$dir/sources.list.d" "$dir/archives/partial"
    echo "deb http://deb.debian.org/debian $suite main" >"$dir/sources.list"
    apt-get -qq \
        -o Dir::Etc::sourcelist="$dir/sources.list" \
        -o Dir::Etc::sourceparts="$dir/sources.list.d" \
        -o Dir::State::Lists="$dir/lists" \
        -o Dir::Cache::archives="$dir/archives" \
        -o APT::Architecture="$arch" -o APT::Architectures="$arch" \
        -o Acquire::Languages=none -o APT::Sandbox::User=root \
        "$@"
}

# download PACKAGE for SUITE/ARCH and unpack it into DEST (skipped when MARKER exists)
fetch_unpack() {
    local suite=$1 arch=$2 dest=$3 marker=$4
    shift 4
    [[ -e $marker ]] && return 0
    local dir="$PREFIX/apt-$suite-$arch"
    say "downloading from $suite/$arch: $*"
    apt_private "$dir" "$suite" "$arch" update
    rm -f "$dir"/archives/*.deb
    (cd "$dir/archives" && apt_private "$dir" "$suite" "$arch" download "$@")
    mkdir -p "$dest"
    local deb
    for deb in "$dir"/archives/*.deb; do dpkg -x "$deb" "$dest"; done
    [[ -e $marker ]] || die "unpacked $* but $marker is missing"
    changed=1
}

# -- 2. Docker 26 / containerd 1.7 / buildx from trixie, unpacked, not installed --------------------
fetch_unpack trixie amd64 "$ROOT" "$ROOT/usr/libexec/docker/cli-plugins/docker-buildx" \
    "${TRIXIE_PACKAGES[@]}"
[[ -x $ROOT/usr/sbin/dockerd ]] || die "no dockerd in $ROOT"
# keep bookworm's runc: trixie's needs GLIBC_2.38 (the packages above do not ship runc anyway)
rm -f "$ROOT/usr/sbin/runc" "$ROOT/usr/bin/runc"
command -v runc >/dev/null || die "bookworm's runc is missing (apt-get install runc)"

mkdir -p "$PLUGIN_DIR"
if [[ "$(readlink "$PLUGIN_DIR/docker-buildx" || true)" != "$ROOT/usr/libexec/docker/cli-plugins/docker-buildx" ]]; then
    say "buildx plugin -> $PLUGIN_DIR/docker-buildx"
    ln -sfn "$ROOT/usr/libexec/docker/cli-plugins/docker-buildx" "$PLUGIN_DIR/docker-buildx"
    changed=1
fi

# -- 3. dockerd with the containerd image store -----------------------------------------------------
mkdir -p /etc/docker "$STATE"
if ! python3 - <<'EOF'; then
import json, sys
try:
    with open("/etc/docker/daemon.json") as f:
        cfg = json.load(f)
except FileNotFoundError:
    cfg = {}
sys.exit(0 if cfg.get("features", {}).get("containerd-snapshotter") is True else 1)
EOF
    say "enabling the containerd image store in /etc/docker/daemon.json"
    python3 - <<'EOF'
import json
path = "/etc/docker/daemon.json"
try:
    with open(path) as f:
        cfg = json.load(f)
except FileNotFoundError:
    cfg = {}
cfg.setdefault("features", {})["containerd-snapshotter"] = True
with open(path, "w") as f:
    json.dump(cfg, f, indent=2)
    f.write("\n")
EOF
    if [[ -S /var/run/docker.sock ]] && docker info >/dev/null 2>&1; then
        say "restarting dockerd for the new daemon.json"
        [[ -f $STATE/dockerd.pid ]] && kill "$(cat "$STATE/dockerd.pid")" 2>/dev/null || true
        for _ in $(seq 30); do docker info >/dev/null 2>&1 || break; sleep 1; done
    fi
    changed=1
fi

engine_ok() {
    docker info --format '{{.DriverStatus}}' 2>/dev/null | grep -q 'io.containerd.snapshotter'
}
if ! engine_ok; then
    if docker info >/dev/null 2>&1; then
        die "a docker engine without the containerd image store already runs; stop it first"
    fi
    say "starting dockerd (log: $STATE/dockerd.log)"
    # a stale pid file or socket from a previous run must not stop dockerd from starting
    rm -f /var/run/docker.pid /var/run/docker.sock
    PATH="$DOCKER_PATH" setsid nohup "$ROOT/usr/sbin/dockerd" \
        --pidfile /var/run/docker.pid >>"$STATE/dockerd.log" 2>&1 </dev/null &
    echo $! >"$STATE/dockerd.pid"
    for _ in $(seq 90); do engine_ok && break; sleep 1; done
    engine_ok || { tail -n 20 "$STATE/dockerd.log" >&2; die "dockerd did not come up"; }
    changed=1
fi
docker buildx version >/dev/null 2>&1 || die "docker buildx does not run"

# -- 4. registry on 127.0.0.1:5000 ------------------------------------------------------------------
# Storage in memory, not on disk: distribution 2.8's filesystem driver rewrites a file in place
# (truncate, then write), so a HEAD of a tag read while a PUT rewrites the tag's link file reads an
# empty digest and answers 500 "invalid checksum digest format". Docker 26 with the containerd image
# store does exactly that when it pushes a multi-platform image: it PUTs every child manifest and the
# index to the same tag, concurrently, with a HEAD of the tag before each (distribution 3 fixed it
# with a temporary file and a rename, distribution#4624). The inmemory driver reads and writes under
# one lock, so no read sees half a write. Its content dies with the process: nothing here needs it
# to outlive one registry (the tests push under fresh names; step 7 re-pushes the arm64 CPython
# image), and it grows by what the tests push, a few hundred MB a day of runs.
# A registry started with another config (the filesystem one before) is stopped and started again.
REGISTRY_CONFIG="version: 0.1
log:
  level: warn
storage:
  inmemory: {}
  delete:
    enabled: true
http:
  addr: $REGISTRY_ADDR"
registry_ok() { curl -fs -o /dev/null --max-time 3 "http://$REGISTRY_ADDR/v2/"; }
# the pid of the registry this script started, while it runs
registry_pid() {
    local pid cmdline
    pid=$(cat "$STATE/registry.pid" 2>/dev/null) || return 1
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
    [[ $cmdline == "docker-registry serve $STATE/registry.yml " ]] && echo "$pid"
}
# the running registry is ours and was started with $REGISTRY_CONFIG (written just before it started)
registry_current() {
    registry_pid >/dev/null && [[ "$(cat "$STATE/registry.yml" 2>/dev/null)" == "$REGISTRY_CONFIG" ]]
}
exec 8>"$STATE/.registry.lock"
flock 8
if ! registry_ok || ! registry_current; then
    if pid=$(registry_pid); then
        say "restarting the registry (pid $pid): started with another config, or not answering"
        kill "$pid"
        for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
        kill -0 "$pid" 2>/dev/null && die "the registry (pid $pid) did not stop"
    fi
    registry_ok && die "a registry this script did not start answers on $REGISTRY_ADDR; stop it first"
    if [[ -d $STATE/registry ]]; then
        say "removing the old on-disk registry storage $STATE/registry"
        rm -rf "$STATE/registry"
    fi
    say "starting the registry on $REGISTRY_ADDR, storage in memory (log: $STATE/registry.log)"
    printf '%s\n' "$REGISTRY_CONFIG" >"$STATE/registry.yml"
    setsid nohup docker-registry serve "$STATE/registry.yml" \
        >>"$STATE/registry.log" 2>&1 </dev/null 8>&- &
    echo $! >"$STATE/registry.pid"
    for _ in $(seq 30); do registry_ok && break; sleep 1; done
    registry_ok || { tail -n 20 "$STATE/registry.log" >&2; die "the registry did not come up"; }
    registry_current || die "the registry on $REGISTRY_ADDR is not the one just started"
    changed=1
fi
flock -u 8

# -- 5. QEMU binfmt for arm64, with the F (fix binary) flag -----------------------------------------
BINFMT=/proc/sys/fs/binfmt_misc
binfmt_ok() {
    [[ -f $BINFMT/qemu-aarch64 ]] && grep -qx enabled "$BINFMT/qemu-aarch64" &&
        grep -q '^flags:.*F' "$BINFMT/qemu-aarch64"
}
if ! binfmt_ok; then
    say "enabling QEMU binfmt for aarch64"
    [[ -f $BINFMT/register ]] || mount -t binfmt_misc binfmt_misc "$BINFMT"
    update-binfmts --enable qemu-aarch64 || true
    binfmt_ok || die "qemu-aarch64 binfmt is not enabled with the F flag ($BINFMT/qemu-aarch64)"
    changed=1
fi

# -- 6. static busybox for amd64 and arm64 (FROM-scratch test images) -------------------------------
for arch in amd64 arm64; do
    fetch_unpack bookworm "$arch" "$BUSYBOX_DIR/$arch" "$BUSYBOX_DIR/$arch/bin/busybox" \
        busybox-static
done

# -- 7. an arm64 CPython image without Docker Hub: Debian bookworm's arm64 python3 + pip -------------
# mmdebstrap runs the arm64 maintainer scripts under QEMU (~3-4 min); the rootfs tarball is cached in
# $PYTHON_ARM64_DIR, so a fresh engine or registry only re-imports it. flock: one build at a time.
python_image_ok() {
    local repo=${PYTHON_ARM64_IMAGE#*/}
    curl -fs -o /dev/null --max-time 5 \
        -H 'Accept: application/vnd.oci.image.index.v1+json' \
        -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
        -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
        "http://$REGISTRY_ADDR/v2/${repo%:*}/manifests/${repo##*:}"
}
mkdir -p "$PYTHON_ARM64_DIR"
exec 9>"$PYTHON_ARM64_DIR/.lock"
flock 9
if [[ ! -s $PYTHON_ARM64_DIR/rootfs.tar ]]; then
    mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
    mirror=${GRAVITON_DEBIAN_MIRROR:-${mirror:-http://deb.debian.org/debian}}
    say "building the arm64 CPython rootfs with mmdebstrap from $mirror (a few minutes under QEMU)"
    rm -f "$PYTHON_ARM64_DIR/rootfs.tar.part"
    mmdebstrap --quiet --arch=arm64 --variant=minbase --include=python3,python3-pip \
        --format=tar bookworm "$PYTHON_ARM64_DIR/rootfs.tar.part" "$mirror" ||
        die "mmdebstrap failed for the arm64 CPython rootfs"
    mv "$PYTHON_ARM64_DIR/rootfs.tar.part" "$PYTHON_ARM64_DIR/rootfs.tar"
    changed=1
fi
if ! python_image_ok; then
    # the engine keeps it when only the registry is new (its storage is in memory, step 4)
    if ! docker image inspect "$PYTHON_ARM64_IMAGE" >/dev/null 2>&1; then
        say "importing $PYTHON_ARM64_IMAGE (linux/arm64)"
        docker import --platform linux/arm64 \
            --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
            --change 'ENV PIP_BREAK_SYSTEM_PACKAGES=1' \
            --change 'CMD ["python3"]' \
            "$PYTHON_ARM64_DIR/rootfs.tar" "$PYTHON_ARM64_IMAGE" >/dev/null
    fi
    say "pushing $PYTHON_ARM64_IMAGE"
    docker push -q "$PYTHON_ARM64_IMAGE" >/dev/null
    python_image_ok || die "$PYTHON_ARM64_IMAGE is not in the registry after the push"
    changed=1
fi
flock -u 9
fetch_unpack bookworm arm64 "$PYTHON_ARM64_DEV_DIR" \
    "$PYTHON_ARM64_DEV_DIR/usr/include/aarch64-linux-gnu/python3.11/pyconfig.h" libpython3.11-dev

if ((changed)); then
    say "ready: $(docker version --format 'engine {{.Server.Version}}'), $(docker buildx version | cut -d' ' -f1-2), registry $REGISTRY_ADDR, busybox in $BUSYBOX_DIR"
else
    say "already up, nothing to do"
fi
