# Sourced by run.sh, test.sh and package.sh (from the top of the repository): the compiler and
# linker flags of the release trees, Debian's full hardening set (dpkg-buildflags with
# hardening=+all: stack protector, _FORTIFY_SOURCE, format checks, full RELRO and BIND_NOW) as
# dpkg-buildpackage gives a package. The tree the tests run is then the tree the packages are
# made from. Passed on every configure, not through CFLAGS/LDFLAGS in the environment, which
# CMake reads only into a new build tree. dpkg-buildflags is in dpkg-dev (install-deps.sh).
calnet_flags() { echo "$(dpkg-buildflags --get "$1") $(dpkg-buildflags --get CPPFLAGS)"; }
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
CALNET_RELEASE_FLAGS=(
  "-DCMAKE_C_FLAGS=$(calnet_flags CFLAGS)"
  "-DCMAKE_CXX_FLAGS=$(calnet_flags CXXFLAGS)"
  "-DCMAKE_EXE_LINKER_FLAGS=$(dpkg-buildflags --get LDFLAGS)"
)
unset -f calnet_flags
