#include "server/serverconfig.h"

#include <QFile>
#include <QHostAddress>

namespace calnet::server {

std::optional<qint64> parseDuration(const QString& text) {
    if (text.size() < 2 || text.size() > 12) {
        return std::nullopt;
    }
    const QChar unit = text.back();
    qint64 scale = 0;
    switch (unit.toLatin1()) {
    case 's':
        scale = 1;
        break;
    case 'm':
        scale = 60;
        break;
    case 'h':
        scale = 3600;
        break;
    case 'd':
        scale = 86400;
        break;
    default:
        return std::nullopt;
    }
    const QStringView digits = QStringView(text).chopped(1);
    for (QChar c : digits) {
        if (!c.isDigit() || c.unicode() > 127) {
            return std::nullopt;
        }
    }
    bool ok = false;
    const qint64 n = digits.toLongLong(&ok);
    if (!ok || n <= 0 || n > 100LL * 365 * 86400 / scale) {
        return std::nullopt;
    }
    return n * scale;
}

bool parseHostPort(const QString& text, QString* host, quint16* port) {
    const qsizetype colon = text.lastIndexOf(QLatin1Char(':'));
    if (colon <= 0) {
        return false;
    }
    QString h = text.left(colon);
    if (h.startsWith(QLatin1Char('[')) && h.endsWith(QLatin1Char(']'))) {
        h = h.mid(1, h.size() - 2);
    }
    QHostAddress address;
    if (h != QStringLiteral("localhost") && !address.setAddress(h)) {
        return false;
    }
    bool ok = false;
    const uint p = text.mid(colon + 1).toUInt(&ok);
    if (!ok || p > 65535) {
        return false;
    }
    *host = h;
    *port = quint16(p);
    return true;
}

bool isValidAdminToken(const QString& token) {
    if (token.size() < 16 || token.size() > 256) {
        return false;
    }
    for (QChar c : token) {
        if (c.unicode() < 0x21 || c.unicode() > 0x7e) {
            return false;
        }
    }
    return true;
}

std::optional<QString> readTokenFile(const QString& path, QString* error) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot read %1: %2").arg(path, f.errorString());
        return std::nullopt;
    }
    const QByteArray data = f.read(4096);
    const qsizetype nl = data.indexOf('\n');
    return QString::fromUtf8(nl >= 0 ? data.left(nl) : data).trimmed();
}

} // namespace calnet::server
