"""Django's PostgreSQL backend, reading timestamps with psycopg's compiled loader
(``base.DatabaseWrapper``). ``DATABASE_URL=postgres://…`` selects it (config.settings)."""
