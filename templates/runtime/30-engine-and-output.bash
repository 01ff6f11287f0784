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

# c2c_logged [--if-failed] [--stdin FILE] [--trailer v1|v2] [--pool-flag FILE] PREFIX COMMAND... :
# runs COMMAND with every output line prefixed (see c2c_prefix_lines for --trailer and
# --pool-flag; --if-failed shows the lines only when COMMAND fails: its errors, not its progress),
# in the background so that a signal reaches the script's trap at once; returns the command's exit
# status. A dry run prints the command instead.
c2c_logged() {
  local quiet=0 stdin=/dev/null trailer='' flag=''
  while :; do
    case $1 in
      --if-failed) quiet=1; shift ;;
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
    local held=$C2C_STATE/held.$BASHPID  # one per process: parallel branches are processes
    c2c_prefixed "$prefix" "$stdin" "$trailer" "$flag" "$@" >"$held" &
    wait "$!" || status=$?
    ((status == 0)) || [[ -n $flag && -e $flag ]] || cat -- "$held"  # (no address pool: tried again)
    rm -f -- "$held"
    return "$status"
  fi
  c2c_prefixed "$prefix" "$stdin" "$trailer" "$flag" "$@" &
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

