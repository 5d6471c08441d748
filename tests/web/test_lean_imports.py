"""The serving path stays lean: loading the WSGI application and every route imports none of
the data-frame and raster libraries. pandas, geopandas, pyogrio and rasterio are imported inside
the functions that read or write files (layer import and export, raster tiles, geocoder
sources), and scikit-learn (with scipy) inside the category recommendation, so a web worker
that never runs one does not carry them (~100 MB each worker)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("pandas", "geopandas", "pyogrio", "rasterio", "sklearn", "scipy")

PROBE = """
import json, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "web.settings")
import web.wsgi
import web.urls
from django.urls import get_resolver
get_resolver().url_patterns  # every included URLconf, so every view module
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in %r)))
"""


def test_web_urls_import_no_data_frame_or_raster_library():
    done = subprocess.run(
        [sys.executable, "-c", PROBE % (HEAVY,)],
        cwd=ROOT,
        env={**os.environ, "CITYGRID_DEBUG": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert loaded == [], f"the serving path imports {loaded}; import them inside the function"
