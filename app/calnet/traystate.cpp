#include "app/calnet/traystate.h"

#include <QCoreApplication>

namespace calnet::app {

TrayState trayStateFor(const TrayInputs& in) {
    if (!in.helperAvailable)
        return TrayState::Unavailable;
    if (in.state == QLatin1StringView("error"))
        return TrayState::Error;
    if (in.state == QLatin1StringView("connecting") ||
        in.state == QLatin1StringView("disconnecting"))
        return TrayState::Connecting;
    if (in.state == QLatin1StringView("connected")) {
        for (ipc::Health h : in.peerHealth)
            if (h == ipc::Health::Stale || h == ipc::Health::Dead)
                return TrayState::Degraded;
        return TrayState::Connected;
    }
    return TrayState::Disconnected;
}

QString trayStateId(TrayState state) {
    switch (state) {
    case TrayState::Unavailable:
        return QStringLiteral("unavailable");
    case TrayState::Disconnected:
        return QStringLiteral("disconnected");
    case TrayState::Connecting:
        return QStringLiteral("connecting");
    case TrayState::Connected:
        return QStringLiteral("connected");
    case TrayState::Degraded:
        return QStringLiteral("degraded");
    case TrayState::Error:
        return QStringLiteral("error");
    }
    return QStringLiteral("error");
}

QString trayIconPath(TrayState state) {
    return QStringLiteral(":/calnet/icons/calnet-%1.svg").arg(trayStateId(state));
}

QString trayStateText(TrayState state) {
    switch (state) {
    case TrayState::Unavailable:
        return QCoreApplication::translate("TrayState", "Calnet service not running");
    case TrayState::Disconnected:
        return QCoreApplication::translate("TrayState", "Disconnected");
    case TrayState::Connecting:
        return QCoreApplication::translate("TrayState", "Connecting…");
    case TrayState::Connected:
        return QCoreApplication::translate("TrayState", "Connected");
    case TrayState::Degraded:
        return QCoreApplication::translate("TrayState", "Connected, some peers not responding");
    case TrayState::Error:
        return QCoreApplication::translate("TrayState", "Connection failed");
    }
    return {};
}

QString trayTooltip(const TooltipInputs& in) {
    QStringList lines{QStringLiteral("Calnet"), trayStateText(in.state)};
    const bool up = in.state == TrayState::Connected || in.state == TrayState::Degraded ||
                    in.state == TrayState::Connecting;
    if (up && !in.profile.isEmpty())
        lines << QCoreApplication::translate("TrayState", "Profile: %1").arg(in.profile);
    if (up && !in.addresses.isEmpty())
        lines << QCoreApplication::translate("TrayState", "This device: %1")
                     .arg(in.addresses.join(QStringLiteral(", ")));
    if (in.state == TrayState::Connected || in.state == TrayState::Degraded) {
        if (in.peersUnhealthy > 0)
            lines << QCoreApplication::translate("TrayState", "%n peer(s), %1 not responding",
                                                 nullptr, in.peers)
                         .arg(in.peersUnhealthy);
        else
            lines << QCoreApplication::translate("TrayState", "%n peer(s)", nullptr, in.peers);
        if (in.peersRelayed > 0)
            lines << QCoreApplication::translate("TrayState", "%n peer(s) through a relay", nullptr,
                                                 in.peersRelayed);
    }
    if (in.state == TrayState::Error && !in.error.isEmpty())
        lines << in.error;
    if (in.state == TrayState::Unavailable)
        lines << QCoreApplication::translate("TrayState", "Retrying to reach calnetd…");
    return lines.join(QLatin1Char('\n'));
}

} // namespace calnet::app
