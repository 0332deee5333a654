"""SQL for the api, one module per table group. Handlers never hold SQL."""
