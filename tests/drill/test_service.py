"""The drill's simulated services answer verification checks like the deployment would."""

from __future__ import annotations

from tests.conftest import wait_for


def test_service_fails_auth_under_bad_deploy_and_recovers(drill_factory) -> None:
    drill = drill_factory(scenario="bad-deploy-auth", speed=600)
    http = drill.http()
    assert http.get("/drill/v1/svc/shop/api/products").status_code == 200
    wait_for(lambda: http.get("/drill/v1/svc/shop/api/auth/login").status_code == 503,
             timeout=60, message="auth broken by the bad revision")
    body = http.get("/drill/v1/svc/shop/api/auth/login").json()
    assert body["route"] == "/auth/login" and body["error_ratio"] >= 0.5
    assert http.get("/drill/v1/svc/shop/api/users/42").json()["route"] == "/users/{id}"
    assert http.get("/drill/v1/svc/shop/nope/").status_code == 404
    assert drill.http(token=None).get("/drill/v1/svc/shop/api/products").status_code == 401
