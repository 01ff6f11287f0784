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

# c2c_deps_failed NAME SERVICE DEPENDENCY... : Compose could not start the DEPENDENCY services
# of step NAME on SERVICE (its message is above). The usual cause, an image that is not here and
# could not be pulled (a wrong name, a private image), is said as c2c_pull_failed says it, with
# Docker's reason; the step's failure is left in C2C_FAILURE.
c2c_deps_failed() {
  local name=$1 service=$2
  shift 2
  c2c_pull_failed "$name" "$service"
  [[ -n $C2C_FAILURE ]] || C2C_FAILURE="could not start the services it depends on ($*)"
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

# c2c_pull_failed NAME SERVICE : after a step's Compose commands failed. When an image of the
# services the step starts (not one the run builds) is not on the engine, Compose could not pull
# it: says so with Docker's reason (heard by pulling it once more) and sets C2C_FAILURE to
# "could not pull IMAGE"; else leaves C2C_FAILURE alone (the container failed).
c2c_pull_failed() {
  local name=$1 todo=$2 seen=' ' service image reason builds
  c2c_service "$2"
  builds=" $C2C_S_BUILDS "
  while [[ -n $todo ]]; do
    service=${todo%% *}
    todo=${todo#"$service"}
    todo=${todo# }
    [[ $seen != *" $service "* ]] || continue
    seen+="$service "
    c2c_service "$service"
    todo+="${todo:+${C2C_S_DEPS:+ }}$C2C_S_DEPS"
    image=$C2C_S_IMAGE
    [[ -n $image && $builds != *" $service "* ]] || continue
    ! docker image inspect "$image" >/dev/null 2>&1 || continue
    reason=$(docker pull -q "$image" 2>&1 >/dev/null) || true
    reason=${reason%$'\n'}
    reason=${reason##*$'\n'}
    c2c_say "(step: $name) could not pull $image (service $service)${reason:+: $reason}"
    C2C_FAILURE="could not pull $image"
    return 0
  done
}

# c2c_run INDEX NAME SERVICE DOCKERCFG DOCKERCFG_SERVICE PARALLEL -- ARGV...
c2c_run() {
  local index=$1 name=$2 service=$3 cfg_file=$4 cfg_gen=$5 parallel=$6
  shift 7
  [[ $C2C_MODE == list ]] && return 0
  c2c_need_engine "$name" || return
  local project="$C2C_RUN_ID-$index" started=0 status=0 created=0 C2C_FAILURE='' slot='' followers=''
  c2c_slot_take "$name" "$parallel"
  [[ $C2C_MODE == dry-run ]] || c2c_now_ms started
  c2c_service "$service"
  local deps=$C2C_S_DEPS builds=$C2C_S_BUILDS secrets=$C2C_S_SECRETS pulls=$C2C_S_PULLS secret
  local envs=$C2C_S_ENVS
  local -a files=() this_step=("$index" "$name" "$project" "$cfg_file" "$cfg_gen")  # files: its Compose override files
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
  ((status == 0)) && { c2c_ensure_images "${this_step[@]}" step $builds || status=$?; }
  # shellcheck disable=SC2086
  ((status == 0)) && { c2c_pull_private "${this_step[@]}" $pulls || status=$?; }
  if ((status == 0)) && [[ -n $deps ]]; then
    created=1
    # shellcheck disable=SC2086
    c2c_pool_retry "$name" "$project" --if-failed "(step: $name) " c2c_compose ${files[@]+"${files[@]}"} "$project" up -d --no-build $deps ||
      status=$?
    # shellcheck disable=SC2086
    ((status == 0)) || c2c_deps_failed "$name" "$service" $deps
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
  ((status == 0)) || [[ -n $C2C_FAILURE || $C2C_MODE != run ]] || c2c_pull_failed "$name" "$service"
  c2c_forget_credentials "$index"
  ((C2C_CFG_RAN == 0)) || created=1
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
  c2c_need_engine "$name" || return
  local project="$C2C_RUN_ID-$index" started=0 status=0 created=0 C2C_FAILURE='' slot=''
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
  c2c_ensure_images "$index" "$name" "$project" "$cfg_file" "$cfg_gen" step $builds || status=$?
  if ((status == 0)); then
    c2c_logged "(step: $name) " docker tag "$image" "$image_name:$tag" || status=$?
  fi
  if ((status == 0)); then
    c2c_credentials "$index" "$name" "$project" "$cfg_file" "$cfg_gen" || status=$?
  fi
  if ((status == 0)); then
    local -a config=()
    [[ -z $C2C_CFG_DIR ]] || config=(--config "$C2C_CFG_DIR" ${C2C_USER_CONTEXT:+--context "$C2C_USER_CONTEXT"})
    c2c_logged "(step: $name) " docker ${config[@]+"${config[@]}"} push "$image_name:$tag" || status=$?
    ((status == 0)) || c2c_say "(step: $name) pushing $image_name:$tag failed${registry:+ (registry $registry)}: see Docker's message above (is the registry reachable? does it need 'docker login${registry:+ $registry}'?)"
  fi
  c2c_forget_credentials "$index"
  ((C2C_CFG_RAN == 0)) || created=1
  c2c_end_step "$name" "$project" "$status" "$started" "$created" "${C2C_FAILURE:-push failed}" ''
  c2c_slot_give
  return "$status"
}

