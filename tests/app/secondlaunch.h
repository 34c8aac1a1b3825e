// A second launch of SingleInstance on its own thread, for the single-instance tests of every OS:
// the primary answers from the test thread's event loop, which a blocking send on that thread
// would starve (and on Windows a mutex is recursive for the thread that owns it, as a second
// process never is).
#pragma once

#include <QSignalSpy>
#include <QStringList>
#include <QThread>

#include <memory>

#include "app/calnet/singleinstance.h"

namespace testapp {

struct SecondLaunch {
    QString key;
    QStringList arguments;
    bool listenResult = true;
    bool sent = false;
    std::unique_ptr<QThread> thread;
    std::unique_ptr<QSignalSpy> finished;

    void start(int timeoutMs = 5000) {
        thread.reset(QThread::create([this, timeoutMs] {
            calnet::app::SingleInstance second(key);
            listenResult = second.listen();
            if (!listenResult)
                sent = second.sendToPrimary(arguments, timeoutMs);
        }));
        finished = std::make_unique<QSignalSpy>(thread.get(), &QThread::finished);
        thread->start();
    }
    // Keeps this thread's event loop running meanwhile: the primary lives here. Short waits in
    // a loop: a finished() between the check and a wait is missed for 100 ms at most, and a
    // spy's wait runs a real event loop, which the primary needs (deferred deletes included).
    bool finish() {
        for (int i = 0; i < 100 && !thread->isFinished(); ++i)
            finished->wait(100);
        return thread->isFinished() && thread->wait(1000);
    }
};

} // namespace testapp
