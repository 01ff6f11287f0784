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

# c2c_enter KIND NAME TAG TAG_RE EXCLUDE EXCLUDE_RE DETAIL [HOLDS] : uses and updates the calling
# c2c_node's skip (why this node does not run) and forced (--step named it or a group it is in),
# and its depth; returns 1 when the node has nothing to do at all (not selected, and not listing).
# HOLDS (a group's): 1 when a step or group under it is named by --step (C2C_HOLDS).
c2c_enter() {
  local kind=$1 name=$2 tag=$3 tag_re=$4 exclude=$5 exclude_re=$6 detail=${7:-} holds=${8:-0}
  # a step the build did not reach is "not run", unless its own filters or --push leave it out
  if [[ -z $skip || $skip == "$C2C_NOT_RUN" ]]; then
    if [[ $C2C_PULL_REQUEST == 1 && -n $tag$exclude ]]; then
      skip="a pull request's build runs no step with tag:/exclude:"
    elif [[ -n $exclude ]] && c2c_filter_matches "$exclude" "$exclude_re"; then
      skip="excluded by exclude: $exclude"
    elif [[ -n $tag ]] && ! c2c_filter_matches "$tag" "$tag_re"; then
      if [[ $C2C_HAVE_TAG == 1 ]]; then
        skip="tag: $tag does not match '$C2C_TAG'"
      else
        skip="tag: $tag (no --tag given)"
      fi
    elif [[ $skip == "$C2C_NOT_RUN" && $kind == push && $C2C_PUSH == 0 ]]; then
      skip='push (use --push)'
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
  elif [[ $C2C_MODE == list && $forced == 0 && $holds == 0 ]] && ((${#C2C_STEPS[@]})); then
    requested=0  # a group that holds nothing --step names: listed as such (its steps are walked)
  fi
  if [[ $C2C_MODE == list ]]; then
    # the same reasons as the run's summary (c2c_push, c2c_manual)
    local why=$skip indent mark='run '
    printf -v indent '%*s' $((depth * 2)) ''
    if [[ -n $why ]]; then
      :
    elif [[ $requested == 0 ]]; then
      why='not selected by --step'
    elif [[ $kind == push && $C2C_PUSH == 0 ]]; then
      why='push (use --push)'
    elif [[ $kind == manual && $C2C_MANUAL == 0 ]]; then
      why='manual (use --manual)'
    fi
    [[ -z $why ]] || mark=skip
    printf '[%s] %s%s %s%s%s\n' "$mark" "$indent" "$kind" "$name" "${detail:+  $detail}" "${why:+  ($why)}"
    return 0
  fi
  ((requested)) || return 1
  if [[ -n $skip ]]; then
    # a filtered-out group is still walked: each of its steps is recorded with the reason
    [[ $kind == group || $kind == manual ]] && return 0
    if [[ $skip == "$C2C_NOT_RUN" ]]; then
      c2c_record "$name" notrun 0
    else
      c2c_record "$name" skipped 0 "$skip"
    fi
    return 1
  fi
  return 0
}

# C2C_HOLDS[N]=1: node N holds a step or group that --step names (for --list's marks of groups).
C2C_HOLDS=()
c2c_mark_holders() {
  local i k
  local -a parent=()
  local -A wanted=()
  for k in "${C2C_STEPS[@]}"; do wanted[$k]=1; done
  for ((i = 0; i < ${#C2C_KIND[@]}; i++)); do
    for k in ${C2C_KIDS[i]} ${C2C_FAILS[i]}; do parent[k]=$i; done
  done
  for ((i = 1; i < ${#C2C_KIND[@]}; i++)); do
    [[ -n ${wanted[${C2C_NAME[i]}]:-} ]] || continue
    k=${parent[i]}
    while ((k > 0)) && [[ -z ${C2C_HOLDS[k]:-} ]]; do C2C_HOLDS[k]=1 k=${parent[k]}; done
  done
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

