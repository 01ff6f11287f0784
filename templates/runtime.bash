# ---------------------------------------------------------------------------------------------
# Runtime: the same in every generated script. The build itself is at the end of the file.
# Every step runs as its own Compose project (fresh containers, networks and volumes), which is
# removed when the step ends, also on failure and on Ctrl-C.
# ---------------------------------------------------------------------------------------------

C2C_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
C2C_COMPOSE_FILE="$C2C_DIR/compose.yaml"
C2C_MODE=run          # run | list | dry-run
C2C_TAG=''
C2C_HAVE_TAG=0
C2C_PUSH=0
C2C_MANUAL=0
C2C_REMOVE=1
C2C_STOP_TIMEOUT=${C2C_STOP_TIMEOUT:-2}
C2C_HEALTH_TIMEOUT=${C2C_HEALTH_TIMEOUT:-3600}
C2C_MAX_PARALLEL=${C2C_MAX_PARALLEL:-8}  # step projects at once: each needs a network (see c2c_slot_take)
C2C_POOL_TIMEOUT=${C2C_POOL_TIMEOUT:-600}  # how long a step waits for a network pool other runs hold
C2C_IN_PARALLEL=0  # set in the branches of parallel groups
C2C_SLOT=''  # the calling step's place in the queue of step projects (c2c_slot_take)
C2C_POOL_FLAG=''  # set for one command: the file c2c_prefixed creates when Docker had no network pool
C2C_FOLLOWERS=()  # the calling step's dependency log followers: pairs of pid and pid file
C2C_COMPOSE_CHOICE=${C2C_COMPOSE:-auto}
C2C_STEPS=()
C2C_KEY_PATH=''
C2C_KEY_B64=''
C2C_STEP_FILES=()
C2C_DECRYPTED=()
C2C_USER_ENV=()
C2C_CFG_KEYS=()  # the current step's registry credentials and the config directories made of them
C2C_CFG_DIRS=()
C2C_CFG_DIR=''
C2C_CFG_FROM=''
C2C_COMPOSE=()
C2C_S_NAME=''  # the service c2c_service last loaded into C2C_S_*
C2C_COMPOSE_SHOWN=''  # how --dry-run prints "${C2C_COMPOSE[@]}" --project-directory DIR -f FILE
C2C_ENV_SHOWN=''  # and C2C_ENV_ARGS
C2C_PLANNED=0  # steps a dry run would have run
C2C_STEP_ENV=''  # set for one c2c_compose call: add the step's CI_* and -e variables
C2C_WITH_CONFIG=''  # set for one c2c_compose call: the Docker config directory to use
C2C_IN_GENERATOR=''  # set while a dockercfg_service runs: its own image uses your login
C2C_USER_CONTEXT=''  # your Docker context, when it is not the default one (see c2c_docker_config)
C2C_CONTEXT_KNOWN=0
C2C_STATE=''
C2C_RUN_ID=''
C2C_SKIP=''
C2C_FORCED=0
C2C_DEPTH=0
C2C_CLEANED=0
C2C_EXIT_SIGNAL=0
C2C_STARTED=0
C2C_CI_VARS=(CI CI_NAME CI_BRANCH CI_BUILD_ID CI_COMMIT_ID CI_COMMIT_MESSAGE CI_COMMIT_DESCRIPTION
  CI_COMMITTER_NAME CI_COMMITTER_EMAIL CI_COMMITTER_USERNAME CI_REPO_NAME CI_PROJECT_ID CI_TIMESTAMP
  CI_STRING_TIME CI_PR_NUMBER CI_PULL_REQUEST)

