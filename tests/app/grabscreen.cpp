// calnet-grabscreen: saves the X screen ($DISPLAY) as a PNG for tests/app/screenshots.sh, and
// fails when the picture is blank, so a screenshot of a window that never painted (or of an
// empty root window) cannot pass as a result.
//
//   calnet-grabscreen [--rect X,Y,W,H]... [--margin PX] [--min-colors N] [--max-share F] OUT.png
//
// With --rect the image is cropped to the union of the rectangles (root coordinates, as
// `xdotool getwindowgeometry --shell` prints them) grown by the margin and clipped to the screen.
// Blank means fewer than --min-colors distinct colours (default 16) or one colour covering more
// than --max-share of the pixels (default 0.98). Exit status: 0 saved and not blank, 1 saved but
// blank, 2 bad arguments or no screen.
#include <QCommandLineParser>
#include <QGuiApplication>
#include <QHash>
#include <QImage>
#include <QPixmap>
#include <QRect>
#include <QScreen>

#include <algorithm>
#include <cstdio>
#include <optional>

namespace {

std::optional<QRect> parseRect(const QString& text) {
    const QStringList parts = text.split(QLatin1Char(','));
    if (parts.size() != 4)
        return std::nullopt;
    int v[4];
    for (int i = 0; i < 4; ++i) {
        bool ok = false;
        v[i] = parts[i].trimmed().toInt(&ok);
        if (!ok)
            return std::nullopt;
    }
    if (v[2] <= 0 || v[3] <= 0)
        return std::nullopt;
    return QRect(v[0], v[1], v[2], v[3]);
}

int fail(const char* message) {
    std::fprintf(stderr, "calnet-grabscreen: %s\n", message);
    return 2;
}

} // namespace

int main(int argc, char** argv) {
    // The screen is the X server's, never an offscreen or Wayland surface.
    qputenv("QT_QPA_PLATFORM", "xcb");
    QGuiApplication app(argc, argv);

    QCommandLineParser parser;
    parser.addHelpOption();
    const QCommandLineOption rectOption(QStringLiteral("rect"),
                                        QStringLiteral("Crop to X,Y,W,H (repeatable: union)."),
                                        QStringLiteral("x,y,w,h"));
    const QCommandLineOption marginOption(QStringLiteral("margin"),
                                          QStringLiteral("Grow the crop by PX pixels."),
                                          QStringLiteral("px"), QStringLiteral("0"));
    const QCommandLineOption colorsOption(QStringLiteral("min-colors"),
                                          QStringLiteral("Fewest distinct colours (16)."),
                                          QStringLiteral("n"), QStringLiteral("16"));
    const QCommandLineOption shareOption(QStringLiteral("max-share"),
                                         QStringLiteral("Largest share of one colour (0.98)."),
                                         QStringLiteral("f"), QStringLiteral("0.98"));
    parser.addOptions({rectOption, marginOption, colorsOption, shareOption});
    parser.addPositionalArgument(QStringLiteral("out"), QStringLiteral("The PNG to write."));
    parser.process(app);
    if (parser.positionalArguments().size() != 1)
        return fail("exactly one output file expected");
    const QString out = parser.positionalArguments().front();
    const int margin = parser.value(marginOption).toInt();
    const int minColors = parser.value(colorsOption).toInt();
    const double maxShare = parser.value(shareOption).toDouble();

    QScreen* screen = QGuiApplication::primaryScreen();
    if (!screen)
        return fail("no screen");
    // Window 0 is the root window: everything on screen, popups and embedded tray icons too.
    QImage image = screen->grabWindow(0).toImage();
    if (image.isNull())
        return fail("grabbing the root window failed");

    QRect crop;
    for (const QString& text : parser.values(rectOption)) {
        const auto r = parseRect(text);
        if (!r)
            return fail("--rect wants X,Y,W,H with W and H above zero");
        crop = crop.united(*r);
    }
    if (!crop.isNull()) {
        // grabWindow returns device pixels; rectangles come in X (device) pixels as well.
        crop = crop.adjusted(-margin, -margin, margin, margin).intersected(image.rect());
        if (crop.isEmpty())
            return fail("the rectangle lies outside the screen");
        image = image.copy(crop);
    }
    image = image.convertToFormat(QImage::Format_RGB32);

    QHash<QRgb, qint64> counts;
    qint64 top = 0;
    for (int y = 0; y < image.height(); ++y) {
        const auto* line = reinterpret_cast<const QRgb*>(image.constScanLine(y));
        for (int x = 0; x < image.width(); ++x)
            top = std::max(top, ++counts[line[x]]);
    }
    const qint64 pixels = qint64(image.width()) * image.height();
    const double share = pixels ? double(top) / double(pixels) : 1.0;

    if (!image.save(out, "PNG"))
        return fail("cannot write the PNG");
    std::printf("%s: %dx%d at %d,%d, %lld colours, most common %.1f%%\n", qPrintable(out),
                image.width(), image.height(), crop.x(), crop.y(),
                static_cast<long long>(counts.size()), share * 100.0);
    if (counts.size() < minColors || share > maxShare) {
        std::fprintf(stderr,
                     "calnet-grabscreen: %s looks blank (%lld colours, %.1f%% one colour)\n",
                     qPrintable(out), static_cast<long long>(counts.size()), share * 100.0);
        return 1;
    }
    return 0;
}
