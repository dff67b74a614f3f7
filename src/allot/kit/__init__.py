"""Infrastructure with no business rules: database, clock, column types, locks."""
