#!/usr/bin/env bash
# Builds the two Windows installers from a Windows build tree (cmake --preset windows):
#   scripts/windows-installers.sh BUILD_DIR OUT_DIR VERSION
# writes OUT_DIR/calnet-VERSION-setup.exe (NSIS, installers/windows/calnet.nsi) and
# OUT_DIR/calnet-VERSION.msi (wixl, installers/windows/calnet.wxs). scripts/package.sh --windows
# calls it after building the tree; it does not build anything itself.
#
# BUILD_DIR/deploy is the staging folder both installers take their files from: calnet.exe,
# calnetd.exe and calnetctl.exe, stripped (the preset builds RelWithDebInfo), with the DLLs and
# Qt plugins they need (the SDK's deploy-qt-mingw.sh) and Qt's own catalogues for the app's
# languages. Calnet's catalogues are inside calnet.exe (resources), so none of them is copied.
set -euo pipefail
cd "$(dirname "$0")/.."

build=${1:?usage: windows-installers.sh BUILD_DIR OUT_DIR VERSION}
out=${2:?usage: windows-installers.sh BUILD_DIR OUT_DIR VERSION}
version=${3:?usage: windows-installers.sh BUILD_DIR OUT_DIR VERSION}
sdk=${CALNET_QT_MINGW:-/opt/qt6-mingw}
die() { echo "windows-installers: $*" >&2; exit 1; }

# wixl-heat lists the staged files for the MSI (calnet.wxs names only calnet.exe and calnetd.exe).
for tool in makensis wixl wixl-heat x86_64-w64-mingw32-strip x86_64-w64-mingw32-objdump; do
  command -v "$tool" >/dev/null ||
    die "$tool is missing (as root: scripts/install-deps.sh --windows)"
done
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] ||
  die "version must be MAJOR.MINOR.PATCH (the installers' version fields want numbers): $version"
deploy_qt=$sdk/bin/deploy-qt-mingw.sh
[[ -x $deploy_qt ]] || die "$deploy_qt is missing (scripts/windows-sdk.sh extracts the SDK)"
declare -A exe=(
  [calnet.exe]=$build/app/calnet.exe
  [calnetctl.exe]=$build/app/calnetctl.exe
  [calnetd.exe]=$build/helper/calnetd.exe
)
for name in "${!exe[@]}"; do
  [[ -f ${exe[$name]} ]] || die "${exe[$name]} is missing: build the windows preset first"
done
# Qt's own strings (standard dialogs, buttons) in the languages the app is translated into.
qt_catalogues=()
for ts in translations/calnet_*.ts; do
  lang=${ts#translations/calnet_}
  lang=${lang%.ts}
  qm=/usr/share/qt6/translations/qtbase_$lang.qm
  [[ -f $qm ]] || die "$qm is missing (apt-get install qt6-translations-l10n)"
  qt_catalogues+=("$qm")
done

stage=$build/deploy
gen=$build/installer
rm -rf "$stage" "$gen"
mkdir -p "$stage" "$stage/translations" "$gen" "$out"
for name in "${!exe[@]}"; do
  x86_64-w64-mingw32-strip -o "$stage/$name" "${exe[$name]}"
done
"$deploy_qt" "$stage" "$sdk" >"$gen/deploy.log"
cp "${qt_catalogues[@]}" "$stage/translations/"
# Wintun's signed driver DLL is not in the repository (its licence allows shipping it unmodified,
# but it comes from https://www.wintun.net): CALNET_WINTUN_DLL names the amd64 wintun.dll to
# ship next to calnetd.exe. Without it the installers ship none, and calnetd.exe says
# "wintun.dll not found" when a tunnel comes up.
if [[ -n ${CALNET_WINTUN_DLL:-} ]]; then
  [[ -f $CALNET_WINTUN_DLL ]] || die "CALNET_WINTUN_DLL=$CALNET_WINTUN_DLL is not a file"
  cp "$CALNET_WINTUN_DLL" "$stage/wintun.dll"
else
  echo "windows-installers: no CALNET_WINTUN_DLL: the installers ship without wintun.dll" >&2
fi
# What the installers promise (README, tests/windows/test_installer_wine.sh): a program whose
# platform plugin or runtime is missing would install fine and then not start.
for f in Qt6Core.dll Qt6Widgets.dll platforms/qwindows.dll styles/qwindowsvistastyle.dll \
  libstdc++-6.dll libwinpthread-1.dll; do
  [[ -f $stage/$f ]] || die "$f was not deployed into $stage (see $gen/deploy.log)"
done

# The uninstaller's list: every staged file, then every folder, deepest first, so that RMDir
# (without /r) leaves a folder only when someone else's files are in it.
# shellcheck disable=SC2016 # $INSTDIR is NSIS's, not the shell's
(
  cd "$stage"
  find . -type f | LC_ALL=C sort | sed 's|^\./||; s|/|\\|g; s|.*|Delete "$INSTDIR\\&"|'
  find . -mindepth 1 -type d | LC_ALL=C sort -r | sed 's|^\./||; s|/|\\|g; s|.*|RMDir "$INSTDIR\\&"|'
) >"$gen/uninstall-files.nsh"

setup=$out/calnet-$version-setup.exe
msi=$out/calnet-$version.msi
rm -f "$setup" "$msi"
echo "== makensis -> $setup"
makensis -V2 -INPUTCHARSET UTF8 \
  "-DVERSION=$version" "-DSTAGING=$(readlink -f "$stage")" \
  "-DFILELIST=$(readlink -f "$gen/uninstall-files.nsh")" "-DOUTFILE=$(readlink -f "$out")/${setup##*/}" \
  installers/windows/calnet.nsi

# calnet.exe and calnetd.exe are in calnet.wxs itself (shortcut, service); the rest is generated.
echo "== wixl -> $msi"
(cd "$stage" && find . -type f ! -name calnet.exe ! -name calnetd.exe | LC_ALL=C sort) |
  wixl-heat -p ./ --directory-ref INSTALLDIR --component-group DeployedFiles \
    --var var.Deploy --win64 >"$gen/files.wxs"
# wixl resolves each Source relative to the folder it runs in (an absolute path fails).
wxs=$(readlink -f installers/windows/calnet.wxs)
files_wxs=$(readlink -f "$gen/files.wxs")
msi_path=$(readlink -f "$out")/${msi##*/}
(cd "$stage" && wixl -a x64 -D "Version=$version" -D Deploy=. -D Win64=yes \
  -o "$msi_path" "$wxs" "$files_wxs")

for f in "$setup" "$msi"; do
  [[ -s $f ]] || die "$f was not written"
done
ls -l "$setup" "$msi"
