// The XDG autostart entry under a private XDG_CONFIG_HOME: what is written (read back with an
// independent parser and with QSettings), what counts as enabled, failures, and Exec quoting
// checked by undoing it the way a session manager does.
#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSettings>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

#include "app/platform/linux/autostart.h"

namespace autostart = calnet::app::autostart;

namespace {

QByteArray readAll(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return f.readAll();
}

bool writeFile(const QString& path, const QByteArray& contents) {
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile f(path);
    return f.open(QIODevice::WriteOnly | QIODevice::Truncate) &&
           f.write(contents) == contents.size();
}

// The [Desktop Entry] group as raw key -> value (no unescaping), one key per line.
QMap<QString, QString> rawEntry(const QByteArray& contents, QStringList* groups = nullptr) {
    QMap<QString, QString> keys;
    QString group;
    for (const QByteArray& rawLine : contents.split('\n')) {
        const QString line = QString::fromUtf8(rawLine);
        if (line.startsWith(u'[')) {
            group = line;
            if (groups)
                *groups << line;
            continue;
        }
        const qsizetype eq = line.indexOf(u'=');
        if (group == QLatin1StringView("[Desktop Entry]") && eq > 0)
            keys.insert(line.left(eq), line.mid(eq + 1));
    }
    return keys;
}

// Desktop Entry spec, "The Exec key": first the string escapes, then the quoting rules.
QStringList splitExec(const QString& value) {
    QString unescaped;
    for (qsizetype i = 0; i < value.size(); ++i) {
        const QChar c = value[i];
        if (c != u'\\' || i + 1 == value.size()) {
            unescaped += c;
            continue;
        }
        const QChar n = value[++i];
        if (n == u's')
            unescaped += u' ';
        else if (n == u'n')
            unescaped += u'\n';
        else if (n == u't')
            unescaped += u'\t';
        else if (n == u'r')
            unescaped += u'\r';
        else if (n == u'\\')
            unescaped += u'\\';
        else
            unescaped += QString{c} + n;
    }
    QStringList args;
    QString current;
    bool quoted = false;
    bool inArg = false;
    for (qsizetype i = 0; i < unescaped.size(); ++i) {
        const QChar c = unescaped[i];
        if (quoted) {
            if (c == u'\\' && i + 1 < unescaped.size()) {
                current += unescaped[++i];
            } else if (c == u'"') {
                quoted = false;
            } else {
                current += c;
            }
        } else if (c == u' ') {
            if (inArg)
                args << current;
            current.clear();
            inArg = false;
        } else if (c == u'"') {
            quoted = true;
            inArg = true;
        } else {
            current += c;
            inArg = true;
        }
    }
    if (inArg)
        args << current;
    for (QString& a : args)
        a.replace(QStringLiteral("%%"), QStringLiteral("%"));
    return args;
}

} // namespace

class tst_Autostart : public QObject {
    Q_OBJECT

private slots:
    void init();
    void cleanup();
    void entryPathFollowsXdgConfigHome();
    void enableWritesDesktopEntry();
    void disableRemovesEntry();
    void disabledByKeys_data();
    void disabledByKeys();
    void enableReplacesHiddenEntry();
    void unwritableDirectoryReportsError();
    void undeletableEntryReportsError();
    void execLine_data();
    void execLine();
    void execRoundTrip_data();
    void execRoundTrip();
    void parserUnescapes();

private:
    std::unique_ptr<QTemporaryDir> dir_;
};

void tst_Autostart::init() {
    dir_ = std::make_unique<QTemporaryDir>();
    QVERIFY(dir_->isValid());
    qputenv("XDG_CONFIG_HOME", QFile::encodeName(dir_->path()));
}

void tst_Autostart::cleanup() {
    dir_.reset();
}

void tst_Autostart::entryPathFollowsXdgConfigHome() {
    QCOMPARE(autostart::entryPath(),
             dir_->path() + QStringLiteral("/autostart/io.calnet.Calnet.desktop"));
    const QString home =
        QDir::homePath() + QStringLiteral("/.config/autostart/io.calnet.Calnet.desktop");
    // The Base Directory spec: relative values are invalid and ignored.
    qputenv("XDG_CONFIG_HOME", "relative/config");
    QCOMPARE(autostart::entryPath(), home);
    qunsetenv("XDG_CONFIG_HOME");
    QCOMPARE(autostart::entryPath(), home);
    qputenv("XDG_CONFIG_HOME", "");
    QCOMPARE(autostart::entryPath(), home);
}

