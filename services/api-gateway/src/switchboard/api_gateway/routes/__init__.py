"""HTTP routes of the api-gateway, one module per resource."""
