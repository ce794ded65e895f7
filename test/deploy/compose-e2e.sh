#!/usr/bin/env bash
# Compose end-to-end proof: the srs-proxy image and deploy/docker-compose.yml really run.
#
#   bash test/deploy/compose-e2e.sh        (as root, or as a user of the docker group)
#
# Installs what is missing (docker.io, docker-compose, debootstrap, ffmpeg; waits for the apt lock),
# starts dockerd when none runs, builds the proxy image (deploy/Dockerfile), brings the cluster up,
# publishes with ffmpeg from the host to the published RTMP port, plays RTMP, HTTP-FLV and HLS back
# through the containers, checks that the registry lists both origins, that every srs-proxy
# service's /metrics answers, that traces reached the OTLP endpoint, that an edge scaled to 3
# replicas on a host port range serves from each replica, that Prometheus (observability profile)
# scrapes every replica, and that `stop` ends every proxy
# container with exit code 0; then `down -v`. Exit 0 only when all of that held.
#
# When an image registry is unreachable (no `docker pull`), third-party images are replaced by
# local stand-ins (deploy/images/build-stand-ins.sh: debootstrap'ed Debian, cached between runs)
# passed through the compose image variables.
#
# Knobs: E2E_IMAGES=auto|standin|upstream (auto: stand-ins when node:24-bookworm-slim cannot be
# pulled), E2E_KEEP=1 (leave the cluster up), E2E_SCALE=0 (skip the scaling check),
# E2E_PROJECT (compose project name), CA_BUNDLE (build secret `ca`, default the system bundle),
# E2E_SOURCE=worktree|head (build the image from the working tree, default, or from `git archive
# HEAD`, which ignores uncommitted edits).
set -euo pipefail
export PATH="/usr/local/sbin:/usr/sbin:/sbin:/usr/local/bin:/usr/bin:/bin:$PATH"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
T0=$(date +%s)
PROJECT="${E2E_PROJECT:-srs-proxy-e2e}"
WORK="$(mktemp -d /tmp/srs-proxy-compose-e2e.XXXXXX)"
PUB_PID=""
PHASE="setup"
COMPOSE=()
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"

elapsed() { echo $(($(date +%s) - T0)); }
step() { PHASE="$*"; echo "compose-e2e [$(printf '%3d' "$(elapsed)")s] $*"; }
ok() { echo "compose-e2e [$(printf '%3d' "$(elapsed)")s]   ok: $*"; }
fail() {
  echo "compose-e2e: FAIL during '$PHASE': $*" >&2
  exit 1
}

compose() { "${COMPOSE[@]}" -p "$PROJECT" -f "$ROOT/deploy/docker-compose.yml" "$@"; }

