// Shared helpers for the core tests that replay known-answer vectors, and the byte conversions
// between QByteArray and the std::span / std::array types the crypto code takes and returns.
//
// Vector files live under CALNET_TEST_DATA_DIR "/vectors/" and are plain text:
//   - a line starting with '#' is a comment;
//   - every other non-blank line is `key = value` (both sides trimmed; a key at most once per
//     record);
//   - records are separated by one or more blank lines.
// A missing or malformed file stops the run with qFatal() rather than silently yielding no rows.
#pragma once

#include <QByteArray>
#include <QFile>
#include <QList>
#include <QMap>
#include <QRegularExpression>
#include <QString>
#include <QtGlobal>

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>

namespace calnet::testing {

// One record of a vector file: its `key = value` lines.
using Record = QMap<QString, QString>;

inline QList<Record> loadVectors(const char* fileName) {
    QFile file(QStringLiteral(CALNET_TEST_DATA_DIR "/vectors/") + QLatin1String(fileName));
    if (!file.open(QIODevice::ReadOnly | QIODevice::Text))
        qFatal("cannot open %s", qPrintable(file.fileName()));
    QList<Record> records;
    Record current;
    for (int lineNo = 1; !file.atEnd(); ++lineNo) {
        const QString line = QString::fromUtf8(file.readLine()).trimmed();
        if (line.startsWith(u'#'))
            continue;
        if (line.isEmpty()) {
            if (!current.isEmpty())
                records.append(std::exchange(current, {}));
            continue;
        }
        const qsizetype eq = line.indexOf(u'=');
        const QString key = line.left(eq).trimmed();
        if (eq <= 0 || current.contains(key))
            qFatal("%s:%d: expected a new 'key = value'", fileName, lineNo);
        current.insert(key, line.mid(eq + 1).trimmed());
    }
    if (!current.isEmpty())
        records.append(current);
    return records;
}

// A field that must be lowercase hex; a malformed data file stops the run loudly.
inline QByteArray hexField(const Record& record, const char* key) {
    static const QRegularExpression kHex(QStringLiteral("^(?:[0-9a-f]{2})*$"));
    const QString value = record.value(QLatin1String(key), QStringLiteral("?"));
    if (!kHex.match(value).hasMatch())
        qFatal("vector '%s': field '%s' missing or not hex", qPrintable(record.value("name")), key);
    return QByteArray::fromHex(value.toLatin1());
}

// ---- byte conversions ---------------------------------------------------------------------------
inline std::span<const std::uint8_t> bytes(const QByteArray& b) {
    return {reinterpret_cast<const std::uint8_t*>(b.constData()),
            static_cast<std::size_t>(b.size())};
}

// Any contiguous byte container with data() and size(): std::array, std::span, Secret::span().
template <typename Container> QByteArray toQByteArray(const Container& c) {
    return QByteArray(reinterpret_cast<const char*>(c.data()), static_cast<qsizetype>(c.size()));
}

} // namespace calnet::testing
