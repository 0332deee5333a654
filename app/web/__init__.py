"""Tornado pieces shared by the api, the workspace service and the gateway."""