cleanup() {
  local rc=$?
  [ -n "$PUB_PID" ] && kill "$PUB_PID" 2>/dev/null || true
  if [ "${#COMPOSE[@]}" -gt 0 ]; then
    if [ "$rc" != 0 ]; then
      echo "---- docker compose ps ----" >&2
      compose ps >&2 2>&1 || true
      echo "---- docker compose logs (tail) ----" >&2
      compose logs --no-color --tail=40 >&2 2>&1 || true
      [ -s "$WORK/publish.log" ] && { echo "---- ffmpeg publisher ----" >&2; tail -n 20 "$WORK/publish.log" >&2; }
    fi
    if [ "${E2E_KEEP:-0}" = 1 ]; then
      echo "compose-e2e: E2E_KEEP=1, cluster left up (project $PROJECT)"
    else
      compose down -v --remove-orphans >/dev/null 2>&1 || true
    fi
  fi
  rm -rf "$WORK"
  if [ "$rc" = 0 ]; then echo "compose-e2e: PASS in $(elapsed)s"; else echo "compose-e2e: FAILED (exit $rc) after $(elapsed)s" >&2; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- tools ----
step "tools"
missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v docker >/dev/null || missing+=(docker.io)
if ! docker compose version >/dev/null 2>&1 && ! command -v docker-compose >/dev/null; then missing+=(docker-compose); fi
command -v debootstrap >/dev/null || missing+=(debootstrap)
command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || missing+=(ffmpeg)
command -v curl >/dev/null || missing+=(curl)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing ${missing[*]} (waiting for the apt lock if another apt runs)"
  apt_wait=(-o DPkg::Lock::Timeout=600)
  $SUDO apt-get "${apt_wait[@]}" update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get "${apt_wait[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if docker compose version >/dev/null 2>&1; then COMPOSE=(docker compose); else COMPOSE=(docker-compose); fi
ok "compose: ${COMPOSE[*]} ($("${COMPOSE[@]}" version --short 2>/dev/null || true))"

# ---- docker engine ----
step "docker engine"
if ! docker info >/dev/null 2>&1; then
  echo "no docker engine answers: starting dockerd (log /var/log/dockerd.log)"
  $SUDO sh -c 'setsid nohup dockerd >/var/log/dockerd.log 2>&1 </dev/null &'
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { tail -n 20 /var/log/dockerd.log >&2 || true; fail "dockerd did not come up in 60 s"; }
fi
ok "engine $(docker version -f '{{.Server.Version}}')"

# A docker CLI that builds with BuildKit (the Dockerfile uses RUN --mount): one with the buildx
# plugin, or a 20.10-era CLI with its built-in BuildKit client.
BUILD_CLI=""
for cli in docker /usr/bin/docker /usr/local/bin/docker; do
  command -v "$cli" >/dev/null || continue
  if "$cli" buildx version >/dev/null 2>&1; then BUILD_CLI="$cli"; break; fi
  major="$("$cli" version -f '{{.Client.Version}}' 2>/dev/null | cut -d. -f1)"
  if [ -n "$major" ] && [ "$major" -lt 23 ] 2>/dev/null; then BUILD_CLI="$cli"; break; fi
done
[ -n "$BUILD_CLI" ] || fail "no docker CLI with BuildKit (install the buildx plugin)"

# ---- third-party images: upstream, or local stand-ins ----
step "third-party images"
mode="${E2E_IMAGES:-auto}"
if [ "$mode" = auto ]; then
  if timeout 30 docker pull -q node:24-bookworm-slim >/dev/null 2>&1; then mode=upstream; else mode=standin; fi
fi
if [ "$mode" = standin ]; then
  echo "no image registry: local stand-ins (cached in /var/cache/srs-proxy-stand-ins)"
  vars="$(bash "$ROOT/deploy/images/build-stand-ins.sh")" || fail "building the stand-in images"
  while IFS='=' read -r k v; do [ -n "$k" ] && export "$k=$v"; done <<<"$vars"
  ok "stand-ins: $(echo "$vars" | tr '\n' ' ')"
else
  ok "upstream images (pulled by compose)"
fi

# ---- the proxy image ----
step "build srs-proxy:latest (deploy/Dockerfile)"
secret=()
ca="${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
[ -s "$ca" ] && secret=(--secret "id=ca,src=$ca")
version="$(sed -n 's/.*major: \([0-9]*\), minor: \([0-9]*\), revision: \([0-9]*\).*/\1.\2.\3/p' libs/runtime/src/version.ts | head -n1)"
context=.
if [ "${E2E_SOURCE:-worktree}" = head ]; then
  context="$WORK/src"
  mkdir -p "$context"
  git archive HEAD | tar -x -C "$context"
  echo "building from git HEAD $(git rev-parse --short HEAD)"
fi
tb=$(date +%s)
DOCKER_BUILDKIT=1 "$BUILD_CLI" build -q "${secret[@]}" \
  --build-arg "NODE_IMAGE=${NODE_IMAGE:-node:24-bookworm-slim}" \
  --build-arg "VERSION=${version:-dev}" \
  --build-arg "REVISION=$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
  --build-arg "CREATED=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  -f "$context/deploy/Dockerfile" -t srs-proxy:latest "$context" >"$WORK/build.log" 2>&1 \
  || { tail -n 40 "$WORK/build.log" >&2; fail "docker build"; }
size="$(docker image inspect -f '{{.Size}}' srs-proxy:latest)"
ok "srs-proxy:latest built in $(($(date +%s) - tb))s, $((size / 1000000)) MB ($(docker run --rm srs-proxy:latest --version))"

# ---- host ports: the defaults when free, another free port otherwise ----
tcp_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
udp_busy() { ss -Hlun "sport = :$1" 2>/dev/null | grep -q .; }
free_tcp() { # default → default, or a free port
  local p=$1
  while tcp_busy "$p"; do p=$((20000 + RANDOM % 20000)); done
  echo "$p"
}
compose down -v --remove-orphans >/dev/null 2>&1 || true
export RTMP_EDGE_PORTS REGISTRY_PORT RTC_EDGE_API_PORT JAEGER_UI_PORT HTTP_EDGE_PORTS PROMETHEUS_PORT
RTMP_EDGE_PORTS="$(free_tcp 11935)"
REGISTRY_PORT="$(free_tcp 12025)"
RTC_EDGE_API_PORT="$(free_tcp 11985)"
JAEGER_UI_PORT="$(free_tcp 16686)"
PROMETHEUS_PORT="$(free_tcp 9090)"
HTTP_EDGE_PORTS=18080
while tcp_busy "$HTTP_EDGE_PORTS" || tcp_busy $((HTTP_EDGE_PORTS + 1)) || tcp_busy $((HTTP_EDGE_PORTS + 2)); do
  HTTP_EDGE_PORTS=$((20000 + RANDOM % 20000))
done
for p in 18000 20080; do udp_busy "$p" && fail "UDP port $p is in use on this host (the compose file publishes it)"; done
RTMP=$RTMP_EDGE_PORTS
HTTP=$HTTP_EDGE_PORTS
API="http://127.0.0.1:$REGISTRY_PORT"

# ---- cluster up ----
step "compose up (project $PROJECT)"
compose up -d --no-build >"$WORK/up.log" 2>&1 || { cat "$WORK/up.log" >&2; fail "compose up"; }
services=(nats redis jaeger registry rtmp-edge http-edge rtc-edge srt-edge origin1 origin2)
proxies=(registry rtmp-edge http-edge rtc-edge srt-edge)
# Containers of one compose service (labels: the same for docker-compose v1 and docker compose v2;
# plain docker is much faster than a compose command on a loaded machine).
cids() { docker ps -aq --filter "label=com.docker.compose.project=$PROJECT" --filter "label=com.docker.compose.service=$1"; }
wait_healthy() { # timeout-seconds
  local deadline=$(($(date +%s) + $1)) s line unhealthy states
  while :; do
    states="$(docker ps -a --filter "label=com.docker.compose.project=$PROJECT" --format '{{.Label "com.docker.compose.service"}}|{{.Status}}')"
    unhealthy=()
    for s in "${services[@]}"; do
      line="$(echo "$states" | grep "^$s|" || true)"
      if [ -z "$line" ]; then unhealthy+=("$s=missing"); continue; fi
      while IFS='|' read -r _ st; do
        case "$st" in *"(healthy)"*) ;; *) unhealthy+=("$s=$st") ;; esac
      done <<<"$line"
    done
    [ "${#unhealthy[@]}" = 0 ] && return 0
    [ "$(date +%s)" -ge "$deadline" ] && fail "not healthy: ${unhealthy[*]}"
    sleep 2
  done
}
wait_healthy 240
ok "all ${#services[@]} services healthy"

