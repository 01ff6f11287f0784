# --- set-up and clean-up ---------------------------------------------------------------------
C2C_ENGINE_EXIT=125  # the run's exit status when the Docker engine cannot be reached (as `docker run`'s)

# c2c_need_engine NAME : whether the Docker engine answers, asked once per run, before the first
# step that needs it (a run whose steps are all skipped needs none); parallel branches share the
# answer in $C2C_STATE/engine. When it does not, says so once (where the script looked, how to
# start it), records the step NAME as not run and returns C2C_ENGINE_EXIT.
c2c_need_engine() {
  [[ $C2C_MODE == run ]] || return 0
  local answer=''
  [[ ! -s $C2C_STATE/engine ]] || read -r answer <"$C2C_STATE/engine"
  if [[ -z $answer ]]; then
    c2c_lock engine
    [[ ! -s $C2C_STATE/engine ]] || read -r answer <"$C2C_STATE/engine"
    if [[ -z $answer ]]; then
      answer=up
      c2c_engine_answers || answer=down
      printf '%s\n' "$answer" >"$C2C_STATE/engine"
    fi
    c2c_unlock engine
  fi
  [[ $answer == down ]] || return 0
  [[ -z $1 ]] || c2c_record "$1" notrun 0 "the Docker engine cannot be reached"
  return "$C2C_ENGINE_EXIT"
}

c2c_engine_answers() {
  local me=${0##*/} said='' where how context
  if ! command -v docker >/dev/null 2>&1; then
    printf '%s: error: the docker command was not found; nothing was run\n  hint: install Docker (its CLI and an engine), or put docker in PATH\n' "$me" >&2
    return 1
  fi
  said=$(docker version --format '{{.Server.Version}}' 2>&1 >/dev/null) && return 0
  if [[ -n ${DOCKER_HOST:-} ]]; then
    where="at $DOCKER_HOST (DOCKER_HOST)"
    how="start the engine there, or correct DOCKER_HOST (unset it for this machine's own engine)"
  elif [[ -n ${DOCKER_CONTEXT:-} ]]; then
    where="of the docker context $DOCKER_CONTEXT (DOCKER_CONTEXT)"
    how="start that engine, or pick one that runs (\`docker context ls\`; unset DOCKER_CONTEXT for the current one)"
  elif context=$(docker context show 2>/dev/null) && [[ -n $context && $context != default ]]; then
    where="of the docker context $context (\`docker context use\`)"
    how="start that engine, or switch to one that runs (\`docker context use default\`)"
  else
    where="on this machine (/var/run/docker.sock)"
    how="start Docker (Docker Desktop, or \`sudo systemctl start docker\`), then run this script again"
  fi
  if [[ $said == *'permission denied'* ]]; then
    how="your user may not use it: add it to the docker group (\`sudo usermod -aG docker \$USER\`, then log in again)"
  fi
  printf '%s: error: cannot reach the Docker engine %s; nothing was run\n' "$me" "$where" >&2
  [[ -z $said ]] || printf '%s\n' "$said" | sed 's/^/  docker: /' >&2
  printf '  hint: %s\n' "$how" >&2
  return 1
}

c2c_setup() {
  C2C_RUN_ID="c2c$(printf '%x%04x' "$$" "$RANDOM")"
  export C2C_RUN_ID
  [[ $C2C_MODE == list ]] && return 0
  C2C_STATE=$(mktemp -d "${TMPDIR:-/tmp}/codeship2compose.XXXXXX")
  chmod 700 "$C2C_STATE"
  mkdir "$C2C_STATE/built" "$C2C_STATE/active" "$C2C_STATE/secrets" "$C2C_STATE/reached"
  : >"$C2C_STATE/results"
  [[ $C2C_MODE == run ]] || return 0
  mkdir "$C2C_STATE/queue" "$C2C_STATE/running"
  printf '0\n' >"$C2C_STATE/tickets"
  printf '%s\n' "$C2C_MAX_PARALLEL" >"$C2C_STATE/limit"
  local dir volume
  for dir in "${C2C_HOST_DIRS[@]}"; do
    [[ -e $C2C_DIR/$dir ]] || mkdir -p -- "$C2C_DIR/$dir"
  done
  if ((${#C2C_BUILD_VOLUMES[@]})) && ! c2c_need_engine ''; then
    rm -rf -- "$C2C_STATE"
    exit "$C2C_ENGINE_EXIT"
  fi
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
    # the steps an interrupted run did not reach, for the summary: each with why it did not run
    # shellcheck disable=SC2086 # node numbers
    ((C2C_EXIT_SIGNAL == 0)) || [[ $C2C_MODE != run ]] || c2c_serial 0 "$C2C_NOT_RUN" 0 0 ${C2C_KIDS[0]} || true
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
  local status=$1 result ms name why passed=0 failed=0 skipped=0 notrun=0 total took now
  if [[ $C2C_MODE == dry-run ]] && ! grep -q '^failed' "$C2C_STATE/results"; then
    c2c_say ""
    while IFS=$'\t' read -r result ms name why; do  # which steps it leaves out, and why
      [[ $result != skipped ]] || { skipped=$((skipped + 1)); printf '  - %-40s skipped: %s\n' "$name" "$why"; }
    done <"$C2C_STATE/results"
    c2c_say "Dry run: $C2C_PLANNED step$( ((C2C_PLANNED == 1)) || printf s) would run, $skipped skipped; nothing was run."
    return 0
  fi
  [[ -s $C2C_STATE/results ]] || return 0
  c2c_say ""
  c2c_say "Summary:"
  local stopped='the build stopped before it'
  ((C2C_EXIT_SIGNAL == 0)) || stopped='the run was interrupted before it'
  while IFS=$'\t' read -r result ms name why; do
    case $result in
      passed) passed=$((passed + 1)); c2c_secs took "$ms"; printf '  ✔ %-40s %s\n' "$name" "$took" ;;
      failed) failed=$((failed + 1)); c2c_secs took "$ms"; printf '  ✗ %-40s %s  %s\n' "$name" "$took" "$why" ;;
      notrun) notrun=$((notrun + 1)); printf '  - %-40s not run: %s\n' "$name" "${why:-$stopped}" ;;
      *) skipped=$((skipped + 1)); printf '  - %-40s skipped: %s\n' "$name" "$why" ;;
    esac
  done <"$C2C_STATE/results"
  c2c_now_ms now
  total=$((now - C2C_STARTED))
  c2c_secs took "$total"
  local note=''
  ((C2C_EXIT_SIGNAL == 0)) || note=' (interrupted)'
  c2c_say "$passed passed, $failed failed, $skipped skipped$( ((notrun == 0)) || printf ', %s not run' "$notrun") in $took$note"
}

