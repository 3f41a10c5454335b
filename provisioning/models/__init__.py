"""Typed SQLAlchemy models.  Every table but ``tenants`` carries ``tenant_id``."""

from provisioning.models.activity import CHANNELS, ActivityEvent
from provisioning.models.base import Base, utcnow
from provisioning.models.course import ENROLLMENT_STATUSES, Course, Enrollment
from provisioning.models.email import EMAIL_KINDS, EMAIL_STATUSES, EmailMessage, EmailStencil
from provisioning.models.engagement import (
    Certificate,
    GroupInvitation,
    Invitation,
    ManagerShare,
    Notification,
    Task,
)
from provisioning.models.export import ExportChunk
from provisioning.models.group import (
    GROUP_KINDS,
    GROUP_SOURCES,
    MEMBERSHIP_SOURCES,
    Group,
    GroupManager,
    Membership,
)
from provisioning.models.imports import IMPORT_FORMATS, IMPORT_MODES, Import, ImportRow
from provisioning.models.lti import (
    CourseGroup,
    LtiContext,
    LtiDeployment,
    LtiKey,
    LtiNonce,
    LtiRegistration,
    LtiRosterSeen,
    LtiUserLink,
)
from provisioning.models.notify import (
    REPORT_FREQUENCIES,
    REPORT_TYPES,
    TRIGGERS,
    NotificationTrigger,
    ReportSchedule,
)
from provisioning.models.operation import (
    FINISHED_STATUSES,
    OPERATION_STATUSES,
    OPERATION_TYPES,
    Operation,
)
from provisioning.models.tenant import Tenant
from provisioning.models.tenant_role import TenantRole
from provisioning.models.token import TOKEN_SCOPES, ApiToken
from provisioning.models.ui_session import SESSION_END_REASONS, UiSession
from provisioning.models.user import USER_ROLES, USER_STATUSES, User

__all__ = [
    "ActivityEvent",
    "ApiToken",
    "Base",
    "CHANNELS",
    "Certificate",
    "GroupInvitation",
    "Course",
    "CourseGroup",
    "EMAIL_KINDS",
    "EMAIL_STATUSES",
    "ENROLLMENT_STATUSES",
    "EmailMessage",
    "EmailStencil",
    "Enrollment",
    "ExportChunk",
    "FINISHED_STATUSES",
    "GROUP_KINDS",
    "GROUP_SOURCES",
    "Group",
    "GroupManager",
    "IMPORT_FORMATS",
    "IMPORT_MODES",
    "Import",
    "ImportRow",
    "Invitation",
    "LtiContext",
    "LtiDeployment",
    "LtiKey",
    "LtiNonce",
    "LtiRegistration",
    "LtiRosterSeen",
    "LtiUserLink",
    "MEMBERSHIP_SOURCES",
    "ManagerShare",
    "Membership",
    "Notification",
    "NotificationTrigger",
    "REPORT_FREQUENCIES",
    "REPORT_TYPES",
    "ReportSchedule",
    "TRIGGERS",
    "OPERATION_STATUSES",
    "OPERATION_TYPES",
    "Operation",
    "SESSION_END_REASONS",
    "TOKEN_SCOPES",
    "Task",
    "Tenant",
    "TenantRole",
    "USER_ROLES",
    "USER_STATUSES",
    "UiSession",
    "User",
    "utcnow",
]
