"""Invoices and credit notes: the billing calendar, numbering, documents (B1-B6)."""
