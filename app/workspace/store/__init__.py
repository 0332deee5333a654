"""SQL for the workspace service and the importer. Handlers never hold SQL."""
