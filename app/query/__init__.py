"""The query layer: a register's list query (filters, search, sort, row scope applied by the session), stored
values formatted for reading, and the URLs of a register's screens.

Below the consumers: security, Excel, audit, documents, the API, the plugins and the views use it; it imports
only metadata, dictionaries, i18n and the models' services. The direction of the whole app:
metadata → models → query/security → services → views/api (tests/test_layers.py holds it).
"""
