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
      c2c_enter group "$name" "$tag" "$tag_re" "$exclude" "$exclude_re" "$kind" "${C2C_HOLDS[i]:-0}" || return 0
      "c2c_$kind" "$depth" "$skip" "$forced" "$parallel" ${kids[@]+"${kids[@]}"} ;;
    manual)
      c2c_enter manual "$name" "$tag" "$tag_re" "$exclude" "$exclude_re" '' "${C2C_HOLDS[i]:-0}" || return 0
      c2c_manual "$name" "$depth" "$skip" "$forced" "$parallel" ${kids[@]+"${kids[@]}"} ;;
    push)
      c2c_reached "${C2C_LEAF[i]}" || return 0
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
      c2c_reached "${C2C_LEAF[i]}" || return 0
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

# c2c_reached LEAF : returns 1 when the run has already walked step number LEAF (only the walk
# after Ctrl-C meets such steps: it records those the run did not reach, c2c_cleanup); marks it.
c2c_reached() {
  [[ $C2C_MODE == run ]] || return 0
  [[ ! -e $C2C_STATE/reached/$1 ]] || return 1
  : >"$C2C_STATE/reached/$1"
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
# After a failure the group stops; its other nodes are still walked, with the skip reason
# C2C_NOT_RUN, so that the summary lists each step the build did not reach.
C2C_NOT_RUN='(not run)'
c2c_serial() {
  local fn status=0
  for fn in "${@:5}"; do
    if ((status == 0)); then
      c2c_node "$fn" "$1" "$2" "$3" "$4" || status=$?
    else
      c2c_node "$fn" "$1" "$C2C_NOT_RUN" "$3" "$4"
    fi
  done
  return "$status"
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
# Without --manual, its steps are walked with the reason (listed, and recorded for the summary);
# the notice is for a group the run selects (no --step, or --step named it or a group above it).
c2c_manual() {
  local name=$1
  shift
  if [[ $C2C_MANUAL == 0 && ( -z $2 || $2 == "$C2C_NOT_RUN" ) ]]; then
    if [[ $C2C_MODE != list && -z $2 ]] && [[ ${#C2C_STEPS[@]} == 0 || $3 == 1 ]]; then
      c2c_say "(step: $name) manual approval group skipped: run with --manual to run it"
    fi
    set -- "$1" 'manual (use --manual)' "${@:3}"
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

# c2c_ensure_images STEP CREDENTIALS SERVICE... : builds the images step STEP (INDEX NAME PROJECT
# DOCKERCFG DOCKERCFG_SERVICE, see c2c_pull_private) needs, once per run, under a lock shared with
# parallel branches. CREDENTIALS `step`: the images their Dockerfiles start FROM are pulled with
# the service's registry credentials, else the step's; `none`: with your login.
c2c_ensure_images() {
  local service status
  local -a step_and_credentials=("${@:1:6}")
  shift 6
  for service in "$@"; do
    [[ -e $C2C_STATE/built/$service ]] && continue
    [[ $C2C_MODE == dry-run ]] || c2c_lock "build.$service"
    status=0
    [[ -e $C2C_STATE/built/$service ]] || c2c_build_image "$service" "${step_and_credentials[@]}" || status=$?
    [[ $C2C_MODE == dry-run ]] || c2c_unlock "build.$service"
    ((status == 0)) || return "$status"
  done
}

# c2c_build_image SERVICE STEP CREDENTIALS (see c2c_ensure_images)
c2c_build_image() {
  local service=$1
  local -a C2C_BUILD_ARGS=()  # this build's: a generator built for its credentials has its own
  c2c_secret_build_args "$service" || return 1
  C2C_CFG_DIR=''
  [[ $7 == none ]] || c2c_image_credentials "$service" always "${@:2:5}" || return 1
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
      if ((limit == 1)); then
        c2c_say "(step: $name) queued: 1 step of this run is running (at most 1 at once; see --max-parallel)"
      else
        c2c_say "(step: $name) queued: $limit steps of this run are running (at most $limit at once; see --max-parallel)"
      fi
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
    if ((others == 1)); then
      c2c_say "(step: $name) Docker has no network address pool left for the step: it runs when the other step running ends (this run now runs 1 step at a time)"
    else
      c2c_say "(step: $name) Docker has no network address pool left for the step: it runs when one of the $others other steps running ends (this run now runs at most $others steps at once)"
    fi
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

