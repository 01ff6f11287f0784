"""The conversion rules: what each Codeship key becomes. One table, used by the parser (which keys
exist and how they are treated), by diagnostics, and by the conversion matrix in docs/migration.md."""

from __future__ import annotations

from typing import NamedTuple

CONVERTED = "converted"
CAVEAT = "converted with a caveat"
IGNORED = "dropped (Codeship ignores it too)"
UNSUPPORTED = "unsupported"
HOSTED_ONLY = "dropped (hosted-only: jet ignores it locally too)"
LOCAL = "kept for local use only"


class KeyRule(NamedTuple):
    key: str
    outcome: str
    becomes: str
    hint: str = ""


def _table(*rules: KeyRule) -> dict[str, KeyRule]:
    return {r.key: r for r in rules}


_IGNORED_BY_CODESHIP = (
    "cgroup_parent container_name cpu_quota devices extends group_add init ipc isolation logging "
    "log_driver log_opt mac_address memswap_limit mem_swappiness networks network_mode "
    "oom_score_adj oom_scope_adj pid stop_signal stop_grace_period tmpfs ulimits volume_driver "
    "privileged labels"
).split()
_HOST_LINKING = ("external_links",)
# Keys Codeship ignores that only matter on a developer's machine: published ports, and a terminal
# to attach to (a debugger). They go to compose.override.yaml, which `docker compose up` reads and
# the steps script never does, so steps never publish a port.
LOCAL_ONLY = ("ports", "stdin_open", "tty")

# Compose keys that Codeship passes to Docker unchanged ("should function as expected").
PASSTHROUGH = frozenset(
    "cap_add cap_drop cpu_shares cpus cpuset dns dns_opt dns_search domainname expose extra_hosts "
    "healthcheck mem_limit mem_reservation oom_kill_disable platform read_only security_opt "
    "shm_size sysctls userns_mode".split()
)

SERVICE_RULES: dict[str, KeyRule] = _table(
    KeyRule("image", CONVERTED, "`image`"),
    KeyRule("build", CONVERTED, "`build` plus an explicit `image` name, built once per run by the script"),
    KeyRule("command", CONVERTED, "`command` as an argv list (split like jet)"),
    KeyRule("entrypoint", CONVERTED, "`entrypoint` as an argv list; a step's command becomes its arguments"),
    KeyRule("working_dir", CONVERTED, "`working_dir`"),
    KeyRule("user", CONVERTED, "`user`"),
    KeyRule("hostname", CONVERTED, "`hostname`"),
    KeyRule("environment", CONVERTED, "`environment` (keys an env_file sets are left to the env_file, "
            "which wins in Codeship)"),
    KeyRule("env_file", CONVERTED, "`env_file`; the script lets it win over `environment` with the files as "
            "they are when each step runs"),
    KeyRule("encrypted_env_file", CAVEAT, "decrypted by the script at run time into a private "
            "directory and handed to Compose in a run-time override file", "needs `codeship.aes` or "
            "`CODESHIP_AES_KEY` when the script runs"),
    KeyRule("encrypted_environment", CAVEAT, "decrypted by the script at run time, like "
            "encrypted_env_file", "needs `codeship.aes` or `CODESHIP_AES_KEY` when the script runs"),
    KeyRule("volumes", CONVERTED, "`volumes`: host paths become bind mounts, container-only paths stay "
            "anonymous (or named, when another service takes `volumes_from` this one)"),
    KeyRule("volumes_from", CAVEAT, "named volumes mounted at the same paths in both services",
            "shared within one step by default; `--volumes-from-scope build` keeps them for the run"),
    KeyRule("links", CONVERTED, "`links` (aliases kept; Docker's legacy link variables such as "
            "`DB_PORT` are not set)"),
    KeyRule("depends_on", CONVERTED, "`depends_on`"),
    KeyRule("add_docker", CAVEAT, "the Docker socket mounted and `DOCKER_HOST` set (at run time: the socket "
            "`DOCKER_HOST` names, `DOCKER_TLS_VERIFY`, `DOCKER_CERT_PATH` with its directory mounted)",
            "the container drives the host's Docker engine"),
    KeyRule("cached", HOSTED_ONLY, "nothing: the hosted image cache has no local equivalent",
            "Docker's local layer cache applies; the `--ci` jobs keep the image in the CI platform's cache"),
    KeyRule("default_cache_branch", HOSTED_ONLY, "nothing (belongs to `cached`)",
            "the `--ci` jobs' cache falls back to this branch's"),
    KeyRule("encrypted_dockercfg_path", CAVEAT, "registry credentials for pulling the service's image (or "
            "building on a private base), decrypted into a private Docker config directory",
            "needs the AES key at run time; an image already here is not pulled"),
    KeyRule("dockercfg_service", CAVEAT, "that service writes the registry credentials for pulling this "
            "service's image (`/codeship-dockercfg/dockercfg`)", "an image already here is not pulled"),
    KeyRule("dockerfile", CAVEAT, "`build.dockerfile` (Compose v1 style, as Codeship's own examples use it)"),
    *(KeyRule(k, IGNORED, "nothing: Codeship ignores this key") for k in _IGNORED_BY_CODESHIP),
    *(KeyRule(k, IGNORED, "nothing: Codeship does not allow linking to the host") for k in _HOST_LINKING),
    *(KeyRule(k, LOCAL, "the same key in compose.override.yaml, for `docker compose up`",
              "the steps never use it, as on Codeship") for k in LOCAL_ONLY),
    *(KeyRule(k, CONVERTED, "the same Compose key, unchanged (Codeship passes it to Docker)")
      for k in sorted(PASSTHROUGH)),
)

