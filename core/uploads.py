"""Upload limits enforced while the request body is read, not after it.

Django parses a multipart body whole the first time request.POST or request.FILES is
read, spooling a file over FILE_UPLOAD_MAX_MEMORY_SIZE to a temporary file; and
CsrfViewMiddleware reads request.POST (for the token) before any view runs. A form
checking `upload.size` has therefore already let the whole body be read and written
to disk. A view marked `upload_limit(max_bytes)` has the limit put in front of the
parser by UploadLimitMiddleware:

- the declared Content-Length is compared with max_bytes plus ENVELOPE before the
  body is touched; over it, the upload stops where the file begins;
- an upload handler counts each file's bytes as they arrive and stops reading at
  max_bytes, whatever the Content-Length said;
- either way the file is stood in for by a RefusedUpload (its name and a size over
  the limit, no content), so that the form's own size rule puts its message next to
  the field: one rule, one message, whether the file was refused early or late.

Every other view takes no file: a file sent to it anyway is refused the same way
(NO_FILES), so no form's body spools a file to disk, whatever its size. The fields of
any form are limited by Django's DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MiB), checked from
the declared length before a urlencoded body is read (400).

Nothing of a refused file is kept. What happens to the rest of the body depends on
its declared length. Up to DRAIN_MAX it is read and thrown away (Django's own
StopUpload behaviour), so that the connection ends cleanly and the proxy in front,
which limits bodies to about 2 MiB (README), hands the browser the page rather than
a 502 for an upstream that closed while it was still sending. Above DRAIN_MAX (a
body no proxy of ours lets through, or gunicorn reached directly) reading stops at
once (connection_reset=True): gunicorn closes the connection after the response.
"""

from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.utils.datastructures import MultiValueDict

# Room for what a form's body holds besides the file: the multipart boundaries, each
# part's headers (a file name may take a few hundred bytes), the CSRF token and the
# form's other fields. A body declared larger than max_bytes + ENVELOPE cannot carry
# a file within the limit.
ENVELOPE = 64 * 1024
# The upload limit of a view that takes no file.
NO_FILES = 0
# Up to this declared length, the rest of a refused body is read and discarded.
DRAIN_MAX = 4 * 1024 * 1024


class RefusedUpload(UploadedFile):
    """A file whose upload was stopped at the limit: its name, and its size as far as
    it is known (always over the limit). It has no content."""

    def __init__(self, name: str, size: int, content_type: str | None, charset: str | None):
        super().__init__(name=name, size=size, content_type=content_type, charset=charset)

    def read(self, *args, **kwargs):
        raise ValueError("a refused upload has no content")


class UploadLimitHandler(FileUploadHandler):
    """First of the request's upload handlers: passes each chunk on to Django's own
    handlers (memory or temporary file) until a file goes over max_bytes, then stops
    the upload. When the body's declared length is already too large for a file within
    the limit, it stops at the first file, before its first byte."""

    def __init__(self, request, *, max_bytes: int, declared_length: int):
        super().__init__(request)
        self.max_bytes = max_bytes
        self.declared_length = declared_length
        self.refused: dict[str, RefusedUpload] = {}

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        if self.declared_length > self.max_bytes + ENVELOPE:
            self._refuse(size=self.declared_length)

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > self.max_bytes:
            self._refuse(size=start + len(raw_data))
        return raw_data

    def file_complete(self, file_size):
        return None  # the next handler makes the file

    def _refuse(self, *, size: int):
        self.refused[self.field_name] = RefusedUpload(
            self.file_name, size, self.content_type, self.charset
        )
        raise StopUpload(connection_reset=not 0 < self.declared_length <= DRAIN_MAX)


def upload_limit(max_bytes: int):
    """Mark a view whose form takes a file of at most max_bytes. UploadLimitMiddleware
    puts the limit in place before the body is read; the view reads the files with
    `uploaded_files(request)`, where a refused file is a RefusedUpload."""

    def decorator(view):
        view.upload_limit = max_bytes
        return view

    return decorator


class UploadLimitMiddleware:
    """Puts the upload limit of the view about to run (`upload_limit`, or NO_FILES) in
    place.

    CSRF: this must come before CsrfViewMiddleware in MIDDLEWARE. That middleware reads
    request.POST for the token in its process_view, which parses the body; this one's
    process_view runs first and installs the limit, so the CSRF check parses the body
    through it. The check itself is untouched (Django's own, by the middleware, before
    the view, with the token from the form or the X-CSRFToken header): no view is made
    csrf_exempt, and a refused upload is answered only to a request with a valid token.
    A browser sends the form's fields in page order and {% csrf_token %} comes first,
    so its token arrives even when the file is refused before its first byte; a body
    without a valid token ahead of its file gets the CSRF failure page (403).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return None
        max_bytes = getattr(view_func, "upload_limit", NO_FILES)
        # Nothing has read the body yet: the declared Content-Length decides here
        # whether a file can fit at all. (Setting upload_handlers raises if the body
        # was parsed already: a middleware reading it earlier fails loudly.)
        handler = UploadLimitHandler(
            request, max_bytes=max_bytes, declared_length=_declared_length(request)
        )
        request.upload_handlers = [handler, *request.upload_handlers]
        request.refused_uploads = handler.refused
        return None


def uploaded_files(request) -> MultiValueDict:
    """request.FILES, with a RefusedUpload in place of each file stopped at the limit."""
    files = request.FILES.copy()
    for name, refused in getattr(request, "refused_uploads", {}).items():
        files[name] = refused
    return files


def _declared_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0  # Django refuses such a body (400) when it parses it
