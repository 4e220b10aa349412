"""Where uploaded files (shop logos) are kept, behind a small :class:`Storage` protocol.

The default, :class:`LocalFolderStorage`, writes into ``STOREFRONT_UPLOAD_FOLDER`` under
random names and the library serves them at ``/sf-uploads/<name>``. A host with several
machines, or a CDN, swaps it for its own object store::

    app.extensions["storefront"].storage = MyBucketStorage()

Uploads are images only, recognised by their first bytes, never by the file name or the
type the browser claims: PNG, JPEG and WebP. SVG is refused because it can carry scripts.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

#: Largest accepted logo, in bytes (1 MiB).
MAX_LOGO_BYTES = 1024 * 1024

#: Names :class:`LocalFolderStorage` gives its files: random, with the detected extension.
STORED_NAME = re.compile(r"[A-Za-z0-9_-]{20,64}\.(png|jpg|webp)")


@dataclass(frozen=True, slots=True)
class ImageKind:
    """An accepted image format: its MIME type and the extension files of it are stored
    under."""

    content_type: str
    extension: str


PNG = ImageKind("image/png", "png")
JPEG = ImageKind("image/jpeg", "jpg")
WEBP = ImageKind("image/webp", "webp")
#: Accepted image formats by stored extension.
KIND_BY_EXTENSION = {kind.extension: kind for kind in (PNG, JPEG, WEBP)}


def sniff_image(data: bytes) -> ImageKind | None:
    """The format of ``data`` from its magic bytes, or ``None`` if it is not an accepted
    image (SVG, GIF, HTML, anything else)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    return None


class Storage(Protocol):
    """Keeps uploaded files and says where the public can fetch them."""

    def save(self, data: bytes, filename_hint: str, content_type: str) -> str:
        """Stores ``data`` and returns its public URL. ``filename_hint`` is only a hint
        (e.g. the extension); implementations must not trust it as a path."""
        ...

    def delete(self, url: str) -> None:
        """Removes the file at ``url`` if this storage holds it; anything else is ignored."""
        ...


class LocalFolderStorage:
    """Files in one local folder, served by the library at ``url_prefix`` (``/sf-uploads/``).

    Right for one machine (or a folder shared by all of them); the folder is created on the
    first upload.
    """

    def __init__(self, folder: str | os.PathLike[str], url_prefix: str = "/sf-uploads/") -> None:
        self.folder = Path(folder)
        self.url_prefix = url_prefix if url_prefix.endswith("/") else url_prefix + "/"

    def save(self, data: bytes, filename_hint: str, content_type: str) -> str:
        """Writes ``data`` under a new random name with the extension of ``content_type``."""
        kind = next((k for k in KIND_BY_EXTENSION.values() if k.content_type == content_type), None)
        if kind is None:
            raise ValueError(f"cannot store files of type {content_type!r}")
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{secrets.token_urlsafe(24)}.{kind.extension}"
        # Exclusive creation: a name is never reused, even by a concurrent worker.
        with open(self.folder / name, "xb") as file:
            file.write(data)
        return self.url_prefix + name

    def delete(self, url: str) -> None:
        """Removes one of this storage's files; other URLs (a host's, a supplier's) are
        left alone."""
        name = self.name_of(url)
        if name is not None:
            (self.folder / name).unlink(missing_ok=True)

    def name_of(self, url: str) -> str | None:
        """The stored file name ``url`` points to, if it is one of ours."""
        if not url.startswith(self.url_prefix):
            return None
        name = url[len(self.url_prefix) :]
        return name if STORED_NAME.fullmatch(name) else None

    def path_of(self, name: str) -> Path | None:
        """The file of a stored ``name`` (for serving it), or ``None`` for any other name."""
        if not STORED_NAME.fullmatch(name):
            return None
        path = self.folder / name
        return path if path.is_file() else None
