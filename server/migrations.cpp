#include "server/migrations.h"

namespace calnet::server {

namespace {

// Version 1 in a dialect-neutral form: %ID% is the auto-increment primary key, %INT% a 64-bit
// integer. Tables:
//   networks  one row per network ("default" for now). next_index is the next overlay index to
//             hand out (indexes are never reused); last_seq the last change number. Every write
//             transaction locks this row first, so writes (and change numbers) are serialised
//             per network and a change is visible before any later one is numbered.
//   users     owners of nodes and pre-auth keys.
//   authkeys  pre-auth keys: hash of the whole key, never the key.
//   nodes     one row per device; node_key unique, addr_index unique per network.
//   changes   (network, seq) -> node_id: what a map stream must resend since a given seq.
QStringList version1() {
    return {
        QStringLiteral("CREATE TABLE networks (id %INT% PRIMARY KEY, name TEXT NOT NULL UNIQUE, "
                       "next_index %INT% NOT NULL, last_seq %INT% NOT NULL, created %INT% NOT "
                       "NULL)"),
        QStringLiteral("INSERT INTO networks (id, name, next_index, last_seq, created) "
                       "VALUES (1, 'default', 1, 0, 0)"),
        QStringLiteral("CREATE TABLE users (id %ID%, network %INT% NOT NULL REFERENCES "
                       "networks(id), name TEXT NOT NULL, created %INT% NOT NULL, "
                       "UNIQUE (network, name))"),
        QStringLiteral("CREATE TABLE authkeys (id TEXT PRIMARY KEY, hash TEXT NOT NULL, "
                       "user_id %INT% NOT NULL REFERENCES users(id), reusable %INT% NOT NULL, "
                       "tags TEXT NOT NULL, created %INT% NOT NULL, expires %INT% NOT NULL, "
                       "used %INT% NOT NULL DEFAULT 0, revoked %INT% NOT NULL DEFAULT 0)"),
        QStringLiteral("CREATE TABLE nodes (id %ID%, network %INT% NOT NULL REFERENCES "
                       "networks(id), user_id %INT% NOT NULL REFERENCES users(id), "
                       "node_key TEXT NOT NULL UNIQUE, disco_key TEXT NOT NULL, "
                       "hostname TEXT NOT NULL, os TEXT NOT NULL, client_version TEXT NOT NULL, "
                       "addr_index %INT% NOT NULL, credential_hash TEXT NOT NULL, "
                       "key_expiry %INT% NOT NULL, expiry_announced %INT% NOT NULL DEFAULT 0, "
                       "endpoints TEXT NOT NULL DEFAULT '[]', seen_endpoint TEXT NOT NULL "
                       "DEFAULT '', online %INT% NOT NULL DEFAULT 0, stream TEXT NOT NULL "
                       "DEFAULT '', last_seen %INT% NOT NULL DEFAULT 0, created %INT% NOT NULL, "
                       "UNIQUE (network, addr_index))"),
        QStringLiteral("CREATE INDEX nodes_expiry ON nodes (expiry_announced, key_expiry)"),
        QStringLiteral("CREATE TABLE changes (network %INT% NOT NULL, seq %INT% NOT NULL, "
                       "node_id %INT% NOT NULL, kind TEXT NOT NULL, at %INT% NOT NULL, "
                       "PRIMARY KEY (network, seq))"),
    };
}

// Version 2: liveness and housekeeping.
//   servers   one row per running server process, its heartbeat renewed every few seconds;
//             a row whose heartbeat is older than the server timeout belongs to a dead
//             process (killed, crashed, host lost) and its nodes are marked offline.
//   nodes.server     the server process whose map stream set `online`.
//   networks.pruned_seq  changes numbered up to here have been pruned: a stream resuming
//             from before it gets a full map.
QStringList version2() {
    return {
        QStringLiteral("CREATE TABLE servers (id TEXT PRIMARY KEY, started %INT% NOT NULL, "
                       "heartbeat %INT% NOT NULL)"),
        QStringLiteral("ALTER TABLE nodes ADD COLUMN server TEXT NOT NULL DEFAULT ''"),
        QStringLiteral("ALTER TABLE networks ADD COLUMN pruned_seq %INT% NOT NULL DEFAULT 0"),
        QStringLiteral("CREATE INDEX changes_at ON changes (network, at)"),
        QStringLiteral("CREATE INDEX nodes_online ON nodes (network, online)"),
    };
}

// Version 3: hardening.
//   authkeys.max_uses / uses   a reusable key may carry a limit on the registrations made
//             with it (0 = none); uses counts them for every key.
//   free_addresses   overlay indexes of deleted nodes and when they were freed: handed out
//             again once fresh indexes are gone and the quarantine has passed.
QStringList version3() {
    return {
        QStringLiteral("ALTER TABLE authkeys ADD COLUMN max_uses %INT% NOT NULL DEFAULT 0"),
        QStringLiteral("ALTER TABLE authkeys ADD COLUMN uses %INT% NOT NULL DEFAULT 0"),
        QStringLiteral("CREATE TABLE free_addresses (network %INT% NOT NULL, addr_index %INT% NOT "
                       "NULL, freed %INT% NOT NULL, PRIMARY KEY (network, addr_index))"),
        QStringLiteral("CREATE INDEX free_addresses_freed ON free_addresses (network, freed)"),
    };
}

// Version 4: several relays.
//   nodes.home_relay   the relay region the node chose as its home (by latency) and receives
//             on; peers send to it there when no direct path works ("" = not reported).
QStringList version4() {
    return {
        QStringLiteral("ALTER TABLE nodes ADD COLUMN home_relay TEXT NOT NULL DEFAULT ''"),
    };
}

// Version 5: sign-in with an OpenID provider.
//   users.issuer/subject   who the provider says the user is (the pair is the identity; ""
//             for users of pre-auth keys); email and display_name as it last said; disabled
//             takes the user's nodes off the map and refuses their registrations.
QStringList version5() {
    return {
        QStringLiteral("ALTER TABLE users ADD COLUMN issuer TEXT NOT NULL DEFAULT ''"),
        QStringLiteral("ALTER TABLE users ADD COLUMN subject TEXT NOT NULL DEFAULT ''"),
        QStringLiteral("ALTER TABLE users ADD COLUMN email TEXT NOT NULL DEFAULT ''"),
        QStringLiteral("ALTER TABLE users ADD COLUMN display_name TEXT NOT NULL DEFAULT ''"),
        QStringLiteral("ALTER TABLE users ADD COLUMN disabled %INT% NOT NULL DEFAULT 0"),
        QStringLiteral("CREATE UNIQUE INDEX users_identity ON users (network, issuer, subject) "
                       "WHERE issuer <> ''"),
    };
}

} // namespace

QList<Migration> migrations(Dialect dialect) {
    const bool pg = dialect == Dialect::Postgres;
    const QString id = pg ? QStringLiteral("BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")
                          : QStringLiteral("INTEGER PRIMARY KEY AUTOINCREMENT");
    const QString integer = pg ? QStringLiteral("BIGINT") : QStringLiteral("INTEGER");
    QList<Migration> list = {
        {1, version1()}, {2, version2()}, {3, version3()}, {4, version4()}, {5, version5()}};
    for (Migration& m : list) {
        for (QString& statement : m.statements) {
            statement.replace(QStringLiteral("%ID%"), id).replace(QStringLiteral("%INT%"), integer);
        }
    }
    return list;
}

} // namespace calnet::server
