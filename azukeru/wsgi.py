"""The WSGI application gunicorn serves (gunicorn.conf.py), warmed before the first
request.

gunicorn loads this module once in its master process (`preload_app`) and forks the
workers from it, also those that replace a worker recycled by `max_requests`. What
is worked out here is inherited by every worker, so that no user pays for it with a
slow first request: the compiled templates of the project, the URL patterns, and
the translation catalogs. Nothing here opens a database connection (a connection
must never be shared across a fork).
"""

import os
from pathlib import Path

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "azukeru.settings")
application = get_wsgi_application()


def _warm() -> None:
    from django.conf import settings
    from django.template import engines
    from django.urls import get_resolver
    from django.utils import translation

    get_resolver().reverse_dict  # noqa: B018 (populates the URL patterns)
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            translation.gettext("ログイン")
    django_engine = engines["django"]
    project_templates = Path(settings.BASE_DIR) / "templates"
    for path in sorted(project_templates.rglob("*")):
        if path.suffix in {".html", ".txt"}:
            django_engine.get_template(str(path.relative_to(project_templates)))


_warm()
