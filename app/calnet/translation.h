// The UI language. Calnet's own catalogues are embedded by qt_add_translations under
// ":/i18n/calnet_<lang>.qm"; Qt's (qtbase_<lang>.qm, the standard dialogs' buttons) come from
// the system's Qt translations directory when that package is installed.
//
// The choice is made once at startup from AppSettings::language(): "" follows the desktop's
// preferred languages in order, stopping at the first one Calnet has (English needs no
// catalogue, so a user who prefers English over German gets English).
#pragma once

#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>

class QCoreApplication;
class QTranslator;

namespace calnet::app {

// Loads and installs the translators for `language` ("" = the system's preference), replacing
// those a previous call installed. Returns true when the result is the language asked for:
// English, or a catalogue that loaded; false when nothing matched and the UI stays English.
bool installTranslations(QCoreApplication* app, const QString& language);
// The same with Calnet's catalogues read from `catalogueDirectory` instead of ":/i18n"
// (tests compile their own).
bool installTranslations(QCoreApplication* app, const QString& language,
                         const QString& catalogueDirectory);

// The language picked by the last installTranslations() ("de", "fr"), "" for English.
[[nodiscard]] QString currentLanguage();
// The Calnet catalogue the last call installed (":/i18n/calnet_de.qm"), "" for none.
[[nodiscard]] QString chosenTranslation();
// The translators the last call installed (Calnet's first, then Qt's when found). For English
// this is empty: its plural-forms catalogue (calnet_en.qm) is not a translation.
[[nodiscard]] QList<QTranslator*> installedTranslators();

// The first entry of `preferred` (BCP 47 or POSIX names: "de-AT", "fr_FR", "en") that Calnet
// has a catalogue for, as a language code; "" when English comes first or nothing matches.
[[nodiscard]] QString matchLanguage(const QStringList& preferred);

// The languages offered in the settings: the system default, then each language under its own
// name (a user who cannot read the current UI must still recognise theirs).
[[nodiscard]] QList<QPair<QString, QString>> availableLanguages();

} // namespace calnet::app
