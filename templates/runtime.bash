# ---------------------------------------------------------------------------------------------
# Runtime: the same in every generated script (the pipeline and the services are above it).
# Every step runs as its own Compose project (fresh containers, networks and volumes), which is
# removed when the step ends, also on failure and on Ctrl-C.
#
# How values reach the functions below (keep to it when changing this file):
# - Run-wide settings are C2C_* globals set once, then readonly (c2c_main): the mode, the run id
#   and state directory, the Compose command, the paths, and the options from the command line
#   (defaults here, then c2c_parse_args, c2c_detect_*, c2c_setup); the step tree (C2C_KIND…)
#   once, by c2c_load_pipeline.
# - Per step or group values (name, service, project, filters, kind, slot, depth, skip reason…)
#   are arguments of the functions that use them, or `local`s of the caller that the function's
#   usage comment names ("the calling step's name"). No function reads a per-step value from a
#   global that a distant caller set.
# - A function that computes more than a status leaves its result in the C2C_* variable its
#   usage comment names (C2C_RENDERED, C2C_PRIVATE, C2C_CFG_DIR…), which its caller reads right
#   after the call. A few run-wide caches fill themselves on first use (c2c_service's C2C_S_*,
#   C2C_KEY_B64, C2C_USER_CONTEXT); what parallel branches (separate processes) share is in files
#   under $C2C_STATE, changed under c2c_lock.
# ---------------------------------------------------------------------------------------------

