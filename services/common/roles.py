"""The platform's roles, which registration grants in tokens, and the groups
services check against. Which group may do what is each service's choice;
the names and their implications are shared.

Example::

    principal.require_any(*ADMINS, "org_leader")
"""

from __future__ import annotations

ADMINS = ("operator", "province_admin", "tenant_admin")
MANAGERS = (*ADMINS, "org_leader")  # run organisations' daily work
READERS = (*MANAGERS, "reviewer")  # may read tenant data in scope
REVIEWERS = ("reviewer", "tenant_admin", "province_admin")

# Roles a role implies: an admin may grant only what it holds, implied ones
# included (a provincial admin can appoint county admins).
IMPLIES: dict[str, frozenset[str]] = {
    "operator": frozenset(
        {
            "operator",
            "province_admin",
            "tenant_admin",
            "reviewer",
            "org_leader",
            "volunteer",
        }
    ),
    "province_admin": frozenset(
        {"province_admin", "tenant_admin", "reviewer", "org_leader", "volunteer"}
    ),
    "tenant_admin": frozenset({"tenant_admin", "reviewer", "org_leader", "volunteer"}),
    "reviewer": frozenset({"reviewer"}),
    "org_leader": frozenset({"org_leader"}),
    "volunteer": frozenset({"volunteer"}),
}
