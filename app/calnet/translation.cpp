#include "app/calnet/translation.h"

#include <QCoreApplication>
#include <QFile>
#include <QLibraryInfo>
#include <QLocale>
#include <QPointer>
#include <QRegularExpression>
#include <QTranslator>

namespace calnet::app {

namespace {

// Languages with a Calnet catalogue; English is the source language.
constexpr QLatin1StringView kTranslated[] = {QLatin1StringView("de"), QLatin1StringView("fr")};

struct Installed {
    QPointer<QTranslator> calnet;
    QPointer<QTranslator> qt;
    QPointer<QTranslator> englishPlurals; // "1 peer" / "2 peers" for the English source
    QString language;
    QString file;
};

Installed& installed() {
    static Installed state;
    return state;
}

void removeInstalled(QCoreApplication* app) {
    Installed& state = installed();
    for (QPointer<QTranslator>* t : {&state.calnet, &state.qt, &state.englishPlurals}) {
        if (*t) {
            app->removeTranslator(*t);
            delete t->data();
        }
        *t = nullptr;
    }
    state.language.clear();
    state.file.clear();
}

// "de-Latn-AT" / "de_AT.UTF-8" -> "de".
QString primaryLanguage(const QString& name) {
    QString code = name.trimmed().toLower();
    const qsizetype cut = code.indexOf(QRegularExpression(QStringLiteral("[-_.@]")));
    if (cut >= 0)
        code.truncate(cut);
    return code;
}

bool hasCatalogue(const QString& code) {
    for (QLatin1StringView l : kTranslated)
        if (code == l)
            return true;
    return false;
}

} // namespace

QString matchLanguage(const QStringList& preferred) {
    for (const QString& name : preferred) {
        const QString code = primaryLanguage(name);
        if (code == QLatin1StringView("en"))
            return {};
        if (hasCatalogue(code))
            return code;
    }
    return {};
}

bool installTranslations(QCoreApplication* app, const QString& language) {
    return installTranslations(app, language, QStringLiteral(":/i18n"));
}

bool installTranslations(QCoreApplication* app, const QString& language,
                         const QString& catalogueDirectory) {
    removeInstalled(app);
    const QString wanted = primaryLanguage(language);
    const QString code = wanted.isEmpty() ? matchLanguage(QLocale::system().uiLanguages())
                                          : (hasCatalogue(wanted) ? wanted : QString());
    const bool english = wanted == QLatin1StringView("en");
    // Numbers and dates follow an explicit choice too, so a German UI does not print "1.5 KiB"
    // the English way. Otherwise (system, or a code we do not know) they follow the system.
    const bool explicitChoice = english || (!wanted.isEmpty() && !code.isEmpty());
    QLocale::setDefault(explicitChoice ? QLocale(language.trimmed()) : QLocale::system());
    if (code.isEmpty()) {
        // English is the source language; its catalogue holds only the plural forms of the %n
        // messages, so "1 peer" does not read "1 peer(s)". Missing, the text stays readable.
        auto* plurals = new QTranslator(app);
        if (plurals->load(QStringLiteral("%1/calnet_en.qm").arg(catalogueDirectory))) {
            app->installTranslator(plurals);
            installed().englishPlurals = plurals;
        } else {
            delete plurals;
        }
        return wanted.isEmpty() || english;
    }

    Installed& state = installed();
    const QString file = QStringLiteral("%1/calnet_%2.qm").arg(catalogueDirectory, code);
    auto* calnet = new QTranslator(app);
    if (!calnet->load(file)) {
        delete calnet;
        return false;
    }
    app->installTranslator(calnet);
    state.calnet = calnet;
    state.language = code;
    state.file = file;

    auto* qt = new QTranslator(app);
    if (qt->load(QStringLiteral("qtbase_") + code,
                 QLibraryInfo::path(QLibraryInfo::TranslationsPath))) {
        app->installTranslator(qt);
        state.qt = qt;
    } else {
        delete qt;
    }
    return true;
}

QString currentLanguage() {
    return installed().language;
}

QString chosenTranslation() {
    return installed().file;
}

QList<QTranslator*> installedTranslators() {
    QList<QTranslator*> list;
    const Installed& state = installed();
    if (state.calnet)
        list << state.calnet.data();
    if (state.qt)
        list << state.qt.data();
    return list;
}

QList<QPair<QString, QString>> availableLanguages() {
    return {
        {QString(), QCoreApplication::translate("calnet::app::translation", "System default")},
        {QStringLiteral("en"), QStringLiteral("English")},
        {QStringLiteral("de"), QStringLiteral("Deutsch")},
        {QStringLiteral("fr"), QStringLiteral("Français")},
    };
}

} // namespace calnet::app
