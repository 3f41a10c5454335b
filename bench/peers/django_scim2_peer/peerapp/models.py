"""The User and Group models django-scim2's adapters expect (its abstract SCIM mixins).

The user carries the fields of Django's AbstractUser that the SCIMUser adapter reads, on
AbstractBaseUser: without PermissionsMixin's auth.Group relation the app needs no migrations
(``migrate --run-syncdb`` creates its tables).
"""

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.utils import timezone
from django_scim.models import AbstractSCIMGroupMixin, AbstractSCIMUserMixin


class Group(AbstractSCIMGroupMixin):
    name = models.CharField(max_length=200)


class User(AbstractSCIMUserMixin, AbstractBaseUser):
    username = models.CharField(max_length=254, unique=True)
    email = models.EmailField(blank=True)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    scim_group_set = models.ManyToManyField(Group, related_name="user_set", blank=True)

    USERNAME_FIELD = "username"
    objects = BaseUserManager()

    @property
    def scim_groups(self):
        return self.scim_group_set
