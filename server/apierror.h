// ApiError: the error half of every API operation (docs/protocol.md "Errors").
//
// An operation returns an ApiError; status 0 means success. Every other value maps to one of the
// contract's codes and becomes the body {"error": {"code", "message"}}. Operations that fail
// must have changed nothing, so callers roll their transaction back on any error.
#pragma once

#include <QJsonObject>
#include <QString>

namespace calnet::server {

struct ApiError {
    int status = 0; // HTTP status; 0 = no error
    QString code;
    QString message;

    bool ok() const { return status == 0; }
    explicit operator bool() const { return status != 0; } // true when this IS an error

    QJsonObject toJson() const {
        return QJsonObject{
            {QStringLiteral("error"),
             QJsonObject{{QStringLiteral("code"), code}, {QStringLiteral("message"), message}}}};
    }

    static ApiError badRequest(const QString& m) { return {400, QStringLiteral("bad_request"), m}; }
    static ApiError unauthorized(const QString& m) {
        return {401, QStringLiteral("unauthorized"), m};
    }
    static ApiError expired(const QString& m) { return {401, QStringLiteral("expired"), m}; }
    static ApiError forbidden(const QString& m) { return {403, QStringLiteral("forbidden"), m}; }
    static ApiError notFound(const QString& m) { return {404, QStringLiteral("not_found"), m}; }
    static ApiError methodNotAllowed(const QString& m) {
        return {405, QStringLiteral("method_not_allowed"), m};
    }
    static ApiError conflict(const QString& m) { return {409, QStringLiteral("conflict"), m}; }
    static ApiError tooLarge(const QString& m) { return {413, QStringLiteral("too_large"), m}; }
    static ApiError exhausted(const QString& m) { return {507, QStringLiteral("exhausted"), m}; }
    static ApiError internal(const QString& m) { return {500, QStringLiteral("internal"), m}; }
};

} // namespace calnet::server
