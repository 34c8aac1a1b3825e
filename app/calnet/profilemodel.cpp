#include "app/calnet/profilemodel.h"

#include <QCoreApplication>
#include <QHash>
#include <QJsonArray>

namespace calnet::app {

std::optional<ProfileInfo> ProfileInfo::fromJson(const QJsonObject& o) {
    ProfileInfo p;
    p.name = o.value(QLatin1StringView("name")).toString();
    if (p.name.isEmpty())
        return std::nullopt;
    p.kind = o.value(QLatin1StringView("kind")).toString(QStringLiteral("wireguard"));
    for (const QJsonValue& v : o.value(QLatin1StringView("addresses")).toArray())
        p.addresses << v.toString();
    for (const QJsonValue& v : o.value(QLatin1StringView("endpoints")).toArray())
        p.endpoints << v.toString();
    p.peers = o.value(QLatin1StringView("peers")).toInt();
    p.fullTunnel = o.value(QLatin1StringView("fullTunnel")).toBool();
    p.connected = o.value(QLatin1StringView("connected")).toBool();
    return p;
}

QList<ProfileInfo> profilesFromJson(const QJsonObject& data) {
    QList<ProfileInfo> out;
    for (const QJsonValue& v : data.value(QLatin1StringView("profiles")).toArray())
        if (auto p = ProfileInfo::fromJson(v.toObject()))
            out << *p;
    return out;
}

ProfileModel::ProfileModel(QObject* parent) : QAbstractListModel(parent) {}

void ProfileModel::setProfiles(const QList<ProfileInfo>& incoming) {
    QHash<QString, const ProfileInfo*> byName;
    for (const ProfileInfo& p : incoming)
        byName.insert(p.name, &p);
    for (int row = int(profiles_.size()) - 1; row >= 0; --row) {
        if (byName.contains(profiles_[row].name))
            continue;
        beginRemoveRows({}, row, row);
        profiles_.removeAt(row);
        endRemoveRows();
    }
    for (int row = 0; row < profiles_.size(); ++row) {
        const ProfileInfo& next = *byName.value(profiles_[row].name);
        if (next == profiles_[row])
            continue;
        profiles_[row] = next;
        emit dataChanged(index(row), index(row));
    }
    for (const ProfileInfo& p : incoming) {
        if (rowOf(p.name) >= 0)
            continue;
        // Keep the list sorted by name, as the helper and calnetctl list them.
        int at = 0;
        while (at < profiles_.size() && profiles_[at].name.compare(p.name, Qt::CaseInsensitive) < 0)
            ++at;
        beginInsertRows({}, at, at);
        profiles_.insert(at, p);
        endInsertRows();
    }
}

int ProfileModel::rowOf(const QString& name) const {
    for (int i = 0; i < profiles_.size(); ++i)
        if (profiles_[i].name == name)
            return i;
    return -1;
}

int ProfileModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : int(profiles_.size());
}

QVariant ProfileModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const ProfileInfo& p = profiles_.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
    case NameRole:
        return p.name;
    case Qt::ToolTipRole: {
        QStringList lines;
        if (!p.addresses.isEmpty())
            lines << QCoreApplication::translate("ProfileModel", "Addresses: %1")
                         .arg(p.addresses.join(QStringLiteral(", ")));
        lines << QCoreApplication::translate("ProfileModel", "%n peer(s)", nullptr, p.peers);
        if (p.fullTunnel)
            lines << QCoreApplication::translate("ProfileModel", "Routes all traffic");
        return lines.join(QLatin1Char('\n'));
    }
    case Qt::CheckStateRole:
        return p.connected ? Qt::Checked : Qt::Unchecked;
    case ConnectedRole:
        return p.connected;
    case KindRole:
        return p.kind;
    }
    return {};
}

} // namespace calnet::app
