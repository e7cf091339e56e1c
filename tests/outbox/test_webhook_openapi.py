"""Every webhook event is documented in the served OpenAPI schema: ``x-webhooks`` names
it with its description and the envelope ``{type, timestamp, data}`` in components, whose
``data`` is the producer's payload schema."""

from __future__ import annotations

import yaml

from outbox.webhooks import registered_events


def test_each_event_has_its_payload_schema_in_x_webhooks(client, db, customer_user):
    client.force_login(customer_user)
    schema = yaml.safe_load(client.get("/api/v1/schema/").content)
    hooks = schema["x-webhooks"]
    components = schema["components"]["schemas"]
    assert set(hooks) == set(registered_events()) >= {"credit.approved", "statement.issued"}
    for event, (_, description) in registered_events().items():
        post = hooks[event]["post"]
        assert post["description"] == description
        ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        envelope = components[ref.rsplit("/", 1)[1]]
        assert envelope["required"] == ["type", "timestamp", "data"]
        data = components[envelope["properties"]["data"]["$ref"].rsplit("/", 1)[1]]
        assert data["type"] == "object" and data["properties"]
        assert {p["name"] for p in post["parameters"]} == {
            "webhook-id",
            "webhook-timestamp",
            "webhook-signature",
        }
    approved = components["WebhookCreditApproved"]["properties"]["data"]["$ref"]
    assert "amount" in components[approved.rsplit("/", 1)[1]]["properties"]