void tst_Autostart::enableWritesDesktopEntry() {
    QVERIFY(!autostart::isEnabled());
    QVERIFY(!QFileInfo::exists(dir_->filePath(QStringLiteral("autostart"))));
    QString error;
    QVERIFY(autostart::setEnabled(true, &error));
    QVERIFY(error.isEmpty());
    QVERIFY(autostart::isEnabled());

    const QString path = autostart::entryPath();
    const QByteArray contents = readAll(path);
    QVERIFY(contents.startsWith("[Desktop Entry]\n"));
    QVERIFY(contents.endsWith('\n'));
    QStringList groups;
    const QMap<QString, QString> keys = rawEntry(contents, &groups);
    QCOMPARE(groups, QStringList{QStringLiteral("[Desktop Entry]")});
    QCOMPARE(keys.value(QStringLiteral("Type")), QStringLiteral("Application"));
    QCOMPARE(keys.value(QStringLiteral("Name")), QStringLiteral("Calnet"));
    QCOMPARE(keys.value(QStringLiteral("Icon")), QStringLiteral("io.calnet.Calnet"));
    QCOMPARE(keys.value(QStringLiteral("X-GNOME-Autostart-enabled")), QStringLiteral("true"));
    QCOMPARE(keys.value(QStringLiteral("NoDisplay")), QStringLiteral("false"));
    QVERIFY(!keys.value(QStringLiteral("Comment")).isEmpty());
    QVERIFY(!keys.contains(QStringLiteral("Hidden")));
    // This test binary is not an installed `calnet`, so $PATH's calnet is started.
    QCOMPARE(keys.value(QStringLiteral("Exec")), QStringLiteral("calnet --autostart"));
    QCOMPARE(splitExec(keys.value(QStringLiteral("Exec"))),
             (QStringList{QStringLiteral("calnet"), QStringLiteral("--autostart")}));
    // Every line is a group, a key=value pair, or empty: nothing a parser would choke on.
    for (const QByteArray& line : contents.split('\n'))
        QVERIFY2(line.isEmpty() || line.startsWith('[') || line.contains('='), line.constData());
    // Written exactly as entryContents() describes it.
    QCOMPARE(contents, autostart::entryContents(QCoreApplication::applicationFilePath()));

    // QSettings reads it as INI too.
    QSettings ini(path, QSettings::IniFormat);
    ini.beginGroup(QStringLiteral("Desktop Entry"));
    QCOMPARE(ini.value(QStringLiteral("Type")).toString(), QStringLiteral("Application"));
    QCOMPARE(ini.value(QStringLiteral("Name")).toString(), QStringLiteral("Calnet"));
    QCOMPARE(ini.value(QStringLiteral("X-GNOME-Autostart-enabled")).toString(),
             QStringLiteral("true"));

    // No temporary file left next to it (QSaveFile renamed it into place).
    QCOMPARE(QDir(QFileInfo(path).absolutePath()).entryList(QDir::Files | QDir::Hidden),
             QStringList{QStringLiteral("io.calnet.Calnet.desktop")});
}

void tst_Autostart::disableRemovesEntry() {
    QVERIFY(autostart::setEnabled(true));
    QVERIFY(QFile::exists(autostart::entryPath()));
    QString error;
    QVERIFY(autostart::setEnabled(false, &error));
    QVERIFY(error.isEmpty());
    QVERIFY(!QFile::exists(autostart::entryPath()));
    QVERIFY(!autostart::isEnabled());
    // Disabling what is not there is not an error.
    QVERIFY(autostart::setEnabled(false, &error));
}

void tst_Autostart::disabledByKeys_data() {
    QTest::addColumn<QByteArray>("contents");
    QTest::addColumn<bool>("enabled");
    const QByteArray head = "[Desktop Entry]\nType=Application\nName=Calnet\nExec=calnet\n";
    QTest::newRow("plain") << head << true;
    QTest::newRow("Hidden=true") << head + "Hidden=true\n" << false;
    QTest::newRow("Hidden = true, spaced") << head + "Hidden = true\n" << false;
    QTest::newRow("Hidden=false") << head + "Hidden=false\n" << true;
    QTest::newRow("gnome disabled") << head + "X-GNOME-Autostart-enabled=false\n" << false;
    QTest::newRow("gnome enabled") << head + "X-GNOME-Autostart-enabled=true\n" << true;
    QTest::newRow("Hidden in another group") << head + "[Desktop Action quit]\nHidden=true\n"
                                             << true;
    QTest::newRow("comment") << head + "# Hidden=true\n" << true;
}

void tst_Autostart::disabledByKeys() {
    QFETCH(QByteArray, contents);
    QFETCH(bool, enabled);
    QVERIFY(writeFile(autostart::entryPath(), contents));
    QCOMPARE(autostart::isEnabled(), enabled);
}

void tst_Autostart::enableReplacesHiddenEntry() {
    QVERIFY(writeFile(autostart::entryPath(), "[Desktop Entry]\nType=Application\nHidden=true\n"));
    QVERIFY(!autostart::isEnabled());
    QVERIFY(autostart::setEnabled(true));
    QVERIFY(autostart::isEnabled());
    QVERIFY(!readAll(autostart::entryPath()).contains("Hidden"));
}

