#include "app/calnet/importer.h"

#include <QDir>
#include <QDropEvent>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QMessageBox>
#include <QMimeData>
#include <QPushButton>
#include <QStringDecoder>
#include <QTimer>
#include <QUrl>

#include "helper/ipc/protocol.h"

namespace calnet::app {

namespace {

// Line errors listed in the message itself; all of them are in the details.
constexpr int kMaxListedErrors = 10;

bool isProfileNameChar(QChar c) {
    return (c >= u'a' && c <= u'z') || (c >= u'A' && c <= u'Z') || (c >= u'0' && c <= u'9') ||
           c == u'_' || c == u'.' || c == u'-';
}

QString lineErrorText(const ImportOutcome::LineError& error) {
    return Importer::tr("Line %1: %2").arg(error.line).arg(error.reason);
}

} // namespace

Importer::Importer(HelperSession* session, QWidget* dialogParent)
    : session_(session), dialogParent_(dialogParent) {}

Importer::~Importer() {
    // Messages without a parent would outlive the importer and their "Connect now".
    delete openMessage_.data();
    delete fileDialog_.data();
}

QMessageBox* Importer::lastMessage() const {
    return lastMessage_;
}

QFileDialog* Importer::fileDialog() const {
    return fileDialog_;
}

void Importer::chooseFiles() {
    if (fileDialog_) {
        fileDialog_->raise();
        fileDialog_->activateWindow();
        return;
    }
    auto* dialog = new QFileDialog(dialogParent_, tr("Import WireGuard tunnels"));
    dialog->setObjectName(QStringLiteral("importFileDialog"));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setAcceptMode(QFileDialog::AcceptOpen);
    dialog->setFileMode(QFileDialog::ExistingFiles);
    dialog->setNameFilter(tr("WireGuard tunnels (*.conf)"));
    dialog->setDirectory(lastDirectory_.isEmpty() ? QDir::homePath() : lastDirectory_);
    dialog->setAccessibleName(tr("Import WireGuard tunnels"));
    connect(dialog, &QFileDialog::filesSelected, this, [this](const QStringList& files) {
        if (!files.isEmpty()) {
            lastDirectory_ = QFileInfo(files.first()).absolutePath();
        }
        importFiles(files);
    });
    fileDialog_ = dialog;
    dialog->open();
}

void Importer::importFiles(const QStringList& paths) {
    queue_.append(paths);
    if (!busy_) {
        importNext();
    }
}

void Importer::importNext() {
    while (!busy_ && !queue_.isEmpty()) {
        const QString path = queue_.takeFirst();
        if (!session_->isAvailable()) {
            fail(path, tr("The Calnet service is not running, so nothing can be imported now."));
            continue;
        }
        QFile file(path);
        if (QFileInfo(path).isDir()) {
            fail(path, tr("This is a folder, not a file."));
            continue;
        }
        if (!file.open(QIODevice::ReadOnly)) {
            fail(path, file.errorString());
            continue;
        }
        // Read one byte past the limit instead of trusting size(): the file may be growing.
        const QByteArray bytes = file.read(ipc::kMaxConfigBytes + 1);
        if (file.error() != QFileDevice::NoError) {
            fail(path, file.errorString());
            continue;
        }
        if (bytes.size() > ipc::kMaxConfigBytes) {
            fail(path, tr("The file is larger than %1 KiB. A WireGuard configuration is a few "
                          "kilobytes; is this the right file?")
                           .arg(ipc::kMaxConfigBytes / 1024));
            continue;
        }
        QStringDecoder decoder(QStringDecoder::Utf8);
        const QString config = decoder(bytes);
        if (decoder.hasError()) {
            fail(path, tr("The file is not UTF-8 text."));
            continue;
        }

        busy_ = true;
        session_->importProfile(config, profileNameFor(path),
                                [guard = QPointer<Importer>(this), path](const ImportOutcome& o) {
                                    if (guard) {
                                        guard->finishImport(path, o);
                                    }
                                });
    }
}

void Importer::finishImport(const QString& path, const ImportOutcome& outcome) {
    busy_ = false;
    if (outcome.ok) {
        Message message;
        message.success = true;
        message.profile = outcome.profile;
        message.text = tr("Imported %1").arg(outcome.profile);
        message.informative = tr("The tunnel “%1” from %2 is ready.")
                                  .arg(outcome.profile, QFileInfo(path).fileName());
        enqueueMessage(message);
        emit imported(outcome.profile);
    } else if (outcome.permissionDenied) {
        fail(path, tr("Importing tunnels needs administrator rights: your account must be a "
                      "member of the “calnet” group. Ask an administrator to run\n"
                      "    sudo usermod -aG calnet %1\n"
                      "then log out and back in.")
                       .arg(qEnvironmentVariable("USER", QStringLiteral("$USER"))));
    } else if (!outcome.errors.isEmpty()) {
        QStringList lines;
        for (const ImportOutcome::LineError& error : outcome.errors) {
            lines << lineErrorText(error);
        }
        QStringList listed = lines.mid(0, kMaxListedErrors);
        if (lines.size() > kMaxListedErrors) {
            listed << tr("… and %n more (see details)", nullptr,
                         int(lines.size()) - kMaxListedErrors);
        }
        const QString summary = outcome.message.isEmpty()
                                    ? tr("The file is not a valid WireGuard configuration.")
                                    : outcome.message;
        fail(path, summary + QLatin1String("\n\n") + listed.join(QLatin1Char('\n')),
             lines.join(QLatin1Char('\n')));
    } else {
        fail(path, outcome.message.isEmpty() ? tr("The Calnet service refused the file.")
                                             : outcome.message);
    }
    importNext();
}

void Importer::fail(const QString& path, const QString& reason, const QString& details) {
    Message message;
    message.text = tr("Could not import %1").arg(QFileInfo(path).fileName());
    message.informative = reason;
    message.details = details;
    enqueueMessage(message);
    emit importFailed(path, reason);
}

void Importer::enqueueMessage(Message message) {
    messages_.append(std::move(message));
    showNextMessage();
}

void Importer::showNextMessage() {
    if (openMessage_ || messages_.isEmpty()) {
        return;
    }
    const Message message = messages_.takeFirst();
    auto* box = new QMessageBox(dialogParent_);
    box->setObjectName(QStringLiteral("importMessage"));
    box->setWindowTitle(tr("Import tunnel"));
    box->setIcon(message.success ? QMessageBox::Information : QMessageBox::Warning);
    box->setTextFormat(Qt::PlainText);
    box->setText(message.text);
    box->setInformativeText(message.informative);
    if (!message.details.isEmpty()) {
        box->setDetailedText(message.details);
    }
    box->setAccessibleName(message.text);

    QPushButton* connectButton = nullptr;
    if (message.success) {
        connectButton = box->addButton(tr("Connect now"), QMessageBox::AcceptRole);
        connectButton->setObjectName(QStringLiteral("connectNowButton"));
        connectButton->setAccessibleName(tr("Connect now"));
        connectButton->setAccessibleDescription(tr("Connects the imported tunnel"));
        box->setDefaultButton(connectButton);
    }
    QPushButton* closeButton = box->addButton(QMessageBox::Close);
    box->setEscapeButton(closeButton);
    if (!message.success) {
        box->setDefaultButton(closeButton);
    }

    connect(box, &QMessageBox::finished, this,
            [this, box, connectButton, profile = message.profile] {
                if (connectButton != nullptr && box->clickedButton() == connectButton) {
                    session_->connectProfile(profile);
                }
                box->deleteLater();
            });
    // Whoever ends the box (a click, or its parent window closing), the next message follows.
    connect(box, &QObject::destroyed, this, &Importer::showNextMessage, Qt::QueuedConnection);
    openMessage_ = box;
    lastMessage_ = box;
    box->open();
}

bool Importer::acceptsDrop(const QMimeData* mime) {
    return !confFilesFrom(mime).isEmpty();
}

QStringList Importer::confFilesFrom(const QMimeData* mime) {
    QStringList files;
    if (mime == nullptr || !mime->hasUrls()) {
        return files;
    }
    for (const QUrl& url : mime->urls()) {
        if (!url.isLocalFile()) {
            continue;
        }
        const QString path = url.toLocalFile();
        if (path.endsWith(QLatin1StringView(".conf"), Qt::CaseInsensitive) &&
            !files.contains(path)) {
            files << path;
        }
    }
    return files;
}

QString Importer::profileNameFor(const QString& filePath) {
    const QString base = QFileInfo(filePath).completeBaseName();
    QString name;
    name.reserve(base.size());
    bool replacing = false; // one '-' for a run of unusable characters
    for (const QChar c : base) {
        if (isProfileNameChar(c)) {
            name.append(c);
            replacing = false;
        } else if (!replacing) {
            name.append(QLatin1Char('-'));
            replacing = true;
        }
    }
    // A leading '.' is refused (hidden file names); a leading '-' reads as an option in shells.
    qsizetype start = 0;
    while (start < name.size() && (name.at(start) == u'.' || name.at(start) == u'-')) {
        ++start;
    }
    name = name.mid(start, ipc::kMaxProfileNameLength);
    while (name.endsWith(QLatin1Char('-'))) {
        name.chop(1);
    }
    if (!ipc::isValidProfileName(name)) {
        return QStringLiteral("tunnel");
    }
    return name;
}

DropImportFilter::DropImportFilter(Importer* importer, QObject* parent)
    : QObject(parent), importer_(importer) {}

bool DropImportFilter::eventFilter(QObject* watched, QEvent* event) {
    switch (event->type()) {
    case QEvent::DragEnter:
    case QEvent::DragMove: {
        auto* drag = static_cast<QDragMoveEvent*>(event);
        if (importer_ == nullptr || !Importer::acceptsDrop(drag->mimeData())) {
            break;
        }
        drag->setDropAction(Qt::CopyAction);
        drag->accept();
        return true;
    }
    case QEvent::Drop: {
        auto* drop = static_cast<QDropEvent*>(event);
        const QStringList files = Importer::confFilesFrom(drop->mimeData());
        if (importer_ == nullptr || files.isEmpty()) {
            break;
        }
        drop->setDropAction(Qt::CopyAction);
        drop->accept();
        // After the drop returns: the drag source waits for it, and messages must not open
        // inside the platform's drag-and-drop loop.
        QTimer::singleShot(0, importer_.data(), [importer = importer_, files] {
            if (importer) {
                importer->importFiles(files);
            }
        });
        return true;
    }
    default:
        break;
    }
    return QObject::eventFilter(watched, event);
}

} // namespace calnet::app
