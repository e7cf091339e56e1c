"""Reading Authentication-Results (RFC 8601): only the relay's own headers on top count,
and only DKIM or SPF passing for the staff domain."""

from __future__ import annotations

import pytest

from tickets.mailauth import AuthResult, parse_authentication_results, relay_vouches_for

RELAY, DOMAIN = "mx.provider.test", "provider.test"


def test_a_header_as_gmail_writes_it_is_read_whole():
    value = (
        "mx.google.com;\r\n       dkim=pass header.i=@provider.test header.s=20230601"
        ' header.b="Xy=z";\r\n       spf=pass (google.com: domain of'
        " SRS0=ab=cd=x.test=u@provider.test designates 192.0.2.1 as permitted sender)"
        ' smtp.mailfrom="SRS0=ab=cd=x.test=u@provider.test";\r\n'
        "       dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=provider.test"
    )
    assert parse_authentication_results(value) == (
        "mx.google.com",
        [
            AuthResult(
                "dkim",
                "pass",
                {"header.i": "@provider.test", "header.s": "20230601", "header.b": "Xy=z"},
            ),
            AuthResult("spf", "pass", {"smtp.mailfrom": "SRS0=ab=cd=x.test=u@provider.test"}),
            AuthResult("dmarc", "pass", {"header.from": "provider.test"}),
        ],
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("MX.Provider.test 1; none", ("mx.provider.test", [])),
        (
            "mx.provider.test; dkim = pass (good) header.d= provider.test",
            ("mx.provider.test", [AuthResult("dkim", "pass", {"header.d": "provider.test"})]),
        ),
        (
            '"mx.provider.test"; dkim/1=PASS reason="a; b" header.d=provider.test',
            ("mx.provider.test", [AuthResult("dkim", "pass", {"header.d": "provider.test"})]),
        ),
    ],
)
def test_whitespace_comments_quotes_and_versions_are_understood(value, expected):
    assert parse_authentication_results(value) == expected


@pytest.mark.parametrize(
    "value",
    ["", "  ; dkim=pass", "mx; dkim", "mx; dkim=pass (unclosed", 'mx; dkim="pass', "mx; a=b )"],
)
def test_a_value_that_is_not_rfc_8601_is_an_error(value):
    with pytest.raises(ValueError):
        parse_authentication_results(value)


@pytest.mark.parametrize(
    "headers",
    [
        [f"{RELAY}; dkim=pass header.d=provider.test"],
        [f"{RELAY}; dkim=pass header.i=agent@Provider.Test"],
        [f"{RELAY}; spf=pass smtp.mailfrom=agent@provider.test"],
        [f"{RELAY}; spf=pass smtp.mailfrom=provider.test."],
        # One header per filter (OpenDKIM, then an SPF policy service), all on top.
        [
            f"{RELAY}; dkim=fail header.d=provider.test",
            f"{RELAY}; spf=pass smtp.mailfrom=provider.test",
        ],
    ],
)
def test_our_relay_vouches_with_dkim_or_spf_passing_for_our_domain(headers):
    assert relay_vouches_for(headers, relay=RELAY, domain=DOMAIN) is True


@pytest.mark.parametrize(
    ("headers", "relay", "domain"),
    [
        ([], RELAY, DOMAIN),
        ([f"{RELAY}; dkim=pass header.d=provider.test"], "", DOMAIN),
        ([f"{RELAY}; dkim=pass header.d=provider.test"], RELAY, ""),
        ([f"{RELAY}; dkim=neutral header.d=provider.test"], RELAY, DOMAIN),
        ([f"{RELAY}; dkim=pass header.d=mail.provider.test"], RELAY, DOMAIN),
        ([f"{RELAY}; spf=pass smtp.helo=provider.test"], RELAY, DOMAIN),
        ([f"{RELAY}; dmarc=pass header.from=provider.test"], RELAY, DOMAIN),
        (["mx.elsewhere.test; dkim=pass header.d=provider.test"], RELAY, DOMAIN),
        # Below a header that is not ours, anyone could have written our relay's name.
        (["mx.elsewhere.test; none", f"{RELAY}; dkim=pass header.d=provider.test"], RELAY, DOMAIN),
        (
            [f"{RELAY}; dkim=pass (broken", f"{RELAY}; dkim=pass header.d=provider.test"],
            RELAY,
            DOMAIN,
        ),
    ],
)
def test_nothing_else_vouches(headers, relay, domain):
    assert relay_vouches_for(headers, relay=relay, domain=domain) is False
