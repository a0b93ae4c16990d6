# The operator portal: builds portal/ with Vite (`npm run build:portal`) whenever its sources
# change, then embeds every file of portal/dist into a generated C++ table, the static library
# tether_portal_assets (interface: src/admin/portal_assets.h).
#
# -DTETHER_BUILD_PORTAL=OFF (or no npm on the machine) embeds a one-page placeholder that says
# the portal was not built, so the C++ build never needs Node.

option(TETHER_BUILD_PORTAL "Build the operator portal with npm (else embed a placeholder)" ON)

set(TETHER_PORTAL_DIR ${PROJECT_SOURCE_DIR}/portal)
set(TETHER_PORTAL_GENERATED ${CMAKE_BINARY_DIR}/generated)
set(TETHER_PORTAL_CC ${TETHER_PORTAL_GENERATED}/portal_assets.cc)
file(MAKE_DIRECTORY ${TETHER_PORTAL_GENERATED})

find_program(TETHER_NPM npm)
if(TETHER_BUILD_PORTAL AND NOT TETHER_NPM)
  message(WARNING "npm not found: the operator portal is not built; /portal/ shows a placeholder")
endif()

if(TETHER_BUILD_PORTAL AND TETHER_NPM)
  file(GLOB_RECURSE TETHER_PORTAL_SOURCES CONFIGURE_DEPENDS
    ${TETHER_PORTAL_DIR}/src/* ${TETHER_PORTAL_DIR}/public/*)
  set(TETHER_PORTAL_STAMP ${TETHER_PORTAL_GENERATED}/portal_dist.stamp)
  # Vite rewrites portal/dist on every run; the stamp is what later steps depend on.
  add_custom_command(
    OUTPUT ${TETHER_PORTAL_STAMP}
    COMMAND ${TETHER_NPM} run --silent build:portal
    COMMAND ${CMAKE_COMMAND} -E touch ${TETHER_PORTAL_STAMP}
    DEPENDS ${TETHER_PORTAL_SOURCES}
            ${TETHER_PORTAL_DIR}/index.html
            ${TETHER_PORTAL_DIR}/vite.config.mts
            ${TETHER_PORTAL_DIR}/tsconfig.json
            ${PROJECT_SOURCE_DIR}/package.json
            ${PROJECT_SOURCE_DIR}/package-lock.json
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    COMMENT "Building the operator portal (npm run build:portal)"
    VERBATIM)
  set(TETHER_PORTAL_DIST ${TETHER_PORTAL_DIR}/dist)
  set(TETHER_PORTAL_EMBED_DEPENDS ${TETHER_PORTAL_STAMP})
else()
  set(TETHER_PORTAL_DIST "")
  set(TETHER_PORTAL_EMBED_DEPENDS "")
endif()

# Rewrites the .cc only when its content changes, so an unchanged portal recompiles nothing.
add_custom_command(
  OUTPUT ${TETHER_PORTAL_CC}
  COMMAND ${CMAKE_COMMAND} -DDIST=${TETHER_PORTAL_DIST} -DOUTPUT=${TETHER_PORTAL_CC}
          -P ${TETHER_PORTAL_DIR}/embed_assets.cmake
  DEPENDS ${TETHER_PORTAL_EMBED_DEPENDS} ${TETHER_PORTAL_DIR}/embed_assets.cmake
  COMMENT "Embedding the operator portal (portal/dist) into portal_assets.cc"
  VERBATIM)

# Built only when something links it (src/admin).
add_library(tether_portal_assets STATIC EXCLUDE_FROM_ALL ${TETHER_PORTAL_CC})
target_include_directories(tether_portal_assets PUBLIC ${PROJECT_SOURCE_DIR}/src)
target_compile_features(tether_portal_assets PUBLIC cxx_std_20)
