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
    [[ -z $width ]] || value=${value:0:10#$width}  # base 10: Go reads %.08s as 8
    out+=$value
  done
  ((trim_next == 0)) || rest=${rest#"${rest%%[!"$ws"]*}"}
  C2C_RENDERED=$out$rest
}

