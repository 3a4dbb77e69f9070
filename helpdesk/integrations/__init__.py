"""Shop platforms (Salla, Zid): app connections with encrypted tokens, signed webhooks stored first in
an inbox and mapped by the worker, and a backfill sync, all filling the customers' orders."""