void tst_Autostart::unwritableDirectoryReportsError() {
    // A regular file where the directory should be: mkpath fails even for root, unlike chmod.
    const QString autostartDir = dir_->filePath(QStringLiteral("autostart"));
    QVERIFY(writeFile(autostartDir, "not a directory"));
    QString error;
    QVERIFY(!autostart::setEnabled(true, &error));
    QVERIFY2(error.contains(autostartDir), qPrintable(error));
    QVERIFY(!autostart::isEnabled());

    // The entry path itself is a directory: the file cannot be written.
    QVERIFY(QFile::remove(autostartDir));
    QVERIFY(QDir().mkpath(autostart::entryPath()));
    error.clear();
    QVERIFY(!autostart::setEnabled(true, &error));
    QVERIFY2(error.contains(autostart::entryPath()), qPrintable(error));
}

void tst_Autostart::undeletableEntryReportsError() {
    // A non-empty directory at the entry's path cannot be removed as a file.
    QVERIFY(writeFile(autostart::entryPath() + QStringLiteral("/keep"), "x"));
    QString error;
    QVERIFY(!autostart::setEnabled(false, &error));
    QVERIFY2(error.contains(autostart::entryPath()), qPrintable(error));
}

void tst_Autostart::execLine_data() {
    QTest::addColumn<QString>("program");
    QTest::addColumn<QString>("exec");
    QTest::newRow("installed") << "/usr/bin/calnet"
                               << "/usr/bin/calnet --autostart";
    QTest::newRow("not calnet") << "/home/u/build/tests/app_tst_autostart"
                                << "calnet --autostart";
    QTest::newRow("calnet-something") << "/usr/bin/calnetctl"
                                      << "calnet --autostart";
    QTest::newRow("space") << "/opt/My Apps/calnet"
                           << "\"/opt/My Apps/calnet\" --autostart";
    QTest::newRow("percent") << "/opt/100%/calnet"
                             << "/opt/100%%/calnet --autostart";
    // Quoting escapes $ with a backslash, and the string escape doubles that backslash.
    QTest::newRow("dollar") << "/opt/a$b/calnet"
                            << "\"/opt/a\\\\$b/calnet\" --autostart";
    // A literal backslash becomes four.
    QTest::newRow("backslash") << "/opt/a\\b/calnet"
                               << "\"/opt/a\\\\\\\\b/calnet\" --autostart";
    QTest::newRow("double quote") << "/opt/say \"hi\"/calnet"
                                  << "\"/opt/say \\\\\"hi\\\\\"/calnet\" --autostart";
}

void tst_Autostart::execLine() {
    QFETCH(QString, program);
    QFETCH(QString, exec);
    QCOMPARE(autostart::execLine(program), exec);
    QVERIFY(autostart::entryContents(program).contains(("\nExec=" + exec + "\n").toUtf8()));
}

void tst_Autostart::execRoundTrip_data() {
    QTest::addColumn<QString>("program");
    QTest::newRow("plain") << "/usr/local/bin/calnet";
    QTest::newRow("spaces") << "/home/jo doe/Apps and Tools/calnet";
    QTest::newRow("shell characters") << "/opt/$HOME `x` 'y' (z) & ; | < > * ? # ~/calnet";
    QTest::newRow("backslashes and quotes") << "/opt/\\a\\\\b\"c\"/calnet";
    QTest::newRow("percent") << "/opt/%f %U 100%/calnet";
    QTest::newRow("tab and newline") << "/opt/a\tb\nc/calnet";
    QTest::newRow("leading space dir") << "/ lead/calnet";
    QTest::newRow("non-ascii") << "/home/jürgen/Programme/calnet";
}

void tst_Autostart::execRoundTrip() {
    QFETCH(QString, program);
    const QString exec = autostart::execLine(program);
    QVERIFY2(!exec.contains(u'\n'), qPrintable(exec));
    QCOMPARE(splitExec(exec), (QStringList{program, QStringLiteral("--autostart")}));
}

void tst_Autostart::parserUnescapes() {
    const auto keys = autostart::parseDesktopEntry(
        "# comment\n[Desktop Entry]\nName = Cal\\snet\nComment=a\\nb\\\\c\nExec=\"x\\\\$y\"\n"
        "Name=ignored duplicate\n[Other]\nType=Link\n");
    QCOMPARE(keys.value(QStringLiteral("Name")), QStringLiteral("Cal net"));
    QCOMPARE(keys.value(QStringLiteral("Comment")), QStringLiteral("a\nb\\c"));
    QCOMPARE(keys.value(QStringLiteral("Exec")), QStringLiteral("\"x\\$y\""));
    QVERIFY(!keys.contains(QStringLiteral("Type")));
}

QTEST_GUILESS_MAIN(tst_Autostart)
#include "tst_autostart.moc"
