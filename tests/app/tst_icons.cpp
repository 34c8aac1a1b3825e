// The tray and application icons as a user sees them: embedded under :/calnet/icons, valid for
// Qt's SVG Tiny renderer, visible on light and on dark panels, and telling the six tray states
// apart by shape as well as by colour (about one man in twelve cannot tell the green "connected"
// from the red "error" by hue alone).
//
// Set CALNET_ICON_PREVIEW_DIR to a directory to get a contact sheet of every icon on both panels
// (icons-<size>.png) for a person to look at after changing a drawing.
#include <QDir>
#include <QFile>
#include <QIcon>
#include <QImage>
#include <QPainter>
#include <QRegularExpression>
#include <QSvgRenderer>
#include <QTest>

#include <cmath>

#include "app/calnet/traystate.h"

using namespace calnet::app;

namespace {

// Typical panel colours: Breeze/Adwaita light panels sit near #f5f5f5, dark ones near #1e1e1e.
const QColor kLightPanel(0xf5, 0xf5, 0xf5);
const QColor kDarkPanel(0x1e, 0x1e, 0x1e);

const QList<TrayState> kStates{TrayState::Unavailable, TrayState::Disconnected,
                               TrayState::Connecting,  TrayState::Connected,
                               TrayState::Degraded,    TrayState::Error};

const QString kAppIcon = QStringLiteral(":/calnet/icons/calnet.svg");

QString statePath(const QString& id) {
    return QStringLiteral(":/calnet/icons/calnet-%1.svg").arg(id);
}

// Every icon as (row name, resource path): the six tray states and the application icon.
QList<std::pair<QString, QString>> allIcons() {
    QList<std::pair<QString, QString>> out;
    for (TrayState s : kStates)
        out.append({trayStateId(s), statePath(trayStateId(s))});
    out.append({QStringLiteral("app"), kAppIcon});
    return out;
}

QImage renderIcon(const QString& path, int size) {
    QSvgRenderer renderer(path);
    QImage img(size, size, QImage::Format_ARGB32_Premultiplied);
    img.fill(Qt::transparent);
    QPainter p(&img);
    renderer.render(&p);
    p.end();
    return img;
}

QImage onPanel(const QImage& icon, const QColor& panel) {
    QImage img(icon.size(), QImage::Format_RGB32);
    img.fill(panel);
    QPainter p(&img);
    p.drawImage(0, 0, icon);
    p.end();
    return img;
}

// WCAG 2.1 relative luminance of an sRGB colour.
double luminance(QRgb c) {
    auto lin = [](int v) {
        const double s = v / 255.0;
        return s <= 0.04045 ? s / 12.92 : std::pow((s + 0.055) / 1.055, 2.4);
    };
    return 0.2126 * lin(qRed(c)) + 0.7152 * lin(qGreen(c)) + 0.0722 * lin(qBlue(c));
}

double contrastRatio(QRgb a, QRgb b) {
    const double la = luminance(a);
    const double lb = luminance(b);
    return (std::max(la, lb) + 0.05) / (std::min(la, lb) + 0.05);
}

double share(int count, const QImage& img) {
    return double(count) / (img.width() * img.height());
}

// Pixels at least half opaque: the part of the icon a user actually sees.
double opaqueShare(const QImage& icon) {
    int n = 0;
    for (int y = 0; y < icon.height(); ++y)
        for (int x = 0; x < icon.width(); ++x)
            n += qAlpha(icon.pixel(x, y)) >= 128;
    return share(n, icon);
}

// 3:1 is WCAG 2.1 SC 1.4.11 (non-text contrast): the minimum for "graphical objects required to
// understand the content" against adjacent colours. A tray icon is exactly such an object.
constexpr double kMinContrast = 3.0;

double contrastingShare(const QImage& composed, const QColor& panel) {
    int n = 0;
    for (int y = 0; y < composed.height(); ++y)
        for (int x = 0; x < composed.width(); ++x)
            n += contrastRatio(composed.pixel(x, y), panel.rgb()) >= kMinContrast;
    return share(n, composed);
}

// A difference of 64 of 255 in any channel (or in grey) is a change one sees at a glance even at
// tray size; anti-aliasing noise along an edge stays far below it.
constexpr int kStrongDelta = 64;

double colourDiffShare(const QImage& a, const QImage& b) {
    int n = 0;
    for (int y = 0; y < a.height(); ++y)
        for (int x = 0; x < a.width(); ++x) {
            const QRgb p = a.pixel(x, y);
            const QRgb q = b.pixel(x, y);
            const int d = std::max({std::abs(qRed(p) - qRed(q)), std::abs(qGreen(p) - qGreen(q)),
                                    std::abs(qBlue(p) - qBlue(q))});
            n += d >= kStrongDelta;
        }
    return share(n, a);
}

double greyDiffShare(const QImage& a, const QImage& b) {
    int n = 0;
    for (int y = 0; y < a.height(); ++y)
        for (int x = 0; x < a.width(); ++x)
            n += std::abs(qGray(a.pixel(x, y)) - qGray(b.pixel(x, y))) >= kStrongDelta;
    return share(n, a);
}

// Reduce to two tones and count disagreeing pixels. Two icons that differ only in hue come out
// nearly identical here; what survives is the drawing itself: outline, glyph, hollow or filled.
// The cut at luminance 0.35 sits clear of every fill used (green, red, blue and grey lie within
// 0.17..0.27, amber at 0.47), so anti-aliasing cannot flip a whole fill from one tone to the other.
constexpr double kTwoToneCut = 0.35;

double silhouetteDiffShare(const QImage& a, const QImage& b) {
    int n = 0;
    for (int y = 0; y < a.height(); ++y)
        for (int x = 0; x < a.width(); ++x)
            n += (luminance(a.pixel(x, y)) >= kTwoToneCut) !=
                 (luminance(b.pixel(x, y)) >= kTwoToneCut);
    return share(n, a);
}

void writeContactSheet(const QString& dir, int size) {
    const auto icons = allIcons();
    const int pad = size / 4;
    const int cell = size + 2 * pad;
    QImage sheet(cell * int(icons.size()), cell * 2, QImage::Format_RGB32);
    QPainter p(&sheet);
    p.fillRect(0, 0, sheet.width(), cell, kLightPanel);
    p.fillRect(0, cell, sheet.width(), cell, kDarkPanel);
    for (int i = 0; i < icons.size(); ++i) {
        const QImage icon = renderIcon(icons[i].second, size);
        p.drawImage(i * cell + pad, pad, icon);
        p.drawImage(i * cell + pad, cell + pad, icon);
    }
    p.end();
    QDir().mkpath(dir);
    sheet.save(QDir(dir).filePath(QStringLiteral("icons-%1.png").arg(size)));
}

} // namespace

