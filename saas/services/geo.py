"""Where a visitor's IP address is, from a local MaxMind-format database (GeoLite2 or DB-IP
Lite, ``.mmdb``) that the operator downloads and names in ``SWITCHBOARD_GEOIP_DATABASE``.
Without one, nothing is looked up: no address ever leaves the server for a lookup service."""
import ipaddress
import logging
from functools import lru_cache

import maxminddb
from flask import current_app

log = logging.getLogger(__name__)


@lru_cache(maxsize=4)
def _reader(path: str):
    """The open database, or None when the file is missing or not a MaxMind database: the product
    runs on without locations, and says why once."""
    try:
        return maxminddb.open_database(path)
    except (OSError, ValueError, maxminddb.InvalidDatabaseError) as exc:
        log.warning("geo lookup is off: %s is not a readable MaxMind database (%s)", path, exc)
        return None


def _english_name(record: dict, key: str) -> str | None:
    value = record.get(key)
    if isinstance(value, dict):  # GeoLite2/DB-IP layout: {"names": {"en": ...}, "iso_code": ...}
        names = value.get("names")
        value = names.get("en") if isinstance(names, dict) else None
    return value[:80] if isinstance(value, str) and value else None


def locate(ip_address: str | None) -> dict | None:
    """{"country", "country_code", "city"} for the address, or None when there is no database, the
    address is not a valid IP, or the database does not know it."""
    path = current_app.config.get("GEOIP_DATABASE")
    if not path or not ip_address:
        return None
    try:
        address = ipaddress.ip_address(ip_address)
    except ValueError:
        return None
    reader = _reader(path)
    if reader is None:
        return None
    try:
        record = reader.get(address)
    except ValueError:  # an IPv6 address asked of an IPv4-only database
        return None
    if not isinstance(record, dict):
        return None
    country = record.get("country")
    code = country.get("iso_code") if isinstance(country, dict) else None
    location = {"country": _english_name(record, "country"), "city": _english_name(record, "city"),
                "country_code": code[:2] if isinstance(code, str) else None}
    return location if any(location.values()) else None
