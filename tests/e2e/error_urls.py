"""The console's URLs and one more, for the walk of tests/e2e/test_fit.py: the error
page of a template of the templates folder named by its status (`404.html`,
`403_support.html`, ...), as the console answers with it.

400, 403, 404 and 500 come from an exception raised in a view, as they do in
production: Django's handlers (or the console's own, when azukeru/urls.py names any)
render them. Any other is rendered with the request, as the view that answers with
it does.
"""

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import Http404
from django.shortcuts import render
from django.urls import path

from azukeru import urls as project

RAISED = {"400": SuspiciousOperation, "403": PermissionDenied, "404": Http404}


class Fault(Exception):
    """A fault of the server, for its error page (500)."""


def error_page(request, template):
    if template in RAISED:
        raise RAISED[template]()
    if template == "500":
        raise Fault()
    return render(request, f"{template}.html", status=int(template[:3]))


urlpatterns = [path("error-pages/<str:template>/", error_page), *project.urlpatterns]

for handler in ("handler400", "handler403", "handler404", "handler500"):
    if hasattr(project, handler):
        globals()[handler] = getattr(project, handler)
