"""Who a bearer token says the caller is: verification of Keycloak-issued JWTs against the realm's JWKS."""
