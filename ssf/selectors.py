from api.models import ApiClient
from ssf import rules
from ssf.exceptions import StreamNotFound
from ssf.models import Stream


def stream_list(*, client: ApiClient):
    """The API client's own streams."""
    return Stream.objects.of_client(client).select_related("client")


def stream_get(*, client: ApiClient, stream_id: str, lock: bool = False) -> Stream:
    """The API client's stream of this id, or StreamNotFound: none, or another
    client's (alike). `lock` holds its row to the end of the transaction."""
    if not rules.is_stream_id(stream_id):
        raise StreamNotFound
    streams = stream_list(client=client)
    found = (streams.select_for_update(of=("self",)) if lock else streams).filter(
        stream_id=stream_id
    )
    stream = found.first()
    if stream is None:
        raise StreamNotFound
    return stream
