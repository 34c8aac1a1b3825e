// What calnetd's command line has on one OS only, so that main.cpp parses one command line for
// every OS: on POSIX --operator-uid (a uid that may change the connection besides root and the
// calnet group); on Windows --install-service and --uninstall-service (the installers register
// and remove the service with them; the SCM names who may act, so there is no operator).
// platform/posix/platformoptions_posix.cpp, platform/windows/platformoptions_windows.cpp.
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include <QCommandLineOption>
#include <QCommandLineParser>
#include <QString>

#include "helper/service/service.h"

namespace calnet::helper {

class PlatformOptions {
public:
    // Adds this OS's options to `parser`, which must outlive this object.
    explicit PlatformOptions(QCommandLineParser& parser);

    // Those of them that only --service takes.
    [[nodiscard]] std::vector<const QCommandLineOption*> serviceOnly() const;

    // A command of this OS's own, given instead of a mode.
    struct Command {
        QString usageError;       // not empty: it was given wrongly (exit status 2)
        std::function<int()> run; // does it, reports its own errors; the exit status
    };
    // The command given after parsing, if any; `otherMode` says whether --service, -f or an
    // interface name was given too, which no command takes.
    [[nodiscard]] std::optional<Command> command(bool otherMode) const;

    // Service mode: this OS's service options into `options`; a usage error, or empty.
    [[nodiscard]] QString applyTo(Service::Options& options) const;

private:
    QCommandLineParser& parser_;
    std::vector<QCommandLineOption> options_;
};

} // namespace calnet::helper
