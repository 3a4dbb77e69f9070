"""Live updates: the agent workspace and the portal see changes as they are committed.

A subscriber of the domain events (``feed.record``) writes one small row per event into the
``live_events`` log inside the committing transaction, so a rolled-back change leaves nothing and a
committed one is never lost. After the commit the stream servers are woken (in this process
directly; in the others by PostgreSQL ``NOTIFY``, which is delivered only at commit) and each open
stream sends the rows its subscription may see. The log's id is the Server-Sent Events id, so a
client that reconnects with ``Last-Event-ID`` gets what it missed; the same log answers the
polling fallback (``GET /live/poll``).

The streams are held by a small asyncio server (aiohttp, ``live.server``) beside waitress: an idle
connection costs a socket and a few kilobytes there, not one of waitress's threads.
"""
