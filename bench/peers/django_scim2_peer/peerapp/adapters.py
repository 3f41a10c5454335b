"""django-scim2's adapters, identified by the primary key (its documented id_field override)."""

from django_scim import adapters


class User(adapters.SCIMUser):
    id_field = "id"


class Group(adapters.SCIMGroup):
    id_field = "id"
