"""The catalogue of diagnostics: every code with its level, title, why, how to fix, and an
example input that produces it.

The code takes each diagnostic's level from here (`Diagnostic.of`); `docs/diagnostics.md`
(scripts/update_diagnostics_doc.py) and `codeship2compose explain CODE` are generated from it;
tests/test_catalogue.py checks that every code the source uses is here, that every code here is
used, and that every example really produces its code. Adding a code is one `Code(...)` entry.

This module is data at the bottom of the package: it imports nothing from translator/
(tests/test_imports.py). Running an example is translator/examples.py's job.

Numbering: 0xx reading the files, 1xx the services file, 2xx the steps file, 3xx references
between them, 4xx the Compose file, 5xx the steps script, 6xx local work, 7xx the CI pipelines
(78x: `audit`).
"""

from __future__ import annotations

from enum import Enum
from typing import NamedTuple


class Level(str, Enum):
    """How bad a diagnostic is; compares equal to its text ("error", "warning")."""

    ERROR = "error"
    WARNING = "warning"

    def __str__(self) -> str:
        return self.value


ERROR = Level.ERROR
WARNING = Level.WARNING


SERVICES = "app:\n  image: busybox\n"
STEPS = "- service: app\n  command: 'true'\n"


class Code(NamedTuple):
    code: str
    level: Level
    title: str
    why: str
    fix: str
    # The example: the services and steps files (None: the file does not exist) that `check`
    # turns into this diagnostic; `example=False` when it needs more than two small text files.
    services: str | None = SERVICES
    steps: str | None = STEPS
    example: bool = True