# Prometheus of the observability profile (Grafana has no stand-in; with upstream images the
# whole profile runs). Checked after the scaling step, so that it must find every replica.
PROM=0
if [ "${E2E_OBSERVABILITY:-1}" = 1 ] && { [ "$mode" = upstream ] || docker image inspect "${PROMETHEUS_IMAGE:-none}" >/dev/null 2>&1; }; then
  step "observability profile: prometheus"
  if [ "$mode" = upstream ]; then prof=(); else prof=(--no-deps prometheus); fi
  compose --profile observability up -d --no-build "${prof[@]}" >"$WORK/obs.log" 2>&1 \
    || { cat "$WORK/obs.log" >&2; fail "compose --profile observability up"; }
  PROM=1
  ok "prometheus started on host port $PROMETHEUS_PORT"
fi

# ---- registry lists the origins ----
step "registry lists origins ($API/api/v1/proxy/origins)"
for i in $(seq 1 30); do
  body="$(curl -fsS --max-time 5 "$API/api/v1/proxy/origins" || true)"
  alive="$(printf '%s' "$body" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{const o=JSON.parse(s).origins.filter(x=>x.alive).map(x=>x.origin.device_id||x.origin.ip);console.log(o.sort().join(","))}catch{console.log("")}})')"
  [ "$alive" = "origin1,origin2" ] && break
  [ "$i" = 30 ] && fail "registry lists '${alive}' alive, want origin1,origin2: $body"
  sleep 2
