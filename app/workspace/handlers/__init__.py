"""HTTP handlers of the workspace service: thin translations between HTTP and the store."""