BUILD_RULES: dict[str, KeyRule] = _table(
    KeyRule("image", CONVERTED, "the service's `image` (the name the build is tagged with)"),
    KeyRule("context", CONVERTED, "`build.context`"),
    KeyRule("path", CONVERTED, "`build.context` (deprecated alias)"),
    KeyRule("dockerfile", CONVERTED, "`build.dockerfile`"),
    KeyRule("dockerfile_path", CONVERTED, "`build.dockerfile` (deprecated alias)"),
    KeyRule("args", CONVERTED, "`build.args`; Go templates become `${CI_…}` variables the script sets"),
    KeyRule("encrypted_args_file", CAVEAT, "build args decrypted by the script at run time",
            "needs the AES key at run time"),
    KeyRule("encrypted_args", CAVEAT, "build args decrypted by the script at run time",
            "needs the AES key at run time"),
    KeyRule("target", CONVERTED, "`build.target`"),
    KeyRule("cache_from", CONVERTED, "`build.cache_from`"),
)

STEP_RULES: dict[str, KeyRule] = _table(
    KeyRule("name", CONVERTED, "the step's name in logs, `--list`, `--step` and the summary (auto-named "
            "`SERVICE-xxxxxxxx` like jet when absent)"),
    KeyRule("type", CONVERTED, "`serial`/`parallel`: run in order / side by side (each branch its own Compose "
            "project); `push`: tag + push, only with `--push`; `manual`: skipped unless `--manual`; legacy "
            "`matrix`: a parallel group over its services"),
    KeyRule("service", CONVERTED, "the Compose service the step runs (`docker compose run`); inherited by a "
            "group's steps"),
    KeyRule("services", CONVERTED, "the group's steps repeated per service (parallel: side by side; serial: "
            "one service after another)"),
    KeyRule("steps", CONVERTED, "the group's children"),
    KeyRule("command", CONVERTED, "the arguments of `docker compose run`, split like jet (no shell); the "
            "service's entrypoint is kept"),
    KeyRule("tag", CONVERTED, "a run-time filter on `--tag` (whole-name match, or an RE2 regex converted to a "
            "bash regex when it has `^` or `$`)"),
    KeyRule("exclude", CONVERTED, "the inverse filter; wins over `tag`"),
    KeyRule("on_fail", CONVERTED, "steps run when the step fails; the build still fails"),
    KeyRule("image_name", CONVERTED, "the pushed repository"),
    KeyRule("image_tag", CONVERTED, "the pushed tag (Go template variables rendered at run time; invalid "
            "characters removed, as jet does)"),
    KeyRule("registry", CONVERTED, "named in the push failure message (the image name carries the registry)"),
    KeyRule("encrypted_dockercfg_path", CAVEAT, "registry credentials of the step (a group's: of its steps), "
            "decrypted into a private Docker config directory for its pushes, pulls and builds",
            "needs the AES key at run time"),
    KeyRule("dockercfg_service", CAVEAT, "the service is run with a path to write registry credentials to "
            "(`/codeship-dockercfg/dockercfg`), used like `encrypted_dockercfg_path`"),
)
STEP_KEYS = frozenset(STEP_RULES)

# Keys people put in the wrong place, with what they most likely meant.
MISPLACED_SERVICE_KEYS = {
    "args": "build.args",
    "dockerfile_path": "build.dockerfile",
    "context": "build.context",
    "path": "build.context",
    "encrypted_args_file": "build.encrypted_args_file",
    "encrypted_args": "build.encrypted_args",
    "env": "environment",
    "environments": "environment",
    "env_files": "env_file",
    "volume": "volumes",
    "link": "links",
    "depends-on": "depends_on",
    "workdir": "working_dir",
    "cache": "cached",
}
MISPLACED_BUILD_KEYS = {
    "name": "build.image",
    "context_path": "build.context",
    "cached": "cached (a service key, next to build)",
    "encrypted_env_file": "encrypted_env_file (a service key, next to build)",
    "arguments": "build.args",
    "build_args": "build.args",
}
MISPLACED_STEP_KEYS = {
    "encrypted_env_file": "the service's encrypted_env_file in codeship-services.yml",
    "environment": "the service's environment in codeship-services.yml",
    "image": "the service's image in codeship-services.yml (steps name a `service`)",
    "commands": "command",
    "cmd": "command",
    "step": "steps",
    "tags": "tag",
    "excludes": "exclude",
    "depends_on": "the service's depends_on in codeship-services.yml",
    "volumes": "the service's volumes in codeship-services.yml",
    "build": "the service's build in codeship-services.yml",
}


def suggest(key: str, known, misplaced: dict[str, str]) -> str | None:
    """The likely intent behind an unknown key, or None."""
    if key in misplaced:
        return misplaced[key]
    import difflib  # only on the error path

    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.75)
    return close[0] if close else None


def conversion_matrix() -> str:
    """The conversion matrix (docs/migration.md), from the tables above (so the two cannot drift). Keys with
    the same treatment share a row."""
    lines = ["| Codeship key | outcome | becomes |", "|---|---|---|"]
    for prefix, table in (("", SERVICE_RULES), ("build.", BUILD_RULES), ("step: ", STEP_RULES)):
        rows: dict[tuple[str, str], list[str]] = {}
        for key, rule in table.items():
            note = f" ({rule.hint})" if rule.hint else ""
            rows.setdefault((rule.outcome, rule.becomes + note), []).append(f"`{prefix}{key}`")
        for (outcome, becomes), keys in rows.items():
            lines.append(f"| {', '.join(keys)} | {outcome} | {becomes} |")
    return "\n".join(lines) + "\n"
