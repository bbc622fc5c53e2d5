"""CSV files for the import tests: three good lines, and the bytes of a file in
any encoding, line end or quoting."""

import codecs

# Three lines that pass every rule; the passwords appear nowhere but in files.
GOOD = [
    ("sato01", "Hn5vRt2Wq8", "sato@example.jp"),
    ("suzuki.hanako", "Tz4kMw9Qx2", "hanako.suzuki@example.jp"),
    ("Tanaka_3", "Pq7wZx3Kd9", "tanaka@example.jp"),
]
PASSWORDS = [password for _login_id, password, _email in GOOD]
IDEOGRAPHIC_SPACE = "\u3000"  # a full-width space: its bytes differ in UTF-8 and CP932


def csv_bytes(rows, *, encoding="utf-8", bom=False, newline="\n") -> bytes:
    """`rows`: tuples of fields (joined with commas) or ready-made lines (str)."""
    lines = [row if isinstance(row, str) else ",".join(row) for row in rows]
    data = (newline.join(lines) + newline).encode(encoding)
    return (codecs.BOM_UTF8 if bom else b"") + data


def good_file(**options) -> bytes:
    return csv_bytes(GOOD, **options)


def good_file_with_full_width_spaces(encoding: str, bom: bool = False) -> bytes:
    """The three good lines with a full-width space after each login ID (trimmed on
    import): the same text, but bytes that only the right encoding reads."""
    rows = [(login_id + IDEOGRAPHIC_SPACE, password, email) for login_id, password, email in GOOD]
    return csv_bytes(rows, encoding=encoding, bom=bom)