done
ok "alive origins: $alive"

# ---- publish from the host ----
step "publish rtmp://127.0.0.1:$RTMP/live/stream (ffmpeg)"
ffmpeg -nostdin -hide_banner -loglevel error -re \
  -f lavfi -i testsrc=size=320x240:rate=25 -f lavfi -i sine=frequency=440 \
  -c:v libx264 -preset ultrafast -tune zerolatency -g 25 -c:a aac -f flv \
  "rtmp://127.0.0.1:$RTMP/live/stream" >"$WORK/publish.log" 2>&1 </dev/null &
PUB_PID=$!
sleep 3
kill -0 "$PUB_PID" 2>/dev/null || fail "the publisher exited: $(cat "$WORK/publish.log")"
ok "publishing (pid $PUB_PID)"

# Decodes ~3 s of video through the proxy; retried while the stream/playlist appears.
play() { # label url min-frames
  local label=$1 url=$2 min=$3 out frames i
  for i in $(seq 1 15); do
    kill -0 "$PUB_PID" 2>/dev/null || fail "the publisher exited: $(cat "$WORK/publish.log")"
    out="$(timeout 40 ffprobe -v error -rw_timeout 15000000 -read_intervals '%+3' -count_frames -select_streams v:0 \
      -show_entries stream=codec_name,width,height,nb_read_frames -of csv=p=0 "$url" 2>"$WORK/play.err" || true)"
    frames="$(echo "$out" | awk -F, 'NF>=4 {print $4; exit}')"
    if [ -n "$frames" ] && [ "$frames" -ge "$min" ] 2>/dev/null; then
      ok "$label: $url → $(echo "$out" | grep -m1 .) (codec,width,height,frames)"
      return 0
    fi
    sleep 2
  done
  fail "$label: no playable video from $url: '$out' $(tail -n 3 "$WORK/play.err")"
}
step "play back through the containers"
play RTMP "rtmp://127.0.0.1:$RTMP/live/stream" 25
play HTTP-FLV "http://127.0.0.1:$HTTP/live/stream.flv" 25
play HLS "http://127.0.0.1:$HTTP/live/stream.m3u8" 25

# ---- /metrics of every srs-proxy service (from inside each container, like Prometheus) ----
step "/metrics of every srs-proxy service"
metrics_js="fetch('http://127.0.0.1:12026/metrics',{signal:AbortSignal.timeout(10000)}).then(async r=>{const t=await r.text();const n=t.split('\n').filter(l=>l.startsWith('# TYPE')).length;console.log(r.status+' '+n);process.exit(r.ok&&n>0?0:1)},e=>{console.log(String(e));process.exit(1)})"
for s in "${proxies[@]}"; do
  id="$(cids "$s" | head -n1)"
  res="$(docker exec "$id" node -e "$metrics_js" 2>&1)" || fail "$s /metrics: $res"
  ok "$s /metrics: HTTP ${res% *}, ${res#* } metric families"
done

# ---- traces reached the OTLP endpoint (Jaeger query API: GET /api/services) ----
step "traces at the OTLP endpoint"
for i in $(seq 1 30); do
  svcs="$(curl -fsS --max-time 5 "http://127.0.0.1:$JAEGER_UI_PORT/api/services" || true)"
  if echo "$svcs" | grep -q 'srs-proxy-registry' && echo "$svcs" | grep -q 'srs-proxy-rtmp-edge'; then break; fi
  [ "$i" = 30 ] && fail "no traces from srs-proxy-registry and srs-proxy-rtmp-edge: $svcs"
  sleep 2
