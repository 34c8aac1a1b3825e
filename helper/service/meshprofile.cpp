#include "helper/service/meshprofile.h"

#include <QJsonArray>
#include <QSysInfo>

#include <algorithm>
#include <limits>
#include <string>

#include <sodium/randombytes.h>
#include <sodium/utils.h>

#include "core/config/keyencoding.h"
#include "core/net/ipaddress.h"
#include "helper/ipc/protocol.h"

namespace calnet::helper {

using namespace Qt::StringLiterals;

namespace {

constexpr int kFormatVersion = 1;

QString encodePublic(const crypto::PrivateKey& key) {
    return QString::fromStdString(config::encodeKeyBase64(crypto::publicKeyOf(key)));
}

bool decodePrivate(const QJsonValue& v, crypto::PrivateKey& out) {
    const QByteArray text = v.toString().toLatin1();
    const bool ok =
        config::decodeKeyBase64Into(std::string_view(text.constData(), text.size()), out.span());
    return ok && !out.isZero();
}

QString encodePrivate(const crypto::PrivateKey& key) {
    std::string text = config::encodeKeyBase64(key.span());
    QString out = QString::fromStdString(text);
    sodium_memzero(text.data(), text.size());
    return out;
}

QStringList strings(const QJsonValue& v) {
    QStringList out;
    for (const QJsonValue& item : v.toArray())
        out << item.toString();
    return out;
}

} // namespace

MeshProfile MeshProfile::create(const QString& server, const QString& hostname) {
    MeshProfile p;
    p.server = server;
    p.hostname = hostname;
    p.nodeKey = crypto::generatePrivateKey();
    p.discoKey = crypto::generatePrivateKey();
    p.listenPort = std::uint16_t(41642 + randombytes_uniform(65000 - 41642));
    return p;
}

QString MeshProfile::nodePublicKeyBase64() const {
    return encodePublic(nodeKey);
}

QString MeshProfile::discoPublicKeyBase64() const {
    return encodePublic(discoKey);
}

QJsonObject MeshProfile::toJson() const {
    return {{"kind"_L1, "mesh"_L1},
            {"version"_L1, kFormatVersion},
            {"server"_L1, server},
            {"nodePrivateKey"_L1, encodePrivate(nodeKey)},
            {"discoPrivateKey"_L1, encodePrivate(discoKey)},
            {"hostname"_L1, hostname},
            {"listenPort"_L1, int(listenPort)},
            {"nodeId"_L1, nodeId},
            {"credential"_L1, credential},
            {"user"_L1, user},
            {"network"_L1, network},
            {"addresses"_L1, QJsonArray::fromStringList(addresses)},
            {"prefixes"_L1, QJsonArray::fromStringList(prefixes)},
            {"keyExpiry"_L1, keyExpiry}};
}

std::optional<MeshProfile> MeshProfile::fromJson(const QJsonObject& o, QString* error) {
    auto fail = [&](const QString& why) -> std::optional<MeshProfile> {
        if (error)
            *error = why;
        return std::nullopt;
    };
    if (o.value("kind"_L1).toString() != "mesh"_L1)
        return fail(u"not a mesh profile"_s);
    if (o.value("version"_L1).toInt() != kFormatVersion)
        return fail(u"unknown mesh profile version"_s);
    MeshProfile p;
    const auto server = ipc::normaliseServerUrl(o.value("server"_L1).toString());
    if (!server)
        return fail(u"bad server URL"_s);
    p.server = *server;
    if (!decodePrivate(o.value("nodePrivateKey"_L1), p.nodeKey) ||
        !decodePrivate(o.value("discoPrivateKey"_L1), p.discoKey))
        return fail(u"bad or missing private key"_s);
    p.hostname = o.value("hostname"_L1).toString();
    if (!ipc::isValidMeshHostname(p.hostname))
        return fail(u"bad hostname"_s);
    const int port = o.value("listenPort"_L1).toInt(-1);
    if (port < 0 || port > 65535)
        return fail(u"bad listen port"_s);
    p.listenPort = std::uint16_t(port);
    p.nodeId = o.value("nodeId"_L1).toInteger(0);
    p.credential = o.value("credential"_L1).toString();
    p.user = o.value("user"_L1).toString();
    p.network = o.value("network"_L1).toString();
    p.addresses = strings(o.value("addresses"_L1));
    p.prefixes = strings(o.value("prefixes"_L1));
    for (const QString& a : p.addresses + p.prefixes)
        if (!net::IpPrefix::parse(a.toStdString()))
            return fail(u"bad address or prefix"_s);
    p.keyExpiry = o.value("keyExpiry"_L1).toInteger(0);
    return p;
}

QString defaultMeshProfileName(const QString& serverUrl) {
    QString host = QUrl(serverUrl).host().toLower();
    QString name = u"calnet-"_s;
    for (const QChar c : host) {
        const bool ok = (c >= u'a' && c <= u'z') || (c >= u'0' && c <= u'9') || c == u'-' ||
                        c == u'.' || c == u'_';
        name += ok ? c : u'-';
    }
    return name.left(ipc::kMaxProfileNameLength);
}

QString defaultMeshHostname() {
    QString name = QSysInfo::machineHostName().section(u'.', 0, 0);
    QString out;
    for (const QChar c : name)
        out += ipc::isValidMeshHostname(QString(c)) ? c : u'-';
    out = out.left(63);
    return ipc::isValidMeshHostname(out) ? out : u"calnet-node"_s;
}

} // namespace calnet::helper
