"""Principals and auth: opaque bearer tokens, roles, and the FastAPI dependencies every router uses.

Reuse from other domains: `PrincipalDep` / `ActorDep` (any authenticated caller), `require_roles`,
and `authenticate_token(session, token)` for transports that carry the token themselves (websocket).
"""