C2C_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
C2C_COMPOSE_FILE="$C2C_DIR/compose.yaml"
C2C_MODE=run          # run | list | dry-run
C2C_TAG=''
C2C_HAVE_TAG=0
C2C_PUSH=0
C2C_MANUAL=0
C2C_REMOVE=1
C2C_TTY=auto  # auto | 0 | 1: a TTY for the step containers (c2c_detect_tty)
C2C_STOP_TIMEOUT=${C2C_STOP_TIMEOUT:-2}
C2C_HEALTH_TIMEOUT=${C2C_HEALTH_TIMEOUT:-3600}
C2C_MAX_PARALLEL=${C2C_MAX_PARALLEL:-8}  # step projects at once: each needs a network (see c2c_slot_take)
C2C_POOL_TIMEOUT=${C2C_POOL_TIMEOUT:-600}  # how long a step waits for a network pool other runs hold
C2C_COMPOSE_CHOICE=${C2C_COMPOSE:-auto}
C2C_STEPS=()
C2C_KEY_PATH=''
C2C_KEY_B64=''
C2C_DECRYPTED=()
C2C_OVERRIDE=''  # results: a step's Compose override file (c2c_env_override, c2c_secret_override)
C2C_FOLLOWERS=''  # and its dependency log followers (c2c_follow_deps)
C2C_BUILD_CACHE=''  # a built service's layer cache settings (c2c_cache_from)
declare -A C2C_IS_SERVICE=()  # the services, for checking the pipeline's names (c2c_load_pipeline)
C2C_USER_ENV=()
C2C_CFG_DIR=''
C2C_CFG_FROM=''
C2C_COMPOSE=()
C2C_COMPOSE_V=v2  # which Compose C2C_COMPOSE is: v2 | v1
C2C_PLUGIN=''  # the Compose v2 plugin's path (c2c_compose_plugin)
C2C_RUN_FILES=()  # Compose override files of the whole run: its private image names, add_docker settings
C2C_S_NAME=''  # the service c2c_service last loaded into C2C_S_*
C2C_COMPOSE_SHOWN=''  # how --dry-run prints "${C2C_COMPOSE[@]}" --project-directory DIR -f FILE
C2C_ENV_SHOWN=''  # and C2C_ENV_ARGS
C2C_PLANNED=0  # steps a dry run would have run
C2C_USER_CONTEXT=''  # your Docker context, when it is not the default one (see c2c_docker_config)
C2C_CONTEXT_KNOWN=0
C2C_STATE=''
C2C_RUN_ID=''
C2C_CLEANED=0
C2C_EXIT_SIGNAL=0
C2C_STARTED=0
C2C_DETAIL=''  # a step's command, for --list
C2C_CI_FLAGS=''  # the --ci-* options given
C2C_CI_VARS=(CI CI_NAME CI_BRANCH CI_BUILD_ID CI_BUILD_APPROVED CI_COMMIT_ID CI_COMMIT_MESSAGE CI_COMMIT_DESCRIPTION
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
  --manual              run manual (approval) groups instead of skipping them, as the
                        approved build does (CI_BUILD_APPROVED=true in every step)
Seeing what would happen:
  --list                print the step tree and which steps the filters select; run nothing
  --dry-run             print the exact docker commands; run nothing
Environment:
  -e, --env KEY=VALUE   set a variable in every step container (repeatable)
  --ci-branch, --ci-build-id, --ci-commit-id, --ci-commit-message, --ci-commit-description,
  --ci-committer-name, --ci-committer-email, --ci-committer-username, --ci-repo-name,
  --ci-project-id VALUE
                        override a CI_* variable (defaults come from the CI
                        platform's own variables, else git; --ci-branch gives the branch
                        on a detached HEAD that no single branch points at)
  C2C_CACHE_FROM="SERVICE..."
                        (a variable; the generated CI jobs set it) build these services with
                        their image already on this engine (e.g. docker load-ed from a CI
                        cache) as layer cache: cache_from and BuildKit's inline cache
Running:
  --key-path FILE       the AES key for encrypted files: environment, build args, registry
                        credentials (default: codeship.aes next to the services file; the
                        CODESHIP_AES_KEY variable, base64, wins)
  --no-remove           keep each step's containers, networks and volumes
  -T, --no-tty          no TTY for the step containers (by default they get one when this
                        script runs in the foreground of a terminal and CI is not set)
  --stop-timeout SECS   how long a step's containers get to stop (default: $C2C_STOP_TIMEOUT)
  --max-parallel N      run at most N steps at once; the others of a parallel group queue
                        (default: $C2C_MAX_PARALLEL; every step needs one of Docker's ~30 default
                        network address pools)
  --compose v1|v2       use docker-compose (v1) or docker compose (v2); default: v2 if present
  -h, --help            show this help

Exit status: 0 when every selected step passed; otherwise the failing step's exit code;
130 on Ctrl-C (SIGINT), 143 on SIGTERM; 2 for a usage error or a malformed pipeline.

The pipeline (the function c2c_pipeline at the top of this file) is what runs, one line per
step, in order. Edit it to add, remove, reorder or regroup steps; a malformed line is refused,
with its line number, before anything runs. Values are bash words: quote them with '…'.
  step NAME SERVICE [OPTIONS] -- COMMAND...
                        run COMMAND (its words, no shell) in a fresh container of SERVICE
                        (a service of the table below the pipeline); nothing after --
                        runs the service's own command
  push NAME SERVICE IMAGE TAG [--registry HOST] [OPTIONS]
                        tag SERVICE's image as IMAGE:TAG and push it (only with --push);
                        TAG may use {{ .Branch }}, {{ .CommitID }}, {{ printf "%.8s" .CommitID }}…
  group serial|parallel|manual NAME [OPTIONS]
    … the group's steps and groups …
  end                   serial: one after another; parallel: side by side; manual: only
                        with --manual; the group's filters apply to all its steps
  on_fail step|push|group …
                        runs when the nearest step above it, in the same group, fails
                        (the build still fails); on_fail on_fail … belongs to an on_fail step
OPTIONS:
  --tag FILTER          run only when --tag is FILTER, or matches it when FILTER has ^ or $
                        (a bash regex, e.g. '^(master|release/.*)\$')
  --exclude FILTER      never run when --tag is or matches FILTER (wins over --tag)
  --codeship-tag TEXT, --codeship-exclude TEXT
                        the filter as written in Codeship, when the regex had to be rewritten
  --dockercfg FILE, --dockercfg-service SERVICE
                        registry credentials (encrypted Docker config, or a service that
                        writes one) for the step's pulls, builds and pushes
Indentation is for people; \`group\` … \`end\` decide what belongs to a group.
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
      -T|--no-tty) C2C_TTY=0; shift ;;
      --tag|--step|-e|--env|--key-path|--stop-timeout|--max-parallel|--compose|--ci-*)
        (($# >= 2)) || c2c_die_usage "$opt needs a value"
        value=$2
        shift 2
        [[ $opt != --ci-* ]] || C2C_CI_FLAGS+=" $opt "
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

# CI_* variables: jet's flag values, else CI_* variables already set, else the CI platform's
# own variables, else what git knows (in the repository of the Codeship files, wherever the
# script was written), else Codeship's defaults.
c2c_git() {
  git -C "$C2C_DIR/$C2C_SOURCE_DIR" "$@" 2>/dev/null || true
}

# The checked-out branch; on a detached HEAD (CI checkouts), the one branch that points at the
# commit (local, else remote), or nothing when none or several do: never "HEAD".
c2c_git_branch() {
  local refs
  refs=$(c2c_git symbolic-ref -q --short HEAD)
  [[ -n $refs ]] || refs=$(c2c_git for-each-ref --points-at HEAD --format='%(refname:short)' refs/heads)
  [[ -n $refs ]] || refs=$(c2c_git for-each-ref --points-at HEAD --format='%(refname:lstrip=3)' refs/remotes |
    grep -vx HEAD | sort -u)
  [[ $refs == *$'\n'* ]] || printf '%s' "$refs"
}

# c2c_ci_set VAR VALUE : VAR=VALUE unless VAR is set already or VALUE is empty.
c2c_ci_set() {
  [[ -z $2 || -n ${!1+set} ]] || printf -v "$1" '%s' "$2"
}

# The CI platform the script runs in (GitHub Actions, GitLab CI, Bitbucket Pipelines, CircleCI,
# Jenkins, Buildkite, Travis CI): its own variables for branch, commit, build, pull request,
# committer, message and repository. Their checkouts are often a detached HEAD or a merge commit.
c2c_ci_platform() {
  local branch='' commit='' build='' pr='' url='' name='' email='' user='' message='' repo='' project='' ref
  if [[ ${GITHUB_ACTIONS:-} == true ]]; then
    ref=${GITHUB_REF:-} repo=${GITHUB_REPOSITORY:-}
    branch=${GITHUB_HEAD_REF:-}  # a pull request's own branch
    case $ref in
      refs/heads/*|refs/tags/*) [[ -n $branch ]] || branch=${ref#refs/*/} ;;
      refs/pull/*/merge) pr=${ref#refs/pull/} pr=${pr%/merge} ;;
    esac
    [[ -z $pr || -z $repo ]] || url=${GITHUB_SERVER_URL:-https://github.com}/$repo/pull/$pr
    commit=${GITHUB_SHA:-} build=${GITHUB_RUN_ID:-} user=${GITHUB_ACTOR:-} project=${GITHUB_REPOSITORY_ID:-}
    repo=${repo#*/}
  elif [[ ${GITLAB_CI:-} == true ]]; then
    # GitLab's own CI_COMMIT_DESCRIPTION is the message's body, not `git describe`
    [[ $C2C_CI_FLAGS == *" --ci-commit-description "* ]] || unset CI_COMMIT_DESCRIPTION
    branch=${CI_MERGE_REQUEST_SOURCE_BRANCH_NAME:-${CI_COMMIT_BRANCH:-${CI_COMMIT_REF_NAME:-}}}
    commit=${CI_COMMIT_SHA:-} build=${CI_PIPELINE_ID:-} pr=${CI_MERGE_REQUEST_IID:-}
    [[ -z $pr || -z ${CI_MERGE_REQUEST_PROJECT_URL:-} ]] || url=$CI_MERGE_REQUEST_PROJECT_URL/-/merge_requests/$pr
    ref=${CI_COMMIT_AUTHOR:-}  # "Name <email>"
    if [[ $ref == *'<'*'>' ]]; then name=${ref% <*} email=${ref##*<} email=${email%>}; fi
    user=${GITLAB_USER_LOGIN:-} repo=${CI_PROJECT_NAME:-}
  elif [[ -n ${BITBUCKET_BUILD_NUMBER:-} ]]; then
    branch=${BITBUCKET_BRANCH:-${BITBUCKET_TAG:-}} commit=${BITBUCKET_COMMIT:-} build=$BITBUCKET_BUILD_NUMBER
    pr=${BITBUCKET_PR_ID:-} repo=${BITBUCKET_REPO_SLUG:-} project=${BITBUCKET_REPO_UUID:-}
    [[ -z $pr || -z ${BITBUCKET_GIT_HTTP_ORIGIN:-} ]] || url=$BITBUCKET_GIT_HTTP_ORIGIN/pull-requests/$pr
  elif [[ ${CIRCLECI:-} == true ]]; then
    branch=${CIRCLE_BRANCH:-${CIRCLE_TAG:-}} commit=${CIRCLE_SHA1:-} build=${CIRCLE_WORKFLOW_ID:-${CIRCLE_BUILD_NUM:-}}
    url=${CIRCLE_PULL_REQUEST:-} pr=${CIRCLE_PR_NUMBER:-}
    [[ -n $pr || $url != */pull/* ]] || pr=${url##*/}
    user=${CIRCLE_USERNAME:-} repo=${CIRCLE_PROJECT_REPONAME:-}
  elif [[ -n ${JENKINS_URL:-} ]]; then
    branch=${CHANGE_BRANCH:-${BRANCH_NAME:-${GIT_BRANCH:-}}}
    branch=${branch#refs/heads/} branch=${branch#origin/}
    commit=${GIT_COMMIT:-} build=${BUILD_TAG:-${BUILD_NUMBER:-}} pr=${CHANGE_ID:-} url=${CHANGE_URL:-}
    name=${GIT_COMMITTER_NAME:-} email=${GIT_COMMITTER_EMAIL:-} user=${CHANGE_AUTHOR:-}
  elif [[ ${BUILDKITE:-} == true ]]; then
    branch=${BUILDKITE_BRANCH:-${BUILDKITE_TAG:-}} commit=${BUILDKITE_COMMIT:-} build=${BUILDKITE_BUILD_ID:-}
    [[ $commit != HEAD ]] || commit=''  # Buildkite's "not resolved yet"
    [[ ${BUILDKITE_PULL_REQUEST:-false} == false ]] || pr=$BUILDKITE_PULL_REQUEST
    name=${BUILDKITE_BUILD_AUTHOR:-} email=${BUILDKITE_BUILD_AUTHOR_EMAIL:-} message=${BUILDKITE_MESSAGE:-}
    repo=${BUILDKITE_REPO:-} repo=${repo##*[/:]} repo=${repo%.git} project=${BUILDKITE_PIPELINE_ID:-}
  elif [[ ${TRAVIS:-} == true ]]; then
    branch=${TRAVIS_PULL_REQUEST_BRANCH:-${TRAVIS_BRANCH:-}} commit=${TRAVIS_COMMIT:-} build=${TRAVIS_BUILD_ID:-}
    [[ ${TRAVIS_PULL_REQUEST:-false} == false ]] || pr=$TRAVIS_PULL_REQUEST
    repo=${TRAVIS_REPO_SLUG:-} message=${TRAVIS_COMMIT_MESSAGE:-}
    [[ -z $pr || -z $repo ]] || url=https://github.com/$repo/pull/$pr
    repo=${repo#*/}
  else
    return 0
  fi
  c2c_ci_set CI_BRANCH "$branch"
  c2c_ci_set CI_COMMIT_ID "$commit"
  c2c_ci_set CI_BUILD_ID "$build"
  c2c_ci_set CI_PR_NUMBER "$pr"
  [[ -z $pr ]] || c2c_ci_set CI_PULL_REQUEST "${url:-true}"
  c2c_ci_set CI_COMMITTER_NAME "$name"
  c2c_ci_set CI_COMMITTER_EMAIL "$email"
  c2c_ci_set CI_COMMITTER_USERNAME "$user"
  c2c_ci_set CI_COMMIT_MESSAGE "$message"
  c2c_ci_set CI_REPO_NAME "$repo"
  c2c_ci_set CI_PROJECT_ID "$project"
}

c2c_ci_defaults() {
  local inside
  c2c_ci_platform
  inside=$(c2c_git rev-parse --is-inside-work-tree)
  if [[ $inside == true ]]; then
    : "${CI_BRANCH=$(c2c_git_branch)}"
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
  local repo_dir
  repo_dir=$(cd "$C2C_DIR/$C2C_SOURCE_DIR" 2>/dev/null && pwd -P) || repo_dir=$C2C_DIR
  : "${CI_REPO_NAME=${repo_dir##*/}}" "${CI_PROJECT_ID=}" "${CI_BUILD_ID=$C2C_RUN_ID}"
  c2c_times
  : "${CI_PR_NUMBER=}" "${CI_PULL_REQUEST=false}"
  # Codeship: false until a manual group is approved; the approved build (--manual) has true
  export CI_BUILD_APPROVED=false
  [[ $C2C_MANUAL == 0 ]] || CI_BUILD_APPROVED=true
  export "${C2C_CI_VARS[@]}"
}

# The run's time, once: CI_TIMESTAMP (Unix seconds; a given one is used), CI_STRING_TIME
# (RFC 3339) and C2C_TIME, what Go's time.Time String() prints, for {{ .Time }} templates:
# "2006-01-02 15:04:05.999999999 +0000 UTC" (UTC, as hosted builds ran; trailing zeros cut).
c2c_times() {
  local now=${EPOCHREALTIME:-} secs frac='' day
  if [[ $now == *[.,]* ]]; then secs=${now%[.,]*} frac=${now#*[.,]}; else secs=$(date +%s); fi
  if [[ ${CI_TIMESTAMP:-} =~ ^[0-9]+$ ]]; then secs=$CI_TIMESTAMP frac=''; fi
  : "${CI_TIMESTAMP=$secs}"
  day=$(date -u -d "@$secs" '+%Y-%m-%d %H:%M:%S' 2>/dev/null || date -u -r "$secs" '+%Y-%m-%d %H:%M:%S')
  : "${CI_STRING_TIME=${day/ /T}+00:00}"
  while [[ $frac == *0 ]]; do frac=${frac%0}; done
  C2C_TIME="$day${frac:+.$frac} +0000 UTC"
  export C2C_TIME  # build args ({{ .Time }}) are interpolated by Compose
}

# Like jet, a step gets a TTY when there is one: when this script runs in a terminal (stdin and
# stdout are TTYs, and its process group is the terminal's foreground group), never on a CI host
# (CI set) or as a background job. The step's TTY gives it no keyboard: its standard input stays
# empty, and Ctrl-C still reaches this script, which removes what the run created.
c2c_detect_tty() {
  [[ $C2C_TTY == auto ]] || return 0
  C2C_TTY=0
  [[ -t 0 && -t 1 && -z ${CI:-} ]] || return 0
  local groups
  groups=$(ps -o pgid= -o tpgid= -p "$$" 2>/dev/null) || return 0
  read -r -a groups <<<"$groups"
  [[ ${#groups[@]} == 2 && ${groups[0]} == "${groups[1]}" ]] && C2C_TTY=1
  return 0
}

c2c_detect_compose() {
  local v2=(docker compose)
  # a run starts the v2 plugin itself; a dry run shows the `docker compose` a person would type
  [[ $C2C_MODE != run ]] || ! c2c_compose_plugin || v2=("$C2C_PLUGIN")
  case $C2C_COMPOSE_CHOICE in
    v2) C2C_COMPOSE=("${v2[@]}") C2C_COMPOSE_V=v2 ;;
    v1) C2C_COMPOSE=(docker-compose) C2C_COMPOSE_V=v1 ;;
    *)
      if "${v2[@]}" version >/dev/null 2>&1; then
        C2C_COMPOSE=("${v2[@]}") C2C_COMPOSE_V=v2
      elif command -v docker-compose >/dev/null 2>&1; then
        C2C_COMPOSE=(docker-compose) C2C_COMPOSE_V=v1
      else
        C2C_COMPOSE=(docker compose) C2C_COMPOSE_V=v2
        if [[ $C2C_MODE == run ]]; then
          printf '%s: neither "docker compose" (v2) nor "docker-compose" (v1) was found\n' "${0##*/}" >&2
          exit 127
        fi
      fi ;;
  esac
}

# Compose v2 is a docker CLI plugin that also runs on its own (as `docker-compose` v2 does):
# started directly it does the same, without the docker CLI starting first and then running the
# plugin twice (once for its metadata), about 65 ms of CPU per Compose command here, which
# parallel steps share. Found where the docker CLI looks; when the CLI's config names plugin
# directories of its own, or no plugin is found, `docker compose` decides. Leaves the path in
# C2C_PLUGIN.
c2c_compose_plugin() {
  local config=${DOCKER_CONFIG:-$HOME/.docker} dir
  if [[ -f $config/config.json ]]; then
    [[ $(<"$config/config.json") != *cliPluginsExtraDirs* ]] || return 1
  fi
  for dir in "$config/cli-plugins" /usr/local/lib/docker/cli-plugins /usr/local/libexec/docker/cli-plugins \
    /usr/lib/docker/cli-plugins /usr/libexec/docker/cli-plugins; do
    if [[ -f $dir/docker-compose && -x $dir/docker-compose ]]; then
      C2C_PLUGIN=$dir/docker-compose
      return 0
    fi
  done
  return 1
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

# c2c_logged [--quiet] [--stdin FILE] [--trailer v1|v2] [--pool-flag FILE] PREFIX COMMAND... :
# runs COMMAND with every output line prefixed (see c2c_prefix_lines for --trailer and
# --pool-flag; --quiet drops the lines), in the background so that a signal reaches the script's
# trap at once; returns the command's exit status. A dry run prints the command instead.
c2c_logged() {
  local quiet=0 stdin=/dev/null trailer='' flag=''
  while :; do
    case $1 in
      --quiet) quiet=1; shift ;;
      --stdin) stdin=$2; shift 2 ;;
      --trailer) trailer=$2; shift 2 ;;
      --pool-flag) flag=$2; shift 2 ;;
      *) break ;;
    esac
  done
  local prefix=$1
  shift
  if [[ $C2C_MODE == dry-run ]]; then
    [[ $1 == c2c_compose ]] || { c2c_show "$@"; return 0; }
    # what c2c_compose would run, from parts quoted once per run: dry runs of big builds stay fast
    local out='' files='' config='' step_env=''
    shift
    while :; do
      case $1 in
        --step-env) step_env=" $C2C_ENV_SHOWN"; shift ;;
        --config) printf -v config 'env DOCKER_CONFIG=%q ' "$2"; shift 2 ;;
        -f) printf -v out ' -f %q' "$2"; files+=$out; out=''; shift 2 ;;
        *) break ;;
      esac
    done
    (($# < 3)) || printf -v out ' %q' "${@:3}"
    printf '+ %s%s%s -p %q %q%s%s\n' "$config" "$C2C_COMPOSE_SHOWN" "$files" "$1" "$2" "$step_env" "$out"
    return 0
  fi
  local status=0
  if ((quiet)); then
    c2c_prefixed "$prefix" "$stdin" "$trailer" "$flag" "$@" >/dev/null &
  else
    c2c_prefixed "$prefix" "$stdin" "$trailer" "$flag" "$@" &
  fi
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

# c2c_prefixed PREFIX STDIN TRAILER POOL_FLAG COMMAND... (see c2c_logged)
c2c_prefixed() {
  local prefix=$1 stdin=$2 trailer=$3 flag=$4
  shift 4
  {
    local s=0
    "$@" 2>&1 <"$stdin" || s=$?
    [[ -z $trailer ]] || printf '\036%d\n' "$s"
    exit "$s"
  } | c2c_prefix_lines "$prefix" "$flag" "$trailer"
  return "${PIPESTATUS[0]}"
}

# c2c_prefix_lines PREFIX [POOL_FLAG [TRAILER]]: stdin to stdout, each line prefixed and written
# with one write(2) of at most PIPE_BUF (4096) bytes, so that the lines of steps and dependencies
# running at once never mix (a longer line is cut into several prefixed lines). With POOL_FLAG,
# Docker's "no address pool" error creates that file instead of being shown (the step waits and
# tries again). With TRAILER (v1 or v2: a step's `run`), the line Compose adds after a failed
# run's output is dropped: a blank line (v2) or the bare exit code (v1). The last line that could
# be it is held back until the next line, or the exit status (sent after a \036 mark), shows
# what it is.
c2c_prefix_lines() {
  LC_ALL=C C2C_P=$1 C2C_Q=$C2C_PROGRESS_RE C2C_F=${2:-} C2C_N=$C2C_NO_POOL_RE \
    C2C_T=${3:-} "${C2C_AWK[@]}" '
    function out(s,  k) {  # cut between UTF-8 characters
      while (length(s) > n) {
        k = n; while (k > n - 3 && substr(s, k + 1, 1) ~ /^[\200-\277]/) k--
        printf "%s", p substr(s, 1, k) "\n"; fflush(); s = substr(s, k + 1)
      }
      printf "%s", p s "\n"; fflush()
    }
    BEGIN { p = ENVIRON["C2C_P"]; f = ENVIRON["C2C_F"]; t = ENVIRON["C2C_T"]; n = 4095 - length(p); if (n < 512) n = 512 }
    { sub(/\r+$/, "") }
    $0 ~ ENVIRON["C2C_Q"] { next }
    f != "" && $0 ~ ENVIRON["C2C_N"] { printf "" > f; close(f); next }
    f != "" && $0 ~ /^ *Network [^ ]+ +Error$/ { next }
    t != "" && /^\036[0-9]+$/ {
      code = substr($0, 2)
      drop = code != 0 && ((t == "v2" && held == "") || (t == "v1" && held == code))
      if (holding && !drop) out(held)
      holding = 0; next
    }
    holding { out(held); holding = 0 }
    t != "" && /^[0-9]*$/ { held = $0; holding = 1; next }
    { out($0) }
    END { if (holding) out(held) }'
}

c2c_show() {
  local out
  printf -v out '%q ' "$@"
  printf '+ %s\n' "${out% }"
}

# c2c_compose [--step-env] [--config DIR] [-f FILE]... PROJECT SUBCOMMAND ARGS... : with
# --step-env, the step's CI_* and -e variables go to the (run) subcommand; with --config, Docker's
# config directory is DIR; -f adds an override file of the step to the run's.
c2c_compose() {
  local step_env=0 config=''
  local -a files=()
  while :; do
    case $1 in
      --step-env) step_env=1; shift ;;
      --config) config=$2; shift 2 ;;
      -f) files+=(-f "$2"); shift 2 ;;
      *) break ;;
    esac
  done
  local project=$1
  shift
  if [[ -n $config ]]; then
    local -x DOCKER_CONFIG=$config
    [[ -z $C2C_USER_CONTEXT ]] || local -x DOCKER_CONTEXT=$C2C_USER_CONTEXT
  fi
  ((step_env == 0)) || set -- "$1" "${C2C_ENV_ARGS[@]}" "${@:2}"
  "${C2C_COMPOSE[@]}" --project-directory "$C2C_DIR" -f "$C2C_COMPOSE_FILE" \
    ${C2C_RUN_FILES[@]+"${C2C_RUN_FILES[@]}"} ${files[@]+"${files[@]}"} -p "$project" "$@"
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

# c2c_is_requested NAME FORCED : whether --step selects the step NAME (FORCED 1: a group it is in
# was named).
c2c_is_requested() {
  local name=$1 wanted
  ((${#C2C_STEPS[@]})) || return 0
  [[ $2 == 1 ]] && return 0
  for wanted in "${C2C_STEPS[@]}"; do
    [[ $wanted == "$name" ]] && return 0
  done
  return 1
}

# c2c_enter KIND NAME TAG TAG_RE EXCLUDE EXCLUDE_RE [DETAIL] : uses and updates the calling
# c2c_node's skip (why this node does not run) and forced (--step named it or a group it is in),
# and its depth; returns 1 when the node has nothing to do at all (not selected, and not listing).
c2c_enter() {
  local kind=$1 name=$2 tag=$3 tag_re=$4 exclude=$5 exclude_re=$6 detail=${7:-}
  if [[ -z $skip ]]; then
    if [[ -n $exclude ]] && c2c_filter_matches "$exclude" "$exclude_re"; then
      skip="excluded by exclude: $exclude"
    elif [[ -n $tag ]] && ! c2c_filter_matches "$tag" "$tag_re"; then
      if [[ $C2C_HAVE_TAG == 1 ]]; then
        skip="tag: $tag does not match '$C2C_TAG'"
      else
        skip="tag: $tag (no --tag given)"
      fi
    fi
  fi
  if ((${#C2C_STEPS[@]})) && [[ $forced == 0 ]]; then
    local wanted
    for wanted in "${C2C_STEPS[@]}"; do
      [[ $wanted == "$name" ]] && forced=1
    done
  fi
  local requested=1
  if [[ $kind != group && $kind != manual ]] && ! c2c_is_requested "$name" "$forced"; then
    requested=0
  fi
  if [[ $C2C_MODE == list ]]; then
    local mark='run ' indent
    printf -v indent '%*s' $((depth * 2)) ''
    if [[ -n $skip || $requested == 0 ]]; then
      mark='skip'
    elif [[ $kind == push && $C2C_PUSH == 0 ]] || [[ $kind == manual && $C2C_MANUAL == 0 ]]; then
      mark='skip'
    fi
    printf '[%s] %s%s %s%s%s\n' "$mark" "$indent" "$kind" "$name" "${detail:+  $detail}" \
      "${skip:+  ($skip)}"
    return 0
  fi
  ((requested)) || return 1
  if [[ -n $skip ]]; then
    # a filtered-out group is still walked: each of its steps is recorded with the reason
    [[ $kind == group || $kind == manual ]] && return 0
    c2c_record "$name" skipped 0 "$skip"
    return 1
  fi
  return 0
}

# --- the pipeline: its lines build the step tree -----------------------------------------------
# c2c_pipeline's lines (step, push, group … end, on_fail) are calls that add nodes to these
# arrays, checking each line first; nothing runs until the whole pipeline is read. Node 0 is the
# build itself (a serial group); C2C_KIDS holds each node's children, C2C_FAILS a step's on_fail
# nodes, C2C_LEAF the number of a step (its Compose project is "RUN_ID-NUMBER").
C2C_KIND=(serial) C2C_NAME=('') C2C_SVC=('') C2C_KIDS=('') C2C_FAILS=('') C2C_LEAF=(0)
C2C_TAGF=('') C2C_TAGW=('') C2C_EXCF=('') C2C_EXCW=('') C2C_CFGF=('') C2C_CFGS=('')
C2C_ARG0=(0) C2C_ARGC=(0) C2C_IMG=('') C2C_ITAG=('') C2C_REG=('') C2C_LINE=(0)
C2C_ARGS=()  # every step's command words, C2C_ARGC[i] of them from C2C_ARG0[i]
C2C_B_OPEN=(0)  # the groups open while reading, innermost last
C2C_B_LAST=()  # [GROUP * 16 + N]: the last step in GROUP led by N on_fail words
C2C_B_FAILS=0  # the on_fail words leading the line being read
C2C_B_LINE=0
C2C_B_STEPS=0

c2c_load_pipeline() {
  # shellcheck disable=SC2317 # bash calls it for a misspelt word of the pipeline (in a subshell)
  command_not_found_handle() {
    C2C_B_LINE=${BASH_LINENO[0]}
    c2c_bad "'$1' is not a word of the pipeline (step, push, group, end, on_fail)"
  }
  local s
  for s in "${C2C_SERVICES[@]}"; do C2C_IS_SERVICE[$s]=1; done
  c2c_pipeline
  unset -f command_not_found_handle
  if ((${#C2C_B_OPEN[@]} > 1)); then
    local open=${C2C_B_OPEN[${#C2C_B_OPEN[@]} - 1]}
    C2C_B_LINE=${C2C_LINE[open]}
    c2c_bad "group '${C2C_NAME[open]}' has no 'end'"
  fi
}

c2c_bad() {
  printf '%s:%s: %s\n' "${0##*/}" "$C2C_B_LINE" "$1" >&2
  printf '%s: the pipeline is malformed; nothing was run (see --help for its lines)\n' "${0##*/}" >&2
  exit 2
}

step() {
  c2c_line
  (($# >= 2)) || c2c_bad "step needs: step NAME SERVICE [OPTIONS] -- COMMAND..."
  c2c_add step "$1" "$2"
  shift 2
  c2c_options step "$@"
}

push() {
  c2c_line
  (($# >= 4)) || c2c_bad "push needs: push NAME SERVICE IMAGE TAG [OPTIONS]"
  [[ -n $3 ]] || c2c_bad "push '$1': the image name is empty"
  c2c_render_template "$4" push "$1" "$2" "$3" || c2c_bad "push '$1': image tag '$4': $C2C_RENDERED"
  local i=${#C2C_KIND[@]}
  c2c_add push "$1" "$2"
  C2C_IMG[i]=$3 C2C_ITAG[i]=$4
  shift 4
  c2c_options push "$@"
}

group() {
  c2c_line
  (($# >= 2)) || c2c_bad "group needs: group serial|parallel|manual NAME [OPTIONS]"
  [[ $1 == serial || $1 == parallel || $1 == manual ]] ||
    c2c_bad "group '$2': the kind is '$1'; it must be serial, parallel or manual"
  c2c_add "$1" "$2" ''
  C2C_B_OPEN+=($((${#C2C_KIND[@]} - 1)))
  shift 2
  c2c_options group "$@"
}

# shellcheck disable=SC2120 # `end` takes no arguments: it says so when it gets some
end() {
  c2c_line
  (($# == 0)) || c2c_bad "end takes nothing, got: $*"
  ((${#C2C_B_OPEN[@]} > 1)) || c2c_bad "'end' without a group to close"
  unset 'C2C_B_OPEN[${#C2C_B_OPEN[@]}-1]'
}

on_fail() {
  c2c_line
  case ${1:-} in
    step|push|group|on_fail) ;;
    *) c2c_bad "on_fail needs a step, push, group (or on_fail) after it, got: '${1:-}'" ;;
  esac
  C2C_B_FAILS=$((C2C_B_FAILS + 1))
  "$@"
}

# c2c_add KIND NAME SERVICE : a new node, the child of the open group (or, under on_fail, an
# on_fail node of the last step before it in that group).
c2c_add() {
  local kind=$1 name=$2 service=$3 fails=$C2C_B_FAILS
  local i=${#C2C_KIND[@]} open=${C2C_B_OPEN[${#C2C_B_OPEN[@]} - 1]}
  C2C_B_FAILS=0
  [[ -n $name ]] || c2c_bad "$kind: the name is empty"
  if [[ $kind == step || $kind == push ]]; then
    [[ -n $service && -n ${C2C_IS_SERVICE[$service]:-} ]] || c2c_bad "$kind '$name': unknown service '$service' (the services: ${C2C_SERVICES[*]})"
  fi
  C2C_KIND[i]=$kind C2C_NAME[i]=$name C2C_SVC[i]=$service C2C_KIDS[i]='' C2C_FAILS[i]='' C2C_LEAF[i]=0
  C2C_TAGF[i]='' C2C_TAGW[i]='' C2C_EXCF[i]='' C2C_EXCW[i]='' C2C_CFGF[i]='' C2C_CFGS[i]=''
  C2C_ARG0[i]=0 C2C_ARGC[i]=0 C2C_IMG[i]='' C2C_ITAG[i]='' C2C_REG[i]='' C2C_LINE[i]=$C2C_B_LINE
  if [[ $kind == step || $kind == push ]]; then
    C2C_B_STEPS=$((C2C_B_STEPS + 1))
    C2C_LEAF[i]=$C2C_B_STEPS
  fi
  if ((fails == 0)); then
    C2C_KIDS[open]+="${C2C_KIDS[open]:+ }$i"
  else
    local under=${C2C_B_LAST[open * 16 + fails - 1]:-}
    [[ -n $under ]] || c2c_bad "on_fail $kind '$name': no step above it in its group to run it for"
    C2C_FAILS[under]+="${C2C_FAILS[under]:+ }$i"
  fi
  local n
  # the levels set are 0..k (a level needs the one below it): stop at the first unset one
  for ((n = fails; n < 16; n++)); do
    [[ -n ${C2C_B_LAST[open * 16 + n]+set} ]] || break
    unset 'C2C_B_LAST[open * 16 + n]'
  done
  [[ $kind != step ]] || C2C_B_LAST[open * 16 + fails]=$i
}

# The script's line of the pipeline word being read (an on_fail line: of its first word).
c2c_line() {
  ((C2C_B_FAILS)) || C2C_B_LINE=${BASH_LINENO[1]}
}

# c2c_options KIND OPTION... [-- COMMAND...] : the options of the node just added.
c2c_options() {
  local kind=$1 i=$((${#C2C_KIND[@]} - 1)) opt value command=0
  shift
  while (($#)); do
    opt=$1
    if [[ $opt == -- && $kind == step ]]; then
      shift
      C2C_ARG0[i]=${#C2C_ARGS[@]} C2C_ARGC[i]=$#
      C2C_ARGS+=("$@")
      command=1
      break
    fi
    case $opt in
      --tag|--exclude|--codeship-tag|--codeship-exclude|--dockercfg|--dockercfg-service|--registry) ;;
      *)
        if [[ $kind == step && $opt != -* ]]; then
          c2c_bad "step '${C2C_NAME[i]}': '$opt' before '--': the command comes after -- (step NAME SERVICE [OPTIONS] -- COMMAND...)"
        fi
        c2c_bad "$kind '${C2C_NAME[i]}': unknown option '$opt' (see --help)" ;;
    esac
    (($# >= 2)) || c2c_bad "$kind '${C2C_NAME[i]}': $opt needs a value"
    value=$2
    shift 2
    case $opt in
      --tag|--exclude)
        c2c_check_filter "$value" || c2c_bad "$kind '${C2C_NAME[i]}': $opt '$value' is not a valid bash regular expression"
        if [[ $opt == --tag ]]; then C2C_TAGF[i]=$value; else C2C_EXCF[i]=$value; fi ;;
      --codeship-tag) C2C_TAGW[i]=$value ;;
      --codeship-exclude) C2C_EXCW[i]=$value ;;
      --dockercfg|--dockercfg-service|--registry)
        [[ $kind != group ]] || c2c_bad "group '${C2C_NAME[i]}': $opt belongs on its steps"
        case $opt in
          --dockercfg) C2C_CFGF[i]=$value ;;
          --dockercfg-service)
            [[ -n $value && -n ${C2C_IS_SERVICE[$value]:-} ]] || c2c_bad "$kind '${C2C_NAME[i]}': --dockercfg-service: unknown service '$value'"
            C2C_CFGS[i]=$value ;;
          --registry)
            [[ $kind == push ]] || c2c_bad "step '${C2C_NAME[i]}': --registry belongs on push lines"
            C2C_REG[i]=$value ;;
        esac ;;
    esac
  done
  [[ $kind != step || $command == 1 ]] || c2c_bad "step '${C2C_NAME[i]}': no '--' before the command (step NAME SERVICE [OPTIONS] -- COMMAND...)"
  [[ -z ${C2C_TAGW[i]} || -n ${C2C_TAGF[i]} ]] || c2c_bad "$kind '${C2C_NAME[i]}': --codeship-tag without --tag"
  [[ -z ${C2C_EXCW[i]} || -n ${C2C_EXCF[i]} ]] || c2c_bad "$kind '${C2C_NAME[i]}': --codeship-exclude without --exclude"
  # with the Codeship text beside it, a filter is a regex even without ^ or $
  [[ -z ${C2C_TAGW[i]} ]] || c2c_check_filter "${C2C_TAGF[i]}" regex ||
    c2c_bad "$kind '${C2C_NAME[i]}': --tag '${C2C_TAGF[i]}' is not a valid bash regular expression"
  [[ -z ${C2C_EXCW[i]} ]] || c2c_check_filter "${C2C_EXCF[i]}" regex ||
    c2c_bad "$kind '${C2C_NAME[i]}': --exclude '${C2C_EXCF[i]}' is not a valid bash regular expression"
}

# c2c_check_filter FILTER [regex] : a filter with ^ or $ (or any, with regex) is a bash regex: it
# must compile.
c2c_check_filter() {
  [[ $1 == *['^$']* || -n ${2:-} ]] || return 0
  local status=0
  # shellcheck disable=SC2319 # the status of =~ itself: 2 when the regex does not compile
  [[ '' =~ $1 ]] || status=$?
  ((status != 2))
}

# --- running the tree --------------------------------------------------------------------------
# The tree is walked with four values that its groups pass down: DEPTH (of the group, for --list),
# SKIP (why its steps do not run; '' when they do), FORCED (1: --step named it or a group above)
# and PARALLEL (1: in a branch of a parallel group, whose steps queue for a slot).
# c2c_node N DEPTH SKIP FORCED PARALLEL : selects, lists or runs node N and what is under it.
c2c_node() {
  local i=$1 depth=$(($2 + 1)) skip=$3 forced=$4 parallel=$5
  local kind=${C2C_KIND[i]} name=${C2C_NAME[i]} detail=''
  # a filter is matched like jet: the Codeship text as a whole name first, then the regex
  local tag=${C2C_TAGW[i]:-${C2C_TAGF[i]}} tag_re='' exclude=${C2C_EXCW[i]:-${C2C_EXCF[i]}} exclude_re=''
  [[ -z ${C2C_TAGW[i]} && ${C2C_TAGF[i]} != *['^$']* ]] || tag_re=${C2C_TAGF[i]}
  [[ -z ${C2C_EXCW[i]} && ${C2C_EXCF[i]} != *['^$']* ]] || exclude_re=${C2C_EXCF[i]}
  # shellcheck disable=SC2206 # node numbers
  local -a kids=(${C2C_KIDS[i]}) fails=(${C2C_FAILS[i]}) argv=()
  case $kind in
    serial|parallel)
      c2c_enter group "$name" "$tag" "$tag_re" "$exclude" "$exclude_re" "$kind" || return 0
      "c2c_$kind" "$depth" "$skip" "$forced" "$parallel" ${kids[@]+"${kids[@]}"} ;;
    manual)
      c2c_enter manual "$name" "$tag" "$tag_re" "$exclude" "$exclude_re" || return 0
      c2c_manual "$name" "$depth" "$skip" "$forced" "$parallel" ${kids[@]+"${kids[@]}"} ;;
    push)
      c2c_enter push "$name" "$tag" "$tag_re" "$exclude" "$exclude_re" '' || return 0
      c2c_render_template "${C2C_ITAG[i]}" push "$name" "${C2C_SVC[i]}" "${C2C_IMG[i]}"
      c2c_push "${C2C_LEAF[i]}" "$name" "${C2C_SVC[i]}" "${C2C_IMG[i]}" "$C2C_RENDERED" "$C2C_RENDER_BRANCH" \
        "${C2C_REG[i]}" "${C2C_CFGF[i]}" "${C2C_CFGS[i]}" "$parallel" ;;
    step)
      local k
      # one element at a time: bash walks an array from its start for ${a[@]:offset}, but from
      # the element read last for ${a[k]}, so a slice per step made a big pipeline quadratic
      for ((k = C2C_ARG0[i]; k < C2C_ARG0[i] + C2C_ARGC[i]; k++)); do argv+=("${C2C_ARGS[k]}"); done
      [[ $C2C_MODE != list ]] || c2c_detail "${C2C_SVC[i]}" ${argv[@]+"${argv[@]}"}
      c2c_enter run "$name" "$tag" "$tag_re" "$exclude" "$exclude_re" "$C2C_DETAIL" || return 0
      if ((${#fails[@]} == 0)); then
        c2c_run "${C2C_LEAF[i]}" "$name" "${C2C_SVC[i]}" "${C2C_CFGF[i]}" "${C2C_CFGS[i]}" "$parallel" -- \
          ${argv[@]+"${argv[@]}"}
        return
      fi
      local status=0
      c2c_run "${C2C_LEAF[i]}" "$name" "${C2C_SVC[i]}" "${C2C_CFGF[i]}" "${C2C_CFGS[i]}" "$parallel" -- \
        ${argv[@]+"${argv[@]}"} || status=$?
      c2c_on_fail "$status" "$depth" "$skip" "$forced" "$parallel" "${fails[@]}" ;;
  esac
}

# c2c_detail SERVICE WORD... : "[SERVICE] WORD…" for --list in C2C_DETAIL, plain words bare,
# others in double quotes.
c2c_detail() {
  local word
  C2C_DETAIL="[$1]"
  shift
  for word in "$@"; do
    if [[ -n $word && $word != *[!A-Za-z0-9_./=:,@%+-]* ]]; then
      C2C_DETAIL+=" $word"
    else
      word=${word//\\/\\\\}
      C2C_DETAIL+=" \"${word//\"/\\\"}\""
    fi
  done
}

# c2c_serial DEPTH SKIP FORCED PARALLEL N... (and c2c_parallel): runs the nodes N of a group.
c2c_serial() {
  local fn
  for fn in "${@:5}"; do
    c2c_node "$fn" "$1" "$2" "$3" "$4" || return
  done
}

c2c_parallel() {
  local fn pid status=0 first=0
  local -a pids=()
  if [[ $C2C_MODE != run || -n $2 ]]; then  # listing, dry runs and skipping: one after another
    c2c_serial "$@"
    return
  fi
  for fn in "${@:5}"; do
    c2c_node "$fn" "$1" "$2" "$3" 1 &  # the branches' steps queue for a slot (c2c_slot_take)
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

# c2c_manual NAME DEPTH SKIP FORCED PARALLEL N...
c2c_manual() {
  local name=$1
  shift
  if [[ $C2C_MODE != list && $C2C_MANUAL == 0 && -z $2 ]]; then
    c2c_say "(step: $name) manual approval group skipped: run with --manual to run it"
    c2c_record "$name" skipped 0 "manual (use --manual)"
    return 0
  fi
  c2c_serial "$@"
}

# c2c_on_fail STATUS DEPTH SKIP FORCED PARALLEL N... : the on_fail nodes N of a step at DEPTH
# that ended with STATUS.
c2c_on_fail() {
  local status=$1
  shift
  if [[ $C2C_MODE == list ]]; then
    local indent
    printf -v indent '%*s' $((($1 + 1) * 2)) ''
    printf '[    ] %son_fail: (these run only if the step above fails)\n' "$indent"
    c2c_serial $(($1 + 1)) "${@:2}"
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
    [[ $C2C_MODE == dry-run ]] || c2c_lock "build.$service"
    status=0
    [[ -e $C2C_STATE/built/$service ]] || c2c_build_image "$service" || status=$?
    [[ $C2C_MODE == dry-run ]] || c2c_unlock "build.$service"
    ((status == 0)) || return "$status"
  done
}

c2c_build_image() {
  local service=$1
  local -a C2C_BUILD_ARGS=()  # this build's: a generator built for its credentials has its own
  c2c_secret_build_args "$service" || return 1
  c2c_image_credentials "$service" || return 1
  c2c_service "$service"
  c2c_private_image "$C2C_S_IMAGE"
  [[ $C2C_MODE != run ]] || printf '%s\n' "$C2C_PRIVATE" >>"$C2C_STATE/images"
  if ! c2c_logged "(image: $C2C_S_IMAGE) (service: $service) " c2c_compose ${C2C_CFG_DIR:+--config "$C2C_CFG_DIR"} \
    "$C2C_RUN_ID-build" build ${C2C_BUILD_ARGS[@]+"${C2C_BUILD_ARGS[@]}"} "$service"; then
    c2c_say "(service: $service) image build failed"
    C2C_FAILURE="could not build the image of $service"
    return 1
  fi
  # The plain name follows the last build, for `docker compose up`, the layer cache and the
  # Dockerfiles that start FROM it; this run's steps keep using the run's own name.
  c2c_logged "(image: $C2C_S_IMAGE) (service: $service) " docker tag "$C2C_PRIVATE" "$C2C_S_IMAGE" || return 1
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

c2c_wait_healthy() {  # PROJECT NAME [-f FILE]...
  local project=$1 name=$2 id status waited=0 announced=''
  shift 2
  [[ $C2C_MODE == dry-run ]] && return 0
  for id in $(c2c_compose "$@" "$project" ps -q 2>/dev/null); do
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
# These functions use and change the calling step's slot (its place in the queue: '' for none).
c2c_slot_take() {  # NAME PARALLEL (1: in a branch of a parallel group)
  local name=$1 ticket queue_head=''
  [[ $C2C_MODE == run && $2 == 1 ]] || return 0
  c2c_lock slots
  read -r ticket <"$C2C_STATE/tickets"
  ticket=$((ticket + 1))
  printf '%s\n' "$ticket" >"$C2C_STATE/tickets"
  printf -v slot 'b%09d' "$ticket"
  if c2c_slot_free; then  # a slot is free: taken in the same turn of the lock, without queueing
    : >"$C2C_STATE/running/$slot"
    c2c_unlock slots
    return 0
  fi
  : >"$C2C_STATE/queue/$slot"
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
        mv "$C2C_STATE/queue/$slot" "$C2C_STATE/running/$slot"
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
    if ((free == 2)) && [[ $queue_head != "$slot" ]]; then sleep 0.5; else sleep 0.2; fi
  done
}

# Returns 0 when a slot is free for the calling step once every step queued before it has one
# (first come, first served, without making branches that start together wait on each other's
# polling), 1 when the free slots go to steps queued earlier, 2 when every slot is taken (no lock:
# see c2c_slot_wait); sets the caller's queue_head.
c2c_slot_free() {
  local -a queue=("$C2C_STATE"/queue/*) running=("$C2C_STATE"/running/*)
  local limit count=${#running[@]} ahead=0 entry
  [[ -e ${queue[0]} ]] || queue=()
  queue_head=${queue[0]:-}
  queue_head=${queue_head##*/}
  [[ -e ${running[0]} ]] || count=0
  read -r limit <"$C2C_STATE/limit"
  ((count < limit)) || return 2
  for entry in ${queue[@]+"${queue[@]}"}; do
    [[ ${entry##*/} == "$slot" ]] && break
    ahead=$((ahead + 1))
  done
  ((ahead < limit - count)) || return 1
}

c2c_slot_give() {
  [[ -z $slot ]] || rm -f "$C2C_STATE/running/$slot"
  slot=''
}

# c2c_pool_retry NAME PROJECT C2C_LOGGED_ARGUMENTS... : c2c_logged with these, for a command of
# the step NAME that creates its network; when Docker had no address pool left for it, waits
# (see above) and runs it again.
c2c_pool_retry() {
  local name=$1 project=$2
  shift 2
  [[ $C2C_MODE == run ]] || { c2c_logged "$@"; return; }
  local flag=$C2C_STATE/pool.$project status waited=0
  while :; do
    status=0
    c2c_logged --pool-flag "$flag" "$@" || status=$?
    ((status != 0)) && [[ -e $flag ]] || return "$status"
    rm -f "$flag"
    c2c_pool_wait || return "$status"
  done
}

# Waits until a network address pool may be free; returns 1 when giving up. Uses the calling
# c2c_pool_retry's name and waited.
c2c_pool_wait() {
  local -a running
  local others=0
  c2c_lock slots
  running=("$C2C_STATE"/running/*)
  [[ ! -e ${running[0]} ]] || others=${#running[@]}
  [[ -z $slot ]] || others=$((others - 1))
  if ((others > 0)) && [[ -n $slot ]]; then
    printf '%s\n' "$others" >"$C2C_STATE/limit"
    mv "$C2C_STATE/running/$slot" "$C2C_STATE/queue/a${slot:1}"  # first in the queue
    slot=a${slot:1}
  fi
  c2c_unlock slots
  if mkdir "$C2C_STATE/pool-advice" 2>/dev/null; then c2c_pool_advice "$name"; fi
  if ((others > 0)) && [[ -n $slot ]]; then
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
# until the step's containers are stopped.
# c2c_follow_deps PROJECT NAME : starts the followers; their pids in C2C_FOLLOWERS (space-separated;
# the Nth one's `docker logs` pid is in the file follow.PROJECT.N).
c2c_follow_deps() {
  local project=$1 name=$2 id service n=0 pidfile
  C2C_FOLLOWERS=''
  [[ $C2C_MODE == run ]] || return 0
  while read -r id service; do
    [[ -n $id ]] || continue
    n=$((n + 1))
    pidfile=$C2C_STATE/follow.$project.$n
    { docker logs -f "$id" </dev/null 2>&1 & printf '%s\n' "$!" >"$pidfile"; wait "$!"; } |
      c2c_prefix_lines "(service: $service) (step: $name) " &
    C2C_FOLLOWERS+="${C2C_FOLLOWERS:+ }$!"
  done < <(docker ps -a --filter "label=com.docker.compose.project=$project" \
    --filter label=com.docker.compose.oneoff=False --format '{{.ID}} {{.Label "com.docker.compose.service"}}' 2>/dev/null)
}

# c2c_unfollow PROJECT FOLLOWER_PID... : after the step's containers were stopped, its followers
# write their last lines and end (with --no-remove, or when they do not end within 5 s, they are
# stopped).
c2c_unfollow() {
  local project=$1 follower pid alive tries=0 n
  shift
  (($#)) || return 0
  while :; do
    alive=0
    for follower in "$@"; do
      if kill -0 "$follower" 2>/dev/null; then alive=1; fi
    done
    ((alive)) || break
    if ((tries == 50)) || [[ $C2C_REMOVE == 0 && $tries == 0 ]]; then
      for ((n = 1; n <= $#; n++)); do
        if [[ -s $C2C_STATE/follow.$project.$n ]] && read -r pid <"$C2C_STATE/follow.$project.$n"; then
          kill "$pid" 2>/dev/null || true
        fi
      done
    fi
    tries=$((tries + 1))
    sleep 0.1
  done
  for ((n = 1; n <= $#; n++)); do rm -f "$C2C_STATE/follow.$project.$n"; done
}

c2c_begin_step() {
  local name=$1 project=$2
  c2c_say "(step: $name)"
  if [[ $C2C_MODE == run ]]; then
    printf '%s\n' "$name" >"$C2C_STATE/active/$project"
  fi
}

# c2c_end_step NAME PROJECT STATUS STARTED CREATED FAILURE FOLLOWERS [-f FILE]... : removes what
# the step created (CREATED 1: containers, networks or volumes; the -f files are its Compose
# override files), waits for its dependency log FOLLOWERS (pids) and says how it ended.
c2c_end_step() {
  local name=$1 project=$2 status=$3 started=$4 created=$5 failure=${6:-container exited with a $3 code}
  local followers=$7 why=${6:-exit code $3} elapsed
  shift 7
  if [[ $C2C_MODE == dry-run ]] && ((status == 0)); then
    [[ $C2C_REMOVE == 0 ]] || c2c_logged "" c2c_compose "$@" "$project" down -v --remove-orphans -t "$C2C_STOP_TIMEOUT"
    C2C_PLANNED=$((C2C_PLANNED + 1))  # dry runs are sequential: no results file needed
    return 0
  fi
  if [[ $C2C_REMOVE == 0 && $C2C_MODE == run ]]; then
    c2c_say "(step: $name) kept its containers, network and volumes: project $project"
  elif [[ $C2C_REMOVE == 1 && $C2C_MODE == dry-run ]]; then
    c2c_logged "" c2c_compose "$@" "$project" down -v --remove-orphans -t "$C2C_STOP_TIMEOUT"
  elif [[ $C2C_REMOVE == 1 && $created == 1 ]]; then  # (nothing to remove when nothing was made)
    c2c_compose "$@" "$project" down -v --remove-orphans -t "$C2C_STOP_TIMEOUT" >/dev/null 2>&1 ||
      c2c_say "(step: $name) warning: could not remove the step's containers (project $project)"
  fi
  # the containers are stopped: the dependencies' last lines come before the result
  # shellcheck disable=SC2086 # pids
  c2c_unfollow "$project" $followers
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
    c2c_record "$name" failed "$elapsed" "$why"
  fi
}

# c2c_run INDEX NAME SERVICE DOCKERCFG DOCKERCFG_SERVICE PARALLEL -- ARGV...
c2c_run() {
  local index=$1 name=$2 service=$3 cfg_file=$4 cfg_gen=$5 parallel=$6
  shift 7
  [[ $C2C_MODE == list ]] && return 0
  local project="$C2C_RUN_ID-$index" started=0 status=0 created=0 C2C_FAILURE='' slot='' followers=''
  c2c_slot_take "$name" "$parallel"
  [[ $C2C_MODE == dry-run ]] || c2c_now_ms started
  c2c_service "$service"
  local deps=$C2C_S_DEPS builds=$C2C_S_BUILDS secrets=$C2C_S_SECRETS pulls=$C2C_S_PULLS secret
  local envs=$C2C_S_ENVS
  local -a files=() cfg_keys=() cfg_dirs=()  # files: the step's Compose override files
  c2c_begin_step "$name" "$project"
  for secret in $envs; do  # before the secrets: encrypted_env_file wins over env_file
    c2c_env_override "$index" "$name" "$secret" || { status=1 C2C_FAILURE="could not read the env_file of $secret"; c2c_say "(step: $name) $C2C_FAILURE"; break; }
    [[ -z $C2C_OVERRIDE ]] || files+=(-f "$C2C_OVERRIDE")
  done
  ((status != 0)) || for secret in $secrets; do
    c2c_secret_override "$secret" || { status=1; break; }
    files+=(-f "$C2C_OVERRIDE")
  done
  # shellcheck disable=SC2086 # service lists are space-separated names Compose accepts
  ((status == 0)) && { c2c_ensure_images $builds || status=$?; }
  # shellcheck disable=SC2086
  ((status == 0)) && { c2c_pull_private $pulls || status=$?; }
  if ((status == 0)) && [[ -n $deps ]]; then
    created=1
    # shellcheck disable=SC2086
    c2c_pool_retry "$name" "$project" --quiet "(step: $name) " c2c_compose ${files[@]+"${files[@]}"} "$project" up -d --no-build $deps ||
      status=$?
    c2c_follow_deps "$project" "$name"
    followers=$C2C_FOLLOWERS
    ((status == 0)) && { c2c_wait_healthy "$project" "$name" ${files[@]+"${files[@]}"} || status=$?; }
  fi
  if ((status == 0)); then
    created=1
    # --use-aliases: the step's container answers to its service name on the step's network, so
    # that dependencies can call it back (Codeship: containers are bidirectionally discoverable)
    local -a run=(run -T --use-aliases)
    local stdin=/dev/null
    if [[ $C2C_TTY == 1 && $C2C_COMPOSE_V == v2 ]]; then
      run=(run --use-aliases --interactive=false --tty)  # a TTY without attaching stdin
    elif [[ $C2C_TTY == 1 && -c /dev/ptmx ]]; then
      run=(run --use-aliases)  # v1 allocates one when its stdin is a TTY: a fresh pseudo-terminal of its own
      stdin=/dev/ptmx
    fi
    [[ $C2C_REMOVE == 1 ]] && run+=(--rm)
    c2c_pool_retry "$name" "$project" --trailer "$C2C_COMPOSE_V" --stdin "$stdin" "(service: $service) (step: $name) " \
      c2c_compose --step-env ${files[@]+"${files[@]}"} "$project" "${run[@]}" "$service" "$@" || status=$?
  fi
  c2c_forget_credentials
  c2c_end_step "$name" "$project" "$status" "$started" "$created" "$C2C_FAILURE" "$followers" ${files[@]+"${files[@]}"}
  c2c_slot_give
  return "$status"
}

# c2c_push INDEX NAME SERVICE IMAGE_NAME TAG TAG_HAS_BRANCH REGISTRY ENCRYPTED_DOCKERCFG
#   DOCKERCFG_SERVICE PARALLEL
c2c_push() {
  local index=$1 name=$2 service=$3 image_name=$4 tag=$5 tag_has_branch=$6 registry=$7 cfg_file=$8
  local cfg_gen=$9 parallel=${10}
  [[ $C2C_MODE == list ]] && return 0
  if [[ $C2C_PUSH == 0 ]]; then
    c2c_say "(step: $name) push step skipped: run with --push to push $image_name"
    c2c_record "$name" skipped 0 "push (use --push)"
    return 0
  fi
  if [[ -n $tag_has_branch && -z $CI_BRANCH ]]; then  # else it would push ':latest' or a stray tag
    c2c_say "(step: $name)"
    c2c_say "(step: $name) image_tag uses {{ .Branch }}, but the branch is unknown (no git branch, a detached HEAD that no single branch points at, no CI platform variable): give it with --ci-branch NAME"
    c2c_say "(step: $name) error ✗ unknown branch: nothing was pushed"
    c2c_record "$name" failed 0 "unknown branch (use --ci-branch)"
    return 1
  fi
  local project="$C2C_RUN_ID-$index" started=0 status=0 created=0 C2C_FAILURE='' slot=''
  local -a cfg_keys=() cfg_dirs=()
  c2c_slot_take "$name" "$parallel"
  [[ $C2C_MODE == dry-run ]] || c2c_now_ms started
  tag=${tag//[^A-Za-z0-9_.-]/}
  while [[ $tag == [.-]* ]]; do tag=${tag:1}; done  # a tag starts with a letter, digit or _
  tag=${tag:0:128}
  [[ -n $tag ]] || tag=latest
  c2c_service "$service"
  local image=$C2C_S_IMAGE builds=$C2C_S_BUILDS
  if [[ " $builds " == *" $service "* ]]; then  # the image this run built, not the plain name
    c2c_private_image "$image"
    image=$C2C_PRIVATE
  fi
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
  c2c_end_step "$name" "$project" "$status" "$started" "$created" "${C2C_FAILURE:-push failed}" ''
  c2c_slot_give
  return "$status"
}

# --- secrets ---------------------------------------------------------------------------------
# Encrypted files stay encrypted in the repository. They are decrypted when a step needs them,
# into this run's private directory (0700, files 0600), removed on every exit path.
# c2c_key WHAT : loads the key into C2C_KEY_B64, or says which encrypted file needs it.
c2c_key() {
  [[ -n $C2C_KEY_B64 ]] && return 0
  if [[ -n ${CODESHIP_AES_KEY:-} ]]; then
    C2C_KEY_B64=$CODESHIP_AES_KEY
    return 0
  fi
  local path=${C2C_KEY_PATH:-$C2C_DIR/$C2C_DEFAULT_KEY_PATH} step=${name:+(step: $name) }
  if [[ ! -f $path || ! -r $path ]]; then
    c2c_say "${step}no AES key to decrypt $1: $path does not exist and CODESHIP_AES_KEY is not set"
    c2c_say "${step}  provide the project's key (Project Settings > General in Codeship) as $path,"
    c2c_say "${step}  with --key-path FILE, or as the base64 text in CODESHIP_AES_KEY"
    return 1
  fi
  C2C_KEY_B64=$(tr -d ' \t\r\n' <"$path")
}

# c2c_decrypt_sources DEST WHAT KIND VALUE... : decrypts each source to DEST.N; sets C2C_DECRYPTED.
# WHAT names inline values in messages; on failure, C2C_FAILURE says what could not be decrypted.
c2c_decrypt_sources() {
  local dest=$1 what=$2 n=0 kind value src label
  shift 2
  C2C_DECRYPTED=()
  while (($# >= 2)); do
    kind=$1 value=$2
    shift 2
    n=$((n + 1))
    label=$value
    [[ $kind != inline ]] || label=$what
    C2C_FAILURE="could not decrypt $label"
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
    c2c_key "$label" || return 1
    c2c_decrypt_private "$src" "$dest.$n" "$C2C_KEY_B64" || return 1
    C2C_DECRYPTED+=("$dest.$n")
  done
  C2C_FAILURE=''
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

# c2c_lock NAME : a lock of the run, held by creating its file (noclobber opens it with O_EXCL:
# no fork); a taken lock is tried again soon, then less often (a step's turn of the slot lock
# is a few milliseconds; the lock of a service's secrets is held while they are decrypted).
c2c_lock() {
  local pause=0.005
  until set -C && { : >"$C2C_STATE/lock.$1"; } 2>/dev/null; do
    set +C
    sleep "$pause"
    case $pause in 0.005) pause=0.02 ;; 0.02) pause=0.05 ;; *) pause=0.2 ;; esac
  done
  set +C
}

c2c_unlock() {
  rm -f -- "$C2C_STATE/lock.$1"
}

# A Compose override file setting the decrypted variables of one service: they win over
# `environment` and `env_file`, as encrypted_env_file does in Codeship.
# c2c_secret_override SERVICE : the file, in C2C_OVERRIDE.
c2c_secret_override() {
  local service=$1
  local out=$C2C_STATE/secrets/$service.json status=0
  C2C_OVERRIDE=$out
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
  c2c_decrypt_sources "$C2C_STATE/secrets/$service.env" "the encrypted_environment of $service" \
    "${C2C_S_ENC_ENV[@]}" || return 1
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

# --- env_file over environment -----------------------------------------------------------------
# Codeship's order is environment < env_file < encrypted_env_file, with the env files as they are
# when the step runs (a git-ignored .env may appear or change after translating). Compose lets
# environment win, so compose.yaml leaves out the keys the env files set when translating; for
# each step, a Compose override file then sets what changed since: a key an env file sets now
# takes the file's value, one no env file sets any more takes environment's value.
# c2c_env_override STEP_INDEX STEP_NAME SERVICE : the file, in C2C_OVERRIDE ('' when the env files
# change nothing).
c2c_env_override() {
  local index=$1 name=$2 service=$3 i key found entries='' k v
  local out=$C2C_STATE/env.$index.$service.json
  C2C_OVERRIDE=''
  c2c_service "$service"
  local kept=" $C2C_S_ENV_KEPT "
  c2c_compose_env_files "${C2C_S_ENV_FILES[@]}"
  for i in "${!C2C_ENV_KEYS[@]}"; do
    [[ $kept == *" ${C2C_ENV_KEYS[i]} "* ]] || continue
    if ! k=$(c2c_json "${C2C_ENV_KEYS[i]}") || ! v=$(c2c_json "${C2C_ENV_VALUES[i]}"); then
      c2c_say "(step: $name) the env file value of ${C2C_ENV_KEYS[i]} holds a control character"
      return 1
    fi
    entries+="${entries:+,}$k:$v"
  done
  set -- ${C2C_S_ENV_DROPPED[@]+"${C2C_S_ENV_DROPPED[@]}"}
  while (($# >= 2)); do
    found=0
    for key in ${C2C_ENV_KEYS[@]+"${C2C_ENV_KEYS[@]}"}; do [[ $key == "$1" ]] && { found=1; break; }; done
    if ((found == 0)); then
      k=$(c2c_json "$1") || return 1
      v=$(c2c_json "${2//\$/\$\$}") || return 1
      entries+="${entries:+,}$k:$v"
    fi
    shift 2
  done
  [[ -n $entries ]] || return 0
  printf '{"services":{%s:{"environment":{%s}}}}\n' "$(c2c_json "$service")" "$entries" >"$out" || return 1
  C2C_OVERRIDE=$out
}

# c2c_compose_env_files FILE... : KEY=value lines read the way Compose reads env files (export,
# quotes, comments; later files win), into C2C_ENV_KEYS and C2C_ENV_VALUES as a Compose file
# takes them: `${VAR}` is left for Compose to interpolate, except in single quotes (literal).
c2c_compose_env_files() {
  local file line key value i out c
  C2C_ENV_KEYS=()
  C2C_ENV_VALUES=()
  for file in "$@"; do
    [[ $file == /* ]] || file=$C2C_DIR/$file
    [[ -f $file && -r $file ]] || continue  # Compose itself says that it is missing
    while IFS= read -r line || [[ -n $line ]]; do
      line=${line%$'\r'}
      [[ $line =~ ^[[:space:]]*(export[[:space:]]+)?([^#=[:space:]][^=[:space:]]*)[[:space:]]*=[[:space:]]*(.*)$ ]] ||
        continue
      key=${BASH_REMATCH[2]} value=${BASH_REMATCH[3]}
      case $value in
        \'*) value=${value:1} value=${value%%\'*} value=${value//\$/\$\$} ;;
        \"*)
          value=${value:1} value=${value%\"*}
          if [[ $value == *\\* ]]; then
            out=''
            for ((i = 0; i < ${#value}; i++)); do
              c=${value:i:1}
              if [[ $c == \\ && $i -lt $((${#value} - 1)) ]]; then
                i=$((i + 1)) c=${value:i:1}
                [[ $c != n ]] || c=$'\n'
              fi
              out+=$c
            done
            value=$out
          fi ;;
        *) value=${value%%[[:space:]]#*} value=${value%"${value##*[![:space:]]}"} ;;
      esac
      for i in "${!C2C_ENV_KEYS[@]}"; do
        [[ ${C2C_ENV_KEYS[i]} == "$key" ]] && { unset 'C2C_ENV_KEYS[i]' 'C2C_ENV_VALUES[i]'; break; }
      done
      C2C_ENV_KEYS+=("$key")
      C2C_ENV_VALUES+=("$value")
    done <"$file"
  done
}

# Build args from encrypted files, as --build-arg options (Go template variables rendered).
c2c_secret_build_args() {
  local service=$1 i
  C2C_BUILD_ARGS=()
  c2c_service "$service"
  ((${#C2C_S_ENC_ARGS[@]})) || return 0
  if [[ $C2C_MODE == dry-run ]]; then
    C2C_BUILD_ARGS=(--build-arg "…decrypted from the encrypted build args of $service…")
    return 0
  fi
  c2c_decrypt_sources "$C2C_STATE/secrets/$service.args" "the encrypted_args of $service" \
    "${C2C_S_ENC_ARGS[@]}" || return 1
  c2c_read_env_files "${C2C_DECRYPTED[@]}" || return 1
  rm -f "$C2C_STATE/secrets/$service.args".*
  for i in "${!C2C_ENV_KEYS[@]}"; do
    if ! c2c_render_build_arg "${C2C_ENV_VALUES[i]}"; then
      c2c_say "(service: $service) encrypted build arg ${C2C_ENV_KEYS[i]}: $C2C_RENDERED"
      return 1
    fi
    C2C_BUILD_ARGS+=(--build-arg "${C2C_ENV_KEYS[i]}=$C2C_RENDERED")
  done
}

# c2c_render_build_arg TEXT : the Go template variables of a build argument rendered into
# C2C_RENDERED exactly as translator/gotemplate.py renders plain build args.
c2c_render_build_arg() {
  c2c_render_template "$1" build-arg
}

# c2c_render_template TEXT build-arg|push [STEP SERVICE IMAGE] : Go template actions rendered into
# C2C_RENDERED, as translator/gotemplate.py reads them: {{ .Var }} and, in push tags,
# {{ printf "%.Ns" .Var }} (or {{ .Var | printf "%.Ns" }}), with Go's trim markers ({{- and -}});
# anything else is an error (its reason in C2C_RENDERED, status 1). C2C_RENDER_BRANCH is 1 when
# the text uses .Branch.
C2C_PRINTF_RE='^printf[[:space:]]+\\?"%\.([0-9]+)s\\?"[[:space:]]+\.([A-Za-z]+)$'
C2C_PIPE_PRINTF_RE='^\.([A-Za-z]+)[[:space:]]*\|[[:space:]]*printf[[:space:]]+\\?"%\.([0-9]+)s\\?"$'
c2c_render_template() {
  local rest=$1 mode=$2 out='' before body name var value width trim_next=0 ws=$' \t\r\n'
  C2C_RENDERED='' C2C_RENDER_BRANCH=''
  while [[ $rest == *'{{'* ]]; do
    before=${rest%%'{{'*}
    rest=${rest#*'{{'}
    if [[ $rest != *'}}'* ]]; then C2C_RENDERED="'{{' is not closed by '}}'"; return 1; fi
    body=${rest%%'}}'*}
    rest=${rest#*'}}'}
    ((trim_next == 0)) || before=${before#"${before%%[!"$ws"]*}"}
    if [[ $body == -["$ws"]* ]]; then body=${body:1} before=${before%"${before##*[!"$ws"]}"}; fi
    trim_next=0
    if [[ $body == *["$ws"]- ]]; then body=${body%-} trim_next=1; fi
    body=${body#"${body%%[!"$ws"]*}"}
    body=${body%"${body##*[!"$ws"]}"}
    out+=$before
    width=''
    if [[ $body =~ ^\.([A-Za-z]+)$ ]]; then
      name=${BASH_REMATCH[1]}
    elif [[ $mode == push && $body =~ $C2C_PRINTF_RE ]]; then
      width=${BASH_REMATCH[1]} name=${BASH_REMATCH[2]}
    elif [[ $mode == push && $body =~ $C2C_PIPE_PRINTF_RE ]]; then
      name=${BASH_REMATCH[1]} width=${BASH_REMATCH[2]}
    else
      if [[ $mode != push && ($body == printf* || $body == *'|'*printf*) ]]; then
        C2C_RENDERED="printf truncation is not supported in build arguments"
      else
        C2C_RENDERED="the template action '{{ $body }}' is not supported (only {{ .Var }} and {{ printf \"%.Ns\" .Var }})"
      fi
      return 1
    fi
    var=''
    case $name in
      ProjectID) var=CI_PROJECT_ID ;; BuildID) var=CI_BUILD_ID ;; RepoName) var=CI_REPO_NAME ;;
      Branch) var=CI_BRANCH C2C_RENDER_BRANCH=1 ;; CommitID) var=CI_COMMIT_ID ;; CommitMessage) var=CI_COMMIT_MESSAGE ;;
      CommitDescription) var=CI_COMMIT_DESCRIPTION ;; CommitterName) var=CI_COMMITTER_NAME ;;
      CommitterEmail) var=CI_COMMITTER_EMAIL ;; CommitterUsername) var=CI_COMMITTER_USERNAME ;;
      Time) var=C2C_TIME ;; Timestamp) var=CI_TIMESTAMP ;; StringTime) var=CI_STRING_TIME ;;
      Ci) value=true ;;
      StepName|ServiceName|ImageName|CiName)
        if [[ $mode != push ]]; then C2C_RENDERED="'.$name' is not available in build arguments"; return 1; fi
        case $name in
          StepName) value=${3:-} ;; ServiceName) value=${4:-} ;; ImageName) value=${5:-} ;; *) value=codeship ;;
        esac ;;
      *) C2C_RENDERED="unknown template variable '.$name'"; return 1 ;;
    esac
    [[ -z $var ]] || value=${!var:-}
    [[ -z $width ]] || value=${value:0:width}
    out+=$value
  done
  ((trim_next == 0)) || rest=${rest#"${rest%%[!"$ws"]*}"}
  C2C_RENDERED=$out$rest
}

# --- registry credentials --------------------------------------------------------------------
# A step's registry credentials live in private Docker config directories, never ~/.docker, made
# when the step first needs them and removed when it ends. They come from an encrypted file, or
# from a dockercfg_service that jet runs with a path to write them to. These functions work for
# the calling step (c2c_run, c2c_push): they use its index, name, project, cfg_file and cfg_gen,
# keep the credentials it has (cfg_keys) and their config directories (cfg_dirs), and set its
# created when a generator ran; in_generator is set while a generator's own images are made.

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
      C2C_FAILURE="could not pull $image"
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
  [[ -n $file$gen && -z ${in_generator:-} ]] || return 0
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
  for i in "${!cfg_keys[@]}"; do
    if [[ ${cfg_keys[i]} == "$file:$gen" ]]; then
      C2C_CFG_DIR=${cfg_dirs[i]}
      return 0
    fi
  done
  local dir=$C2C_STATE/docker-config.$index.${#cfg_keys[@]}
  if ! c2c_docker_config "$dir" "$file" "$gen"; then
    rm -rf -- "$dir"  # whatever the generator or the decryption left there
    return 1
  fi
  cfg_keys+=("$file:$gen")
  cfg_dirs+=("$dir")
  C2C_CFG_DIR=$dir
}

c2c_forget_credentials() {
  ((${#cfg_dirs[@]})) && rm -rf -- "${cfg_dirs[@]}"
  return 0
}

# c2c_docker_config DIR ENCRYPTED_FILE GENERATOR_SERVICE
c2c_docker_config() {
  local dir=$1 source=$2 generator=$3 raw secret
  if [[ -n $generator ]]; then
    c2c_service "$generator"
    local builds=$C2C_S_BUILDS secrets=$C2C_S_SECRETS envs=$C2C_S_ENVS in_generator=1
    local -a files=()
    for secret in $envs; do
      c2c_env_override "$index" "$name" "$secret" || return 1
      [[ -z $C2C_OVERRIDE ]] || files+=(-f "$C2C_OVERRIDE")
    done
    for secret in $secrets; do
      c2c_secret_override "$secret" || return 1
      files+=(-f "$C2C_OVERRIDE")
    done
    # shellcheck disable=SC2086
    c2c_ensure_images $builds || return 1
    [[ $C2C_MODE == dry-run ]] || (umask 077 && mkdir -p "$dir/out") || return 1
    created=1
    c2c_logged "(service: $generator) (step: $name) " c2c_compose ${files[@]+"${files[@]}"} "$project" run --rm -T \
      -v "$dir/out:/codeship-dockercfg" "$generator" /codeship-dockercfg/dockercfg || return 1
    [[ $C2C_MODE == dry-run ]] && return 0
    raw=$dir/out/dockercfg
    if [[ ! -s $raw ]]; then
      c2c_say "(step: $name) dockercfg_service $generator wrote no credentials to the path it was given"
      return 1
    fi
  else
    [[ $C2C_MODE == dry-run ]] && return 0
    (umask 077 && mkdir -p "$dir") || return 1
    c2c_decrypt_sources "$dir/cfg" "$source" file "$source" || return 1
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

# Two runs at once on one Docker host (two checkouts, or two projects with the same build.image)
# must not use each other's builds, as on Codeship every build had its own host. The run builds
# each image under a name of its own, IMAGE's repository with the tag RUN_ID-TAG, through an
# override file that every Compose command of the run reads; steps and pushes use that name.
c2c_private_image() {
  local repo=$1 tag=latest
  if [[ ${repo##*/} == *:* ]]; then
    tag=${repo##*:}
    repo=${repo%:*}
  fi
  C2C_PRIVATE=$repo:${C2C_RUN_ID}-$tag
  C2C_PRIVATE=${C2C_PRIVATE:0:$((${#repo} + 1 + 128))}  # a tag has at most 128 characters
}

c2c_run_images() {
  ((${#C2C_BUILT_IMAGES[@]})) || return 0
  local out=$C2C_STATE/images.json i service image entries='' shown=''
  for ((i = 0; i < ${#C2C_BUILT_IMAGES[@]}; i += 2)); do
    service=${C2C_BUILT_IMAGES[i]} image=${C2C_BUILT_IMAGES[i + 1]}
    c2c_private_image "$image"
    c2c_cache_from "$service" "$image"
    entries+="${entries:+,}$(c2c_json "$service"):{\"image\":$(c2c_json "$C2C_PRIVATE")$C2C_BUILD_CACHE}"
    shown+=" $service=$C2C_PRIVATE"
    [[ $C2C_BUILD_CACHE != *'"cache_from"'* ]] || shown+=" (cache_from $image)"
  done
  printf '{"services":{%s}}\n' "$entries" >"$out"
  C2C_RUN_FILES+=(-f "$out")
  [[ $C2C_MODE != dry-run ]] || c2c_say "+ # this run builds and uses its own image names:$shown"
}

# c2c_cache_from SERVICE IMAGE: C2C_CACHE_FROM="SERVICE…" (the CI jobs set it for `cached: true`
# services, whose last image they keep in the platform's cache and load before the run): these
# builds store BuildKit's inline cache metadata in the image, and use the plain name's image, when
# there is one, as their layer cache (`cache_from`): neither BuildKit nor the classic builder
# reuses a loaded image otherwise. Leaves in C2C_BUILD_CACHE the ,"build":{…} to add to the
# service's entry in the run's override file ('' for the other services).
c2c_cache_from() {
  local service=$1 image=$2
  C2C_BUILD_CACHE=''
  [[ " ${C2C_CACHE_FROM:-} " == *" $service "* ]] || return 0
  C2C_BUILD_CACHE=",\"build\":{\"args\":{\"BUILDKIT_INLINE_CACHE\":\"1\"}"
  if [[ $C2C_MODE == dry-run ]] || docker image inspect "$image" >/dev/null 2>&1; then
    C2C_BUILD_CACHE+=",\"cache_from\":[$(c2c_json "$image")]"
  fi
  C2C_BUILD_CACHE+="}"
}

# add_docker: like jet, the container gets the host's DOCKER_HOST, DOCKER_TLS_VERIFY and
# DOCKER_CERT_PATH, as this script sees them. compose.yaml mounts /var/run/docker.sock (the
# default); otherwise a run-wide override file changes that: a unix socket elsewhere (rootless
# Docker, a socket in a home directory) is mounted at /var/run/docker.sock, any other DOCKER_HOST
# (tcp://, ssh://) is passed as it is and /dev/null takes the socket's place, and the certificate
# directory is mounted read-only at /codeship-docker-certs.
C2C_DOCKER_CERTS=/codeship-docker-certs

c2c_docker_host() {
  ((${#C2C_ADD_DOCKER[@]})) || return 0
  local host=${DOCKER_HOST:-} verify=${DOCKER_TLS_VERIFY:-} certs=${DOCKER_CERT_PATH:-}
  [[ -n $verify$certs || ( -n $host && $host != unix:///var/run/docker.sock ) ]] || return 0
  local env socket=/var/run/docker.sock mounts service entries='' out=$C2C_STATE/docker-host.json
  if [[ -z $host || $host == unix://* ]]; then
    [[ -z $host ]] || socket=${host#unix://}
    env="\"DOCKER_HOST\":\"unix:///var/run/docker.sock\""
    mounts=$(c2c_json "${socket//\$/\$\$}:/var/run/docker.sock")
  else
    env="\"DOCKER_HOST\":$(c2c_json "${host//\$/\$\$}")"
    mounts='"/dev/null:/var/run/docker.sock:ro"'
    if [[ $host =~ ^tcp://(localhost|127\.|\[::1\]) ]]; then
      c2c_say "note: DOCKER_HOST=$host is this machine's loopback: add_docker containers cannot reach it there"
    fi
  fi
  [[ -z $verify ]] || env+=",\"DOCKER_TLS_VERIFY\":$(c2c_json "${verify//\$/\$\$}")"
  if [[ -n $certs ]]; then
    [[ $certs == /* ]] || certs=$PWD/$certs
    if [[ ! -d $certs ]]; then
      c2c_say "DOCKER_CERT_PATH=$DOCKER_CERT_PATH is not a directory; add_docker services (${C2C_ADD_DOCKER[*]}) get it mounted: fix the path or unset it"
      return 1
    fi
    env+=",\"DOCKER_CERT_PATH\":\"$C2C_DOCKER_CERTS\""
    mounts+=",$(c2c_json "${certs//\$/\$\$}:$C2C_DOCKER_CERTS:ro")"
  elif [[ -n $verify ]]; then
    c2c_say "note: DOCKER_TLS_VERIFY is set without DOCKER_CERT_PATH: add_docker containers get no certificates (set DOCKER_CERT_PATH to their directory)"
  fi
  for service in "${C2C_ADD_DOCKER[@]}"; do
    entries+="${entries:+,}$(c2c_json "$service"):{\"environment\":{$env},\"volumes\":[$mounts]}"
  done
  printf '{"services":{%s}}\n' "$entries" >"$out"
  C2C_RUN_FILES+=(-f "$out")
  [[ $C2C_MODE != dry-run ]] || c2c_say "+ # add_docker services follow this host's Docker settings ($out): $(<"$out")"
}

# The private names this run may have tagged (a build interrupted at its end may have) go when
# it ends; the plain names stay (see c2c_build_image). An image that only a kept container
# (--no-remove) still uses keeps its private name.
c2c_forget_images() {
  [[ -s $C2C_STATE/images ]] || return 0
  local name
  local -a names=()
  while IFS= read -r name; do names+=("$name"); done < <(sort -u "$C2C_STATE/images")  # bash 3.2: no mapfile
  docker rmi "${names[@]}" >/dev/null 2>&1 || true
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
  set +C  # an interrupt can land while c2c_lock tries a lock
  trap '' INT TERM
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
    [[ $C2C_MODE != run ]] || c2c_forget_images
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
  readonly C2C_DIR C2C_COMPOSE_FILE C2C_MODE C2C_TAG C2C_HAVE_TAG C2C_PUSH C2C_MANUAL C2C_REMOVE \
    C2C_STOP_TIMEOUT C2C_HEALTH_TIMEOUT C2C_MAX_PARALLEL C2C_POOL_TIMEOUT C2C_COMPOSE_CHOICE C2C_STEPS \
    C2C_KEY_PATH C2C_USER_ENV C2C_CI_FLAGS C2C_CI_VARS
  c2c_load_pipeline  # a malformed hand edit stops here, before anything runs
  readonly C2C_KIND C2C_NAME C2C_SVC C2C_KIDS C2C_FAILS C2C_LEAF C2C_TAGF C2C_TAGW C2C_EXCF C2C_EXCW \
    C2C_CFGF C2C_CFGS C2C_ARG0 C2C_ARGC C2C_IMG C2C_ITAG C2C_REG C2C_LINE C2C_ARGS
  c2c_now_ms C2C_STARTED
  [[ $C2C_MODE == list ]] || c2c_detect_compose
  c2c_setup
  readonly C2C_STARTED C2C_COMPOSE C2C_COMPOSE_V C2C_RUN_ID C2C_STATE
  trap c2c_cleanup EXIT
  trap 'c2c_on_signal 130' INT
  trap 'c2c_on_signal 143' TERM
  [[ $C2C_MODE == list ]] || c2c_detect_tty  # before c2c_ci_defaults sets CI
  if [[ $C2C_MODE != list ]]; then
    c2c_run_images
    c2c_docker_host || exit 2
  fi
  if [[ $C2C_MODE == dry-run ]]; then
    printf -v C2C_COMPOSE_SHOWN '%q ' "${C2C_COMPOSE[@]}" --project-directory "$C2C_DIR" -f "$C2C_COMPOSE_FILE" \
      ${C2C_RUN_FILES[@]+"${C2C_RUN_FILES[@]}"}
    C2C_COMPOSE_SHOWN=${C2C_COMPOSE_SHOWN% }
  fi
  c2c_ci_defaults
  c2c_ci_env_args  # once: the values do not change during the run
  readonly C2C_TTY C2C_RUN_FILES C2C_COMPOSE_SHOWN C2C_TIME C2C_ENV_ARGS C2C_ENV_SHOWN
  if [[ $C2C_MODE == list ]]; then
    c2c_say "Steps of ${C2C_SOURCE_STEPS} (tag: $([[ $C2C_HAVE_TAG == 1 ]] && printf '%s' "$C2C_TAG" || printf 'none'), push: $([[ $C2C_PUSH == 1 ]] && printf on || printf off))"
  fi
  local status=0
  # shellcheck disable=SC2086 # node numbers
  c2c_serial 0 '' 0 0 ${C2C_KIDS[0]} || status=$?
  return "$status"
}
