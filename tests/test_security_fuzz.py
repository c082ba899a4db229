"""Fuzzing every registered socket event with hypothesis: random JSON-ish payloads (wrong types,
nesting, huge strings within the frame limit, the event's own field names with random values). The
server never crashes and never answers with an internal error, and keeps serving another client."""
import pytest
import socketio
from hypothesis import HealthCheck, Verbosity, given, settings
from hypothesis import strategies as st

from tests.clients import TIMEOUT, VisitorClient, login
from tests.test_security_attacks import Listener, _handlers

EXAMPLES_PER_EVENT = 25
# Each well under Socket.IO's 256 KB frame limit once JSON-escaped (é is 6 bytes, 🦆 12): at most one
# goes into a payload. A bigger frame is refused by Engine.IO itself, closing the connection.
HUGE = st.sampled_from(["x" * 200_000, "é" * 30_000, "\u0000" * 10_000, "🦆" * 15_000])
SERVER_FAULTS = ("server_error", "unavailable")

scalars = (st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40)
           | st.sampled_from(["", "0", "-1", "null", "<script>alert(1)</script>", "' OR 1=1 --", "../../etc/passwd"])
           | st.integers(min_value=2**31 - 2, max_value=2**64))
json_values = st.recursive(scalars, lambda children: st.lists(children, max_size=4)
                           | st.dictionaries(st.text(max_size=12), children, max_size=4), max_leaves=12)


def payloads(handler):
    model = getattr(handler, "payload_model", None)
    fields = list(model.model_fields) if model is not None else []
    shaped = st.just({})
    if fields:
        shaped = st.fixed_dictionaries({name: json_values for name in fields}, optional={"unexpected": json_values})
        # One field huge, the others random.
        shaped |= st.builds(lambda values, name, huge: {**values, name: huge}, shaped, st.sampled_from(fields), HUGE)
    return json_values | HUGE | shaped | st.lists(json_values, max_size=3)


def _fuzz(listener: Listener, namespace: str, event: str, handler, server, reconnect) -> None:
    @settings(max_examples=EXAMPLES_PER_EVENT, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet)  # payloads can be 200 KB
    @given(payloads(handler))
    def one(payload):
        if not listener.client.connected:
            reconnect()
        try:
            ack = listener.client.call(event, payload, namespace=namespace, timeout=TIMEOUT)
        except socketio.exceptions.TimeoutError:
            raise AssertionError(f"{event} {payload!r:.200}: no answer") from None
        assert isinstance(ack, dict) and isinstance(ack.get("ok"), bool), f"{event} {payload!r:.200}: {ack!r:.300}"
        assert ack.get("error", {}).get("code") not in SERVER_FAULTS, f"{event} {payload!r:.200}: {ack}"

    one()


@pytest.mark.parametrize("namespace", ["/visitor", "/agent"])
def test_random_payloads_for_every_event_never_crash_the_server(server, make_tenant, namespace):
    tenant = make_tenant(agents=1)
    listener = Listener(namespace)
    if namespace == "/visitor":
        def reconnect():
            listener.close()
            assert listener.connect(server, {"key": tenant.widget_key})
    else:
        # An owner: every role-gated event gets past the role check to its payload.
        http = login(server.url, tenant.slug, tenant.owner.email, tenant.owner.password)
        cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())

        def reconnect():
            listener.close()
            assert listener.connect(server, {"tenant": tenant.slug}, {"Cookie": cookie})
    reconnect()
    try:
        for event, handler in sorted(_handlers(namespace).items()):
            _fuzz(listener, namespace, event, handler, server, reconnect)
            # Another client is still served after each event's barrage.
            other = VisitorClient(server.url, tenant.widget_key)
            assert other.history()["ok"], f"the server stopped serving after {event}"
            other.close()
    finally:
        listener.close()