done
ok "services with traces: $svcs"
stats="$(curl -fsS --max-time 5 "http://127.0.0.1:$JAEGER_UI_PORT/api/stats" 2>/dev/null || true)"
[ -n "$stats" ] && ok "receiver: $stats"

# ---- scaling: http-edge ×3 on a host port range ----
if [ "${E2E_SCALE:-1}" = 1 ]; then
  step "scale http-edge to 3 replicas on host ports $HTTP-$((HTTP + 2))"
  HTTP_EDGE_PORTS="$HTTP-$((HTTP + 2))" compose up -d --no-build --no-deps --scale http-edge=3 http-edge >"$WORK/scale.log" 2>&1 \
    || { cat "$WORK/scale.log" >&2; fail "compose up --scale http-edge=3"; }
  services=(http-edge)
  wait_healthy 180
  [ "$(cids http-edge | wc -l)" = 3 ] || fail "want 3 http-edge replicas, have $(cids http-edge | wc -l)"
  ports=()
  i=0
  for id in $(cids http-edge); do
    i=$((i + 1))
    hp="$(docker port "$id" 18080/tcp | head -n1 | awk -F: '{print $NF}')"
    [ -n "$hp" ] || fail "replica $i of http-edge publishes no port"
    ports+=("$hp")
    play "HLS via http-edge replica $i" "http://127.0.0.1:$hp/live/stream.m3u8" 10
  done
  [ "$(printf '%s\n' "${ports[@]}" | sort -u | wc -l)" = 3 ] || fail "replicas share host ports: ${ports[*]}"
  ok "3 replicas on host ports ${ports[*]}, no collision"
fi

# ---- Prometheus scrapes every replica of every srs-proxy service ----
if [ "$PROM" = 1 ]; then
  step "prometheus scrapes every srs-proxy replica"
  services=(prometheus)
  [ "$mode" = upstream ] && services=(prometheus grafana)
  wait_healthy 120
  want=0
  for s in "${proxies[@]}"; do want=$((want + $(cids "$s" | wc -l))); done
  targets_js='let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{const t=JSON.parse(s).data.activeTargets.filter(x=>x.labels.job==="srs-proxy");console.log(t.filter(x=>x.health==="up").length+" "+t.map(x=>x.labels.service+"="+x.health).sort().join(","))}catch(e){console.log("0 "+e)}})'
  for i in $(seq 1 45); do
    res="$(curl -fsS --max-time 5 "http://127.0.0.1:$PROMETHEUS_PORT/api/v1/targets" 2>/dev/null | node -e "$targets_js")"
    [ "${res%% *}" = "$want" ] && break
    [ "$i" = 45 ] && fail "prometheus has ${res%% *} of $want srs-proxy targets up: ${res#* }"
    sleep 2
  done
  ok "prometheus: $want/$want targets up (${res#* })"
fi

# ---- SIGTERM: every proxy container stops by itself with exit code 0 ----
step "stop (SIGTERM) the srs-proxy containers"
kill "$PUB_PID" 2>/dev/null || true
wait "$PUB_PID" 2>/dev/null || true
PUB_PID=""
ts=$(date +%s)
compose stop -t 40 "${proxies[@]}" >/dev/null 2>&1 || fail "compose stop"
took=$(($(date +%s) - ts))
for s in "${proxies[@]}"; do
  for id in $(cids "$s"); do
    code="$(docker inspect -f '{{.State.ExitCode}}' "$id")"
    [ "$code" = 0 ] || fail "$s ($id) exited with $code after SIGTERM"
  done
done
[ "$took" -lt 35 ] || fail "stopping took ${took}s: SIGTERM did not end the processes (killed at the timeout)"
ok "all srs-proxy containers exited 0 within ${took}s"

step "compose down -v"
compose down -v --remove-orphans >/dev/null 2>&1 || fail "compose down -v"
COMPOSE=()
ok "down"
