"""CSV files that Excel opens safely: UTF-8 with a BOM (so Japanese Excel reads
it as UTF-8), CRLF line ends, and every cell that a spreadsheet would take as a
formula neutralised (OWASP "CSV injection"): a cell starting with = + - @, their
full-width forms ＝ ＋ － ＠ (Japanese Excel reads them as the half-width ones), a
tab or a carriage return gets a leading apostrophe.

Every CSV download of the console (利用者ID一覧's CSVエクスポート, ログ管理,
the import report) goes through `csv_download`.
"""

import csv
from collections.abc import Iterable

from django.http import StreamingHttpResponse

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "＝", "＋", "－", "＠", "\t", "\r")


def neutralise(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class _Echo:
    """A file-like object whose write returns the line, for streaming."""

    def write(self, value):
        return value


def csv_lines(header: Iterable, rows: Iterable[Iterable]) -> Iterable[str]:
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    yield BOM + writer.writerow([neutralise(cell) for cell in header])
    for row in rows:
        yield writer.writerow([neutralise(cell) for cell in row])


def csv_download(filename: str, header: Iterable, rows: Iterable[Iterable]):
    """A streamed CSV attachment: memory stays flat however many rows there are."""
    response = StreamingHttpResponse(
        (line.encode("utf-8") for line in csv_lines(header, rows)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