# When a Codeship file this script was generated from has changed since (C2C_SOURCE_SUMS: its
# sha256 then), the script says so before it runs; `codeship2compose translate --check` says the
# same with a failing exit code. Only a warning: the pipeline above is what runs, edited by hand
# or not, and a CI job should not fail for a comment changed in the steps file. A file that is
# gone says nothing (once migrated, the script is yours), nor does a host without sha256sum or
# shasum.
c2c_check_sources() {
  local -a hash=(sha256sum)
  local i file sum changed=''
  if ! command -v sha256sum >/dev/null 2>&1; then
    command -v shasum >/dev/null 2>&1 || return 0
    hash=(shasum -a 256)
  fi
  for ((i = 0; i < ${#C2C_SOURCE_SUMS[@]}; i += 2)); do
    file=${C2C_SOURCE_SUMS[i]}
    [[ $file == /* ]] || file=$C2C_DIR/$file
    [[ -f $file ]] || continue
    sum=$("${hash[@]}" <"$file" 2>/dev/null) || continue
    [[ ${sum%% *} == "${C2C_SOURCE_SUMS[i + 1]}" ]] || changed+="${changed:+ and }${C2C_SOURCE_SUMS[i]}"
  done
  [[ -n $changed ]] || return 0
  printf '%s: warning: %s %s changed since this script was generated: run `codeship2compose translate` again to update it and compose.yaml (this run runs the pipeline as the script has it)\n' \
    "${0##*/}" "$changed" "$([[ $changed == *' and '* ]] && printf have || printf has)" >&2
}

c2c_main() {
  c2c_parse_args "$@"
  readonly C2C_DIR C2C_COMPOSE_FILE C2C_MODE C2C_TAG C2C_HAVE_TAG C2C_PUSH C2C_MANUAL C2C_PULL_REQUEST C2C_REMOVE \
    C2C_STOP_TIMEOUT C2C_HEALTH_TIMEOUT C2C_MAX_PARALLEL C2C_POOL_TIMEOUT C2C_COMPOSE_CHOICE C2C_STEPS \
    C2C_KEY_PATH C2C_USER_ENV C2C_CI_FLAGS C2C_CI_VARS C2C_WORDS
  c2c_load_pipeline  # a malformed hand edit stops here, before anything runs
  c2c_check_selection
  c2c_check_sources
  [[ $C2C_MODE != list ]] || ((${#C2C_STEPS[@]} == 0)) || c2c_mark_holders
  readonly C2C_HOLDS C2C_KIND C2C_NAME C2C_SVC C2C_KIDS C2C_FAILS C2C_LEAF C2C_TAGF C2C_TAGW C2C_EXCF C2C_EXCW \
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
