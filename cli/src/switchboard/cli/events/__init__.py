"""``switchboard events``: watch the bus (``tail``); report streams, consumers, buckets, connections (``inspect``)."""
