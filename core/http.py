"""How the domain exceptions of core.exceptions reach a browser."""

from django.http import Http404

from core.exceptions import NotFound


class NotFoundMiddleware:
    """A service that finds its row gone (deleted meanwhile, or another contract's)
    raises NotFound; every view answers it as Django answers Http404, with the 404
    page. Views still look their object up first with access_<entity>(), so this
    is the answer to a row that disappears between that lookup and the service."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, NotFound):
            raise Http404(type(exception).__name__) from exception
        return None