c2c_usage() {
  cat <<EOF
Usage: ${0##*/} [OPTIONS]

Runs the Codeship steps of this project like \`jet steps\`: every step in fresh containers of
its own Compose project (${C2C_COMPOSE_FILE##*/}), parallel groups side by side, serial groups
in order, stopping at the first failure. Everything a step creates is removed when it ends.

Selecting steps:
  --tag TAG             the build tag (branch or git tag) for tag:/exclude: filters;
                        without it, steps that carry a tag: are skipped, as with jet
  --step NAME           run only this step or group (repeatable)
  --push                run push steps (skipped by default, as with jet)
  --manual              run manual (approval) groups instead of skipping them
Seeing what would happen:
  --list                print the step tree and which steps the filters select; run nothing
  --dry-run             print the exact docker commands; run nothing
Environment:
  -e, --env KEY=VALUE   set a variable in every step container (repeatable)
  --ci-branch, --ci-build-id, --ci-commit-id, --ci-commit-message, --ci-commit-description,
  --ci-committer-name, --ci-committer-email, --ci-committer-username, --ci-repo-name,
  --ci-project-id VALUE
                        override a CI_* variable (defaults come from git)
Running:
  --key-path FILE       the AES key for encrypted files: environment, build args, registry
                        credentials (default: codeship.aes next to the services file; the
                        CODESHIP_AES_KEY variable, base64, wins)
  --no-remove           keep each step's containers, networks and volumes
  --stop-timeout SECS   how long a step's containers get to stop (default: $C2C_STOP_TIMEOUT)
  --max-parallel N      run at most N steps at once; the others of a parallel group queue
                        (default: $C2C_MAX_PARALLEL; every step needs one of Docker's ~30 default
                        network address pools)
  --compose v1|v2       use docker-compose (v1) or docker compose (v2); default: v2 if present
  -h, --help            show this help

Exit status: 0 when every selected step passed; otherwise the failing step's exit code;
130 on Ctrl-C (SIGINT), 143 on SIGTERM; 2 for a usage error.
EOF
}

c2c_die_usage() {
  printf '%s: %s\nTry --help.\n' "${0##*/}" "$1" >&2
  exit 2
}

c2c_parse_args() {
  local opt value
  while (($#)); do
    opt=$1
    value=''
    case $opt in
      --*=*) value=${opt#*=}; opt=${opt%%=*}; set -- "$opt" "$value" "${@:2}" ;;
    esac
    case $opt in
      -h|--help) c2c_usage; exit 0 ;;
      --list) C2C_MODE=list; shift ;;
      --dry-run) C2C_MODE=dry-run; shift ;;
      --push) C2C_PUSH=1; shift ;;
      --manual) C2C_MANUAL=1; shift ;;
      --no-remove) C2C_REMOVE=0; shift ;;
      --tag|--step|-e|--env|--key-path|--stop-timeout|--max-parallel|--compose|--ci-*)
        (($# >= 2)) || c2c_die_usage "$opt needs a value"
        value=$2
        shift 2
        case $opt in
          --tag) C2C_TAG=$value; C2C_HAVE_TAG=1 ;;
          --step) C2C_STEPS+=("$value") ;;
          -e|--env)
            [[ $value == *=* ]] || c2c_die_usage "-e needs KEY=VALUE, got: $value"
            C2C_USER_ENV+=("$value") ;;
          --key-path) C2C_KEY_PATH=$value ;;
          --stop-timeout)
            [[ $value =~ ^[0-9]+$ ]] || c2c_die_usage "--stop-timeout needs whole seconds"
            C2C_STOP_TIMEOUT=$value ;;
          --max-parallel)
            [[ $value =~ ^[1-9][0-9]{0,5}$ ]] || c2c_die_usage "--max-parallel needs a whole number of at least 1"
            C2C_MAX_PARALLEL=$value ;;
          --compose)
            [[ $value == v1 || $value == v2 || $value == auto ]] || c2c_die_usage "--compose takes v1 or v2"
            C2C_COMPOSE_CHOICE=$value ;;
          --ci-branch) CI_BRANCH=$value ;;
          --ci-build-id) CI_BUILD_ID=$value ;;
          --ci-commit-id) CI_COMMIT_ID=$value ;;
          --ci-commit-message) CI_COMMIT_MESSAGE=$value ;;
          --ci-commit-description) CI_COMMIT_DESCRIPTION=$value ;;
          --ci-committer-name) CI_COMMITTER_NAME=$value ;;
          --ci-committer-email) CI_COMMITTER_EMAIL=$value ;;
          --ci-committer-username) CI_COMMITTER_USERNAME=$value ;;
          --ci-repo-name) CI_REPO_NAME=$value ;;
          --ci-project-id) CI_PROJECT_ID=$value ;;
          *) c2c_die_usage "unknown option: $opt" ;;
        esac ;;
      *) c2c_die_usage "unknown argument: $opt" ;;
    esac
  done
  [[ $C2C_MAX_PARALLEL =~ ^[1-9][0-9]{0,5}$ ]] || c2c_die_usage "C2C_MAX_PARALLEL needs a whole number of at least 1"
  [[ $C2C_POOL_TIMEOUT =~ ^[0-9]{1,7}$ ]] || c2c_die_usage "C2C_POOL_TIMEOUT needs whole seconds"
}

# CI_* variables: jet's flag values, else what git knows, else Codeship's defaults.
c2c_git() {
  git -C "$C2C_DIR" "$@" 2>/dev/null || true
}

c2c_ci_defaults() {
  local inside
  inside=$(c2c_git rev-parse --is-inside-work-tree)
  if [[ $inside == true ]]; then
    : "${CI_BRANCH=$(c2c_git rev-parse --abbrev-ref HEAD)}"
    : "${CI_COMMIT_ID=$(c2c_git rev-parse HEAD)}"
    : "${CI_COMMIT_MESSAGE=$(c2c_git log -1 --pretty=%B)}"
    : "${CI_COMMIT_DESCRIPTION=$(c2c_git describe --abbrev=1 --tags --always)}"
    : "${CI_COMMITTER_NAME=$(c2c_git log -1 --pretty=%cn)}"
    : "${CI_COMMITTER_EMAIL=$(c2c_git log -1 --pretty=%ce)}"
    : "${CI_REPO_NAME=$(basename "$(c2c_git rev-parse --show-toplevel)")}"
  fi
  export CI=true CI_NAME=codeship
  : "${CI_BRANCH=}" "${CI_COMMIT_ID=}" "${CI_COMMIT_MESSAGE=}" "${CI_COMMIT_DESCRIPTION=}"
  : "${CI_COMMITTER_NAME=}" "${CI_COMMITTER_EMAIL=}" "${CI_COMMITTER_USERNAME=}"
  : "${CI_REPO_NAME=${C2C_DIR##*/}}" "${CI_PROJECT_ID=}" "${CI_BUILD_ID=$C2C_RUN_ID}"
  : "${CI_TIMESTAMP=$(date +%s)}"
  : "${CI_STRING_TIME=$(date -u +%Y-%m-%dT%H:%M:%S+00:00)}"
  : "${CI_PR_NUMBER=}" "${CI_PULL_REQUEST=false}"
  export "${C2C_CI_VARS[@]}"
}

c2c_detect_compose() {
  case $C2C_COMPOSE_CHOICE in
    v2) C2C_COMPOSE=(docker compose) ;;
    v1) C2C_COMPOSE=(docker-compose) ;;
    *)
      if docker compose version >/dev/null 2>&1; then
        C2C_COMPOSE=(docker compose)
      elif command -v docker-compose >/dev/null 2>&1; then
        C2C_COMPOSE=(docker-compose)
      else
        C2C_COMPOSE=(docker compose)
        if [[ $C2C_MODE == run ]]; then
          printf '%s: neither "docker compose" (v2) nor "docker-compose" (v1) was found\n' "${0##*/}" >&2
          exit 127
        fi
      fi ;;
  esac
}

# --- output ----------------------------------------------------------------------------------
c2c_say() {
  printf '%s\n' "$*"
}

# Time without a fork per call (a --dry-run of 1,000 steps would otherwise fork thousands of
# times): c2c_now_ms VAR sets VAR to milliseconds; c2c_secs VAR MS sets VAR to "1.2s".
c2c_now_ms() {
  if [[ -n ${EPOCHREALTIME:-} ]]; then
    local t=${EPOCHREALTIME/[.,]/}
    printf -v "$1" '%s' $((10#$t / 1000))
  else
    printf -v "$1" '%s' $((SECONDS * 1000))
  fi
}

c2c_secs() {
  printf -v "$1" '%d.%01ds' $(($2 / 1000)) $(($2 % 1000 / 100))
}

# Runs a command with every output line prefixed, in the background so that a signal reaches
# the script's trap at once; returns the command's exit status.
c2c_logged() {
  local prefix=$1
  shift
  if [[ $C2C_MODE == dry-run ]]; then
    [[ $1 == c2c_compose ]] || { c2c_show "$@"; return 0; }
    # what c2c_compose would run, from parts quoted once per run: dry runs of big builds stay fast
    local out='' files='' config=''
    ((${#C2C_STEP_FILES[@]} == 0)) || printf -v files ' %q' "${C2C_STEP_FILES[@]}"
    [[ -z ${C2C_WITH_CONFIG:-} ]] || printf -v config 'env DOCKER_CONFIG=%q ' "$C2C_WITH_CONFIG"
    (($# < 4)) || printf -v out ' %q' "${@:4}"
    printf '+ %s%s%s -p %q %q%s%s\n' "$config" "$C2C_COMPOSE_SHOWN" "$files" "$2" "$3" \
      "${C2C_STEP_ENV:+ $C2C_ENV_SHOWN}" "$out"
    return 0
  fi
  local status=0
  c2c_prefixed "$prefix" "$@" &
  wait "$!" || status=$?
  return "$status"
}

# Compose's own progress lines (containers and networks being created, started, removed) are
# noise next to the step's output, and jet does not show them; errors still pass.
C2C_PROGRESS_RE='^ *(Container|Network|Volume) [^ ]+ +(Creating|Created|Starting|Started|Running|Waiting|Healthy|Stopping|Stopped|Removing|Removed|Recreate|Recreated)$|^(Creating|Starting|Stopping|Removing) [^ ]+ +\.\.\.( *done)? *$|^(Creating|Removing) (network|volume) '

# mawk (the awk of Debian and Ubuntu) reads a pipe in blocks unless -W interactive: without it,
# a step's lines would show only when the step ends, and be lost if the run is interrupted.
C2C_AWK=(awk)
if awk -W version 2>/dev/null | grep -q '^mawk'; then C2C_AWK=(awk -W interactive); fi

# Docker's answer when no network address pool is left (Compose v2, v1; newer engines' wording).
C2C_NO_POOL_RE='^(failed to create network [^ ]+: )?(Error response from daemon: )?(ERROR: )?(could not find an available, non-overlapping IPv4 address pool|all predefined address pools have been fully subnetted)'

c2c_prefixed() {
  local prefix=$1
  shift
  "$@" 2>&1 </dev/null | c2c_prefix_lines "$prefix"
  return "${PIPESTATUS[0]}"
}

# c2c_prefix_lines PREFIX: stdin to stdout, each line prefixed and written with one write(2) of at
# most PIPE_BUF (4096) bytes, so that the lines of steps and dependencies running at once never
# mix (a longer line is cut into several prefixed lines). With C2C_POOL_FLAG set, Docker's "no
# address pool" error creates that file instead of being shown (the step waits and tries again).
c2c_prefix_lines() {
  LC_ALL=C C2C_P=$1 C2C_Q=$C2C_PROGRESS_RE C2C_F=${C2C_POOL_FLAG:-} C2C_N=$C2C_NO_POOL_RE "${C2C_AWK[@]}" '
    BEGIN { p = ENVIRON["C2C_P"]; f = ENVIRON["C2C_F"]; n = 4095 - length(p); if (n < 512) n = 512 }
    { sub(/\r$/, "") }
    $0 ~ ENVIRON["C2C_Q"] { next }
    f != "" && $0 ~ ENVIRON["C2C_N"] { printf "" > f; close(f); next }
    f != "" && $0 ~ /^ *Network [^ ]+ +Error$/ { next }
    { s = $0
      while (length(s) > n) {  # cut between UTF-8 characters
        k = n; while (k > n - 3 && substr(s, k + 1, 1) ~ /^[\200-\277]/) k--
        printf "%s", p substr(s, 1, k) "\n"; fflush(); s = substr(s, k + 1)
      }
      printf "%s", p s "\n"; fflush() }'
}

# c2c_quiet COMMAND... : runs it with its output dropped, except in a dry run (it is the plan).
c2c_quiet() {
  if [[ $C2C_MODE == dry-run ]]; then "$@"; else "$@" >/dev/null; fi
}

c2c_show() {
  local out
  printf -v out '%q ' "$@"
  printf '+ %s\n' "${out% }"
}

# c2c_compose PROJECT SUBCOMMAND ARGS... ; with C2C_STEP_ENV set, the step's CI_* and -e
# variables go to the (run) subcommand; with C2C_WITH_CONFIG, Docker's config directory.
c2c_compose() {
  local project=$1
  shift
  if [[ -n ${C2C_WITH_CONFIG:-} ]]; then
    local -x DOCKER_CONFIG=$C2C_WITH_CONFIG
    [[ -z $C2C_USER_CONTEXT ]] || local -x DOCKER_CONTEXT=$C2C_USER_CONTEXT
  fi
  [[ -z ${C2C_STEP_ENV:-} ]] || set -- "$1" "${C2C_ENV_ARGS[@]}" "${@:2}"
  "${C2C_COMPOSE[@]}" --project-directory "$C2C_DIR" -f "$C2C_COMPOSE_FILE" \
    ${C2C_STEP_FILES[@]+"${C2C_STEP_FILES[@]}"} -p "$project" "$@"
}

# --- step selection --------------------------------------------------------------------------
# A filter is the text as written plus, for a regex (it has ^ or $), the equivalent bash ERE,
# converted from Codeship's RE2 when the script was generated. Like jet, a tag equal to the
# whole text matches first; a regex then matches anywhere in the tag unless anchored.
c2c_filter_matches() {
  local text=$1 re=$2
  [[ $C2C_HAVE_TAG == 1 ]] || return 1
  [[ $C2C_TAG == "$text" ]] && return 0
  [[ -n $re ]] || return 1
  [[ $C2C_TAG =~ $re ]]
}

c2c_is_requested() {
  local name=$1 wanted
  ((${#C2C_STEPS[@]})) || return 0
  [[ $C2C_FORCED == 1 ]] && return 0
  for wanted in "${C2C_STEPS[@]}"; do
    [[ $wanted == "$name" ]] && return 0
  done
  return 1
}

# Sets C2C_SKIP (why this node does not run) in the caller's scope; returns 1 when the node
# has nothing to do at all (not selected, and not listing).
c2c_enter() {
  local kind=$1 name=$2 tag=$3 tag_re=$4 exclude=$5 exclude_re=$6 detail=${7:-}
  if [[ -z $C2C_SKIP ]]; then
    if [[ -n $exclude ]] && c2c_filter_matches "$exclude" "$exclude_re"; then
      C2C_SKIP="excluded by exclude: $exclude"
    elif [[ -n $tag ]] && ! c2c_filter_matches "$tag" "$tag_re"; then
      if [[ $C2C_HAVE_TAG == 1 ]]; then
        C2C_SKIP="tag: $tag does not match '$C2C_TAG'"
      else
        C2C_SKIP="tag: $tag (no --tag given)"
      fi
    fi
  fi
  if ((${#C2C_STEPS[@]})) && [[ $C2C_FORCED == 0 ]]; then
    local wanted
    for wanted in "${C2C_STEPS[@]}"; do
      [[ $wanted == "$name" ]] && C2C_FORCED=1
    done
  fi
  local requested=1
  if [[ $kind != group && $kind != manual ]] && ! c2c_is_requested "$name"; then
    requested=0
  fi
  if [[ $C2C_MODE == list ]]; then
    local mark='run ' indent
    printf -v indent '%*s' $((C2C_DEPTH * 2)) ''
    if [[ -n $C2C_SKIP || $requested == 0 ]]; then
      mark='skip'
    elif [[ $kind == push && $C2C_PUSH == 0 ]] || [[ $kind == manual && $C2C_MANUAL == 0 ]]; then
      mark='skip'
    fi
    printf '[%s] %s%s %s%s%s\n' "$mark" "$indent" "$kind" "$name" "${detail:+  $detail}" \
      "${C2C_SKIP:+  ($C2C_SKIP)}"
    return 0
  fi
  ((requested)) || return 1
  if [[ -n $C2C_SKIP ]]; then
    [[ $kind == group || $kind == manual ]] || c2c_record "$name" skipped 0 "$C2C_SKIP"
    return 1
  fi
  return 0
}

# --- running the tree ------------------------------------------------------------------------
c2c_serial() {
  local fn
  for fn in "$@"; do
    "$fn" || return
  done
}

c2c_parallel() {
  local fn pid status=0 first=0
  local -a pids=()
  if [[ $C2C_MODE != run ]]; then  # listing and dry runs show the branches one after another
    c2c_serial "$@"
    return
  fi
  local C2C_IN_PARALLEL=1  # the branches' steps queue for a slot (c2c_slot_take)
  for fn in "$@"; do
    "$fn" &
    pids+=("$!")
  done
  for pid in "${pids[@]}"; do
    status=0
    wait "$pid" || status=$?
    if ((status != 0 && first == 0)); then
      first=$status
    fi
  done
  return "$first"
}

c2c_manual() {
  local name=$1
  shift
  if [[ $C2C_MODE != list && $C2C_MANUAL == 0 ]]; then
    c2c_say "(step: $name) manual approval group skipped: run with --manual to run it"
    c2c_record "$name" skipped 0 "manual (use --manual)"
    return 0
  fi
  c2c_serial "$@"
}

c2c_on_fail() {
  local status=$1
  shift
  if [[ $C2C_MODE == list ]]; then
    local indent
    printf -v indent '%*s' $(((C2C_DEPTH + 1) * 2)) ''
    printf '[    ] %son_fail: (these run only if the step above fails)\n' "$indent"
    local C2C_DEPTH=$((C2C_DEPTH + 1))
    c2c_serial "$@"
    return 0
  fi
  ((status != 0)) || return 0
  c2c_serial "$@" || true
  return "$status"
}

c2c_record() {
  local name=$1 result=$2 ms=$3 why=${4:-}
  [[ $C2C_MODE == list || -z $C2C_STATE ]] && return 0
  printf '%s\t%s\t%s\t%s\n' "$result" "$ms" "$name" "$why" >>"$C2C_STATE/results"
}

# Builds the images a step needs, once per run, under a lock shared with parallel branches.
c2c_ensure_images() {
  local service status
  for service in "$@"; do
    [[ -e $C2C_STATE/built/$service ]] && continue
    [[ $C2C_MODE == dry-run ]] || until mkdir "$C2C_STATE/lock.$service" 2>/dev/null; do sleep 0.2; done
    status=0
    [[ -e $C2C_STATE/built/$service ]] || c2c_build_image "$service" || status=$?
    [[ $C2C_MODE == dry-run ]] || rmdir "$C2C_STATE/lock.$service"
    ((status == 0)) || return "$status"
  done
}

c2c_build_image() {
  local service=$1
  local -a C2C_BUILD_ARGS=()  # this build's: a generator built for its credentials has its own
  if ! c2c_secret_build_args "$service"; then
    c2c_say "(service: $service) cannot decrypt its build arguments"
    return 1
  fi
  c2c_image_credentials "$service" || return 1
  c2c_service "$service"
  if ! C2C_WITH_CONFIG=$C2C_CFG_DIR c2c_logged "(image: $C2C_S_IMAGE) (service: $service) " \
    c2c_compose "$C2C_RUN_ID-build" build ${C2C_BUILD_ARGS[@]+"${C2C_BUILD_ARGS[@]}"} "$service"; then
    c2c_say "(service: $service) image build failed"
    return 1
  fi
  : >"$C2C_STATE/built/$service"
}

c2c_ci_env_args() {
  local var
  C2C_ENV_ARGS=()
  for var in "${C2C_CI_VARS[@]}"; do
    C2C_ENV_ARGS+=(-e "$var=${!var}")
  done
  for var in "${C2C_USER_ENV[@]}"; do
    C2C_ENV_ARGS+=(-e "$var")
  done
  printf -v C2C_ENV_SHOWN '%q ' "${C2C_ENV_ARGS[@]}"
  C2C_ENV_SHOWN=${C2C_ENV_SHOWN% }
}

c2c_wait_healthy() {
  local project=$1 name=$2 id status waited=0 announced=''
  [[ $C2C_MODE == dry-run ]] && return 0
  for id in $(c2c_compose "$project" ps -q 2>/dev/null); do
    while :; do
      status=$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{end}}' "$id" 2>/dev/null || true)
      case $status in
        ''|healthy) break ;;
        unhealthy)
          c2c_say "(step: $name) dependency container ${id:0:12} is unhealthy"
          return 1 ;;
      esac
      if [[ $announced != *" $id"* ]]; then
        c2c_say "(step: $name) waiting for dependency ${id:0:12} to become healthy"
        announced+=" $id"
      fi
      ((waited < C2C_HEALTH_TIMEOUT)) || { c2c_say "(step: $name) gave up waiting for health"; return 1; }
      sleep 1
      waited=$((waited + 1))
    done
  done
}

# --- how many step projects run at once --------------------------------------------------------
# Every step is a Compose project with a network of its own, and Docker has a fixed number of
# network address pools (about 30 by default, shared by every run on the engine). The steps of
# parallel groups therefore queue for one of --max-parallel slots, in the order they asked. A step
# whose network could not be made (no pool left) gives its slot back, lowers the run's limit to
# the steps still running and goes first when the next of them ends; without such a step, the
# pools are held by other runs: it tries again every 5 s, for up to C2C_POOL_TIMEOUT seconds.
c2c_slot_take() {
  local name=$1 ticket
  [[ $C2C_MODE == run && $C2C_IN_PARALLEL == 1 ]] || return 0
  c2c_lock slots
  read -r ticket <"$C2C_STATE/tickets"
  ticket=$((ticket + 1))
  printf '%s\n' "$ticket" >"$C2C_STATE/tickets"
  printf -v C2C_SLOT 'b%09d' "$ticket"
  : >"$C2C_STATE/queue/$C2C_SLOT"
  c2c_unlock slots
  c2c_slot_wait "$name"
}

c2c_slot_wait() {  # NAME [1: say nothing]
  local name=$1 said=${2:-0} limit=0 free queue_head=''
  while :; do
    free=0
    c2c_slot_free || free=$?
    if ((free == 0)); then
      c2c_lock slots
      if c2c_slot_free; then
        mv "$C2C_STATE/queue/$C2C_SLOT" "$C2C_STATE/running/$C2C_SLOT"
        c2c_unlock slots
        return 0
      fi
      c2c_unlock slots
    fi
    if ((said == 0 && free == 2)); then
      said=1
      read -r limit <"$C2C_STATE/limit"
      c2c_say "(step: $name) queued: $limit steps of this run are running (at most $limit at once; see --max-parallel)"
    fi
    if ((free == 2)) && [[ $queue_head != "$C2C_SLOT" ]]; then sleep 0.5; else sleep 0.2; fi
  done
}

# Returns 0 when the calling step is first in the queue and a slot is free, 1 when a slot is
# free but steps queued earlier go first, 2 when every slot is taken (no lock: see c2c_slot_wait);
# sets the caller's queue_head.
c2c_slot_free() {
  local -a queue=("$C2C_STATE"/queue/*) running=("$C2C_STATE"/running/*)
  local limit count=${#running[@]}
  queue_head=${queue[0]##*/}
  [[ -e ${running[0]} ]] || count=0
  read -r limit <"$C2C_STATE/limit"
  ((count < limit)) || return 2
  [[ $queue_head == "$C2C_SLOT" ]] || return 1
}

c2c_slot_give() {
  [[ -z $C2C_SLOT ]] || rm -f "$C2C_STATE/running/$C2C_SLOT"
  C2C_SLOT=''
}

# c2c_pool_retry COMMAND... : runs a command of the calling step that creates its network; when
# Docker had no address pool left for it, waits (see above) and runs it again.
c2c_pool_retry() {
  [[ $C2C_MODE == run ]] || { "$@"; return; }
  local flag=$C2C_STATE/pool.$project status waited=0
  while :; do
    status=0
    C2C_POOL_FLAG=$flag "$@" || status=$?
    ((status != 0)) && [[ -e $flag ]] || return "$status"
    rm -f "$flag"
    c2c_pool_wait || return "$status"
  done
}

# Waits until a network address pool may be free; returns 1 when giving up. Uses the caller's
# name and waited.
c2c_pool_wait() {
  local -a running
  local others=0
  c2c_lock slots
  running=("$C2C_STATE"/running/*)
  [[ ! -e ${running[0]} ]] || others=${#running[@]}
  [[ -z $C2C_SLOT ]] || others=$((others - 1))
  if ((others > 0)) && [[ -n $C2C_SLOT ]]; then
    printf '%s\n' "$others" >"$C2C_STATE/limit"
    mv "$C2C_STATE/running/$C2C_SLOT" "$C2C_STATE/queue/a${C2C_SLOT:1}"  # first in the queue
    C2C_SLOT=a${C2C_SLOT:1}
  fi
  c2c_unlock slots
  if mkdir "$C2C_STATE/pool-advice" 2>/dev/null; then c2c_pool_advice "$name"; fi
  if ((others > 0)) && [[ -n $C2C_SLOT ]]; then
    c2c_say "(step: $name) Docker has no network address pool left for the step: it runs when one of the $others other steps running ends (this run now runs at most $others steps at once)"
    c2c_slot_wait "$name" 1
    return 0
  fi
  if ((waited >= C2C_POOL_TIMEOUT)); then
    c2c_say "(step: $name) gave up after waiting ${waited}s for a network address pool"
    c2c_pool_advice "$name"
    return 1
  fi
  ((waited > 0)) || c2c_say "(step: $name) Docker has no network address pool left for the step (other runs on this engine hold them): trying again every 5s for up to ${C2C_POOL_TIMEOUT}s"
  sleep 5
  waited=$((waited + 5))
}

c2c_pool_advice() {
  c2c_say "(step: $1) every step needs a network; to run more at once, give Docker more, smaller address pools in /etc/docker/daemon.json, e.g."
  c2c_say "(step: $1)   \"default-address-pools\": [{\"base\": \"172.16.0.0/12\", \"size\": 24}]  (4096 networks instead of ~30), then restart dockerd"
}

# --- dependencies' output ----------------------------------------------------------------------
# Like jet, the step log shows what the dependencies print, prefixed (service: S) (step: NAME):
# each dependency container's log is followed from its start (nothing it printed before is lost)
# until the step's containers are stopped. The followers are pairs of pid and pid file.
c2c_follow_deps() {
  local project=$1 name=$2 id service n=0 pidfile
  [[ $C2C_MODE == run ]] || return 0
  while read -r id service; do
    [[ -n $id ]] || continue
    n=$((n + 1))
    pidfile=$C2C_STATE/follow.$project.$n
    { docker logs -f "$id" </dev/null 2>&1 & printf '%s\n' "$!" >"$pidfile"; wait "$!"; } |
      c2c_prefix_lines "(service: $service) (step: $name) " &
    C2C_FOLLOWERS+=("$!" "$pidfile")
  done < <(docker ps -a --filter "label=com.docker.compose.project=$project" \
    --filter label=com.docker.compose.oneoff=False --format '{{.ID}} {{.Label "com.docker.compose.service"}}' 2>/dev/null)
}

# After the step's containers were stopped, their followers write their last lines and end (with
# --no-remove, or when they do not end within 5 s, they are stopped).
c2c_unfollow() {
  ((${#C2C_FOLLOWERS[@]})) || return 0
  local i pid alive tries=0
  while :; do
    alive=0
    for ((i = 0; i < ${#C2C_FOLLOWERS[@]}; i += 2)); do
      if kill -0 "${C2C_FOLLOWERS[i]}" 2>/dev/null; then alive=1; fi
    done
    ((alive)) || break
    if ((tries == 50)) || [[ $C2C_REMOVE == 0 && $tries == 0 ]]; then
      for ((i = 1; i < ${#C2C_FOLLOWERS[@]}; i += 2)); do
        if [[ -s ${C2C_FOLLOWERS[i]} ]] && read -r pid <"${C2C_FOLLOWERS[i]}"; then kill "$pid" 2>/dev/null || true; fi
      done
    fi
    tries=$((tries + 1))
    sleep 0.1
  done
  for ((i = 1; i < ${#C2C_FOLLOWERS[@]}; i += 2)); do rm -f "${C2C_FOLLOWERS[i]}"; done
  C2C_FOLLOWERS=()
}

c2c_begin_step() {
  local name=$1 project=$2
  c2c_say "(step: $name)"
  if [[ $C2C_MODE == run ]]; then
    printf '%s\n' "$name" >"$C2C_STATE/active/$project"
  fi
}

c2c_end_step() {
  local name=$1 project=$2 status=$3 started=$4 failure=${5:-container exited with a $3 code} elapsed
  if [[ $C2C_MODE == dry-run ]] && ((status == 0)); then
    [[ $C2C_REMOVE == 0 ]] || c2c_logged "" c2c_compose "$project" down -v --remove-orphans -t "$C2C_STOP_TIMEOUT"
    C2C_PLANNED=$((C2C_PLANNED + 1))  # dry runs are sequential: no results file needed
    return 0
  fi
  if [[ $C2C_REMOVE == 0 && $C2C_MODE == run ]]; then
    c2c_say "(step: $name) kept its containers, network and volumes: project $project"
  elif [[ $C2C_REMOVE == 1 && $C2C_MODE == dry-run ]]; then
    c2c_logged "" c2c_compose "$project" down -v --remove-orphans -t "$C2C_STOP_TIMEOUT"
  elif [[ $C2C_REMOVE == 1 ]]; then
    c2c_compose "$project" down -v --remove-orphans -t "$C2C_STOP_TIMEOUT" >/dev/null 2>&1 ||
      c2c_say "(step: $name) warning: could not remove the step's containers (project $project)"
  fi
  c2c_unfollow  # the containers are stopped: the dependencies' last lines come before the result
  if [[ $C2C_MODE == run ]]; then rm -f "$C2C_STATE/active/$project"; fi
  local now took
  c2c_now_ms now
  elapsed=$((now - started))
  c2c_secs took "$elapsed"
  if ((status == 0)); then
    c2c_say "(step: $name) success ✔ ($took)"
    c2c_record "$name" passed "$elapsed"
  else
    c2c_say "(step: $name) error ✗ $failure ($took)"
    c2c_record "$name" failed "$elapsed" "exit code $status"
  fi
}

# c2c_run INDEX NAME SERVICE DOCKERCFG DOCKERCFG_SERVICE -- ARGV...
c2c_run() {
  local index=$1 name=$2 service=$3 cfg_file=$4 cfg_gen=$5
  shift 6
  [[ $C2C_MODE == list ]] && return 0
  local project="$C2C_RUN_ID-$index" started=0 status=0 C2C_SLOT=''
  local -a C2C_FOLLOWERS=()
  c2c_slot_take "$name"
  [[ $C2C_MODE == dry-run ]] || c2c_now_ms started
  c2c_service "$service"
  local deps=$C2C_S_DEPS builds=$C2C_S_BUILDS secrets=$C2C_S_SECRETS pulls=$C2C_S_PULLS secret
  local -a C2C_STEP_FILES=() C2C_CFG_KEYS=() C2C_CFG_DIRS=()
  c2c_begin_step "$name" "$project"
  for secret in $secrets; do
    c2c_secret_override "$secret" || { status=1; c2c_say "(step: $name) cannot decrypt the environment of $secret"; break; }
  done
  # shellcheck disable=SC2086 # service lists are space-separated names Compose accepts
  ((status == 0)) && { c2c_ensure_images $builds || status=$?; }
  # shellcheck disable=SC2086
  ((status == 0)) && { c2c_pull_private $pulls || status=$?; }
  if ((status == 0)) && [[ -n $deps ]]; then
    # shellcheck disable=SC2086
    c2c_pool_retry c2c_quiet c2c_logged "(step: $name) " c2c_compose "$project" up -d --no-build $deps || status=$?
    c2c_follow_deps "$project" "$name"
    ((status == 0)) && { c2c_wait_healthy "$project" "$name" || status=$?; }
  fi
  if ((status == 0)); then
    local -a run=(run -T)
    [[ $C2C_REMOVE == 1 ]] && run+=(--rm)
    C2C_STEP_ENV=1 c2c_pool_retry c2c_logged "(service: $service) (step: $name) " c2c_compose "$project" "${run[@]}" \
      "$service" "$@" || status=$?
  fi
  c2c_forget_credentials
  c2c_end_step "$name" "$project" "$status" "$started"
  c2c_slot_give
  return "$status"
}

# c2c_push INDEX NAME SERVICE IMAGE_NAME TAG REGISTRY ENCRYPTED_DOCKERCFG DOCKERCFG_SERVICE
c2c_push() {
  local index=$1 name=$2 service=$3 image_name=$4 tag=$5 registry=$6 cfg_file=$7 cfg_gen=$8
  [[ $C2C_MODE == list ]] && return 0
  if [[ $C2C_PUSH == 0 ]]; then
    c2c_say "(step: $name) push step skipped: run with --push to push $image_name"
    c2c_record "$name" skipped 0 "push (use --push)"
    return 0
  fi
  local project="$C2C_RUN_ID-$index" started=0 status=0 C2C_SLOT=''
  local -a C2C_CFG_KEYS=() C2C_CFG_DIRS=()
  c2c_slot_take "$name"
  [[ $C2C_MODE == dry-run ]] || c2c_now_ms started
  tag=${tag//[^A-Za-z0-9_.-]/}
  while [[ $tag == [.-]* ]]; do tag=${tag:1}; done  # a tag starts with a letter, digit or _
  tag=${tag:0:128}
  [[ -n $tag ]] || tag=latest
  c2c_service "$service"
  local image=$C2C_S_IMAGE builds=$C2C_S_BUILDS
  c2c_begin_step "$name" "$project"
  # shellcheck disable=SC2086
  c2c_ensure_images $builds || status=$?
  if ((status == 0)); then
    c2c_logged "(step: $name) " docker tag "$image" "$image_name:$tag" || status=$?
  fi
  if ((status == 0)); then
    c2c_credentials "$cfg_file" "$cfg_gen" || status=$?
  fi
  if ((status == 0)); then
    local -a config=()
    [[ -z $C2C_CFG_DIR ]] || config=(--config "$C2C_CFG_DIR" ${C2C_USER_CONTEXT:+--context "$C2C_USER_CONTEXT"})
    c2c_logged "(step: $name) " docker ${config[@]+"${config[@]}"} push "$image_name:$tag" || status=$?
    ((status == 0)) || c2c_say "(step: $name) pushing $image_name:$tag failed${registry:+ (registry $registry)}: see Docker's message above (is the registry reachable? does it need 'docker login${registry:+ $registry}'?)"
  fi
  c2c_forget_credentials
  c2c_end_step "$name" "$project" "$status" "$started" "push failed"
  c2c_slot_give
  return "$status"
}

# --- secrets ---------------------------------------------------------------------------------
# Encrypted files stay encrypted in the repository. They are decrypted when a step needs them,
# into this run's private directory (0700, files 0600), removed on every exit path.
c2c_key() {
  [[ -n $C2C_KEY_B64 ]] && return 0
  if [[ -n ${CODESHIP_AES_KEY:-} ]]; then
    C2C_KEY_B64=$CODESHIP_AES_KEY
    return 0
  fi
  local path=${C2C_KEY_PATH:-$C2C_DIR/$C2C_DEFAULT_KEY_PATH}
  if [[ ! -f $path || ! -r $path ]]; then
    c2c_say "no AES key: $path does not exist and CODESHIP_AES_KEY is not set"
    c2c_say "  provide the project's key (Project Settings > General in Codeship) as $path,"
    c2c_say "  with --key-path FILE, or as the base64 text in CODESHIP_AES_KEY"
    return 1
  fi
  C2C_KEY_B64=$(tr -d ' \t\r\n' <"$path")
}

# c2c_decrypt_sources DEST KIND VALUE... : decrypts each source to DEST.N; sets C2C_DECRYPTED.
c2c_decrypt_sources() {
  local dest=$1 n=0 kind value src
  shift
  C2C_DECRYPTED=()
  while (($# >= 2)); do
    kind=$1 value=$2
    shift 2
    n=$((n + 1))
    if [[ $kind == inline ]]; then
      src=$dest.$n.in
      (umask 077 && printf '%s' "$value" >"$src")
    else
      src=$value
      [[ $src == /* ]] || src=$C2C_DIR/$src
      if [[ ! -f $src ]]; then
        c2c_say "encrypted file not found: $value"
        return 1
      fi
    fi
    c2c_decrypt "$src" "$dest.$n" "$C2C_KEY_B64" || return 1
    C2C_DECRYPTED+=("$dest.$n")
  done
}

c2c_json() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\t'/\\t}
  s=${s//$'\r'/\\r}
  s=${s//$'\n'/\\n}
  [[ $s == *[[:cntrl:]]* ]] && return 1
  printf '"%s"' "$s"
}

# Reads KEY=value lines (comments and blank lines skipped, the value taken literally, as Docker
# reads env files); later files win. Sets C2C_ENV_KEYS and C2C_ENV_VALUES.
c2c_read_env_files() {
  local file line key i
  C2C_ENV_KEYS=()
  C2C_ENV_VALUES=()
  for file in "$@"; do
    while IFS= read -r line || [[ -n $line ]]; do
      line=${line%$'\r'}
      [[ -z ${line//[[:space:]]/} || $line =~ ^[[:space:]]*# ]] && continue
      key=${line%%=*}
      if [[ ! $key =~ ^[A-Za-z_][A-Za-z0-9_.-]*$ ]]; then
        c2c_say "a decrypted line is not KEY=value (wrong AES key?): variable name '${key:0:40}'"
        return 1
      fi
      for i in "${!C2C_ENV_KEYS[@]}"; do
        [[ ${C2C_ENV_KEYS[i]} == "$key" ]] && { unset 'C2C_ENV_KEYS[i]' 'C2C_ENV_VALUES[i]'; break; }
      done
      C2C_ENV_KEYS+=("$key")
      if [[ $line == *=* ]]; then C2C_ENV_VALUES+=("${line#*=}"); else C2C_ENV_VALUES+=(""); fi
    done <"$file"
  done
}

c2c_lock() {
  until mkdir "$C2C_STATE/lock.$1" 2>/dev/null; do sleep 0.2; done
}

c2c_unlock() {
  rmdir "$C2C_STATE/lock.$1"
}

# A Compose override file setting the decrypted variables of one service: they win over
# `environment` and `env_file`, as encrypted_env_file does in Codeship.
c2c_secret_override() {
  local service=$1
  local out=$C2C_STATE/secrets/$service.json status=0
  C2C_STEP_FILES+=(-f "$out")
  if [[ $C2C_MODE == dry-run ]]; then
    c2c_say "+ # decrypt the encrypted environment of $service into $out"
    return 0
  fi
  [[ -e $out ]] && return 0
  c2c_lock "secret.$service"
  if [[ ! -e $out ]]; then
    c2c_service_secrets "$service" || status=$?
  fi
  c2c_unlock "secret.$service"
  return "$status"
}

c2c_service_secrets() {
  local service=$1
  local out=$C2C_STATE/secrets/$service.json i entries='' k v
  c2c_service "$service"
  c2c_key || return 1
  c2c_decrypt_sources "$C2C_STATE/secrets/$service.env" "${C2C_S_ENC_ENV[@]}" || return 1
  c2c_read_env_files "${C2C_DECRYPTED[@]}" || return 1
  for i in "${!C2C_ENV_KEYS[@]}"; do
    k=$(c2c_json "${C2C_ENV_KEYS[i]}") || return 1
    if ! v=$(c2c_json "${C2C_ENV_VALUES[i]//\$/\$\$}"); then
      c2c_say "the decrypted value of ${C2C_ENV_KEYS[i]} holds a control character"
      return 1
    fi
    entries+="${entries:+,}$k:$v"
  done
  (umask 077 && printf '{"services":{%s:{"environment":{%s}}}}\n' "$(c2c_json "$service")" "$entries" \
    >"$out.tmp") && mv "$out.tmp" "$out"
  rm -f "$C2C_STATE/secrets/$service.env".*
}

# Build args from encrypted files, as --build-arg options (Go template variables rendered).
c2c_secret_build_args() {
  local service=$1 i value name var
  C2C_BUILD_ARGS=()
  c2c_service "$service"
  ((${#C2C_S_ENC_ARGS[@]})) || return 0
  if [[ $C2C_MODE == dry-run ]]; then
    C2C_BUILD_ARGS=(--build-arg "…decrypted from the encrypted build args of $service…")
    return 0
  fi
  c2c_key || return 1
  c2c_decrypt_sources "$C2C_STATE/secrets/$service.args" "${C2C_S_ENC_ARGS[@]}" || return 1
  c2c_read_env_files "${C2C_DECRYPTED[@]}" || return 1
  rm -f "$C2C_STATE/secrets/$service.args".*
  for i in "${!C2C_ENV_KEYS[@]}"; do
    value=${C2C_ENV_VALUES[i]}
    for name in ProjectID:CI_PROJECT_ID BuildID:CI_BUILD_ID RepoName:CI_REPO_NAME Branch:CI_BRANCH \
      CommitID:CI_COMMIT_ID CommitMessage:CI_COMMIT_MESSAGE CommitDescription:CI_COMMIT_DESCRIPTION \
      CommitterName:CI_COMMITTER_NAME CommitterEmail:CI_COMMITTER_EMAIL \
      CommitterUsername:CI_COMMITTER_USERNAME Timestamp:CI_TIMESTAMP StringTime:CI_STRING_TIME \
      Time:CI_STRING_TIME Ci:CI; do
      var=${name#*:}
      value=${value//"{{ .${name%%:*} }}"/${!var}}
      value=${value//"{{.${name%%:*}}}"/${!var}}
    done
    C2C_BUILD_ARGS+=(--build-arg "${C2C_ENV_KEYS[i]}=$value")
  done
}

# --- registry credentials --------------------------------------------------------------------
# A step's registry credentials live in private Docker config directories, never ~/.docker, made
# when the step first needs them and removed when it ends. They come from an encrypted file, or
# from a dockercfg_service that jet runs with a path to write them to. These functions work for
# the calling step: they use its index, name, project, cfg_file and cfg_gen.

# c2c_pull_private SERVICE... : pulls the images of these services that need credentials: the
# service's own, else the step's (or its group's). An image already here is not pulled, as jet
# does without --pull-if-present; Compose pulls the others with your own login.
c2c_pull_private() {
  local service image
  for service in "$@"; do
    c2c_image_credentials "$service" if-missing || return 1
    [[ -n $C2C_CFG_DIR ]] || continue
    c2c_service "$service"
    image=$C2C_S_IMAGE
    if ! c2c_logged "(image: $image) (step: $name) " docker --config "$C2C_CFG_DIR" \
      ${C2C_USER_CONTEXT:+--context "$C2C_USER_CONTEXT"} pull -q "$image"; then
      c2c_say "(step: $name) pulling $image with the registry credentials of $C2C_CFG_FROM failed: see Docker's message above"
      return 1
    fi
  done
}

# c2c_image_credentials SERVICE [if-missing] : the config directory for pulling the service's
# image, or the images its Dockerfile starts FROM, in C2C_CFG_DIR ('' when none are set). With
# if-missing, an image already here needs none: a generator service is not run for nothing.
c2c_image_credentials() {
  C2C_CFG_DIR=''
  c2c_service "$1"
  local file=$C2C_S_CFG gen=$C2C_S_CFG_GEN
  [[ -n $file$gen ]] || file=${cfg_file:-} gen=${cfg_gen:-}
  # a generator's own image is pulled with your login: its credentials would need itself
  [[ -n $file$gen && -z ${C2C_IN_GENERATOR:-} ]] || return 0
  if [[ ${2:-} == if-missing && $C2C_MODE != dry-run ]] && docker image inspect "$C2C_S_IMAGE" >/dev/null 2>&1; then
    return 0
  fi
  c2c_credentials "$file" "$gen"
}

# c2c_credentials ENCRYPTED_FILE GENERATOR_SERVICE : the config directory for these credentials in
# C2C_CFG_DIR ('' for none), made once per step.
c2c_credentials() {
  local file=$1 gen=$2 i
  C2C_CFG_DIR='' C2C_CFG_FROM=${file:-$gen}
  [[ -n $file$gen ]] || return 0
  for i in "${!C2C_CFG_KEYS[@]}"; do
    if [[ ${C2C_CFG_KEYS[i]} == "$file:$gen" ]]; then
      C2C_CFG_DIR=${C2C_CFG_DIRS[i]}
      return 0
    fi
  done
  local dir=$C2C_STATE/docker-config.$index.${#C2C_CFG_KEYS[@]}
  if ! c2c_docker_config "$dir" "$file" "$gen"; then
    rm -rf -- "$dir"  # whatever the generator or the decryption left there
    return 1
  fi
  C2C_CFG_KEYS+=("$file:$gen")
  C2C_CFG_DIRS+=("$dir")
  C2C_CFG_DIR=$dir
}

c2c_forget_credentials() {
  ((${#C2C_CFG_DIRS[@]})) && rm -rf -- "${C2C_CFG_DIRS[@]}"
  return 0
}

# c2c_docker_config DIR ENCRYPTED_FILE GENERATOR_SERVICE
c2c_docker_config() {
  local dir=$1 source=$2 generator=$3 raw secret
  if [[ -n $generator ]]; then
    c2c_service "$generator"
    local builds=$C2C_S_BUILDS secrets=$C2C_S_SECRETS C2C_IN_GENERATOR=1
    local -a C2C_STEP_FILES=()
    for secret in $secrets; do c2c_secret_override "$secret" || return 1; done
    # shellcheck disable=SC2086
    c2c_ensure_images $builds || return 1
    [[ $C2C_MODE == dry-run ]] || (umask 077 && mkdir -p "$dir/out") || return 1
    c2c_logged "(service: $generator) (step: $name) " c2c_compose "$project" run --rm -T \
      -v "$dir/out:/codeship-dockercfg" "$generator" /codeship-dockercfg/dockercfg || return 1
    [[ $C2C_MODE == dry-run ]] && return 0
    raw=$dir/out/dockercfg
    if [[ ! -s $raw ]]; then
      c2c_say "(step: $name) dockercfg_service $generator wrote no credentials to the path it was given"
      return 1
    fi
  else
    [[ $C2C_MODE == dry-run ]] && return 0
    c2c_key || return 1
    (umask 077 && mkdir -p "$dir") || return 1
    c2c_decrypt_sources "$dir/cfg" file "$source" || return 1
    raw=${C2C_DECRYPTED[0]}
  fi
  if grep -q '"auths"' "$raw"; then
    (umask 077 && cp "$raw" "$dir/config.json")
  else  # the legacy .dockercfg format is the inside of config.json's "auths"
    (umask 077 && { printf '{"auths":'; cat "$raw"; printf '}\n'; } >"$dir/config.json")
  fi
  rm -rf -- "$raw" "$dir/out"
  # What else the Docker CLI finds beside its config: the plugins (`docker compose` is one) and
  # your contexts, so that a private config still reaches your engine (Docker Desktop, colima).
  local user=${DOCKER_CONFIG:-${HOME:-/nonexistent}/.docker}
  [[ ! -d $user/cli-plugins ]] || ln -sfn "$user/cli-plugins" "$dir/cli-plugins"
  if [[ -d $user/contexts ]]; then
    ln -sfn "$user/contexts" "$dir/contexts"
    if ((C2C_CONTEXT_KNOWN == 0)); then
      C2C_CONTEXT_KNOWN=1
      [[ -n ${DOCKER_HOST:-} ]] || C2C_USER_CONTEXT=$(docker context inspect --format '{{.Name}}' 2>/dev/null) ||
        C2C_USER_CONTEXT=''
      [[ $C2C_USER_CONTEXT != default ]] || C2C_USER_CONTEXT=''
    fi
  fi
}

# --- set-up and clean-up ---------------------------------------------------------------------
c2c_setup() {
  C2C_RUN_ID="c2c$(printf '%x%04x' "$$" "$RANDOM")"
  export C2C_RUN_ID
  [[ $C2C_MODE == list ]] && return 0
  C2C_STATE=$(mktemp -d "${TMPDIR:-/tmp}/codeship2compose.XXXXXX")
  chmod 700 "$C2C_STATE"
  mkdir "$C2C_STATE/built" "$C2C_STATE/active" "$C2C_STATE/secrets"
  : >"$C2C_STATE/results"
  [[ $C2C_MODE == run ]] || return 0
  mkdir "$C2C_STATE/queue" "$C2C_STATE/running"
  printf '0\n' >"$C2C_STATE/tickets"
  printf '%s\n' "$C2C_MAX_PARALLEL" >"$C2C_STATE/limit"
  local dir volume
  for dir in "${C2C_HOST_DIRS[@]}"; do
    [[ -e $C2C_DIR/$dir ]] || mkdir -p -- "$C2C_DIR/$dir"
  done
  for volume in "${C2C_BUILD_VOLUMES[@]}"; do
    docker volume create --label "codeship2compose.run=$C2C_RUN_ID" "${C2C_RUN_ID}_$volume" >/dev/null
  done
}

# Every process the script started, children first.
c2c_descendants() {
  local table
  table=$(ps -A -o pid= -o ppid= 2>/dev/null) || return 0
  awk -v root="$$" '{ parent[$1] = $2 }
    END { for (p in parent) { q = parent[p]; while (q != "" && q != root && q in parent) q = parent[q]
          if (q == root) print p } }' <<<"$table"
}

c2c_cleanup() {
  local status=$?
  ((C2C_EXIT_SIGNAL)) && status=$C2C_EXIT_SIGNAL
  ((C2C_CLEANED)) && return
  C2C_CLEANED=1
  trap '' INT TERM
  # an interrupt can land inside a step's call that set these for its own Compose command
  local C2C_STEP_ENV='' C2C_WITH_CONFIG=''
  if [[ -n $C2C_STATE && -d $C2C_STATE ]]; then
    local pids pid project volume
    pids=$(c2c_descendants)
    if [[ -n $pids ]]; then
      # shellcheck disable=SC2086
      kill -TERM $pids 2>/dev/null || true
      for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
        pid=''
        for pid in $pids; do kill -0 "$pid" 2>/dev/null && break; pid=''; done
        [[ -z $pid ]] && break
        sleep 0.25
      done
    fi
    if [[ $C2C_REMOVE == 1 && $C2C_MODE == run ]]; then
      local name
      for project in "$C2C_STATE"/active/*; do  # side by side: each down waits for its containers
        [[ -e $project ]] || continue
        name=$(<"$project")
        project=${project##*/}
        c2c_say "(step: $name) interrupted: removing its containers (project $project)"
        c2c_compose "$project" down -v --remove-orphans -t "$C2C_STOP_TIMEOUT" >/dev/null 2>&1 &
        c2c_record "$name" failed 0 "interrupted"
      done
      wait
      for volume in "${C2C_BUILD_VOLUMES[@]}"; do
        docker volume rm -f "${C2C_RUN_ID}_$volume" >/dev/null 2>&1 || true
      done
    fi
    [[ $C2C_MODE == list ]] || c2c_summary "$status"
    rm -rf -- "$C2C_STATE"
  fi
  exit "$status"
}

c2c_on_signal() {
  C2C_EXIT_SIGNAL=$1
  printf '\n(interrupted) stopping and removing what this run created\n' >&2
  exit "$1"
}

c2c_summary() {
  local status=$1 result ms name why passed=0 failed=0 skipped=0 total took now
  if [[ $C2C_MODE == dry-run ]] && ! grep -q '^failed' "$C2C_STATE/results"; then
    skipped=$(grep -c '^skipped' "$C2C_STATE/results") || true
    c2c_say ""
    c2c_say "Dry run: $C2C_PLANNED steps would run, $skipped skipped; nothing was run."
    return 0
  fi
  [[ -s $C2C_STATE/results ]] || return 0
  c2c_say ""
  c2c_say "Summary:"
  while IFS=$'\t' read -r result ms name why; do
    case $result in
      passed) passed=$((passed + 1)); c2c_secs took "$ms"; printf '  ✔ %-40s %s\n' "$name" "$took" ;;
      failed) failed=$((failed + 1)); c2c_secs took "$ms"; printf '  ✗ %-40s %s  %s\n' "$name" "$took" "$why" ;;
      *) skipped=$((skipped + 1)); printf '  - %-40s skipped: %s\n' "$name" "$why" ;;
    esac
  done <"$C2C_STATE/results"
  c2c_now_ms now
  total=$((now - C2C_STARTED))
  c2c_secs took "$total"
  local note=''
  ((C2C_EXIT_SIGNAL == 0)) || note=' (interrupted)'
  c2c_say "$passed passed, $failed failed, $skipped skipped in $took$note"
}

c2c_main() {
  c2c_parse_args "$@"
  c2c_now_ms C2C_STARTED
  [[ $C2C_MODE == list ]] || c2c_detect_compose
  if [[ $C2C_MODE == dry-run ]]; then
    printf -v C2C_COMPOSE_SHOWN '%q ' "${C2C_COMPOSE[@]}" --project-directory "$C2C_DIR" -f "$C2C_COMPOSE_FILE"
    C2C_COMPOSE_SHOWN=${C2C_COMPOSE_SHOWN% }
  fi
  c2c_setup
  trap c2c_cleanup EXIT
  trap 'c2c_on_signal 130' INT
  trap 'c2c_on_signal 143' TERM
  c2c_ci_defaults
  c2c_ci_env_args  # once: the values do not change during the run
  if [[ $C2C_MODE == list ]]; then
    c2c_say "Steps of ${C2C_SOURCE_STEPS} (tag: $([[ $C2C_HAVE_TAG == 1 ]] && printf '%s' "$C2C_TAG" || printf 'none'), push: $([[ $C2C_PUSH == 1 ]] && printf on || printf off))"
  fi
  local status=0
  c2c_build || status=$?
  return "$status"
}
