#include "app/platform/linux/autostart.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSaveFile>

#include "app/calnet/translation.h"

namespace calnet::app::autostart {

namespace {

const char* const kComment =
    QT_TRANSLATE_NOOP("calnet::app::autostart", "Connect to your Calnet network from the tray");

// Desktop Entry spec, "The Exec key": an argument holding any of these must be double-quoted.
bool needsQuoting(const QString& arg) {
    static const QString reserved = QStringLiteral(" \t\n\"'\\><~|&;$*?#()`");
    if (arg.isEmpty())
        return true;
    for (QChar c : arg)
        if (reserved.contains(c))
            return true;
    return false;
}

QString quoteArgument(const QString& arg) {
    QString out = arg;
    if (needsQuoting(arg)) {
        out.clear();
        out += u'"';
        for (QChar c : arg) {
            if (c == u'"' || c == u'`' || c == u'$' || c == u'\\')
                out += u'\\';
            out += c;
        }
        out += u'"';
    }
    // '%' starts a field code; a literal one is doubled.
    out.replace(u'%', QStringLiteral("%%"));
    return out;
}

// The string-type escapes, applied after quoting (so a literal backslash inside a quoted
// argument ends up as four).
QString escapeValue(const QString& value) {
    QString out;
    out.reserve(value.size());
    for (QChar c : value) {
        if (c == u'\\')
            out += QStringLiteral("\\\\");
        else if (c == u'\n')
            out += QStringLiteral("\\n");
        else if (c == u'\t')
            out += QStringLiteral("\\t");
        else if (c == u'\r')
            out += QStringLiteral("\\r");
        else
            out += c;
    }
    if (out.startsWith(u' '))
        out.replace(0, 1, QStringLiteral("\\s"));
    return out;
}

QString unescapeValue(const QString& value) {
    QString out;
    out.reserve(value.size());
    for (qsizetype i = 0; i < value.size(); ++i) {
        const QChar c = value.at(i);
        if (c != u'\\' || i + 1 == value.size()) {
            out += c;
            continue;
        }
        const QChar next = value.at(++i);
        if (next == u's')
            out += u' ';
        else if (next == u'n')
            out += u'\n';
        else if (next == u't')
            out += u'\t';
        else if (next == u'r')
            out += u'\r';
        else if (next == u'\\')
            out += u'\\';
        else
            out += QString{c} + next; // not a string escape: left for the Exec unquoting
    }
    return out;
}

bool isTrue(const QString& value) {
    return value.trimmed() == QLatin1StringView("true");
}

} // namespace

QString entryPath() {
    QString config = qEnvironmentVariable("XDG_CONFIG_HOME");
    if (config.isEmpty() || !QDir::isAbsolutePath(config))
        config = QDir::homePath() + QStringLiteral("/.config");
    return QDir::cleanPath(config) + QStringLiteral("/autostart/") + QLatin1StringView(kDesktopId) +
           QStringLiteral(".desktop");
}

QString execLine(const QString& applicationFilePath) {
    const QFileInfo info(applicationFilePath);
    const QString program = info.fileName() == QLatin1StringView("calnet")
                                ? info.absoluteFilePath()
                                : QStringLiteral("calnet");
    return escapeValue(quoteArgument(program) + QStringLiteral(" --autostart"));
}

QByteArray entryContents(const QString& applicationFilePath) {
    QString text;
    text += QStringLiteral("[Desktop Entry]\n");
    text += QStringLiteral("Type=Application\n");
    text += QStringLiteral("Version=1.5\n");
    text += QStringLiteral("Name=Calnet\n");
    text += QStringLiteral("Comment=%1\n").arg(escapeValue(QString::fromUtf8(kComment)));
    // Session managers show this entry in their startup lists; give them the user's language too.
    const QString language = currentLanguage();
    const QString localized = QCoreApplication::translate("calnet::app::autostart", kComment);
    if (!language.isEmpty() && localized != QLatin1StringView(kComment))
        text += QStringLiteral("Comment[%1]=%2\n").arg(language, escapeValue(localized));
    text += QStringLiteral("Exec=%1\n").arg(execLine(applicationFilePath));
    text += QStringLiteral("Icon=%1\n").arg(QLatin1StringView(kDesktopId));
    text += QStringLiteral("Terminal=false\n");
    text += QStringLiteral("NoDisplay=false\n");
    text += QStringLiteral("X-GNOME-Autostart-enabled=true\n");
    return text.toUtf8();
}

QMap<QString, QString> parseDesktopEntry(const QByteArray& contents) {
    QMap<QString, QString> keys;
    bool inEntry = false;
    const QString text = QString::fromUtf8(contents);
    for (QStringView line : QStringView(text).split(u'\n')) {
        line = line.trimmed();
        if (line.isEmpty() || line.startsWith(u'#'))
            continue;
        if (line.startsWith(u'[')) {
            inEntry = line == QLatin1StringView("[Desktop Entry]");
            continue;
        }
        const qsizetype eq = line.indexOf(u'=');
        if (!inEntry || eq <= 0)
            continue;
        const QString key = line.left(eq).trimmed().toString();
        if (!keys.contains(key)) // the spec forbids duplicates; the first one wins here
            keys.insert(key, unescapeValue(line.mid(eq + 1).trimmed().toString()));
    }
    return keys;
}

bool isEnabled() {
    QFile file(entryPath());
    if (!file.open(QIODevice::ReadOnly))
        return false;
    const QMap<QString, QString> keys = parseDesktopEntry(file.read(64 * 1024));
    if (isTrue(keys.value(QStringLiteral("Hidden"))))
        return false;
    const QString gnome = keys.value(QStringLiteral("X-GNOME-Autostart-enabled")).trimmed();
    return gnome != QLatin1StringView("false");
}

bool setEnabled(bool on, QString* error) {
    const QString path = entryPath();
    auto fail = [&](const QString& reason) {
        if (error)
            *error = reason;
        return false;
    };
    if (!on) {
        QFile file(path);
        if (!file.exists())
            return true;
        if (!file.remove())
            return fail(
                QCoreApplication::translate("calnet::app::autostart", "Could not remove %1: %2")
                    .arg(QDir::toNativeSeparators(path), file.errorString()));
        return true;
    }
    const QString dir = QFileInfo(path).absolutePath();
    if (!QDir().mkpath(dir))
        return fail(
            QCoreApplication::translate("calnet::app::autostart", "Could not create the folder %1.")
                .arg(QDir::toNativeSeparators(dir)));
    QSaveFile file(path);
    if (file.open(QIODevice::WriteOnly)) {
        file.write(entryContents(QCoreApplication::applicationFilePath()));
        if (file.commit())
            return true;
    }
    return fail(QCoreApplication::translate("calnet::app::autostart", "Could not write %1: %2")
                    .arg(QDir::toNativeSeparators(path), file.errorString()));
}

} // namespace calnet::app::autostart
