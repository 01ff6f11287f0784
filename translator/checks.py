"""Rules that span services and steps: references, cycles, names."""

from __future__ import annotations

from .diagnostics import Diagnostics, Loc
from .model import GroupStep, Options, Project, PushStep, RunStep, walk


def check_project(project: Project, diags: Diagnostics, options: Options) -> None:
    services = project.services
    _check_service_refs(project, diags)
    _check_cycles(project, diags)
    names: dict[str, Loc] = {}
    service_locs = _service_locs(project.steps)
    reported: set[tuple[Loc, str]] = set()  # a group's undefined service: once, not once per step
    for step in walk(project.steps):
        if isinstance(step, (RunStep, PushStep)):
            loc = service_locs.get(id(step), step.loc)
            if step.service not in services and (loc, step.service) not in reported:
                reported.add((loc, step.service))
                diags.error("C2C301", f"step '{step.name}' uses service "
                            f"'{step.written.get('service', step.service)}', which the services "
                            f"file does not define", loc,
                            _did_you_mean(step.service, services, listed=True))
        if step.dockercfg_service and step.dockercfg_service not in services:
            diags.error("C2C301", f"step '{step.name}': dockercfg_service "
                        f"'{step.written.get('dockercfg_service', step.dockercfg_service)}' is "
                        "not defined", step.key_loc.get("dockercfg_service", step.loc),
                        _did_you_mean(step.dockercfg_service, services, listed=True))
        if not step.auto_named and not isinstance(step, GroupStep):
            if names.get(step.name) == step.loc:
                continue  # the same step, repeated per service by its group's `services:`
            if step.name in names:
                diags.warning("C2C302", f"step name '{step.name}' is used twice (first at line "
                              f"{names[step.name].line})", step.loc,
                              "give each step its own name so logs and --step can tell them apart")
            else:
                names[step.name] = step.loc
    if options.volumes_from_scope == "step":
        _note_shared_volume_sources(project, diags)


def _service_locs(steps: list, inherited: Loc | None = None) -> dict[int, Loc]:
    """id(step) → where its service is named: its own `service:` key, else the `service:` (or
    `services:`) of the group it inherits it from; the location is the word to fix."""
    out: dict[int, Loc] = {}
    for step in steps:
        own = step.key_loc.get("service") or step.key_loc.get("services") or inherited
        if own is not None:
            out[id(step)] = own
        if isinstance(step, GroupStep):
            out.update(_service_locs(step.steps, own))
        elif isinstance(step, RunStep):
            out.update(_service_locs(step.on_fail))  # an on_fail step names its own, or runs in the failed one
    return out


def _did_you_mean(name: str, known, listed: bool = False) -> str:
    """`listed`: also name the services there are (up to 10), for a step's service."""
    import difflib

    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    hint = f"did you mean '{close[0]}'?" if close else "define it in the services file or fix the name"
    if listed and known:
        names = sorted(known)
        hint += " (the services file defines " + ", ".join(f"'{n}'" for n in names[:10]) + (
            f" and {len(names) - 10} more" if len(names) > 10 else "") + ")"
    return hint


def _check_service_refs(project: Project, diags: Diagnostics) -> None:
    services = project.services
    for svc in services.values():
        for key, refs in (("volumes_from", svc.volumes_from), ("links", svc.links),
                          ("depends_on", svc.depends_on)):
            for ref in refs:
                if ref.service not in services:
                    diags.error("C2C303", f"service '{svc.name}': {key} names '{ref.service}', which is not "
                                "defined", ref.loc, _did_you_mean(ref.service, services))
                elif ref.service == svc.name:
                    diags.error("C2C304", f"service '{svc.name}' {key} itself", ref.loc)
        if svc.dockercfg_service and svc.dockercfg_service not in services:
            diags.error("C2C303", f"service '{svc.name}': dockercfg_service '{svc.dockercfg_service}' is not "
                        "defined", svc.key_loc.get("dockercfg_service", svc.loc))


def _edges(project: Project, name: str):
    svc = project.services[name]
    for ref in svc.links + svc.depends_on + svc.volumes_from:
        if ref.service in project.services and ref.service != name:
            yield ref


def _check_cycles(project: Project, diags: Diagnostics) -> None:
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    for start in project.services:
        if state.get(start):
            continue
        path = [start]
        iters = [iter(list(_edges(project, start)))]
        state[start] = 1
        while iters:
            ref = next(iters[-1], None)
            if ref is None:
                state[path.pop()] = 2
                iters.pop()
                continue
            if state.get(ref.service) == 1:
                cycle = path[path.index(ref.service):] + [ref.service]
                diags.error("C2C305", "services depend on each other in a cycle: " + " -> ".join(cycle),
                            ref.loc, "remove one of the links/depends_on/volumes_from in the cycle")
                continue
            if not state.get(ref.service):
                state[ref.service] = 1
                path.append(ref.service)
                iters.append(iter(list(_edges(project, ref.service))))


def _note_shared_volume_sources(project: Project, diags: Diagnostics) -> None:
    """jet keeps a volumes_from source for the whole build; we scope it to a step by default."""
    sources: dict[str, set[str]] = {}
    for step in walk(project.steps):
        if isinstance(step, RunStep) and step.service in project.services:
            for ref in project.services[step.service].volumes_from:
                src = project.services.get(ref.service)
                if src and any(v.host is None for v in src.volumes):
                    sources.setdefault(ref.service, set()).add(step.name)
    for name, steps in sorted(sources.items()):
        if len(steps) > 1:
            diags.warning("C2C306", f"the container-only volumes of '{name}' (volumes_from) are used by "
                          f"{len(steps)} steps; each step starts with them empty (the volumes tutorial's "
                          "semantics)", project.services[name].loc,
                          "translate with --volumes-from-scope build to keep them for the whole run, "
                          "as jet 2.x does")
