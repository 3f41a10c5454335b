"""LTI roles, and what they make a person here.

The one place that reads the LTI role vocabulary (LTI 1.3 §5.3.7, Appendix A.2); launches and
roster syncs both ask it."""

from __future__ import annotations

# LTI 1.3 §A.2: system, institution and context roles; a role may also be a short name (deprecated).
ADMIN_ROLES = {"Administrator", "SysAdmin"}
MANAGER_ROLES = {"Instructor", "TeachingAssistant"}


def short_role(uri: str) -> str:
    """``http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant`` -> TeachingAssistant."""
    return uri.rsplit("#", 1)[-1].rsplit("/", 1)[-1] if uri else ""


def principal_role(roles: list[str]) -> tuple[str, str]:
    """(our role, the platform role it came from): Administrator -> admin; Instructor/TA -> manager."""
    shorts = [short_role(r) for r in roles if isinstance(r, str)]
    for name in shorts:
        if name in ADMIN_ROLES:
            return "admin", "Administrator"
    for name in shorts:
        if name in MANAGER_ROLES:
            return "manager", name
    return "learner", next((n for n in shorts if n), "Learner")
