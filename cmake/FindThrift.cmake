# Apache Thrift (Debian ships pkg-config files only): imported target Thrift::thrift and the
# compiler as THRIFT_COMPILER.
find_package(PkgConfig REQUIRED)
pkg_check_modules(THRIFT QUIET IMPORTED_TARGET thrift)
find_program(THRIFT_COMPILER thrift)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(Thrift REQUIRED_VARS THRIFT_LINK_LIBRARIES THRIFT_COMPILER
  VERSION_VAR THRIFT_VERSION)
if(Thrift_FOUND AND NOT TARGET Thrift::thrift)
  add_library(Thrift::thrift ALIAS PkgConfig::THRIFT)
endif()
