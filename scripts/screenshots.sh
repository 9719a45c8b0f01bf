#!/usr/bin/env bash
# Screenshots of the dashboard's main pages, taken from the real product: the browser test
# Main_pages_render_at_desktop_and_phone_width runs Api, Gateway, Worker and Web against the local
# stack (real PostgreSQL, Redis, RabbitMQ), drives Chromium through the pages and saves each as
# docs/images/web-<page>.png (desktop, and phone-* at 375 px).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export UJUMBE_SCREENSHOTS=$ROOT/docs/images
mkdir -p "$UJUMBE_SCREENSHOTS"
"$ROOT/scripts/test.sh" --filter "FullyQualifiedName~WebDashboardTests.Main_pages_render_at_desktop_and_phone_width"
ls -1 "$UJUMBE_SCREENSHOTS"/web-*.png
