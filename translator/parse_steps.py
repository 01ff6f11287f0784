"""codeship-steps.yml → a tree of model steps, with group inheritance and expansion applied."""

from __future__ import annotations

import zlib

from .diagnostics import Diagnostics, Loc
from .fields import Fields, type_name
from .model import GroupStep, PushStep, RunStep, Step
from .names import compose_service_name
from .rules import MISPLACED_STEP_KEYS, STEP_KEYS, suggest
from .yaml_loader import LMap, LSeq

_GROUP_TYPES = ("serial", "parallel", "manual", "matrix")
_PUSH_ONLY_KEYS = {"registry": "the registry the image is pushed to", "image_name": "the repository pushed to",
                   "image_tag": "the tag pushed"}


def parse_steps(doc, filename: str, diags: Diagnostics) -> list[Step]:
    if doc is None:
        diags.error("C2C200", "the steps file is empty", Loc(filename, 1, 1),
                    "list at least one step: `- service: app` with `command: make test` below it")
        return []
    if not isinstance(doc, LSeq):
        loc = doc.loc if isinstance(doc, LMap) else Loc(filename, 1, 1)
        hint = "start each step with '- ' : the steps file is a YAML list"
        if isinstance(doc, LMap) and any(k in doc for k in ("service", "command", "type", "steps")):
            hint = "this looks like a single step: put '- ' before its first key"
        elif isinstance(doc, LMap) and (dashed := [k for k in doc if str(k).startswith("-")]):
            key = str(dashed[0])
            hint = f"'{key}' has no space after its '-', so it is not a list item: write `- {key[1:]}`"
        diags.error("C2C200", f"the steps file must be a list of steps, not {type_name(doc)}", loc, hint)
        return []
    if not doc:
        diags.error("C2C200", "the steps file lists no steps", doc.loc)
    return _StepParser(filename, diags).steps(doc, inherited=None, path="")


