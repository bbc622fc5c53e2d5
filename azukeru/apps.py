"""The support site's names of the apps installed from elsewhere: django-axes and
django-tasks-db name themselves in English only ("Axes", "Tasks Database Backend").
Their models' and fields' names are translated in locale/ja/LC_MESSAGES/django.po."""

from axes.apps import AppConfig as AxesAppConfig
from django.utils.translation import gettext_lazy as _
from django_tasks_db.apps import TasksAppConfig


class AxesConfig(AxesAppConfig):
    verbose_name = _("ログインの試行（django-axes）")


class TasksConfig(TasksAppConfig):
    verbose_name = _("タスク（django-tasks-db）")
