"""Takes the README's screenshot (docs/screenshot-map.png) of a running server's /map page,
signed in as a demo user so non-public layers show too.

    .venv/bin/python scripts/screenshot.py [--base http://127.0.0.1:8000] [--user gisadmin]
"""

import argparse
from pathlib import Path

from playwright.sync_api import sync_playwright

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--user", default="gisadmin")
    parser.add_argument("--password", default="citygrid-demo")
    parser.add_argument(
        "--out", default=str(Path(__file__).resolve().parents[1] / "docs" / "screenshot-map.png")
    )
    args = parser.parse_args()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 860})
        page.goto(f"{args.base}/accounts/login/")
        page.fill("input[name=username]", args.user)
        page.fill("input[name=password]", args.password)
        page.click("button[type=submit], input[type=submit]")
        page.goto(f"{args.base}/map")
        page.wait_for_function("window.citygridMap && window.citygridIdle === true", timeout=60_000)
        page.evaluate("window.citygridIdle = false; window.citygridMap.jumpTo({zoom: 15.3})")
        page.wait_for_function("window.citygridIdle === true", timeout=60_000)
        page.wait_for_timeout(1500)
        page.screenshot(path=args.out)
        browser.close()
    print(args.out)


if __name__ == "__main__":
    main()
