"""Every query of the usage domain, by what it keeps.

* `ledger`: usage events and their entries, the append-only ledger, and the
  counters each posting moves by the same amounts;
* `counters`: reads of the cached counters, and the alerts already sent for them;
* `holds`: seat holds, who holds a gauge's seat and from which source;
* `routes`: the hot path's statements, run on the driver: the account lock and
  the route the fast path follows (`allot.usage.fastpath`).
"""
