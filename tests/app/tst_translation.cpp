// Language loading: which embedded catalogue is chosen for a language or the system's
// preference list, and, with catalogues compiled here by lrelease (so the test controls their
// contents), that the installed translator really translates and a second call replaces it.
#include <QCoreApplication>
#include <QFile>
#include <QLibraryInfo>
#include <QLocale>
#include <QPointer>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>
#include <QTranslator>

#include "app/calnet/translation.h"
#include "skip.h"

using namespace calnet::app;

namespace {

QString systemDefaultText() {
    return availableLanguages().value(0).second;
}

} // namespace

class tst_Translation : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanup();
    void availableLanguagesList();
    void embeddedCatalogues_data();
    void embeddedCatalogues();
    void unknownLanguageFallsBack();
    void englishNeedsNoCatalogue();
    void systemPreference_data();
    void systemPreference();
    void systemDefaultDoesNotCrash();
    void secondCallReplacesFirst();
    void translatesAndUninstalls();

private:
    bool compile(const QString& language, const QString& translation);

    QTemporaryDir catalogues_;
    bool haveLrelease_ = false;
};

void tst_Translation::initTestCase() {
    QVERIFY(catalogues_.isValid());
    haveLrelease_ = compile(QStringLiteral("de"), QStringLiteral("Systemvorgabe")) &&
                    compile(QStringLiteral("fr"), QStringLiteral("Langue du système"));
}

void tst_Translation::cleanup() {
    installTranslations(QCoreApplication::instance(), QStringLiteral("en"));
}

// A one-message catalogue for the "System default" entry, compiled with Qt's lrelease.
bool tst_Translation::compile(const QString& language, const QString& translation) {
    const QString lrelease =
        QLibraryInfo::path(QLibraryInfo::BinariesPath) + QStringLiteral("/lrelease");
    if (!QFile::exists(lrelease))
        return false;
    const QString ts = catalogues_.filePath(QStringLiteral("calnet_%1.ts").arg(language));
    QFile f(ts);
    if (!f.open(QIODevice::WriteOnly))
        return false;
    f.write(QStringLiteral("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<!DOCTYPE TS>\n"
                           "<TS version=\"2.1\" language=\"%1\"><context>"
                           "<name>calnet::app::translation</name><message>"
                           "<source>System default</source><translation>%2</translation>"
                           "</message></context></TS>\n")
                .arg(language, translation)
                .toUtf8());
    f.close();
    QProcess p;
    p.start(lrelease, {QStringLiteral("-silent"), ts, QStringLiteral("-qm"),
                       catalogues_.filePath(QStringLiteral("calnet_%1.qm").arg(language))});
    return p.waitForFinished(30000) && p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
}

void tst_Translation::availableLanguagesList() {
    const auto languages = availableLanguages();
    QCOMPARE(languages.size(), 4);
    QCOMPARE(languages.at(0).first, QString());
    QCOMPARE(languages.at(0).second, QStringLiteral("System default"));
    QCOMPARE(languages.at(1), qMakePair(QStringLiteral("en"), QStringLiteral("English")));
    QCOMPARE(languages.at(2), qMakePair(QStringLiteral("de"), QStringLiteral("Deutsch")));
    QCOMPARE(languages.at(3), qMakePair(QStringLiteral("fr"), QStringLiteral("Français")));
}

void tst_Translation::embeddedCatalogues_data() {
    QTest::addColumn<QString>("language");
    QTest::addColumn<QString>("code");
    QTest::newRow("de") << "de"
                        << "de";
    QTest::newRow("fr") << "fr"
                        << "fr";
    QTest::newRow("de_AT") << "de_AT"
                           << "de";
    QTest::newRow("fr-CA") << "fr-CA"
                           << "fr";
    QTest::newRow("DE") << "DE"
                        << "de";
}

void tst_Translation::embeddedCatalogues() {
    QFETCH(QString, language);
    QFETCH(QString, code);
    const QString file = QStringLiteral(":/i18n/calnet_%1.qm").arg(code);
    QVERIFY2(QFile::exists(file), qPrintable(file)); // embedded by qt_add_translations
    QVERIFY(installTranslations(QCoreApplication::instance(), language));
    QCOMPARE(chosenTranslation(), file);
    QCOMPARE(currentLanguage(), code);
    const QList<QTranslator*> installed = installedTranslators();
    QVERIFY(!installed.isEmpty());
    QCOMPARE(installed.first()->filePath(), file);
    QVERIFY(installed.first()->language().startsWith(code));
    // Numbers and dates follow the explicit choice.
    QCOMPARE(QLocale().language(), QLocale(code).language());
}

void tst_Translation::unknownLanguageFallsBack() {
    QVERIFY(installTranslations(QCoreApplication::instance(), QStringLiteral("de")));
    QVERIFY(!installTranslations(QCoreApplication::instance(), QStringLiteral("xx")));
    QCOMPARE(chosenTranslation(), QString());
    QCOMPARE(currentLanguage(), QString());
    QVERIFY(installedTranslators().isEmpty());
    QCOMPARE(systemDefaultText(), QStringLiteral("System default"));
    QCOMPARE(QLocale(), QLocale::system());
}

