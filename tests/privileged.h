// CALNET_PRIVILEGED_SKIP(reason): for a test that cannot run without what only root has (a
// network namespace, a TUN device, initdb as another user). A skip on a developer's machine; a
// failure when CALNET_REQUIRE_PRIVILEGED=1, which .ci/run sets: CI runs as root, so a skip there
// means the test is broken, not that it cannot run.
#pragma once

#include <QTest>

#include <cstdlib>
#include <cstring>

namespace calnet::test {

inline bool privilegedRequired() {
    const char* v = std::getenv("CALNET_REQUIRE_PRIVILEGED");
    return v && std::strcmp(v, "1") == 0;
}

} // namespace calnet::test

#define CALNET_PRIVILEGED_SKIP(reason)                                                             \
    do {                                                                                           \
        if (calnet::test::privilegedRequired())                                                    \
            QFAIL(QByteArray(QByteArray("CALNET_REQUIRE_PRIVILEGED=1 but ") + (reason))            \
                      .constData());                                                               \
        QSKIP(reason);                                                                             \
    } while (false)
