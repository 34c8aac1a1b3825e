// Importing wg-quick .conf files as helper profiles, from the file dialog or by drag and drop.
//
//   chooseFiles() / DropImportFilter --paths--> importFiles() --one file at a time-->
//     read (size limit, UTF-8) --> HelperSession::importProfile --> outcome message
//
// Files are imported one after another so the helper sees them in the order chosen, and their
// outcome messages are shown one at a time (the next when the previous is closed). Every
// dialog is non-blocking (open(), never exec()): the tray and the helper connection keep
// running while a message waits for the user.
#pragma once

#include <QObject>
#include <QPointer>
#include <QString>
#include <QStringList>

#include "app/calnet/session.h"

class QFileDialog;
class QMessageBox;
class QMimeData;
class QWidget;

namespace calnet::app {

class Importer : public QObject {
    Q_OBJECT

public:
    // `dialogParent` may be null (tray only); the file dialog and messages are then top-level.
    Importer(HelperSession* session, QWidget* dialogParent);
    ~Importer() override;

    void setDialogParent(QWidget* parent) { dialogParent_ = parent; }

    // Opens (or raises) the file dialog; the chosen files go to importFiles().
    void chooseFiles();
    void importFiles(const QStringList& paths);

    // True if the data holds at least one local file whose name ends in .conf (any case).
    [[nodiscard]] static bool acceptsDrop(const QMimeData* mime);
    // Those files' paths, in drop order, without duplicates.
    [[nodiscard]] static QStringList confFilesFrom(const QMimeData* mime);
    // A valid profile name (ipc::isValidProfileName) from the file's base name: runs of other
    // characters become one '-', leading dots and dashes go, at most 32 characters; "tunnel"
    // if nothing is left.
    [[nodiscard]] static QString profileNameFor(const QString& filePath);

    // The message shown last (it may still be open); for tests and the owner.
    [[nodiscard]] QMessageBox* lastMessage() const;
    [[nodiscard]] QFileDialog* fileDialog() const;
    // Files waiting for their turn, plus the one the helper is working on.
    [[nodiscard]] int pendingFiles() const { return int(queue_.size()) + (busy_ ? 1 : 0); }

signals:
    void imported(const QString& profile);
    void importFailed(const QString& file, const QString& message);

private:
    struct Message {
        bool success = false;
        QString text;
        QString informative;
        QString details;
        QString profile; // success: the profile "Connect now" connects
    };

    void importNext();
    void finishImport(const QString& path, const ImportOutcome& outcome);
    void fail(const QString& path, const QString& reason, const QString& details = {});
    void enqueueMessage(Message message);
    void showNextMessage();

    HelperSession* session_;
    QPointer<QWidget> dialogParent_;
    QPointer<QFileDialog> fileDialog_;
    QString lastDirectory_;
    QStringList queue_;
    bool busy_ = false; // a profiles.import call is in flight
    QList<Message> messages_;
    QPointer<QMessageBox> openMessage_;
    QPointer<QMessageBox> lastMessage_;
};

// Event filter for a top-level window that accepts dropped .conf files: the owner installs it
// and calls setAcceptDrops(true) on the window. Other drops pass through untouched.
class DropImportFilter : public QObject {
    Q_OBJECT

public:
    explicit DropImportFilter(Importer* importer, QObject* parent = nullptr);

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    QPointer<Importer> importer_;
};

} // namespace calnet::app
