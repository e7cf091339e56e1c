"""The OpenAPI schema generates with no warning and validates, as CI requires
(`manage.py spectacular --validate --fail-on-warn`), and it is served with its docs."""

from __future__ import annotations

import yaml

from tests.support.processes import manage


def test_the_schema_generates_without_warnings_and_validates(tmp_path):
    target = tmp_path / "schema.yaml"
    result = manage("spectacular", "--validate", "--fail-on-warn", "--file", str(target), DEBUG="1")
    assert result.returncode == 0, result.stderr
    schema = yaml.safe_load(target.read_text())
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    for path in (
        "/api/v1/auth/token/",
        "/api/v1/statements/{id}/reissue/",
        "/api/v1/tickets/{id}/take/",
        "/api/v1/credits/{id}/approve/",
    ):
        assert path in paths, path


def test_the_schema_and_docs_are_served(client, db, customer_user):
    client.force_login(customer_user)
    assert client.get("/api/v1/schema/").status_code == 200
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()
