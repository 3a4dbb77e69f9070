"""Attachment files: checked, named safely, stored once per content hash in the blob store."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePath

from flask import abort, current_app
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage

from helpdesk.blobs import blob_store
from helpdesk.extensions import db
from helpdesk.tickets.errors import DomainError
from helpdesk.tickets.models import Attachment, Message

INLINE_IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}


class AttachmentTooLarge(DomainError):
    pass


@dataclass(frozen=True)
class IncomingFile:
    """A file about to be attached to a message, from a form upload, an email or the API."""

    filename: str
    content_type: str
    data: bytes
    content_id: str | None = None
    is_inline: bool = False


def max_attachment_bytes() -> int:
    return current_app.config["MAX_ATTACHMENT_BYTES"]


def safe_filename(name: str | None) -> str:
    """Keep the name people see (Arabic included), without paths, control or bidi-override characters."""
    name = PurePath((name or "").replace("\\", "/")).name
    name = "".join(
        ch
        for ch in name
        if ch.isprintable() and ch not in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    )
    return name.strip(" .")[:255] or "attachment"


def attach_files(message: Message, files: Iterable[IncomingFile]) -> list[Attachment]:
    """Store the files and link them to the message (in the caller's transaction)."""
    limit = max_attachment_bytes()
    attachments = []
    for file in files:
        if len(file.data) > limit:
            raise AttachmentTooLarge(
                _(
                    "%(name)s is larger than %(limit)s MB.",
                    name=safe_filename(file.filename),
                    limit=limit // 2**20,
                )
            )
        attachment = Attachment(
            message=message,
            filename=safe_filename(file.filename),
            content_type=(file.content_type or "application/octet-stream")
            .split(";")[0]
            .strip()
            .lower()[:255],
            size=len(file.data),
            sha256=blob_store().put(file.data),
            content_id=file.content_id,
            is_inline=file.is_inline,
        )
        db.session.add(attachment)
        attachments.append(attachment)
    return attachments


def files_from_upload(uploads: Sequence[FileStorage]) -> list[IncomingFile]:
    """Turn form uploads into incoming files, skipping empty file inputs; refuse oversize ones."""
    files = []
    limit = max_attachment_bytes()
    for upload in uploads:
        if not upload or not upload.filename:
            continue
        data = upload.stream.read(limit + 1)
        if len(data) > limit:
            raise AttachmentTooLarge(
                _(
                    "%(name)s is larger than %(limit)s MB.",
                    name=safe_filename(upload.filename),
                    limit=limit // 2**20,
                )
            )
        files.append(
            IncomingFile(safe_filename(upload.filename), upload.mimetype or "application/octet-stream", data)
        )
    return files


def is_inline_safe(attachment: Attachment) -> bool:
    """Only raster images may be shown inline; everything else (SVG and HTML included) downloads."""
    return attachment.content_type in INLINE_IMAGE_TYPES


def send_attachment(attachment: Attachment):
    """The download response: stored type, nosniff, and 'attachment' unless it is a safe image."""
    from flask import send_file

    store = blob_store()
    if not store.exists(attachment.sha256):
        abort(404)
    path = store.local_path(attachment.sha256)
    response = send_file(
        path or store.open(attachment.sha256),
        mimetype=attachment.content_type if is_inline_safe(attachment) else _download_type(attachment),
        as_attachment=not is_inline_safe(attachment),
        download_name=attachment.filename,
        conditional=True,
        etag=attachment.sha256,
        max_age=0,
    )
    if path is None and response.status_code == 200:  # a stream: send_file cannot know its length
        response.content_length = attachment.size
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _download_type(attachment: Attachment) -> str:
    # Active types are served as opaque bytes so no browser ever renders them from our origin.
    risky = ("text/html", "image/svg+xml", "application/xhtml+xml", "text/xml", "application/xml")
    return "application/octet-stream" if attachment.content_type in risky else attachment.content_type
