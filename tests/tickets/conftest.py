"""Sessions the ticket page tests share: the customer person's (``portal``, for the
module's own ``person``) and the agent's (``desk``, Sam Support in London)."""

from __future__ import annotations

import pytest
from django.test import Client


@pytest.fixture
def portal(client, person):
    client.force_login(person)
    return client


@pytest.fixture
def desk(agent):
    """The agent's own browser session (``portal`` is the customer's)."""
    agent.first_name, agent.last_name, agent.time_zone = "Sam", "Support", "Europe/London"
    agent.save()
    session = Client()
    session.force_login(agent)
    return session
