"""Typed SQLAlchemy models.  Every table but ``tenants`` carries ``tenant_id``."""

from .activity import CHANNELS, ActivityEvent
from .base import Base, utcnow
from .email import EMAIL_KINDS, EMAIL_STATUSES, EmailMessage  # noqa: F401
from .engagement import Certificate, Invitation, ManagerShare, Notification, Task  # noqa: F401
from .export import ExportChunk  # noqa: F401
from .course import ENROLLMENT_STATUSES, Course, Enrollment
from .imports import IMPORT_FORMATS, IMPORT_MODES, Import, ImportRow  # noqa: F401
from .lti import CourseGroup, LtiContext, LtiDeployment, LtiKey, LtiNonce, LtiRegistration, LtiRosterSeen, LtiUserLink  # noqa: F401
from .group import GROUP_KINDS, GROUP_SOURCES, MEMBERSHIP_SOURCES, Group, Membership
from .operation import FINISHED_STATUSES, OPERATION_STATUSES, Operation
from .tenant import Tenant
from .token import TOKEN_SCOPES, ApiToken
from .user import USER_ROLES, USER_STATUSES, User

__all__ = [
    "ActivityEvent", "ApiToken", "Base", "CHANNELS", "Course", "ENROLLMENT_STATUSES", "Enrollment", "FINISHED_STATUSES", "GROUP_KINDS",
    "GROUP_SOURCES", "Group", "MEMBERSHIP_SOURCES", "Membership", "OPERATION_STATUSES",
    "Operation", "TOKEN_SCOPES", "Tenant", "USER_ROLES", "USER_STATUSES", "User", "utcnow",
]
