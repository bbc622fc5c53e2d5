"""What the Django admin pages of every app share (support staff at /support/)."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import transaction

from core.exceptions import LimitReached, NotFound


class ReadOnlyAdmin(admin.ModelAdmin):
    """A model support staff may look at but never add, change or delete here; the
    changes they may make are admin actions that call the services."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class _DryRun(Exception):
    """Raised to roll back a service call made only to check its input."""


def check_with_service(form: forms.Form, call) -> None:
    """Run `call` (a service call) in a savepoint that is always rolled back; its
    ValidationError, LimitReached and NotFound become errors of `form`. Nothing it
    did (rows, audit entries, mails queued on commit) survives."""
    try:
        with transaction.atomic():
            call()
            raise _DryRun
    except _DryRun:
        pass
    except ValidationError as error:
        form.add_error(None, error)
    except (LimitReached, NotFound) as error:
        form.add_error(None, str(error))
