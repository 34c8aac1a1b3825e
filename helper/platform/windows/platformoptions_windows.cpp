// calnetd's Windows-only commands: --install-service and --uninstall-service.
#include "helper/platform/platformoptions.h"

#include <cstdio>
#include <string>

#include "helper/platform/windows/servicecontrol.h"

namespace calnet::helper {

namespace {
enum Index { kInstall, kUninstall };
} // namespace

PlatformOptions::PlatformOptions(QCommandLineParser& parser) : parser_(parser) {
    options_.emplace_back(
        QStringLiteral("install-service"),
        QStringLiteral("Register the Calnet service (this calnetd.exe --service) and start it."));
    options_.emplace_back(
        QStringLiteral("uninstall-service"),
        QStringLiteral("Stop the Calnet service (restoring routes and DNS) and delete it."));
    parser_.addOptions(QList<QCommandLineOption>(options_.begin(), options_.end()));
}

std::vector<const QCommandLineOption*> PlatformOptions::serviceOnly() const {
    return {};
}

std::optional<PlatformOptions::Command> PlatformOptions::command(bool otherMode) const {
    const bool install = parser_.isSet(options_[kInstall]);
    const bool uninstall = parser_.isSet(options_[kUninstall]);
    if (!install && !uninstall)
        return std::nullopt;
    if (install && uninstall)
        return Command{QStringLiteral("--install-service or --uninstall-service, not both"), {}};
    if (otherMode)
        return Command{QStringLiteral("--install-service and --uninstall-service take no other "
                                      "mode"),
                       {}};
    return Command{{}, [install] {
                       namespace control = service_control;
                       std::string why;
                       if (!(install ? control::install(why) : control::uninstall(why))) {
                           std::fprintf(stderr, "calnetd: %s\n", why.c_str());
                           return 1;
                       }
                       std::fprintf(stderr, "calnetd: service %s\n",
                                    install ? "registered and started" : "stopped and removed");
                       return 0;
                   }};
}

QString PlatformOptions::applyTo(Service::Options&) const {
    return {};
}

} // namespace calnet::helper
