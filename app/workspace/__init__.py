"""The workspace service: CRUD for workspace items and categories (schema
`workspace`), and the one-shot importer of the old LowDB library.json."""