void tst_Translation::englishNeedsNoCatalogue() {
    QVERIFY(installTranslations(QCoreApplication::instance(), QStringLiteral("en")));
    QCOMPARE(chosenTranslation(), QString());
    QVERIFY(installedTranslators().isEmpty());
    // ... only its plural forms, embedded from translations/calnet_en.ts.
    const auto peers = [](int n) {
        return QCoreApplication::translate("calnet::app::MainWindow", "%n peer(s) not responding",
                                           nullptr, n);
    };
    QCOMPARE(peers(1), QStringLiteral("1 peer not responding"));
    QCOMPARE(peers(3), QStringLiteral("3 peers not responding"));
    QVERIFY(installTranslations(QCoreApplication::instance(), QStringLiteral("de")));
    QCOMPARE(peers(1), QStringLiteral("1 Peer antwortet nicht"));
    QVERIFY(installTranslations(QCoreApplication::instance(), QStringLiteral("en")));
    QCOMPARE(peers(2), QStringLiteral("2 peers not responding"));
}

void tst_Translation::systemPreference_data() {
    QTest::addColumn<QStringList>("preferred");
    QTest::addColumn<QString>("chosen");
    QTest::newRow("empty") << QStringList() << "";
    QTest::newRow("C") << QStringList{"C"} << "";
    QTest::newRow("german") << QStringList{"de-DE", "de", "en-US"} << "de";
    QTest::newRow("posix name") << QStringList{"fr_FR.UTF-8"} << "fr";
    QTest::newRow("english first") << QStringList{"en-GB", "de-DE"} << "";
    QTest::newRow("unknown then french") << QStringList{"nl-NL", "fr-BE", "de"} << "fr";
    QTest::newRow("script subtag") << QStringList{"de-Latn-AT"} << "de";
    QTest::newRow("only unknown") << QStringList{"ja-JP", "ko"} << "";
}

void tst_Translation::systemPreference() {
    QFETCH(QStringList, preferred);
    QFETCH(QString, chosen);
    QCOMPARE(matchLanguage(preferred), chosen);
}

void tst_Translation::systemDefaultDoesNotCrash() {
    const QString expected = matchLanguage(QLocale::system().uiLanguages());
    QVERIFY(installTranslations(QCoreApplication::instance(), QString()));
    QCOMPARE(currentLanguage(), expected);
    QCOMPARE(QLocale(), QLocale::system());
}

void tst_Translation::secondCallReplacesFirst() {
    QVERIFY(installTranslations(QCoreApplication::instance(), QStringLiteral("de")));
    QVERIFY(!installedTranslators().isEmpty());
    const QPointer<QTranslator> first = installedTranslators().first();
    QVERIFY(installTranslations(QCoreApplication::instance(), QStringLiteral("fr")));
    QVERIFY(first.isNull()); // removed and deleted
    int calnet = 0;
    for (QTranslator* t : installedTranslators())
        if (t->filePath().contains(QLatin1StringView("/calnet_")))
            ++calnet;
    QCOMPARE(calnet, 1);
    QCOMPARE(installedTranslators().first()->filePath(), QStringLiteral(":/i18n/calnet_fr.qm"));
    // Qt's own catalogue, when the system has it, is the only other one.
    const bool qtCatalogue = QFile::exists(QLibraryInfo::path(QLibraryInfo::TranslationsPath) +
                                           QStringLiteral("/qtbase_fr.qm"));
    QCOMPARE(installedTranslators().size(), qtCatalogue ? 2 : 1);
}

void tst_Translation::translatesAndUninstalls() {
    if (!haveLrelease_)
        CALNET_ENVIRONMENT_SKIP("lrelease is not available to compile test catalogues");
    auto* app = QCoreApplication::instance();
    QCOMPARE(systemDefaultText(), QStringLiteral("System default"));
    QVERIFY(installTranslations(app, QStringLiteral("de"), catalogues_.path()));
    QCOMPARE(systemDefaultText(), QStringLiteral("Systemvorgabe"));
    QVERIFY(installTranslations(app, QStringLiteral("de"), catalogues_.path()));
    QCOMPARE(systemDefaultText(), QStringLiteral("Systemvorgabe"));
    QVERIFY(installTranslations(app, QStringLiteral("fr"), catalogues_.path()));
    QCOMPARE(systemDefaultText(), QStringLiteral("Langue du système"));
    // Nothing left behind: had any earlier translator stayed installed, it would answer here.
    QVERIFY(installTranslations(app, QStringLiteral("en"), catalogues_.path()));
    QCOMPARE(systemDefaultText(), QStringLiteral("System default"));
    QVERIFY(!installTranslations(app, QStringLiteral("xx"), catalogues_.path()));
    QCOMPARE(systemDefaultText(), QStringLiteral("System default"));
    // A catalogue that is missing from the directory: English, reported.
    QVERIFY(QFile::remove(catalogues_.filePath(QStringLiteral("calnet_fr.qm"))));
    QVERIFY(!installTranslations(app, QStringLiteral("fr"), catalogues_.path()));
    QCOMPARE(systemDefaultText(), QStringLiteral("System default"));
    QVERIFY(installedTranslators().isEmpty());
    QVERIFY(compile(QStringLiteral("fr"), QStringLiteral("Langue du système")));
}

QTEST_GUILESS_MAIN(tst_Translation)
#include "tst_translation.moc"