class _StepParser:
    def __init__(self, filename: str, diags: Diagnostics):
        self.filename = filename
        self.warned: set[Loc] = set()
        self.basename = filename.replace("\\", "/").rsplit("/", 1)[-1]
        self.diags = diags
        self.group_service_loc: Loc | None = None  # where the group whose service is inherited sets it

    def steps(self, seq: LSeq, inherited: str | None, path: str, default: str | None = None) -> list[Step]:
        """`inherited` is a group's service (children must not set their own); `default` is an
        on_fail step's failed service (children may set their own)."""
        out = []
        for i, item in enumerate(seq):
            loc = seq.loc_of(i)
            if not isinstance(item, LMap):
                self.diags.error("C2C201", f"a step must be a mapping, not {type_name(item)}", loc,
                                 "write the step's keys (service, command, …) under the '- '")
                continue
            step = self.step(item, inherited, f"{path}/{i}", default)
            if step is not None:
                out.append(step)
        return out

    def step(self, m: LMap, inherited: str | None, path: str, default: str | None = None) -> Step | None:
        kind = m.get("type")
        f = Fields(m, self.diags, "step")
        self._unknown_keys(m)
        kind_text = f.text("type") if kind is not None else None
        if kind is None and "steps" in m:
            self.diags.error("C2C202", "a step with 'steps' needs 'type: serial' or 'type: parallel'",
                             m.key_loc["steps"], "add `type: serial` (in order) or `type: parallel`")
            return None
        if kind_text in _GROUP_TYPES:
            return self.group(m, f, kind_text, inherited, path, default)
        if kind_text == "push":
            return self.push(m, f, inherited, path, default)
        if kind is not None and kind_text is not None:
            self.diags.error("C2C203", f"unknown step type '{kind_text}'", m.loc_of("type"),
                             "use serial, parallel, push or manual, or leave 'type' out for a command step")
            return None
        if kind is not None:
            return None  # wrong type already reported
        return self.run(m, f, inherited, path, default)

    def _unknown_keys(self, m: LMap) -> None:
        for key in m:
            if key not in STEP_KEYS:
                guess = suggest(str(key), STEP_KEYS, MISPLACED_STEP_KEYS)
                self.diags.warning("C2C204", f"unknown step key '{key}' is ignored", m.key_loc[key],
                                   f"did you mean {guess}?" if guess else None)

    def _push_only_keys(self, m: LMap, what: str) -> None:
        """jet reads registry, image_name and image_tag only on push steps; elsewhere they are
        silently ignored, which hides a step that was meant to push."""
        for key in _PUSH_ONLY_KEYS:
            if key in m and m.key_loc[key] not in self.warned:  # a group's steps are parsed per service
                self.warned.add(m.key_loc[key])
                self.diags.warning("C2C213", f"'{key}' on {what} is ignored: it only applies to `type: push` "
                                   f"steps ({_PUSH_ONLY_KEYS[key]})", m.key_loc[key],
                                   "remove it, or make this a push step: `type: push` with `service` and "
                                   "`image_name`")

    def _common(self, step: Step, f: Fields) -> None:
        step.key_loc = dict(f.m.key_loc)
        step.written = {k: v for k in ("service", "dockercfg_service") if (v := f.text(k)) is not None}
        step.tag = f.text("tag")
        step.exclude = f.text("exclude")
        step.encrypted_dockercfg_path = f.text("encrypted_dockercfg_path")
        step.dockercfg_service = _service_name(f.text("dockercfg_service"))

    def _service(self, m: LMap, f: Fields, inherited: str | None, what: str,
                 default: str | None = None) -> str | None:
        own = f.text("service")
        if own is not None:
            own = compose_service_name(own)
        if own is None and inherited is None:
            return default
        if own is not None and inherited is not None:
            hint = "remove 'service' here (it is inherited), or from the group"
            group_service_loc = self.group_service_loc
            if group_service_loc is not None and group_service_loc.line > m.loc.line:
                hint = (f"the group's 'service:' (line {group_service_loc.line}) comes after its steps: if it "
                        "belongs to a step, indent it under that step's '- '; else " + hint)
            self.diags.error("C2C205", f"{what} sets 'service: {own}' inside a group that already sets "
                             f"'service: {inherited}'", m.loc_of("service"), hint)
            return own
        return own if own is not None else inherited

    def _name(self, f: Fields, path: str, stem: str) -> tuple[str, bool]:
        name = f.text("name")
        if name:
            return name, False
        # the file's name, not its path: the same files give the same names wherever `translate`
        # runs from (--step NAME and committed outputs must not change between machines)
        digest = f"{zlib.crc32(f'{self.basename}{path}{stem}'.encode()):08x}"
        return f"{stem}-{digest}", True

    def run(self, m: LMap, f: Fields, inherited: str | None, path: str,
            default: str | None = None) -> RunStep | None:
        service = self._service(m, f, inherited, "a step", default)
        command = f.argv("command")
        ok = True
        if service is None:
            self.diags.error("C2C206", "a command step needs a 'service'", m.loc,
                             "add `service: NAME` naming a service of the services file")
            ok = False
        if command is None:
            if "command" not in m:
                self.diags.error("C2C207", "a step needs a 'command' (or 'type: push', or 'steps')", m.loc,
                                 "add `command: ...`; `command: true` just builds the service")
            ok = False
        elif not command:
            self.diags.error("C2C207", "the step's command is empty", m.loc_of("command"))
            ok = False
        if not ok or service is None or command is None:  # the last two: for the type checker
            return None
        self._push_only_keys(m, "a command step")
        name, auto = self._name(f, path, service)
        step = RunStep(name=name, loc=m.loc, auto_named=auto, service=service, command=command)
        self._common(step, f)
        on_fail = m.get("on_fail")
        if isinstance(on_fail, LSeq):
            step.on_fail = self.steps(on_fail, inherited=None, path=f"{path}/on_fail", default=service)
        elif on_fail is not None:
            f.wrong("on_fail", "a list of steps")
        return step

    def push(self, m: LMap, f: Fields, inherited: str | None, path: str,
             default: str | None = None) -> PushStep | None:
        service = self._service(m, f, inherited, "a push step", default)
        image_name = f.text("image_name")
        if service is None:
            self.diags.error("C2C206", "a push step needs a 'service'", m.loc,
                             "add `service: NAME`: the service whose image is pushed")
        if not image_name:
            self.diags.error("C2C208", "a push step needs an 'image_name'", m.loc,
                             "add `image_name: registry/owner/name`")
        if service is None or not image_name:
            return None
        name, auto = self._name(f, path, service)
        step = PushStep(name=name, loc=m.loc, auto_named=auto, service=service, image_name=image_name)
        self._common(step, f)
        step.image_tag = f.text("image_tag") or "latest"
        step.registry = f.text("registry")
        return step

    def group(self, m: LMap, f: Fields, kind: str, inherited: str | None, path: str,
              default: str | None = None) -> GroupStep | None:
        children = m.get("steps")
        if not isinstance(children, LSeq):
            if children is None:
                self.diags.error("C2C209", f"a {kind} group needs 'steps'", m.loc,
                                 "list the group's steps under `steps:`")
            else:
                f.wrong("steps", "a list of steps")
            return None
        if "command" in m:
            self._outdented_step_keys(m, children)
            return None
        if "service" in m and "services" in m:
            self.diags.error("C2C210", "a group sets both 'service' and 'services'", m.key_loc["services"],
                             "keep one: 'service' for all steps, 'services' to repeat them per service")
            return None
        self._push_only_keys(m, f"a {kind} group")
        name, auto = self._name(f, path, kind)
        services = [compose_service_name(s) for s, _ in f.texts("services")] if "services" in m else None
        if kind == "matrix":
            self.diags.warning("C2C211", "'type: matrix' is legacy Codeship syntax; it runs as a parallel "
                               "group over its services", m.loc_of("type"),
                               "write `type: parallel` with `services:` instead")
            if services is None:
                self.diags.error("C2C209", "a matrix group needs 'services'", m.loc)
                return None
        if services is not None:
            if inherited is not None:
                self.diags.error("C2C205", "a group with 'services' inside a group that sets 'service'",
                                 m.key_loc["services"])
                return None
            group = self._expand_services(children, kind, services, path, name)
        else:
            own = self._service(m, f, inherited, f"a {kind} group")
            outer = self.group_service_loc
            self.group_service_loc = m.key_loc.get("service", outer)
            group = GroupStep(name=name, loc=m.loc, kind=kind,
                              steps=self.steps(children, inherited=own, path=path,
                                               default=None if own else default))
            self.group_service_loc = outer
        group.name, group.auto_named, group.loc = name, auto, m.loc
        self._common(group, f)
        if not children:
            self.diags.warning("C2C212", f"the {kind} group has no steps", m.loc_of("steps"))
        return group

    def _outdented_step_keys(self, m: LMap, children: LSeq) -> None:
        """A group runs no command: `command:` (and `service:`) next to `steps:` are the keys of
        the group's last step, indented at the group's level instead of under that step."""
        keys = [k for k in ("service", "command") if k in m and m.key_loc[k].line > children.loc.line]
        loc = m.key_loc["command"]
        above = [l for l in children.item_loc if l.line < loc.line]
        if not above:  # above the group's steps: not an outdented key, a command given to the group
            self.diags.error("C2C761", "a group has no 'command': it runs only its steps", loc,
                             "move the command into a step of its own (`- service: …` with `command: …`) "
                             "under the group's `steps:`")
            return
        written = " and ".join(f"'{k}:'" for k in keys or ["command"])
        self.diags.error("C2C761", f"a group has no 'command': {written} at the group's level "
                         + ("look like keys" if len(keys) > 1 else "looks like a key")
                         + f" of the step at line {above[-1].line}, indented too little", loc,
                         f"indent {written} to line up with that step's other keys, under its '- '")

    def _expand_services(self, children: LSeq, kind: str, services: list[str], path: str,
                         name: str) -> GroupStep:
        # parallel/matrix + services: one serial branch per service, run side by side.
        # serial + services: all steps for the first service, then all for the next (the docs'
        # documented equivalent; their prose says "parallel", which contradicts the example).
        per_service: list[Step] = [
            GroupStep(name=f"{name}-{svc}", loc=children.loc, kind="serial",
                      steps=self.steps(children, inherited=svc, path=f"{path}/{svc}"), auto_named=True)
            for svc in services
        ]
        outer = "serial" if kind == "serial" else ("manual" if kind == "manual" else "parallel")
        return GroupStep(name=name, loc=children.loc, kind=outer, steps=per_service)


def _service_name(name: str | None) -> str | None:
    return compose_service_name(name) if name else name
