# The trust boundary: JWTs, keys, the authenticator, the route table.
list(APPEND ORBITMESH_ENGINE_TESTS
  auth_jwt_test.cpp
  auth_test.cpp
)
