# Install layout and the Debian package (`cpack -G DEB` in the build dir; SPEC §0: one binary an
# operator installs on a fleet). Paths are relative to CMAKE_INSTALL_PREFIX (/usr in the package)
# except /etc, which is the operator's.
set(ORBITMESH_PACKAGING_DIR ${PROJECT_SOURCE_DIR}/packaging)

install(TARGETS orbitmesh RUNTIME DESTINATION bin)
file(GLOB ORBITMESH_MAN_PAGES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/man/*.1)
install(FILES ${ORBITMESH_MAN_PAGES} DESTINATION share/man/man1)
# Where each shell looks for completions of system packages.
install(FILES ${PROJECT_SOURCE_DIR}/completions/orbitmesh.bash DESTINATION share/bash-completion/completions
        RENAME orbitmesh)
install(FILES ${PROJECT_SOURCE_DIR}/completions/_orbitmesh DESTINATION share/zsh/vendor-completions)
install(FILES ${PROJECT_SOURCE_DIR}/completions/orbitmesh.fish DESTINATION share/fish/vendor_completions.d)
install(FILES ${ORBITMESH_PACKAGING_DIR}/systemd/orbitmesh-hub.service ${ORBITMESH_PACKAGING_DIR}/systemd/orbitmesh-agent.service
        DESTINATION lib/systemd/system)
install(FILES ${ORBITMESH_PACKAGING_DIR}/etc/hub.yaml ${ORBITMESH_PACKAGING_DIR}/etc/agent.yaml
              ${ORBITMESH_PACKAGING_DIR}/etc/hub.env ${ORBITMESH_PACKAGING_DIR}/etc/agent.env
        DESTINATION /etc/orbitmesh)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION share/doc/orbitmesh)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION share/doc/orbitmesh/docs)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/examples/ DESTINATION share/doc/orbitmesh/examples)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME orbitmesh)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "run jobs and workflows across a fleet of machines")
set(CPACK_PACKAGE_DESCRIPTION "OrbitMesh is one binary: `orbitmesh serve` is the hub (an event log in SQLite),
`orbitmesh agent` the worker on each machine, and `orbitmesh run`, `job`, `status` the clients.
The package ships systemd units orbitmesh-hub.service and orbitmesh-agent.service.")
set(CPACK_PACKAGE_CONTACT "OrbitMesh maintainers <orbitmesh@localhost>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
# Library dependencies come from dpkg-shlibdeps (libsqlite3, libssl, libyaml-cpp, libjemalloc, ...).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
# nodejs: script steps and wasm jobs; bubblewrap: `agent --sandbox`; libpq5: `--store postgres://`
# (opened at run time by store/postgres/libpq_loader.cpp, so shlibdeps does not see it).
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "nodejs, bubblewrap, libpq5")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${ORBITMESH_PACKAGING_DIR}/debian/postinst ${ORBITMESH_PACKAGING_DIR}/debian/prerm
    ${ORBITMESH_PACKAGING_DIR}/debian/postrm ${ORBITMESH_PACKAGING_DIR}/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_WARN_ON_ABSOLUTE_INSTALL_DESTINATION OFF)
include(CPack)
