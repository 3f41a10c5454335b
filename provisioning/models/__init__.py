"""Typed SQLAlchemy models.  Every table but ``tenants`` carries ``tenant_id``."""

from .activity import CHANNELS, ActivityEvent
from .base import Base, utcnow
from .course import ENROLLMENT_STATUSES, Course, Enrollment
from .email import EMAIL_KINDS, EMAIL_STATUSES, EmailMessage
from .engagement import Certificate, Invitation, ManagerShare, Notification, Task
from .export import ExportChunk
from .group import GROUP_KINDS, GROUP_SOURCES, MEMBERSHIP_SOURCES, Group, Membership
from .imports import IMPORT_FORMATS, IMPORT_MODES, Import, ImportRow
from .lti import (CourseGroup, LtiContext, LtiDeployment, LtiKey, LtiNonce, LtiRegistration, LtiRosterSeen,
                  LtiUserLink)
from .operation import FINISHED_STATUSES, OPERATION_STATUSES, Operation
from .tenant import Tenant
from .token import TOKEN_SCOPES, ApiToken
from .user import USER_ROLES, USER_STATUSES, User

__all__ = [
    "ActivityEvent", "ApiToken", "Base", "CHANNELS", "Certificate", "Course", "CourseGroup", "EMAIL_KINDS",
    "EMAIL_STATUSES", "ENROLLMENT_STATUSES", "EmailMessage", "Enrollment", "ExportChunk", "FINISHED_STATUSES",
    "GROUP_KINDS", "GROUP_SOURCES", "Group", "IMPORT_FORMATS", "IMPORT_MODES", "Import", "ImportRow",
    "Invitation", "LtiContext", "LtiDeployment", "LtiKey", "LtiNonce", "LtiRegistration", "LtiRosterSeen",
    "LtiUserLink", "MEMBERSHIP_SOURCES", "ManagerShare", "Membership", "Notification", "OPERATION_STATUSES",
    "Operation", "TOKEN_SCOPES", "Task", "Tenant", "USER_ROLES", "USER_STATUSES", "User", "utcnow",
]
