"""Visitor locations come from a local MaxMind-format database, and only when one is configured."""
import pytest
from mmdb_writer import MMDBWriter
from netaddr import IPSet

from saas.services import geo
from tests.tracking_helpers import view

TROMSO = {"country": {"iso_code": "NO", "names": {"en": "Norway"}}, "city": {"names": {"en": "Tromsø"}}}


@pytest.fixture
def geoip_database(tmp_path):
    """A tiny GeoLite2-City-shaped database that places loopback visitors in Tromsø."""
    writer = MMDBWriter(ip_version=6, database_type="GeoLite2-City", ipv4_compatible=True)
    writer.insert_network(IPSet(["127.0.0.0/8"]), TROMSO)
    writer.insert_network(IPSet(["198.51.100.0/24"]), {"country": "Testland"})  # a flat, home-made layout
    path = tmp_path / "city.mmdb"
    writer.to_db_file(str(path))
    return path


def _panel_location(agent, visitor):
    view(visitor, "https://shop.example/tents", "Tents")
    (row,) = agent.call("visitors:live", {})["visitors"]
    return agent.call("visitor:panel", {"visitor_id": row["visitor_id"]})["visitor"]["latest_source"]["location"]


def test_the_agent_sees_where_the_visitor_is_when_a_database_is_configured(start_server, make_tenant, clients,
                                                                         geoip_database):
    server = start_server({"SWITCHBOARD_GEOIP_DATABASE": str(geoip_database)})
    tenant = make_tenant()
    location = _panel_location(clients.agent(server, tenant), clients.visitor(server, tenant))
    assert location == {"country": "Norway", "country_code": "NO", "city": "Tromsø"}


def test_without_a_database_or_with_a_broken_one_nothing_is_looked_up(server, start_server, make_tenant, clients,
                                                                     tmp_path):
    tenant = make_tenant()
    assert _panel_location(clients.agent(server, tenant), clients.visitor(server, tenant)) is None

    broken = tmp_path / "broken.mmdb"
    broken.write_bytes(b"this is not a MaxMind database" * 100)
    other = start_server({"SWITCHBOARD_GEOIP_DATABASE": str(broken)}, name="broken-geo")
    tenant = make_tenant()
    assert _panel_location(clients.agent(other, tenant), clients.visitor(other, tenant)) is None


@pytest.mark.parametrize("address, expected", [
    ("127.0.0.1", {"country": "Norway", "country_code": "NO", "city": "Tromsø"}),
    ("198.51.100.7", {"country": "Testland", "country_code": None, "city": None}),
    ("203.0.113.9", None),  # not in the database
    ("::1", None),
    ("not an address", None),
    ("127.0.0.1; DROP TABLE visitors", None),
    ("", None),
    (None, None),
])
def test_lookups_answer_or_say_nothing(app, geoip_database, address, expected):
    with app.test_request_context():
        app.config["GEOIP_DATABASE"] = str(geoip_database)
        try:
            assert geo.locate(address) == expected
        finally:
            app.config["GEOIP_DATABASE"] = None
