# --- registry credentials --------------------------------------------------------------------
# A step's registry credentials live in private Docker config directories, never ~/.docker, made
# when the step first needs them and removed when it ends. They come from an encrypted file, or
# from a dockercfg_service that jet runs with a path to write them to. These functions work for
# one step, which they take as five arguments, STEP below: INDEX NAME PROJECT DOCKERCFG
# DOCKERCFG_SERVICE (its number, name and Compose project, and the credentials it or its group
# names, for the images whose service names none). What the step's credentials made is in files:
# $C2C_STATE/docker-config.INDEX.N holds the Nth credentials the step used, docker-config.INDEX.N.key
# names them (ENCRYPTED_FILE:GENERATOR_SERVICE), and docker-config.INDEX.ran says that a generator
# ran in the step's Compose project (c2c_forget_credentials).

# c2c_pull_private STEP SERVICE... : pulls the images of these services that need credentials:
# the service's own, else the step's (or its group's). An image already here is not pulled, as
# jet does without --pull-if-present; Compose pulls the others with your own login.
c2c_pull_private() {
  local name=$2 service image
  local -a this_step=("${@:1:5}")
  shift 5
  for service in "$@"; do
    c2c_image_credentials "$service" if-missing "${this_step[@]}" || return 1
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

# c2c_image_credentials SERVICE WHEN STEP : the config directory for pulling the service's
# image, or the images its Dockerfile starts FROM, in C2C_CFG_DIR ('' when none are set). WHEN
# is `always`, or `if-missing`: an image already here needs none, so a generator service is not
# run for nothing.
c2c_image_credentials() {
  C2C_CFG_DIR=''
  c2c_service "$1"
  local when=$2 file=$C2C_S_CFG gen=$C2C_S_CFG_GEN
  [[ -n $file$gen ]] || file=$6 gen=$7
  [[ -n $file$gen ]] || return 0
  if [[ $when == if-missing && $C2C_MODE != dry-run ]] && docker image inspect "$C2C_S_IMAGE" >/dev/null 2>&1; then
    return 0
  fi
  c2c_credentials "$3" "$4" "$5" "$file" "$gen"
}

# c2c_credentials INDEX NAME PROJECT ENCRYPTED_FILE GENERATOR_SERVICE : the config directory for
# these credentials in C2C_CFG_DIR ('' for none), made once per step.
c2c_credentials() {
  local index=$1 key=$4:$5 n known
  C2C_CFG_DIR='' C2C_CFG_FROM=${4:-$5}
  [[ -n $4$5 ]] || return 0
  for ((n = 0; ; n++)); do
    [[ -e $C2C_STATE/docker-config.$index.$n.key ]] || break
    IFS= read -r -d '' known <"$C2C_STATE/docker-config.$index.$n.key" || true
    if [[ $known == "$key" ]]; then
      C2C_CFG_DIR=$C2C_STATE/docker-config.$index.$n
      return 0
    fi
  done
  local dir=$C2C_STATE/docker-config.$index.$n
  if ! c2c_docker_config "$dir" "$@"; then
    rm -rf -- "$dir"  # whatever the generator or the decryption left there
    return 1
  fi
  printf '%s' "$key" >"$dir.key"
  C2C_CFG_DIR=$dir
}

# c2c_forget_credentials INDEX : removes the step's config directories; C2C_CFG_RAN is 1 when a
# generator ran in the step's Compose project (which the step then removes), else 0.
c2c_forget_credentials() {
  C2C_CFG_RAN=0
  [[ ! -e $C2C_STATE/docker-config.$1.ran ]] || C2C_CFG_RAN=1
  rm -rf -- "$C2C_STATE/docker-config.$1".*
}

# c2c_docker_config DIR INDEX NAME PROJECT ENCRYPTED_FILE GENERATOR_SERVICE : the Docker config
# of these credentials in DIR, for step INDEX (NAME, PROJECT).
c2c_docker_config() {
  local dir=$1 index=$2 name=$3 project=$4 source=$5 generator=$6 raw secret
  if [[ -n $generator ]]; then
    c2c_service "$generator"
    local builds=$C2C_S_BUILDS secrets=$C2C_S_SECRETS envs=$C2C_S_ENVS
    local -a files=()
    for secret in $envs; do
      c2c_env_override "$index" "$name" "$secret" || return 1
      [[ -z $C2C_OVERRIDE ]] || files+=(-f "$C2C_OVERRIDE")
    done
    for secret in $secrets; do
      c2c_secret_override "$secret" || return 1
      files+=(-f "$C2C_OVERRIDE")
    done
    # a generator's own images are pulled with your login: their credentials would need itself
    # shellcheck disable=SC2086
    c2c_ensure_images "$index" "$name" "$project" '' '' none $builds || return 1
    [[ $C2C_MODE == dry-run ]] || (umask 077 && mkdir -p "$dir/out") || return 1
    : >"$C2C_STATE/docker-config.$index.ran"
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