CODES = (
    # 0xx: reading the files
    Code("C2C001", ERROR, "the file is not text",
         "The file is not UTF-8 or holds a NUL byte, so it cannot be a YAML configuration.",
         "Save the file as UTF-8 text.", example=False),
    Code("C2C002", ERROR, "YAML syntax error",
         "The file is not valid YAML (or JSON): an unclosed bracket, tab indentation, an unknown alias, "
         "a mapping used as a key, a bad merge key.",
         "Fix the syntax at the line and column given; indent with spaces.",
         services="app:\n  image: [busybox\n"),
    Code("C2C003", ERROR, "more than one YAML document",
         "The file holds more than one YAML document (a `---` line starts another); a Codeship "
         "configuration file is a single document.",
         "Keep a single document: remove the extra `---` section.",
         services="app:\n  image: busybox\n---\ndb:\n  image: busybox\n"),
    Code("C2C004", ERROR, "the document nests too deeply",
         "The file nests more than 100 levels; no real configuration does, and such input is a way to "
         "exhaust the translator.",
         "Flatten the structure.", example=False),
    Code("C2C005", ERROR, "the document expands to too many values",
         "YAML aliases that repeat aliases (an \"alias bomb\") expand to more than a million values.",
         "Remove the repeated aliases.", example=False),
    Code("C2C006", ERROR, "duplicate key",
         "A mapping sets the same key twice: YAML keeps only the last, silently, and Compose rejects it.",
         "Remove one of the two.",
         services="app:\n  image: busybox\n  image: alpine\n"),
    Code("C2C010", ERROR, "cannot read the file",
         "The services or steps file exists but cannot be read (permissions, a directory, an I/O error).",
         "Check the path and its permissions.", example=False),
    Code("C2C011", ERROR, "the file is a git symlink stored as text",
         "The file holds only a path: git checked a symbolic link out as a plain file "
         "(core.symlinks=false, common on Windows).",
         "Point --services/--steps at the file the link names, or enable symlinks in git.",
         services="../ci/codeship-services.yml"),
    Code("C2C012", ERROR, "no services file",
         "There is no codeship-services.yml (or docker-compose.yml, or the old jet-* names) in the "
         "directory, or a file given with --services/--steps does not exist.",
         "Run in the repository root, or pass --services PATH / --steps PATH.",
         services=None),
    Code("C2C013", WARNING, "no steps file",
         "There is no codeship-steps.yml (or .json): the Compose file is still useful, but the script "
         "has no steps to run.",
         "Add codeship-steps.yml, or pass --steps PATH.",
         steps=None),
    Code("C2C014", ERROR, "the file is a Dockerfile",
         "The services or steps file holds Dockerfile instructions (FROM, RUN, …), not YAML.",
         "Put the instructions in a Dockerfile, point build.dockerfile at it, and keep the Codeship "
         "configuration in this file.",
         services="FROM busybox\nRUN echo hi\n"),
    # 1xx: the services file
    Code("C2C100", ERROR, "the services file has no services",
         "The services file is empty, is not a mapping of service names, has `version:` without "
         "`services:`, or has unknown top-level keys next to `services:`.",
         "Write each service as `name:` with its keys indented below it.",
         services=""),
    Code("C2C101", WARNING, "top-level Compose key ignored",
         "A Compose-style services file has top-level `volumes`, `networks`, `secrets` or `configs`; "
         "Codeship does not support them.",
         "Remove the section; declare volumes on the services.",
         services="version: '2'\nservices:\n  app:\n    image: busybox\nvolumes:\n  data: {}\n"),
    Code("C2C102", ERROR, "a service is not a mapping",
         "A service's definition is text or a list instead of a mapping of keys.",
         "Indent the service's `image:` or `build:` under its name.",
         services="app: busybox\n"),
    Code("C2C103", WARNING, "unknown service key",
         "The key is not a Codeship service key, so Codeship ignores it, and so does the translation; "
         "often a typo or a key that belongs elsewhere (the hint says where).",
         "Fix the spelling or move the key where the hint says.",
         services="app:\n  image: busybox\n  enviroment: {A: b}\n"),
    Code("C2C104", WARNING, "service key ignored by Codeship",
         "Codeship ignores this Compose key (privileged, container_name, labels, …), so the "
         "translation drops it too: the build behaves as it did on Codeship. `ports`, `tty` and "
         "`stdin_open`, which Codeship ignores too, are not dropped: they go to compose.override.yaml "
         "for `docker compose up` (see C2C601).",
         "Remove the key, or keep it knowing it has no effect.",
         services="app:\n  image: busybox\n  privileged: true\n"),
    Code("C2C105", ERROR, "image and build",
         "A service needs exactly one of `image` (use an image) and `build` (build one).",
         "Keep one; name a built image with build.image.",
         services="app:\n  image: busybox\n  build: .\n"),
    Code("C2C106", WARNING, "dockerfile without build",
         "A service-level `dockerfile` only means something with `build`.",
         "Move it under `build:` as build.dockerfile, or add `build:`.",
         services="app:\n  image: busybox\n  dockerfile: Dockerfile\n"),
    Code("C2C107", WARNING, "unknown build key",
         "The key is not a Codeship build key and is ignored.",
         "Fix the spelling (the hint suggests the key meant).",
         services="app:\n  build:\n    name: my/app\n"),
    Code("C2C108", WARNING, "build key and its old alias",
         "build sets both `context` and `path` (or `dockerfile` and `dockerfile_path`); the new name wins.",
         "Remove the old alias.",
         services="app:\n  build:\n    context: .\n    path: other\n"),
    Code("C2C110", ERROR, "wrong type",
         "A key has the wrong kind of value: text where a mapping is needed, a list where text is "
         "needed, an empty `build`.",
         "Write the value in the form the message names.",
         services="app:\n  image: busybox\n  environment: 3\n"),
    Code("C2C111", ERROR, "command cannot be split into words",
         "A command is split into words like jet does; an unclosed quote or a trailing backslash makes "
         "that impossible.",
         "Close the quote, or write the command as a YAML list.",
         services="app:\n  image: busybox\n  command: echo 'hi\n"),
    Code("C2C112", ERROR, "malformed volume",
         "A volume entry is empty, has an unknown mode, is not PATH, HOST:PATH or HOST:PATH:MODE, or "
         "its container path is not absolute.",
         "Write HOST:/container/path (optionally :ro) or /container/path.",
         services="app:\n  image: busybox\n  volumes: ['./data:data']\n"),
    Code("C2C113", ERROR, "malformed link or volumes_from",
         "A links or volumes_from entry is not SERVICE or SERVICE:ALIAS (SERVICE:ro / SERVICE:rw for "
         "volumes_from).",
         "Write the entry in one of those forms.",
         services="app:\n  image: busybox\n  links: ['db:']\ndb:\n  image: busybox\n"),
    Code("C2C114", WARNING, "depends_on conditions",
         "depends_on in Compose's long form (with `condition:`) is not Codeship syntax; only the "
         "service names are used.",
         "List the service names only.",
         services="app:\n  image: busybox\n  depends_on:\n    db: {condition: service_healthy}\n"
                  "db:\n  image: busybox\n"),
    Code("C2C115", ERROR, "service names collide in Compose",
         "Compose allows only letters, digits, '.', '_' and '-' in service names; two names become the "
         "same once the other characters are replaced.",
         "Rename one of the services.",
         services="a b:\n  image: busybox\na/b:\n  image: busybox\n", steps="- service: a-b\n  command: x\n"),
    Code("C2C116", WARNING, "service renamed for Compose",
         "The service's name has characters Compose does not allow; it is renamed in compose.yaml, "
         "and references to it are renamed too.",
         "Rename the service in the services file to keep the names equal.",
         services="My App:\n  image: busybox\n", steps="- service: My App\n  command: x\n"),
    # 2xx: the steps file
    Code("C2C200", ERROR, "the steps file has no steps",
         "The steps file is empty, lists no steps, or is not a list (a single step without its '- ').",
         "Start each step with '- '.",
         steps="service: app\ncommand: 'true'\n"),
    Code("C2C201", ERROR, "a step is not a mapping",
         "A step is text or a list instead of a mapping of keys.",
         "Write the step's keys (service, command, …) under its '- '.",
         steps="- echo hi\n"),
    Code("C2C202", ERROR, "group without a type",
         "A step with `steps` is a group and needs `type: serial` or `type: parallel`.",
         "Add the type.",
         steps="- steps:\n  - service: app\n    command: 'true'\n"),
    Code("C2C203", ERROR, "unknown step type",
         "Codeship knows the step types serial, parallel, push and manual (and the legacy matrix).",
         "Use one of them, or leave `type` out for a command step.",
         steps="- type: sequence\n  steps: []\n"),
    Code("C2C204", WARNING, "unknown step key",
         "The key is not a Codeship step key and is ignored; often a typo or a services-file key.",
         "Fix the spelling or move the key where the hint says.",
         steps="- service: app\n  command: 'true'\n  tags: master\n"),
    Code("C2C205", ERROR, "service set twice",
         "A step inside a group that sets `service` sets its own (or a group with `services` sits in "
         "such a group); Codeship does not allow overriding the inherited service.",
         "Remove `service` from the step (it is inherited) or from the group.",
         steps="- type: serial\n  service: app\n  steps:\n  - service: app\n    command: 'true'\n"),
    Code("C2C206", ERROR, "step without a service",
         "A command or push step needs the service it runs in, of its own or inherited from its group.",
         "Add `service: NAME`.",
         steps="- command: 'true'\n"),
    Code("C2C207", ERROR, "step without a command",
         "A step that is neither a group nor a push step runs a command, and has none (or an empty one).",
         "Add `command: ...`; `command: true` just builds the service.",
         steps="- service: app\n"),
    Code("C2C208", ERROR, "push step without image_name",
         "A push step pushes to `image_name`, and has none.",
         "Add `image_name: registry/owner/name`.",
         steps="- type: push\n  service: app\n"),
    Code("C2C209", ERROR, "group without steps",
         "A serial, parallel or manual group has no `steps` key (or a matrix group no `services`).",
         "List the group's steps under `steps:`.",
         steps="- type: parallel\n"),
    Code("C2C210", ERROR, "group with service and services",
         "A group sets `service` (one service for all its steps) and `services` (its steps repeated "
         "per service).",
         "Keep one of the two.",
         steps="- type: parallel\n  service: app\n  services: [app]\n  steps: []\n"),
    Code("C2C211", WARNING, "legacy matrix group",
         "`type: matrix` is old Codeship syntax; it runs as a parallel group over its services.",
         "Write `type: parallel` with `services:`.",
         steps="- type: matrix\n  services: [app]\n  steps:\n  - command: 'true'\n"),
    Code("C2C212", WARNING, "empty group",
         "The group's `steps` list is empty: it runs nothing.",
         "Add steps to the group, or remove it.",
         steps="- type: parallel\n  steps: []\n"),
    Code("C2C213", WARNING, "push-only key on a run step or group",
         "`registry`, `image_name` and `image_tag` only mean something on `type: push` steps; jet "
         "ignores them elsewhere, which hides a step that was meant to push.",
         "Remove the key, or make the step a push step: `type: push` with `service` and `image_name`.",
         steps="- name: test\n  service: app\n  command: 'true'\n  image_tag: latest\n"),
    # 3xx: references between the files
    Code("C2C301", ERROR, "step names an undefined service",
         "A step's `service` (or `dockercfg_service`, or the `service` its group gives it) is not defined "
         "in the services file.",
         "Fix the name (the hint suggests one and lists the services there are) or define the service.",
         steps="- name: test\n  service: ap\n  command: 'true'\n"),
    Code("C2C302", WARNING, "step name used twice",
         "Two steps have the same name; logs, --step and the summary cannot tell them apart.",
         "Give each step its own name.",
         steps="- name: test\n  service: app\n  command: 'true'\n- name: test\n  service: app\n  command: x\n"),
    Code("C2C303", ERROR, "service names an undefined service",
         "A service's links, depends_on, volumes_from or dockercfg_service names a service the file "
         "does not define.",
         "Fix the name (the hint suggests one) or define the service.",
         services="app:\n  image: busybox\n  links: [db]\n"),
    Code("C2C304", ERROR, "service depends on itself",
         "A service's links, depends_on or volumes_from names the service itself.",
         "Remove the entry.",
         services="app:\n  image: busybox\n  depends_on: [app]\n"),
    Code("C2C305", ERROR, "dependency cycle",
         "Services depend on each other in a cycle (links, depends_on, volumes_from): none can start "
         "first.",
         "Remove one of the dependencies in the cycle.",
         services="app:\n  image: busybox\n  links: [db]\ndb:\n  image: busybox\n  depends_on: [app]\n"),
    Code("C2C306", WARNING, "volumes_from source used by several steps",
         "Each step starts with fresh containers, so the container-only volumes shared with "
         "volumes_from start empty in every step (the Codeship volumes tutorial's semantics); jet 2.x "
         "kept them for the whole build.",
         "If a later step needs what an earlier one wrote there, translate with "
         "--volumes-from-scope build.",
         services="data:\n  image: busybox\n  volumes: [/data]\napp:\n  image: busybox\n  volumes_from: [data]\n",
         steps="- service: app\n  command: a\n- service: app\n  command: b\n"),
    # 4xx: the Compose file
    Code("C2C401", ERROR, "unsupported template in a build arg",
         "Build args may use Go template variables like {{ .Branch }}; other actions and unknown "
         "variables cannot be turned into Compose variables.",
         "Use {{ .Branch }}-style variables only, or a literal value.",
         services="app:\n  build:\n    args:\n      A: '{{ .Branch | upper }}'\n"),
    Code("C2C402", WARNING, "env_file does not exist",
         "Compose refuses to start a service whose env_file is missing; such files are often kept out "
         "of git. A name that looks encrypted (`.encrypted`) is usually meant for `encrypted_env_file`.",
         "Create the file before running, or remove the entry; for an encrypted file, use "
         "`encrypted_env_file:` instead.",
         services="app:\n  image: busybox\n  env_file: missing.env\n"),
    Code("C2C403", WARNING, "volume outside the project",
         "A volume mounts an absolute host path or one outside the project directory; it must exist on "
         "every machine that runs the script.",
         "Use a path relative to the services file, or check that the path exists everywhere.",
         services="app:\n  image: busybox\n  volumes: ['/srv/data:/data']\n"),
    Code("C2C404", WARNING, "two different builds, one image name",
         "Two services build an image with the same name from a different context, Dockerfile, args or "
         "target; the later build replaces the earlier one. Identical builds of one name are fine.",
         "Give each build its own build.image.",
         services="a:\n  build:\n    image: x\nb:\n  build:\n    image: x\n    dockerfile: Dockerfile.b\n",
         steps="- service: a\n  command: x\n"),
    Code("C2C405", WARNING, "encrypted file does not exist",
         "An encrypted env file, encrypted build args file or encrypted registry credentials file is "
         "missing; what uses it (listed in the message, once per file) fails until it exists.",
         "Encrypt it with `codeship2compose encrypt` (or `jet encrypt`), or fix the path.",
         services="app:\n  image: busybox\n  encrypted_env_file: secrets.env.encrypted\n"),
    Code("C2C407", WARNING, "absolute build context",
         "The build context is an absolute host path; it must exist wherever the script runs.",
         "Use a path relative to the services file.",
         services="app:\n  build:\n    context: /srv/app\n"),
    # 5xx: the steps script
    Code("C2C501", ERROR, "tag regex cannot be converted",
         "The tag/exclude regex is valid RE2 (as jet uses) but has a construct POSIX regular "
         "expressions lack (\\b, lookarounds, \\p classes, …), so the script could not apply it.",
         "Rewrite the pattern with the syntax both share (groups, |, [classes], \\d, \\w, anchors).",
         steps="- service: app\n  command: 'true'\n  tag: ^master\\b\n"),
    Code("C2C502", ERROR, "unsupported template in image_tag",
         "A push step's image_tag uses a template action or variable jet does not know.",
         "Use jet's variables ({{ .Branch }}, {{ .CommitID }}, …) and no other actions.",
         steps="- name: push\n  type: push\n  service: app\n  image_name: x\n  image_tag: '{{ .Brunch }}'\n"),
    Code("C2C503", ERROR, "tag is not a valid regex",
         "jet treats a tag or exclude with ^ or $ as an RE2 regex; this one is invalid, so it matches no "
         "branch or tag except one named exactly like the text: a filter that almost certainly never "
         "matches. `check` fails on it; `translate` keeps jet's behaviour and warns (C2C762).",
         "Fix the regex, or write the branch name without ^ and $.",
         steps="- service: app\n  command: 'true'\n  tag: ^(master\n"),
    # 6xx: what only `docker compose up` uses (compose.override.yaml)
    Code("C2C601", WARNING, "ports entry left out",
         "Codeship ignored `ports`; they go to compose.override.yaml for local work, and this entry is "
         "not a port mapping Compose (v2 and v1) accepts, so it is left out: ports are 1 to 65535, an IP "
         "address must be a valid one and needs the host part, a host range is as long as its container "
         "range, and no entry may repeat another.",
         "Write CONTAINER, HOST:CONTAINER or IP:HOST:CONTAINER (e.g. \"8080:80\"), or the long form with "
         "a numeric `target`.",
         services="app:\n  image: busybox\n  ports:\n    - web\n"),
    Code("C2C602", WARNING, "host port published twice",
         "Two services, or two entries of one service, publish the same host port: `docker compose up` "
         "cannot start them.",
         "Give each service, and each entry, its own host port.",
         services="web:\n  image: busybox\n  ports: ['8080:80']\napi:\n  image: busybox\n  ports: ['8080:81']\n",
         steps="- service: web\n  command: 'true'\n"),
    Code("C2C603", WARNING, "tty or stdin_open not true or false",
         "`tty` and `stdin_open` go to compose.override.yaml for local work and must be true or false.",
         "Write `tty: true` (or false).",
         services="app:\n  image: busybox\n  tty: sometimes\n"),
    # 76x: indentation mistakes recognised by their shape
    Code("C2C760", ERROR, "a service key at the top level",
         "A key that belongs to a service (links, environment, ports, …) starts at the first column, so "
         "the services file reads it as a service of that name: it was indented too little and belongs to "
         "the service above it.",
         "Indent the key under the service it belongs to, like that service's other keys.",
         services="app:\n  image: busybox\nlinks:\n  - db\ndb:\n  image: busybox\n"),
    Code("C2C761", ERROR, "step keys at a group's level",
         "A group (a step with `steps:`) runs no command of its own: `command:` (and `service:`) next to its "
         "`steps:` are the keys of its last step, indented at the group's level instead of under that "
         "step's '- '.",
         "Indent the keys to line up with the step's other keys.",
         steps="- type: serial\n  steps:\n  - name: test\n  service: app\n  command: 'true'\n"),
    Code("C2C762", WARNING, "tag is not a valid regex (translated as jet runs it)",
         "The tag or exclude regex is invalid (C2C503, which fails `check`); `translate` still writes the "
         "script, which, like jet, runs the step only for a branch or tag named exactly like the text.",
         "Fix the regex, or write the branch name without ^ and $.",
         steps="- service: app\n  command: 'true'\n  tag: ^(master\n"),
    # 7xx: the GitHub Actions / GitLab CI pipelines (translate --ci)
    Code("C2C701", WARNING, "step name used twice in a CI pipeline",
         "A CI job runs its step through `codeship-steps.sh --step NAME`, and the script selects steps "
         "by name: a job would run every step of that name.",
         "Give each step a name of its own.",
         steps="- name: test\n  service: app\n  command: 'true'\n- name: test\n  service: app\n  command: x\n"),
    Code("C2C710", ERROR, "a host directory outside the repository cannot reach later CI jobs",
         "Where a build is split into jobs (--ci-fanout; on GitLab, a manual group), each job is a new runner "
         "with a fresh checkout: what a step writes into a mounted directory travels to the later jobs as an "
         "artifact, which holds only paths inside the repository.",
         "Mount a folder inside the repository, or leave out --ci-fanout (one runner per build).", example=False),
    Code("C2C730", ERROR, "a step name a job's shell cannot carry",
         "A CI job selects its step by name (`codeship-steps.sh --step NAME`), and no shell argument can "
         "hold a NUL character: the name would reach the script cut short and select another step, or none.",
         "Rename the step without the NUL character (\\0).",
         steps='- name: "a\\0b"\n  service: app\n  command: \'true\'\n'),
    # 78x: `codeship2compose audit` (many projects at once; the examples need a folder tree)
    Code("C2C780", WARNING, "services or steps file is a symlink out of the audited folder",
         "`audit` follows no symlink out of the folders it is given, so a project whose Codeship file "
         "links to a file elsewhere is not audited (translate in that folder would read it).",
         "Audit the folder the link points into as well, or replace the link with the file.", example=False),
    Code("C2C781", WARNING, "half a Codeship project",
         "A folder holds a Codeship services file without a steps file beside it, or a steps file "
         "without a services file: `audit` counts a folder as a project only with both.",
         "Add the missing file, or translate the folder on its own (--services/--steps name the files).",
         example=False),
    Code("C2C782", WARNING, "a folder that cannot be read",
         "`audit` could not list a folder under the ones it was given (no permission, or an I/O error), "
         "so any Codeship project in it is missing from the inventory.",
         "Give read access to the folder (or audit as a user who has it), then audit again.", example=False),
    Code("C2C789", ERROR, "internal error while auditing a project",
         "Translating the project raised an unexpected error: a bug in codeship2compose. The audit "
         "counts the project as failed and goes on with the others.",
         "Run `codeship2compose translate` in that folder to see the traceback, and report it.",
         example=False),
)

CATALOGUE: dict[str, Code] = {entry.code: entry for entry in CODES}

