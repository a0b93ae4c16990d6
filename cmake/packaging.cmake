# Install rules and the Debian package (CPack, DEB generator). See docs/operations.md.
#
# `make install` runs `cmake --install` for the component `tether`: the binary (the portal is
# embedded in it) to <prefix>/bin and the operator docs to <prefix>/share/doc/tether; it
# honours DESTDIR and PREFIX. Tests, benchmarks and the mock IdP are never installed.
#
# `make package` runs cpack: one .deb holding that component plus the `system` component (the
# systemd unit and /etc/tether/tether.yaml, a conffile), with maintainer scripts that create
# the `tether` system user, /var/lib/tether and the secrets generated at first install.

include(GNUInstallDirs)

# `install` (and so cpack's preinstall step) must not build every test and benchmark first:
# the Makefile builds the `tether` target before installing or packaging.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

set(TETHER_DEPLOY_DIR ${PROJECT_SOURCE_DIR}/deploy)

install(TARGETS tether RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT tether)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/docs/operations.md
  DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT tether)

# Only in the package: absolute paths a package manager owns. EXCLUDE_FROM_ALL keeps them out
# of a plain `cmake --install` that names no component.
install(FILES ${TETHER_DEPLOY_DIR}/tether.service
  DESTINATION /lib/systemd/system COMPONENT system EXCLUDE_FROM_ALL)
install(FILES ${TETHER_DEPLOY_DIR}/tether.yaml
  DESTINATION /etc/tether COMPONENT system EXCLUDE_FROM_ALL)

# The package's Maintainer field and changelog signature.
set(TETHER_PACKAGE_MAINTAINER "Tether maintainers <maintainers@tether.example.org>"
  CACHE STRING "Maintainer of the Debian package: Name <mail>")

# Debian wants a copyright file and a gzipped changelog in the package's doc folder.
string(TIMESTAMP TETHER_CHANGELOG_DATE "%a, %d %b %Y %H:%M:%S +0000" UTC)  # SOURCE_DATE_EPOCH
configure_file(${TETHER_DEPLOY_DIR}/debian/changelog.in
  ${PROJECT_BINARY_DIR}/packaging/changelog.Debian @ONLY)
execute_process(COMMAND gzip -9nf ${PROJECT_BINARY_DIR}/packaging/changelog.Debian
  RESULT_VARIABLE tether_gzip_result)
if(NOT tether_gzip_result EQUAL 0)
  message(FATAL_ERROR "gzip failed on packaging/changelog.Debian")
endif()
install(FILES ${PROJECT_BINARY_DIR}/packaging/changelog.Debian.gz
  ${TETHER_DEPLOY_DIR}/debian/copyright
  DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT system EXCLUDE_FROM_ALL)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME tether)
set(CPACK_PACKAGE_VENDOR "Tether")
set(CPACK_PACKAGE_CONTACT "${TETHER_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "OAuth gateway for MCP servers and HTTP APIs that keeps tokens alive")
set(CPACK_PACKAGE_DESCRIPTION
  "Tether sits between AI agents (MCP clients) and the remote MCP servers and\n\
HTTP APIs they call. It holds every connection's OAuth credentials, keeps\n\
them alive for as long as the identity provider allows, injects them into\n\
each proxied call and shows operators which connection needs a human.\n\
One binary with an embedded SQLite store, or replicas sharing PostgreSQL.")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/packages)
set(CPACK_COMPONENTS_ALL tether system)
# Both components in one package (named explicitly, so `system` is packaged even though a
# plain `cmake --install` skips it).
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
set(CPACK_STRIP_FILES ON)
set(CPACK_THREADS 0)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Library dependencies come from dpkg-shlibdeps on the binary; the maintainer scripts need
# adduser (the system user). Keys are generated from /dev/urandom with coreutils (essential).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "ca-certificates")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "sqlite3, postgresql-client")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${TETHER_DEPLOY_DIR}/debian/conffiles
  ${TETHER_DEPLOY_DIR}/debian/postinst
  ${TETHER_DEPLOY_DIR}/debian/prerm
  ${TETHER_DEPLOY_DIR}/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

include(CPack)