class tst_Icons : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() {
        const QString dir = qEnvironmentVariable("CALNET_ICON_PREVIEW_DIR");
        if (!dir.isEmpty())
            for (int size : {22, 32, 64, 128})
                writeContactSheet(dir, size);
    }

    void icon_data() {
        QTest::addColumn<QString>("path");
        for (const auto& [name, path] : allIcons())
            QTest::newRow(qPrintable(name)) << path;
    }

    void icon() {
        QFETCH(QString, path);
        QVERIFY2(QFile::exists(path), qPrintable(path));

        // Qt reports anything its SVG Tiny handler skips (CSS, filters, unknown elements) as a
        // warning; such an icon renders differently from what a browser preview shows.
        QTest::failOnWarning(QRegularExpression(QStringLiteral(".*")));
        QSvgRenderer renderer(path);
        QVERIFY(renderer.isValid());
        QCOMPARE(renderer.viewBoxF(), QRectF(0, 0, 64, 64));
        QCOMPARE(renderer.defaultSize(), QSize(64, 64));
        QVERIFY(!renderer.animated());

        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray svg = f.readAll();
        for (const char* banned : {"<style", "style=", "class=", "<filter", "<mask", "<image",
                                   "<text", "clip-path", "<script"})
            QVERIFY2(!svg.contains(banned), banned);
    }

    void coverage_data() {
        QTest::addColumn<QString>("path");
        QTest::addColumn<int>("size");
        for (const auto& [name, path] : allIcons())
            for (int size : {22, 32, 64})
                QTest::addRow("%s@%d", qPrintable(name), size) << path << size;
    }

    void coverage() {
        QFETCH(QString, path);
        QFETCH(int, size);
        const QImage icon = renderIcon(path, size);
        QCOMPARE(icon.size(), QSize(size, size));
        // The hollow "disconnected" outline is the sparsest drawing (38% of the square);
        // a quarter leaves room for anti-aliasing at 22 px while still failing an icon that lost
        // its main shape or rendered as nothing.
        const double s = opaqueShare(icon);
        QVERIFY2(s >= 0.25, qPrintable(QString::number(s)));
        // And it must not be a solid square: the shape has to show against the panel.
        QVERIFY2(s <= 0.90, qPrintable(QString::number(s)));
    }

    void contrast_data() {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QColor>("panel");
        QTest::addColumn<int>("size");
        for (const auto& [name, path] : allIcons())
            for (int size : {22, 64}) {
                QTest::addRow("%s light@%d", qPrintable(name), size) << path << kLightPanel << size;
                QTest::addRow("%s dark@%d", qPrintable(name), size) << path << kDarkPanel << size;
            }
    }

    void contrast() {
        QFETCH(QString, path);
        QFETCH(QColor, panel);
        QFETCH(int, size);
        const QImage composed = onPanel(renderIcon(path, size), panel);
        // At least 3:1 (see kMinContrast) on a sixth of the square: the rim or outline alone of
        // every drawing reaches that on a light panel, and the fill or inner line on a dark one.
        // An icon drawn in one mid tone, or a dark outline with nothing light on it, falls short
        // on one of the two panels.
        const double s = contrastingShare(composed, panel);
        QVERIFY2(s >= 1.0 / 6, qPrintable(QString::number(s)));
    }

    void statesDiffer_data() {
        QTest::addColumn<QString>("a");
        QTest::addColumn<QString>("b");
        for (qsizetype i = 0; i < kStates.size(); ++i)
            for (qsizetype j = i + 1; j < kStates.size(); ++j) {
                const QString a = trayStateId(kStates[i]);
                const QString b = trayStateId(kStates[j]);
                QTest::addRow("%s-%s", qPrintable(a), qPrintable(b)) << a << b;
            }
    }

    void statesDiffer() {
        QFETCH(QString, a);
        QFETCH(QString, b);
        constexpr int size = 32;
        const QImage ia = renderIcon(statePath(a), size);
        const QImage ib = renderIcon(statePath(b), size);
        // Shares of the 32 px square that must change strongly. In colour every pair swaps its
        // whole fill (or fill against hollow), close to half the square; in grey and in two tones
        // green and blue, red and green fall together and only the glyphs differ (about 8% for
        // dots against check), hence the lower bars.
        for (const QColor& panel : {kLightPanel, kDarkPanel}) {
            const QImage pa = onPanel(ia, panel);
            const QImage pb = onPanel(ib, panel);
            const double colour = colourDiffShare(pa, pb);
            QVERIFY2(colour >= 0.30, qPrintable(QString::number(colour)));
            const double grey = greyDiffShare(pa, pb);
            QVERIFY2(grey >= 0.06, qPrintable(QString::number(grey)));
            const double twoTone = silhouetteDiffShare(pa, pb);
            QVERIFY2(twoTone >= 0.04, qPrintable(QString::number(twoTone)));
        }
    }

    void appIconDiffersFromStates() {
        const QImage app = onPanel(renderIcon(kAppIcon, 32), kLightPanel);
        for (TrayState s : kStates) {
            const QImage state = onPanel(renderIcon(statePath(trayStateId(s)), 32), kLightPanel);
            QVERIFY2(greyDiffShare(app, state) >= 0.06, qPrintable(trayStateId(s)));
        }
    }

    void trayIconPathPointsAtResource() {
        QSet<QString> seen;
        for (TrayState s : kStates) {
            const QString path = trayIconPath(s);
            QCOMPARE(path, statePath(trayStateId(s)));
            QVERIFY2(QFile::exists(path), qPrintable(path));
            QVERIFY2(QSvgRenderer(path).isValid(), qPrintable(path));
            seen.insert(path);
        }
        QCOMPARE(seen.size(), kStates.size());
    }

    // QIcon(":/….svg") only yields pixels when the svg icon engine (or svg image format) plugin
    // is installed, i.e. Debian's libqt6svg6 at run time; without it the tray shows nothing.
    void qiconRendersSvg_data() { icon_data(); }
    void qiconRendersSvg() {
        QFETCH(QString, path);
        const QIcon icon(path);
        QVERIFY(!icon.isNull());
        for (int size : {22, 48}) {
            const QPixmap pm = icon.pixmap(size, size);
            QVERIFY(!pm.isNull());
            QCOMPARE(pm.size(), QSize(size, size));
            QVERIFY(opaqueShare(pm.toImage()) >= 0.25);
        }
    }
};

QTEST_MAIN(tst_Icons)
#include "tst_icons.moc"
