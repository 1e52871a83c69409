#!/bin/sh
# check_html.sh: load a generated plots/index.html in headless Chromium (Debian
# `chromium`, installed by `harness/deps.sh html`) from the file system, with no
# server, and check that every image loaded and none is broken.
#   tests/check_html.sh [plots/index.html]      (make check-html)
# How: a copy of the page with a small script appended is written next to it (so
# relative paths resolve the same), Chromium loads it with --dump-dom, and the
# script writes, after the load event, one line into the DOM:
#   IMGCHECK total=N ok=N broken=N [src...]
# Also checked in the shell: every image path is relative and every local link
# (SVGs, scripts) exists. Exit 0 when all is well, 1 otherwise, 2 on bad usage.
set -eu
page=${1:-plots/index.html}
[ -f "$page" ] || { echo "check_html: no $page (run \`make plots\` first)" >&2; exit 2; }
browser=""
for b in chromium chromium-browser google-chrome; do
  if command -v "$b" >/dev/null 2>&1; then browser=$b; break; fi
done
[ -n "$browser" ] || { echo "check_html: chromium not found (harness/deps.sh html)" >&2; exit 2; }

dir=$(cd "$(dirname "$page")" && pwd)
probe="$dir/.check_html_$$.html"
profile=$(mktemp -d)
out=$(mktemp)
trap 'rm -rf "$probe" "$profile" "$out"' EXIT INT TERM

status=0
# 1. static checks: relative image paths, local links that exist
if grep -Eo '<img [^>]*src="[^"]*"' "$page" | grep -Eq 'src="(/|[a-z]+:)'; then
  echo "check_html: an image path is absolute or a URL (the page must open from any directory)" >&2
  status=1
fi
for ref in $(grep -Eo '(src|href)="[^"#:]+"' "$page" | sed -E 's/^(src|href)="//; s/"$//' | sort -u); do
  if [ ! -e "$dir/$ref" ]; then echo "check_html: missing file referenced by the page: $ref" >&2; status=1; fi
done

# 2. load it in the browser
sed 's#</body></html>##' "$page" > "$probe"
cat >> "$probe" <<'EOF'
<script>
window.addEventListener('load', function () {
  var imgs = document.images, bad = [], ok = 0;
  for (var i = 0; i < imgs.length; i++) {
    var im = imgs[i];
    if (im.complete && im.naturalWidth > 0 && im.naturalHeight > 0) ok++;
    else bad.push(im.getAttribute('src'));
  }
  var p = document.createElement('pre');
  p.textContent = 'IMGCHECK total=' + imgs.length + ' ok=' + ok + ' broken=' + bad.length +
                  (bad.length ? ' ' + bad.join(' ') : '');
  document.body.appendChild(p);
});
</script>
</body></html>
EOF
"$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --virtual-time-budget=15000 --dump-dom "file://$probe" \
  > "$out" 2>/dev/null || { echo "check_html: $browser failed to load $probe" >&2; exit 1; }
line=$(grep -Eo 'IMGCHECK total=[0-9]+ ok=[0-9]+ broken=[0-9]+[^<]*' "$out" | head -1 || true)
if [ -z "$line" ]; then
  echo "check_html: the page did not finish loading (no IMGCHECK line in the DOM)" >&2
  exit 1
fi
echo "check_html: $page: $line"
total=$(echo "$line" | sed -E 's/.*total=([0-9]+).*/\1/')
broken=$(echo "$line" | sed -E 's/.*broken=([0-9]+).*/\1/')
[ "$total" -gt 0 ] || { echo "check_html: the page has no image" >&2; status=1; }
[ "$broken" -eq 0 ] || { echo "check_html: $broken broken image(s)" >&2; status=1; }
[ "$status" -eq 0 ] && echo "check_html: ok ($total images loaded)"
exit "$status"
