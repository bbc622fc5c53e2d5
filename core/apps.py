from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Shared plumbing. An app for its management command (`sweep`) only: no model."""

    name = "core"
