"""Bring your own key: users' own provider keys, encrypted at rest and opened only by orchestrators."""
