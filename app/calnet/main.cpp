// calnet: the desktop app. Unprivileged; talks to calnetd only through calnet-ipc.
#include <QApplication>
#include <QCommandLineParser>
#include <QIcon>

#include <cstdio>

#include "app/calnet/application.h"
#include "app/calnet/appsettings.h"
#include "app/calnet/translation.h"
#include "app/calnet/singleinstance.h"
#include "helper/ipc/protocol.h"

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QCoreApplication::setOrganizationName(QStringLiteral("Calnet"));
    QCoreApplication::setApplicationName(QStringLiteral("calnet"));
    QCoreApplication::setApplicationVersion(QStringLiteral(CALNET_VERSION));
    QGuiApplication::setApplicationDisplayName(QStringLiteral("Calnet"));
    QGuiApplication::setDesktopFileName(QStringLiteral("io.calnet.Calnet"));
    QGuiApplication::setWindowIcon(QIcon(QStringLiteral(":/calnet/icons/calnet.svg")));

    calnet::app::AppSettings settings;
    calnet::app::installTranslations(&app, settings.language());

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QCoreApplication::translate("main", "Calnet desktop app: tray icon and peer browser."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption socket(
        QStringLiteral("socket"),
        QCoreApplication::translate("main", "The helper's socket (default %1).")
            .arg(calnet::ipc::kDefaultSocketPath),
        QStringLiteral("path"), QString(calnet::ipc::kDefaultSocketPath));
    const QCommandLineOption noTray(
        QStringLiteral("no-tray"),
        QCoreApplication::translate("main", "Open the main window instead of a tray icon."));
    const QCommandLineOption show(
        QStringLiteral("show"),
        QCoreApplication::translate("main", "Open the peer browser at start."));
    const QCommandLineOption autostart(
        QStringLiteral("autostart"),
        QCoreApplication::translate("main", "Started at login (used by the autostart entry)."));
    parser.addOptions({socket, noTray, show, autostart});
    // Usage errors: one line and exit 2, like calnetd and calnetctl.
    auto usageError = [](const QString& message) {
        std::fprintf(stderr, "calnet: %s\nTry 'calnet --help' for more.\n", qPrintable(message));
        return 2;
    };
    if (!parser.parse(app.arguments()))
        return usageError(parser.errorText());
    if (parser.isSet(QStringLiteral("help")))
        parser.showHelp(0);
    if (parser.isSet(QStringLiteral("version")))
        parser.showVersion();
    if (!parser.positionalArguments().isEmpty())
        return usageError(QStringLiteral("unexpected argument %1")
                              .arg(parser.positionalArguments().constFirst()));
    if (parser.values(socket).size() > 1)
        return usageError(QStringLiteral("--socket given more than once"));
    if (parser.value(socket).isEmpty())
        return usageError(QStringLiteral("--socket: empty path"));

    // One instance per session: a second launch asks the first to show its window.
    calnet::app::SingleInstance instance(QStringLiteral("calnet"));
    if (!instance.listen()) {
        if (instance.sendToPrimary(app.arguments(), 2000))
            return 0;
        qWarning("calnet: another instance seems to run but does not answer; starting anyway");
    }

    calnet::app::Application calnet(
        {parser.value(socket), parser.isSet(noTray), parser.isSet(show), parser.isSet(autostart)},
        &settings);
    QObject::connect(&instance, &calnet::app::SingleInstance::messageReceived, &calnet,
                     &calnet::app::Application::handleSecondLaunch);
    calnet.start();
    return app.exec();
}
