// calnetd's POSIX-only option: --operator-uid.
#include "helper/platform/platformoptions.h"

#include <algorithm>

#include <sys/types.h>

namespace calnet::helper {

PlatformOptions::PlatformOptions(QCommandLineParser& parser) : parser_(parser) {
    options_.emplace_back(QStringLiteral("operator-uid"),
                          QStringLiteral("Service: a uid that may change the connection besides "
                                         "root and the calnet group."),
                          QStringLiteral("uid"));
    parser_.addOptions(QList<QCommandLineOption>(options_.begin(), options_.end()));
}

std::vector<const QCommandLineOption*> PlatformOptions::serviceOnly() const {
    return {&options_[0]};
}

std::optional<PlatformOptions::Command> PlatformOptions::command(bool) const {
    return std::nullopt;
}

QString PlatformOptions::applyTo(Service::Options& options) const {
    const QCommandLineOption& operatorUid = options_[0];
    if (!parser_.isSet(operatorUid))
        return {};
    const QString text = parser_.value(operatorUid);
    bool ok = false;
    const qulonglong uid = text.toULongLong(&ok, 10);
    // Digits only (toULongLong takes a sign and spaces), and not (uid_t)-1, which means "no
    // uid" to the kernel.
    const bool digits = !text.isEmpty() && std::all_of(text.begin(), text.end(), [](QChar c) {
        return c >= u'0' && c <= u'9';
    });
    if (!ok || !digits || uid >= 0xffffffffULL)
        return QStringLiteral("--operator-uid: %1 is not a uid (a number from 0 to 4294967294)")
            .arg(text);
    options.access = AccessPolicy(uid_t(uid));
    return {};
}

} // namespace calnet::helper
