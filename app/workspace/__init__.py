"""The workspace service: CRUD for workspace items and categories (schema
`workspace`), and the one-shot importer of the old LowDB library.json.

Decisions worth knowing before changing anything here:

* Reads are open; every write needs `X-API-Key`, compared in constant time
  with `WORKSPACE_API_KEY`, or with `TP_CAPITAL_API_KEY` when the workspace
  has no key of its own. With neither set, writes answer 403: the service is
  never an open CRUD. `X-User` names who makes a change (default "system").
* The audit trail is written by database triggers (sql/workspace/001), so
  the service, the importer and an operator in psql all leave a row; the
  writer sets `workspace.actor`/`workspace.source`/`workspace.request_id`
  for its transaction (store/rows.py `audited`).
* Answers keep the Node service's envelope (`{"success": true, "data": ...}`)
  for its old clients, who also still reach the items under `/items`.
  Errors use the shape every service of the appliance uses.
"""
