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
C2C_PULL_REQUEST=0  # --pull-request: no tag:/exclude: step runs
C2C_REMOVE=1
C2C_TTY=auto  # auto | 0 | 1: a TTY for the step containers (c2c_detect_tty)
C2C_STOP_TIMEOUT=${C2C_STOP_TIMEOUT:-2}
C2C_HEALTH_TIMEOUT=${C2C_HEALTH_TIMEOUT:-3600}
C2C_MAX_PARALLEL=${C2C_MAX_PARALLEL:-8}  # step projects at once: each needs a network (see c2c_slot_take)
C2C_POOL_TIMEOUT=${C2C_POOL_TIMEOUT:-600}  # how long a step waits for a network pool other runs hold
C2C_COMPOSE_CHOICE=${C2C_COMPOSE:-auto}
C2C_STEPS=()
C2C_WORDS=()  # arguments that are not options (c2c_check_selection refuses them)
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
C2C_CFG_RAN=0  # c2c_forget_credentials: a generator ran in the step's project
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
  --pull-request        a pull/merge request's build, which Codeship never ran: no step
                        behind a tag: or exclude: filter runs (the CI jobs pass it)
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
130 on Ctrl-C (SIGINT), 143 on SIGTERM; 2 for a usage error (an unknown --step name too) or
a malformed pipeline; 125 when the Docker engine cannot be reached (nothing was run).

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

C2C_OPTIONS=(--tag --step --push --manual --list --dry-run --env --key-path --no-remove --no-tty --stop-timeout
  --max-parallel --compose --help --ci-branch --ci-build-id --ci-commit-id --ci-commit-message
  --ci-commit-description --ci-committer-name --ci-committer-email --ci-committer-username --ci-repo-name
  --ci-project-id)

