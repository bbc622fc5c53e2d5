"""The storage service's two endpoints: the file list of the signed-in app (DOT's
ProtectedResourceView: the console's introspection, cached by DOT), and the SSF push
receiver (RFC 8935)."""

from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from oauth2_provider.views import ProtectedResourceView

from tests.storage_service import ssf

MEDIA_TYPE = "application/secevent+jwt"


class FileList(ProtectedResourceView):
    def get(self, request):
        owner = request.resource_owner.username
        return JsonResponse({"owner": owner, "files": [f"{owner}/見積書.pdf", f"{owner}/写真.jpg"]})


@csrf_exempt
@require_POST
def events(request):
    if request.content_type != MEDIA_TYPE:
        return JsonResponse(
            {"err": "invalid_request", "description": f"Send {MEDIA_TYPE}."}, status=400
        )
    try:
        claims = ssf.verify(request.body)
    except ssf.Refused as refused:
        return JsonResponse({"err": refused.code, "description": refused.description}, status=400)
    ssf.receive(claims)
    return HttpResponse(status=202)
