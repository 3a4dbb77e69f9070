"""Attachment bytes in a content-addressed store: the disk or the shared database (see ``store``)."""

from helpdesk.blobs.store import (
    CHUNK_BYTES,
    BlobChunk,
    BlobStore,
    DatabaseStore,
    DiskStore,
    blob_store,
    make_store,
    store_name,
)

__all__ = [
    "CHUNK_BYTES",
    "BlobChunk",
    "BlobStore",
    "DatabaseStore",
    "DiskStore",
    "blob_store",
    "make_store",
    "store_name",
]