# c2c_did_you_mean OPTION : prints " (did you mean --tag?)" when OPTION looks like one of ours
# (the same but for case, - and _, a plural s, or the start of only one); else nothing.
c2c_did_you_mean() {
  local want known norm found=''
  want=$(printf '%s' "${1#-}" | tr '[:upper:]' '[:lower:]')
  want=${want#-} want=${want//[-_]/} want=${want%s}
  [[ -n $want ]] || return 0
  if [[ $want == branch ]]; then  # jet's builds were of a branch or tag: --tag names it
    printf ' (did you mean --tag?)'
    return 0
  fi
  for known in "${C2C_OPTIONS[@]}" -e -T -h; do
    norm=$(printf '%s' "${known#--}" | tr '[:upper:]' '[:lower:]')
    norm=${norm#-} norm=${norm//-/}
    if [[ $norm == "$want" ]]; then
      found=$known
      break
    fi
    if ((${#want} >= 3)) && [[ $norm == "$want"* ]]; then
      [[ -z $found ]] || return 0  # the start of several
      found=$known
    fi
  done
  [[ -z $found ]] || printf ' (did you mean %s?)' "$found"
}

# c2c_word VAR TEXT : TEXT as one shell word a person can copy, in VAR: bare when plain, else in
# single quotes ($'…' when it holds control characters).
c2c_word() {
  if [[ -n $2 && $2 != *[!A-Za-z0-9_./=:,@%+-]* ]]; then
    printf -v "$1" '%s' "$2"
  elif [[ $2 == *[[:cntrl:]]* ]]; then
    printf -v "$1" '%q' "$2"
  else
    printf -v "$1" "'%s'" "${2//\'/\'\\\'\'}"
  fi
}

# Checks what the command line selects against the pipeline (once it is read): a --step name no
# step or group has would run nothing (and its CI job would pass), and a bare word is most likely
# a branch meant for --tag, or a step meant for --step.
c2c_check_selection() {
  local name word quoted i shown=0
  local -A known=()
  ((${#C2C_STEPS[@]} + ${#C2C_WORDS[@]})) || return 0
  for ((i = 1; i < ${#C2C_NAME[@]}; i++)); do known[${C2C_NAME[i]}]=1; done
  for word in ${C2C_WORDS[@]+"${C2C_WORDS[@]}"}; do
    c2c_word quoted "$word"
    if [[ -n ${known[$word]:-} ]]; then
      c2c_die_usage "unknown argument: $quoted (did you mean --step $quoted?)"
    fi
    c2c_die_usage "unknown argument: $quoted (did you mean --tag $quoted?)"
  done
  for word in ${C2C_STEPS[@]+"${C2C_STEPS[@]}"}; do
    [[ -z ${known[$word]:-} ]] || continue
    c2c_word quoted "$word"
    local list='' more=0
    local -A listed=()
    for ((i = 1; i < ${#C2C_NAME[@]}; i++)); do
      name=${C2C_NAME[i]}
      [[ -z ${listed[$name]:-} ]] || continue
      listed[$name]=1
      if ((shown == 100)); then more=$((more + 1)); continue; fi
      shown=$((shown + 1))
      c2c_word name "$name"
      list+=$'\n'"  $name"
    done
    ((more == 0)) || list+=$'\n'"  … and $more more (see --list)"
    if ((shown == 0)); then
      c2c_die_usage "--step $quoted: the pipeline has no steps"
    fi
    c2c_die_usage "--step $quoted: no step or group has this name, so it would run nothing. The names:$list"
  done
  ((${#C2C_STEPS[@]} == 0)) || c2c_check_on_fail_selection
}

# A --step name that only an on_fail step (or a step under one) has, whose step is not selected
# too, would run nothing: the step it belongs to never runs, so never fails.
c2c_check_on_fail_selection() {
  local i n word owner quoted
  local -A wanted=() reached=() owners=()
  local -a stack=(0:0:) kids
  local top=1
  for word in "${C2C_STEPS[@]}"; do wanted[$word]=1; done
  while ((top)); do  # NODE:SELECTED:OWNER (SELECTED: a node above it is; OWNER: the main step of an on_fail node)
    top=$((top - 1))
    IFS=: read -r i n owner <<<"${stack[top]}"
    if ((i > 0)); then
      word=${C2C_NAME[i]}
      if ((n)) || [[ -z $owner ]]; then
        reached[$word]=1
      elif [[ -z ${owners[$word]:-} ]]; then
        owners[$word]=$owner
      fi
      [[ -z ${wanted[$word]:-} ]] || n=1  # what is under it is selected with it
    fi
    # shellcheck disable=SC2206 # node numbers
    kids=(${C2C_KIDS[i]})
    for word in ${kids[@]+"${kids[@]}"}; do stack[top]=$word:$n:$owner top=$((top + 1)); done
    # shellcheck disable=SC2206
    kids=(${C2C_FAILS[i]})
    for word in ${kids[@]+"${kids[@]}"}; do stack[top]=$word:$n:${owner:-$i} top=$((top + 1)); done
  done
  for word in "${C2C_STEPS[@]}"; do
    [[ -z ${reached[$word]:-} && -n ${owners[$word]:-} ]] || continue
    c2c_word quoted "$word"
    c2c_word owner "${C2C_NAME[${owners[$word]}]}"
    c2c_die_usage "--step $quoted: an on_fail step of $owner: it runs only when $owner fails, so alone it would run nothing; select that step too: --step $owner"
  done
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
      --pull-request) C2C_PULL_REQUEST=1; shift ;;
      --no-remove) C2C_REMOVE=0; shift ;;
      -T|--no-tty) C2C_TTY=0; shift ;;
      --tag|--step|-e|--env|--key-path|--stop-timeout|--max-parallel|--compose|--ci-branch|--ci-build-id|\
      --ci-commit-id|--ci-commit-message|--ci-commit-description|--ci-committer-name|--ci-committer-email|\
      --ci-committer-username|--ci-repo-name|--ci-project-id)
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
          *) c2c_die_usage "unknown option: $opt$(c2c_did_you_mean "$opt")" ;;
        esac ;;
      -*) c2c_die_usage "unknown option: $opt$(c2c_did_you_mean "$opt")" ;;
      *) C2C_WORDS+=("$opt"); shift ;;  # refused by c2c_check_selection, which knows the step names
    esac
  done
  [[ $C2C_MAX_PARALLEL =~ ^[1-9][0-9]{0,5}$ ]] || c2c_die_usage "C2C_MAX_PARALLEL needs a whole number of at least 1"
  [[ $C2C_POOL_TIMEOUT =~ ^[0-9]{1,7}$ ]] || c2c_die_usage "C2C_POOL_TIMEOUT needs whole seconds"
}

