#!/usr/bin/env bash
# The German and French catalogues stay complete: lupdate is run over the app's sources into
# copies of translations/calnet_{de,fr}.ts (the options app/CMakeLists.txt gives
# qt_add_translations), and every message it finds must be translated, keep the source's
# placeholders, mnemonic and HTML tags, and both catalogues must compile with lrelease without
# a warning. A tr() string added without a translation, or one lupdate cannot place in the
# context tr() looks it up in at run time, fails here rather than showing up in English.
# translations/calnet_en.ts holds only the English plural forms (lupdate -pluralonly): every %n
# message must have its singular and plural there, or English says "1 peer(s)".
#
# usage: test_translations.sh SOURCE_DIR
# env:   LUPDATE, LRELEASE (default /usr/lib/qt6/bin/lupdate, /usr/lib/qt6/bin/lrelease)
# needs: python3 (standard library only)
set -euo pipefail

src=${1:?usage: test_translations.sh SOURCE_DIR}
lupdate=${LUPDATE:-/usr/lib/qt6/bin/lupdate}
lrelease=${LRELEASE:-/usr/lib/qt6/bin/lrelease}
languages=(de fr)

failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}
ok() { echo "ok: $*"; }

for tool in "$lupdate" "$lrelease"; do
    [[ -x $tool ]] || {
        echo "FAIL: $tool not found (apt-get install qt6-l10n-tools, or set LUPDATE/LRELEASE)" >&2
        exit 1
    }
done
command -v python3 >/dev/null || {
    echo "FAIL: python3 not installed" >&2
    exit 1
}

work=$(mktemp -d)
cp "$src/translations/calnet_en.ts" "$work/"
trap 'rm -rf "$work"' EXIT

copies=()
for lang in "${languages[@]}"; do
    cp "$src/translations/calnet_$lang.ts" "$work/"
    copies+=("$work/calnet_$lang.ts")
done

# All of app/calnet, app/platform and app/signin (its sentences reach the sign-in dialog), main.cpp included (its command-line help is translated too). The include
# path lets lupdate resolve "namespace calnet::app" so contexts match the runtime class names.
shopt -s nullglob
sources=("$src"/app/calnet/*.cpp "$src"/app/calnet/*.h "$src"/app/signin/*.cpp "$src"/app/signin/*.h
  "$src"/app/platform/*/*.cpp "$src"/app/platform/*/*.h)
shopt -u nullglob
((${#sources[@]} > 0)) || {
    echo "FAIL: no sources under $src/app/calnet" >&2
    exit 1
}
out=$("$lupdate" -no-obsolete -locations none -I "$src" "${sources[@]}" -ts "${copies[@]}" 2>&1) ||
    fail "lupdate exited with $?"
echo "$out"
en_out=$("$lupdate" -pluralonly -target-language en -no-obsolete -locations none -I "$src" \
    "${sources[@]}" -ts "$work/calnet_en.ts" 2>&1) || fail "lupdate -pluralonly exited with $?"
echo "$en_out"
out+=$'\n'$(grep -v "^Stripping non plural forms" <<<"$en_out")
# Anything but its progress lines ("Updating ...", indented counts) is a warning, and each one
# means a string extracted into a context other than the one tr() uses at run time (or not
# extracted at all).
warnings=$(grep -Ev "^(Updating '.*'\.\.\.|    .*|)$" <<<"$out" || true)
if [[ -n $warnings ]]; then
    fail "lupdate warnings (a tr() call it cannot attribute to its class):"$'\n'"$warnings"
else
    ok "lupdate extracts every string without a warning"
fi

# Per message: translated, not empty, same placeholders / mnemonic / file patterns / HTML tags.
check=$(
    python3 - "${copies[@]}" "$work/calnet_en.ts" <<'EOF'
import re
import sys
import xml.etree.ElementTree as ET

PLACEHOLDER = re.compile(r"%(?:[1-9]|n)")
TAG = re.compile(r"<\s*(/?)\s*([A-Za-z][A-Za-z0-9]*)[^>]*?(/?)>")
PATTERN = re.compile(r"\*\.[A-Za-z0-9]+")


def mnemonics(text):
    return len(re.findall(r"&[^&\s]", text.replace("&&", "")))


def tags(text):
    found = []
    stack = []
    balanced = True
    for closing, name, selfclosing in TAG.findall(text):
        name = name.lower()
        found.append((closing, name))
        if selfclosing or name == "br":
            continue
        if not closing:
            stack.append(name)
        elif not stack or stack.pop() != name:
            balanced = False
    return sorted(found), balanced and not stack


problems = []
counts = {}
for path in sys.argv[1:]:
    lang = path.rsplit("_", 1)[-1].removesuffix(".ts")
    counts[lang] = 0
    for context in ET.parse(path).getroot().iter("context"):
        name = context.findtext("name")
        for message in context.iter("message"):
            source = message.findtext("source") or ""
            where = f"{lang}: [{name}] {source!r}"
            counts[lang] += 1
            translation = message.find("translation")
            if translation is None:
                problems.append(f"{where}: missing")
                continue
            kind = translation.get("type")
            if kind in ("unfinished", "vanished", "obsolete"):
                problems.append(f"{where}: {kind}")
                continue
            if message.get("numerus") == "yes":
                forms = [f.text or "" for f in translation.findall("numerusform")]
            else:
                forms = [translation.text or ""]
            if not forms or any(not f.strip() for f in forms):
                problems.append(f"{where}: empty translation")
                continue
            source_tags, source_balanced = tags(source)
            for form in forms:
                said = f"{where} -> {form!r}"
                if set(PLACEHOLDER.findall(source)) != set(PLACEHOLDER.findall(form)):
                    problems.append(f"{said}: placeholders differ")
                if mnemonics(source) != mnemonics(form):
                    problems.append(f"{said}: mnemonic (&) differs")
                if sorted(PATTERN.findall(source)) != sorted(PATTERN.findall(form)):
                    problems.append(f"{said}: file patterns differ")
                form_tags, form_balanced = tags(form)
                if form_tags != source_tags or (source_balanced and not form_balanced):
                    problems.append(f"{said}: HTML tags differ or do not balance")
for lang, n in counts.items():
    print(f"MESSAGES {lang} {n}")
for p in problems:
    print(f"PROBLEM {p}")
EOF
) || fail "checking the catalogues failed"
while IFS= read -r line; do
    case $line in
    "MESSAGES "*)
        read -r _ lang n <<<"$line"
        if ((n > 0)); then ok "$lang: $n messages"; else fail "$lang: no messages found"; fi
        ;;
    "PROBLEM "*) fail "${line#PROBLEM }" ;;
    esac
done <<<"$check"

# The catalogues as the build embeds them compile cleanly.
for lang in "${languages[@]}" en; do
    ts=$src/translations/calnet_$lang.ts
    out=$("$lrelease" "$ts" -qm "$work/calnet_$lang.qm" 2>&1) || fail "lrelease $ts exited with $?"
    echo "$out"
    noise=$(grep -Ev "^(Updating '.*'\.\.\.|    Generated [0-9]+ translation\(s\) \([0-9]+ finished and 0 unfinished\)|)$" <<<"$out" || true)
    if [[ -n $noise || ! -s $work/calnet_$lang.qm ]]; then
        fail "lrelease $ts: $noise"
    else
        ok "lrelease $ts"
    fi
done

if ((failures > 0)); then
    echo "$failures check(s) failed" >&2
    exit 1
fi
echo "all translation checks passed"
