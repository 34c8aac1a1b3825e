// CALNET_ENVIRONMENT_SKIP(reason): for a test that cannot run without something the machine may
// lack: root (a network namespace, a TUN device, initdb as another user) or a tool that
// scripts/install-deps.sh --test installs (PostgreSQL, dbus-daemon, lrelease). On a developer's
// machine that is a skip, which CTest reports as "Skipped" (SKIP_REGULAR_EXPRESSION in
// tests/CMakeLists.txt). With CALNET_REQUIRE_PRIVILEGED=1, which .ci/run (and scripts/test.sh as
// root) sets because CI runs privileged with every dependency installed, it is a failure: a skip
// there means the test is broken, not that it cannot run.
#pragma once

#include <QTest>

#include <cstdlib>
#include <cstring>

namespace calnet::test {

inline bool skipsForbidden() {
    const char* v = std::getenv("CALNET_REQUIRE_PRIVILEGED");
    return v && std::strcmp(v, "1") == 0;
}

} // namespace calnet::test

#define CALNET_ENVIRONMENT_SKIP(reason)                                                            \
    do {                                                                                           \
        const QByteArray calnetSkipReason_(reason);                                                \
        if (calnet::test::skipsForbidden())                                                        \
            QFAIL(("CALNET_REQUIRE_PRIVILEGED=1 but: " + calnetSkipReason_).constData());          \
        QSKIP(calnetSkipReason_.constData());                                                      \
    } while (false)
