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

