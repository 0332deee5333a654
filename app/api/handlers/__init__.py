"""HTTP handlers of the api: thin translations between HTTP and the store."""
