"""The enrolment page's files through the real Envoy: right types, security headers, nothing else."""

from __future__ import annotations

import pytest

from passkeys import web
from tests.support.gateway import Gateway


@pytest.mark.parametrize(("path", "content_type"), [(p, t) for p, (_, t) in web.FILES.items()])
def test_each_file_is_served_with_its_type_and_headers(gw: Gateway, path: str, content_type: str) -> None:
    name = web.FILES[path][0]
    response = gw.http.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert response.content == (web.DIRECTORY / name).read_bytes()
    for header, value in web.SECURITY_HEADERS.items():
        assert response.headers[header] == value


def test_the_page_loads_its_script_and_style_from_its_own_origin(gw: Gateway) -> None:
    html = gw.http.get("/").text
    assert '<script type="module" src="/app.js">' in html
    assert '<link rel="stylesheet" href="/style.css">' in html


@pytest.mark.parametrize(("method", "path"), [("POST", "/"), ("GET", "/index.html"), ("GET", "/web/app.js")])
def test_other_methods_and_paths_are_not_found(gw: Gateway, method: str, path: str) -> None:
    response = gw.http.request(method, path)
    assert response.status_code == 404
    assert response.json() == {"code": 5, "message": "not found", "details": []}


def test_head_answers_like_get_without_a_body(gw: Gateway) -> None:
    response = gw.http.head("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.content == b""
