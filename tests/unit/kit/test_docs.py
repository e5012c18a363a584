"""/docs and /redoc offline: every asset their HTML names is served by the app itself."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from failsafe.app import create_app
from failsafe.kit import docs
from failsafe.settings import DatabaseSettings, Settings

URL = re.compile(r"""(?:src|href|spec-url|url)\s*[=:]\s*['"]([^'"]+)['"]""")


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    db = f"sqlite+aiosqlite:///{tmp_path / 'fs.db'}"
    return TestClient(create_app(Settings(database=DatabaseSettings(url=db))))


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_page_loads_everything_from_the_app(client: TestClient, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200
    html = response.text
    assert "http://" not in html and "https://" not in html and "//" + "cdn" not in html
    assert "fonts.googleapis" not in html
    # ...and the browser is told to ask no other host (ReDoc's bundle would fetch a logo).
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "img-src 'self' data:" in csp
    assert "http" not in csp
    urls = URL.findall(html)
    assert "/openapi.json" in urls
    assets = [u for u in urls if u.startswith(docs.PREFIX)]
    assert len(assets) >= 2  # the script and the favicon (and Swagger's stylesheet)
    for url in assets:
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 1000
        assert asset.headers["content-type"] == docs.ASSETS[url.rsplit("/", 1)[1]]


def test_only_the_listed_assets_are_served(client: TestClient) -> None:
    for name in ("../../__init__.py", "core.py", "%2e%2e%2fcore.py", "swagger-ui.css.map"):
        response = client.get(f"{docs.PREFIX}/{name}")
        assert response.status_code == 404, name
        assert response.json()["error"]["code"] == "not_found"


def test_the_packaged_assets_exist() -> None:
    for name in docs.ASSETS:
        assert (docs.STATIC / name).stat().st_size > 1000, name


def test_docs_pages_stay_out_of_the_openapi_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith(("/docs", "/redoc"))]
