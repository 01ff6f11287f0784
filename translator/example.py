"""A tiny Codeship Pro project that ships with the package: `codeship2compose init-example DIR`
writes it, so that a first run needs nothing but `pip install` (no source checkout, no project
of one's own). Plain data; the CLI writes the files."""

from __future__ import annotations

FILES: dict[str, str] = {
    "codeship-services.yml": """\
# A tiny Codeship Pro project, written by `codeship2compose init-example`.
app:
  build: .                 # built from ./Dockerfile
  environment:
    GREETING: hello from the app service
  links:
    - cache                # started next to app in every step that uses app
cache:
  image: busybox
  command: sleep 3600
""",
    "codeship-steps.yml": """\
- name: test
  service: app
  command: sh /hello.sh
- type: parallel           # the two steps run side by side
  steps:
    - name: lint
      service: app
      command: echo lint ok
    - name: unit
      service: app
      command: echo unit ok
- name: deploy
  tag: main                # runs only with --tag main, like `jet steps --tag main`
  service: app
  command: echo deploying
""",
    "Dockerfile": """\
FROM busybox
COPY hello.sh /hello.sh
""",
    "hello.sh": """\
echo "$GREETING"
""",
}
