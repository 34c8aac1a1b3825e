// The helper's profiles (profiles.list) as a list model: the tray's profile switcher, the
// no-tray window's profile box. setProfiles() updates in place, keyed by name.
#pragma once

#include <QAbstractListModel>
#include <QJsonObject>
#include <QList>
#include <QStringList>

#include <optional>

namespace calnet::app {

struct ProfileInfo {
    QString name;
    QString kind; // "wireguard" (mesh later)
    QStringList addresses;
    int peers = 0;
    QStringList endpoints;
    bool fullTunnel = false;
    bool connected = false;

    [[nodiscard]] static std::optional<ProfileInfo> fromJson(const QJsonObject& profile);
    bool operator==(const ProfileInfo&) const = default;
};

[[nodiscard]] QList<ProfileInfo> profilesFromJson(const QJsonObject& data);

class ProfileModel : public QAbstractListModel {
    Q_OBJECT

public:
    enum Role { NameRole = Qt::UserRole + 1, ConnectedRole, KindRole };

    explicit ProfileModel(QObject* parent = nullptr);

    void setProfiles(const QList<ProfileInfo>& profiles);
    [[nodiscard]] const QList<ProfileInfo>& profiles() const { return profiles_; }
    [[nodiscard]] int rowOf(const QString& name) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;

private:
    QList<ProfileInfo> profiles_;
};

} // namespace calnet::app
