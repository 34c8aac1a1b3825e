// What the tray icon says, derived from the helper session in one pure function so the mapping
// is a table that can be tested row by row (docs/architecture.md "Desktop app" lists it).
//
//   helper unreachable                                  -> Unavailable
//   state "error"                                       -> Error
//   state "connecting" / "disconnecting"                -> Connecting
//   state "connected", any peer stale or dead           -> Degraded
//   state "connected", every peer healthy or never      -> Connected
//   state "disconnected" (or anything unknown)          -> Disconnected
//
// A peer that has never completed a handshake does not degrade the icon: a WireGuard peer with
// no keepalive and no traffic never handshakes, and that is not a fault.
#pragma once

#include <QList>
#include <QMetaType>
#include <QString>

#include "helper/ipc/protocol.h"

namespace calnet::app {

enum class TrayState { Unavailable, Disconnected, Connecting, Connected, Degraded, Error };

struct TrayInputs {
    bool helperAvailable = false;
    QString state; // the helper's Status.state
    QList<ipc::Health> peerHealth;
};

[[nodiscard]] TrayState trayStateFor(const TrayInputs& in);

// Stable identifier used in icon file names and tests: "unavailable", "disconnected", ...
[[nodiscard]] QString trayStateId(TrayState state);
// The icon resource for a state: ":/calnet/icons/calnet-<id>.svg".
[[nodiscard]] QString trayIconPath(TrayState state);
// Translated one-line description ("Connected", "Connected — 1 peer not responding", ...).
[[nodiscard]] QString trayStateText(TrayState state);

// The tooltip: product name, state text, profile, tunnel address and a peer count summary.
struct TooltipInputs {
    TrayState state = TrayState::Unavailable;
    QString profile;
    QStringList addresses;
    int peers = 0;
    int peersUnhealthy = 0; // stale or dead
    QString error;
    int peersRelayed = 0; // reached through a relay, not directly
};
[[nodiscard]] QString trayTooltip(const TooltipInputs& in);

} // namespace calnet::app

Q_DECLARE_METATYPE(calnet::app::TrayState)
