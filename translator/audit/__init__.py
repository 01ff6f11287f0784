"""`codeship2compose audit`: an inventory of every Codeship project under some folders (see
docs/audit.md). The core: it finds, translates in memory and counts; it never prints, exits or
writes. translator/cli.py renders the result with translator/audit/render.py."""

from .run import FAILED, MANUAL, TRANSLATED, Audit, AuditError, ProjectAudit, audit, audit_project

__all__ = ["Audit", "AuditError", "FAILED", "MANUAL", "ProjectAudit", "TRANSLATED", "audit", "audit_project"]
