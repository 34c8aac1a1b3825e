// AddressWatcher on Windows: NotifyUnicastIpAddressChange calls back (on a thread of the IP
// Helper's pool) whenever a unicast address is added, removed or changes state on any
// interface, which covers a link coming up with an address and leaving a network. The callback
// only queues announced() (Q_INVOKABLE) onto the watcher's event loop.
#include "helper/platform/addresswatcher.h"

#include <QMetaObject>

// winsock2.h before windows.h; iphlpapi.h and netioapi.h need both.
#include <winsock2.h>
#include <ws2ipdef.h>
// (iphlpapi.h after the Winsock headers)
#include <iphlpapi.h>
#include <netioapi.h>

#include "helper/platform/windows/systemerror.h"

namespace calnet::helper {

AddressWatcher::AddressWatcher(std::chrono::milliseconds settle, QObject* parent)
    : QObject(parent) {
    settle_.setSingleShot(true);
    settle_.setInterval(settle);
    connect(&settle_, &QTimer::timeout, this, &AddressWatcher::changed);
}

// The registration of the callback.
struct AddressWatcher::Source {
    HANDLE notification = nullptr;
    ~Source() {
        // Waits for a callback that is running to return, so `this` outlives every call.
        if (notification)
            ::CancelMibChangeNotify2(notification);
    }
};

AddressWatcher::~AddressWatcher() {
    source_.reset(); // before the QObject goes: no callback may queue onto a dead object
}

namespace {

void CALLBACK addressChanged(void* context, MIB_UNICASTIPADDRESS_ROW*, MIB_NOTIFICATION_TYPE) {
    auto* watcher = static_cast<AddressWatcher*>(context);
    QMetaObject::invokeMethod(watcher, "announced", Qt::QueuedConnection);
}

} // namespace

bool AddressWatcher::start(QString* error) {
    auto source = std::make_unique<Source>();
    const DWORD rc = ::NotifyUnicastIpAddressChange(AF_UNSPEC, &addressChanged, this, FALSE,
                                                    &source->notification);
    if (rc != NO_ERROR) {
        source->notification = nullptr;
        *error = calnet::platform::windows::systemErrorText(rc);
        return false;
    }
    source_ = std::move(source);
    return true;
}

} // namespace calnet::helper
