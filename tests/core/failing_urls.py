"""The console's URLs and error handlers, and one view that fails (tests of the 500 page)."""

from django.urls import path

from azukeru.urls import handler400, handler404, handler500, urlpatterns
from tests.core.test_errorpages import boom

__all__ = ["handler400", "handler404", "handler500", "urlpatterns"]

urlpatterns = [path("boom/", boom), *urlpatterns]
