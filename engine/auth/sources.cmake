# The trust boundary (SPEC §8): JWTs over OpenSSL, the hub's keys, who a request is, token issue
# and revocation. engine/serve wires it in front of every route and /mesh.
list(APPEND ORBITMESH_ENGINE_SOURCES
  auth/auth_mode.cpp
  auth/authenticator.cpp
  auth/failure_limiter.cpp
  auth/jwt.cpp
  auth/key_files.cpp
  auth/offline_tokens.cpp
  auth/token_mint.cpp
  auth/token_routes.cpp
  auth/token_service.cpp
)
