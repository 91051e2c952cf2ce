"""What the database can hold, for every input that reaches a query (forms, API fields and filters, URL
converters, command arguments): SQLite and PostgreSQL store at most a signed 64-bit integer, and an id
beyond that raised OverflowError (500) in the driver rather than finding nothing."""

DB_INTEGER_MAX = 2**63 - 1
DB_INTEGER_MIN = -(2**63)
