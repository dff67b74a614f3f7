"""Partners: agencies, consultants, POS vendors that buy resources wholesale and hand out codes."""
