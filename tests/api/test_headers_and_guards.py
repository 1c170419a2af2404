"""The request guard and the headers every response carries: the same-origin check on every
unsafe method, the content-type check however the body is framed, the security headers and
the Content-Security-Policy on API answers, refusals, errors, the web app and the API docs."""

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from tests.api.support import save
from tests.support import Account, MakeAccount
from workshop_data.app_services import services_of

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}


def csp_directives(response: httpx.Response) -> dict[str, list[str]]:
    policy = response.headers["content-security-policy"]
    directives: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def assert_strict_csp(response: httpx.Response) -> None:
    directives = csp_directives(response)
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    for values in directives.values():
        assert not {"'unsafe-inline'", "'unsafe-eval'", "*", "https:", "http:"} & set(values)


def assert_security_headers(response: httpx.Response) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (name, response.url)
    assert_strict_csp(response)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PATCH", "/api/admin/users/{alice}"),
        ("DELETE", "/api/admin/users/{alice}"),
        ("PUT", "/api/navigation-progress/ia"),
        ("POST", "/api/workshop-data/step"),
    ],
)
async def test_every_unsafe_method_is_checked_for_the_origin(
    root: httpx.AsyncClient, accounts: dict[str, Account], method: str, path: str
) -> None:
    url = path.format(alice=accounts["alice"].id)
    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        response = await root.request(method, url, json={"name": "evil"}, headers=headers)
        assert response.status_code == 403, (method, headers)
        assert response.json()["code"] == "cross_site_request"
        assert_security_headers(response)
    still = await root.get(f"/api/admin/users/{accounts['alice'].id}")
    assert still.status_code == 200
    assert still.json()["user"]["name"] == "Alice"


async def test_a_chunked_body_without_content_length_is_checked_for_its_type(
    alice: httpx.AsyncClient,
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"workshopType":"ia","stepId":"ia-3-4",'
        yield b'"data":{"a":"form"}}'

    response = await alice.post(
        "/api/workshop-data/step", content=chunks(), headers={"Content-Type": "text/plain"}
    )
    assert "content-length" not in response.request.headers
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
    assert (await alice.get("/api/workshop-data/step/ia/ia-3-4")).json()["data"] is None


async def test_every_kind_of_answer_carries_the_security_headers(
    alice: httpx.AsyncClient, anon: httpx.AsyncClient, app: FastAPI
) -> None:
    answers = [
        await save(alice, {"a": "ok"}),  # a route's answer
        await alice.get("/api/workshop-data/step/xyz/1"),  # a service's refusal
        await anon.get("/api/auth/me"),  # 401
        await anon.get("/api/nothing-here"),  # 404 from the router
        await alice.post(
            "/api/workshop-data/step", content=b"x", headers={"Content-Type": "text/plain"}
        ),  # refused by the guard itself
        await anon.get("/healthz"),
    ]
    if (services_of(app).static_dir / "index.html").is_file():
        answers += [await anon.get("/"), await anon.get("/sw.js")]
    for response in answers:
        assert_security_headers(response)


async def test_the_api_docs_are_local_and_need_no_inline_script(
    anon: httpx.AsyncClient, app: FastAPI
) -> None:
    if not (services_of(app).static_dir / "swagger-ui" / "swagger-ui-bundle.js").is_file():
        pytest.skip("the web app is not built (web/dist)")
    page = await anon.get("/api/docs")
    assert page.status_code == 200
    assert_security_headers(page)
    html = page.text
    assert "<script>" not in html and "<style" not in html and " style=" not in html
    assert "http://" not in html and "https://" not in html  # nothing from another origin
    scripts = ["/api/docs/swagger-ui-bundle.js", "/api/docs/init.js"]
    for src in scripts:
        assert f'<script src="{src}"></script>' in html
        script = await anon.get(src)
        assert script.status_code == 200
        assert script.headers["content-type"].startswith("text/javascript")
    css = await anon.get("/api/docs/swagger-ui.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert (await anon.get("/api/docs/index.html")).status_code == 404


@pytest.mark.parametrize(
    "content_type",
    ["application/json; charset=utf-8", "application/json;charset=UTF-8", "Application/JSON"],
)
async def test_json_with_a_charset_parameter_is_json(
    anon: httpx.AsyncClient, make_account: MakeAccount, content_type: str
) -> None:
    account = await make_account()
    headers = {"Content-Type": content_type}
    body = {"username": account.username, "password": account.password}
    signed_in = await anon.post("/api/auth/login", content=json.dumps(body), headers=headers)
    assert signed_in.status_code == 200, signed_in.text
    step = {"workshopType": "ia", "stepId": "ia-3-4", "data": {"a": "with a charset"}}
    saved = await anon.post("/api/workshop-data/step", content=json.dumps(step), headers=headers)
    assert saved.status_code == 200, saved.text
    patched = await anon.patch(
        "/api/workshop-data/step/ia/ia-3-4",
        content=json.dumps({"b": "patched"}),
        headers={"Content-Type": content_type.replace("json", "merge-patch+json")},
    )
    assert patched.status_code == 200, patched.text
    stored = await anon.get("/api/workshop-data/step/ia/ia-3-4")
    assert stored.json()["data"] == {"a": "with a charset", "b": "patched"}
    signed_out = await anon.post("/api/auth/logout", content=b"{}", headers=headers)
    assert signed_out.status_code == 200
