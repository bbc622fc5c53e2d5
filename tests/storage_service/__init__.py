"""The storage service as a stranger would build it, for the tests of this folder: a
Django project of its own with django-oauth-toolkit (DOT) as its OAuth 2.0 resource
server on DOT's default settings, and an OpenID Shared Signals receiver. It runs as a
separate process on its own SQLite file (conftest.py starts and stops it) against the
console in pytest-django's live server. docs/API.md, "For the storage service", says
what it customises and why."""
