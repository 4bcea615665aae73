"""Uploaded files on disk: streamed in chunks, hashed on the way, under random names outside static/.

A file is written to partial/ and appears under its final name only once it is complete and checked (os.replace
is atomic). A failed upload removes its partial file at once, and a full disk is reported as StorageFull (the
507 page) with nothing kept. A process killed mid-upload cannot clean up: its partial file is removed by the
sweep (reconcile.sweep_temporary_uploads, at start-up and periodically), and a file moved into place whose row
never committed is found by `lms check-storage` (reconcile.check_storage).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import tempfile
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TypeVar
from urllib.parse import quote

from flask import Response, current_app

from lms.errors import DomainError, StorageFull, is_disk_full

CHUNK = 1024 * 1024
STORED_NAME = re.compile(r"^[0-9a-f]{32}$")
T = TypeVar("T")


class FileTooLarge(DomainError):
    def __init__(self, limit_bytes: int) -> None:
        self.limit_bytes = limit_bytes
        super().__init__(
            f"The file is larger than this assignment accepts ({limit_bytes // (1024 * 1024)} MB). "
            "Compress its images or export it as PDF, then upload it again.",
            field="file",
        )


@dataclass(frozen=True)
class StoredFile:
    name: str  # the random name on disk (32 hex characters)
    size: int
    sha256: str


def detect_type(path: Path) -> str:
    """filetypes.detect_type with the site's zip limits (LMS_UPLOAD_MAX_UNPACKED_MB, LMS_UPLOAD_MAX_ZIP_RATIO)."""
    from lms.assignments import filetypes

    return filetypes.detect_type(
        path,
        max_unpacked=int(current_app.config["UPLOAD_MAX_UNPACKED_MB"]) * 1024 * 1024,
        max_ratio=int(current_app.config["UPLOAD_MAX_ZIP_RATIO"]),
    )


def upload_dir() -> Path:
    return Path(current_app.config["UPLOAD_DIR"])


def path_for(name: str, directory: Path | None = None) -> Path:
    """Where a stored file lives. Only names we generated are accepted, so no path can be smuggled in."""
    if not STORED_NAME.match(name):
        raise ValueError(f"not a stored file name: {name!r}")
    return (directory or upload_dir()) / name[:2] / name


def store_stream(
    stream: IO[bytes], max_bytes: int, inspect: Callable[[Path], T], directory: Path | None = None
) -> tuple[StoredFile, T]:
    """Copy `stream` to disk in chunks, hashing as it goes; `inspect` checks the complete file before it is kept.

    Raises FileTooLarge past `max_bytes`, or whatever `inspect` raises; in every failure the partial file is
    removed. Returns the stored file and what `inspect` returned."""
    directory = directory or upload_dir()
    partial_dir = directory / "partial"
    partial_dir.mkdir(parents=True, exist_ok=True)
    fd, partial_name = tempfile.mkstemp(dir=partial_dir, prefix="upload-", suffix=".part")
    partial = Path(partial_name)
    try:
        digest = hashlib.sha256()
        size = 0
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise FileTooLarge(max_bytes)
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        found = inspect(partial)
        name = secrets.token_hex(16)
        final = path_for(name, directory)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(partial, final)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
        if is_disk_full(exc):
            raise StorageFull() from exc
        raise
    return StoredFile(name=name, size=size, sha256=digest.hexdigest()), found


def delete(name: str, directory: Path | None = None) -> None:
    """Remove a stored file (only when the row that would point at it could not be saved)."""
    with contextlib.suppress(FileNotFoundError):
        path_for(name, directory).unlink()


def read_chunks(path: Path, remove_after: bool = False) -> Iterator[bytes]:
    """The file's bytes in chunks; opened only when the response starts, closed (and removed) when it ends."""
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(CHUNK):
                yield chunk
    finally:
        if remove_after:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


def file_response(
    path: Path, mimetype: str, download_name: str, inline: bool = False, remove_after: bool = False
) -> Response:
    """Stream a file with a safe Content-Disposition, nosniff and no caching."""
    # content_type, not mimetype: Werkzeug adds "; charset=utf-8" to every text/* mimetype, and ours for text
    # files already says it (a second charset parameter is invalid, and some clients refuse the file).
    content_type = mimetype if "charset=" in mimetype else None
    response = Response(
        read_chunks(path, remove_after),
        mimetype=None if content_type else mimetype,
        content_type=content_type,
        direct_passthrough=True,
    )
    response.content_length = path.stat().st_size
    try:
        download_name.encode("ascii")
        names = {"filename": download_name}
    except UnicodeEncodeError:
        ascii_name = unicodedata.normalize("NFKD", download_name).encode("ascii", "ignore").decode("ascii")
        names = {"filename": ascii_name or "download", "filename*": "UTF-8''" + quote(download_name, safe="")}
    response.headers.set("Content-Disposition", "inline" if inline else "attachment", **names)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    if remove_after:
        response.call_on_close(lambda: path.unlink(missing_ok=True))
    return response
