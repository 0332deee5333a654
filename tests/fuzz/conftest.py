"""The workspace's database fixtures, for the fuzz tests of both services."""

from tests.workspace.conftest import workspace_db, workspace_template

__all__ = ["workspace_db", "workspace_template"]
