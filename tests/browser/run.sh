#!/usr/bin/env bash
# Runs the browser tests (CTest's browser_playwright): a fresh example database, then Playwright,
# which starts `cascade runserver` on it and drives Debian's headless Chromium.
#   tests/browser/run.sh TOOL BLOG_SHOP OUTPUT_DIR
# Exit 77 (skipped) only when chromium-headless-shell or npm is missing, which
# scripts/install-deps installs.
set -euo pipefail
tool=$(realpath "$1")
blog_shop=$(realpath "$2")
out=$(mkdir -p "$3" && realpath "$3")
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
browser=$(command -v chromium-headless-shell || true)
if [[ -z "$browser" ]] || ! command -v npm >/dev/null; then
  echo "SKIPPED: chromium-headless-shell or npm is missing (scripts/install-deps installs them)"
  exit 77
fi
cd "$here"
# The pinned Playwright (package-lock.json); its packages download no browser.
if [[ ! -f node_modules/@playwright/test/package.json ]]; then
  npm ci --no-audit --no-fund
fi
db="$out/browser.db"
rm -f "$db" "$db-wal" "$db-shm"
"$blog_shop" --database "sqlite:///$db" migrate >/dev/null
"$blog_shop" --database "sqlite:///$db" generate --size 30 >/dev/null
admin_password=browser-admin-pw
CASCADE_SUPERUSER_PASSWORD=$admin_password "$blog_shop" --database "sqlite:///$db" \
  createsuperuser --no-input --username admin >/dev/null
export CASCADE_ADMIN_PASSWORD=$admin_password
# A staff user who may only view posts: the permission tests. createsuperuser makes it; its
# superuser flag is then taken away and one permission granted, in Cascade's auth tables.
clerk_password=browser-clerk-pw
CASCADE_SUPERUSER_PASSWORD=$clerk_password "$blog_shop" --database "sqlite:///$db" \
  createsuperuser --no-input --username clerk >/dev/null
sqlite3 "$db" "UPDATE cascade_user SET is_superuser = 0 WHERE username = 'clerk';
  INSERT INTO cascade_user_permissions (user_id, codename)
    SELECT id, 'blog.view_post' FROM cascade_user WHERE username = 'clerk';"
export CASCADE_CLERK_PASSWORD=$clerk_password
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export CASCADE_BROWSER="$browser"
export CASCADE_BROWSER_URL="http://127.0.0.1:$port"
export CASCADE_BROWSER_OUTPUT="$out/playwright"  # Playwright empties it at each run
export CASCADE_BROWSER_SERVER="env CASCADE_SECRET_KEY=browser-tests '$tool' --settings '$root/examples/blog_shop/cascade.toml' --database 'sqlite:///$db' runserver 127.0.0.1:$port"
exec npx --no-install playwright test --config "$here/playwright.config.js"
