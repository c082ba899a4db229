"""Issue 9's fault test: two server processes share PostgreSQL and Redis; visitors and agents are
spread over both; about 1,000 messages are in flight in both directions when one process is killed
with SIGKILL. Its clients fail over to the other process the way a real client would, and the
outcome must be: 0 messages lost, 0 duplicated, every conversation's order kept, and every client's
view of its conversations equal to what was stored.

The clients (``ResilientVisitor`` / ``ResilientAgent``) are what a widget or console should do:

- every message gets a client id when it is written and waits in an outbox (per conversation)
  until the server acknowledges it; one message is in flight at a time, so each sender's own
  messages are stored in the order it wrote them;
- a lost connection, an acknowledgement that does not come in time or an ``unavailable`` error
  acknowledgement keeps the message in the outbox;
- on a lost connection the client connects a fresh python-socketio client to another server (the
  same visitor token, the same agent login cookie), first resends its outbox in order with the
  same client ids (a message stored before the crash is acknowledged as ``duplicate``), then
  catches up with ``history`` / ``conversation:open`` after the highest seq up to which it has
  seen every message (not the highest seq seen: a later message's ack or push can arrive before
  an earlier message's push, which then dies with the process);
- pushed ``message:new`` events, acknowledgements and catch-ups are merged into one view per
  conversation, de-duplicated by message id.

A process killed after committing a message but before publishing its push leaves a gap that even
clients of the surviving process cannot see by pushes alone; like a real client noticing a gap in
the seqs, every client does a final catch-up once the stream has ended.
"""
import itertools
import os
import random
import signal
import statistics
import threading
import time
from collections import Counter, defaultdict, deque

import pytest
import socketio
from sqlalchemy import select

from tests.clients import login, new_client_id

VISITORS_PER_SERVER = 5
AGENTS_PER_SERVER = 2
MESSAGES_EACH = 50  # per visitor, and per conversation from its agent: 10 x (1 + 50) + 10 x 50 = 1,010
KILL_AFTER = 0.3  # share of all messages acknowledged when server "a" gets SIGKILL
MEAN_PAUSE = 0.25  # seconds between two messages of one writer (jittered 0-2x)
CALL_TIMEOUT = 5.0  # an acknowledgement slower than this counts as a lost connection
CONNECT_TIMEOUT = 5.0
FAILOVER_DEADLINE = 20.0
STREAM_DEADLINE = 60.0
HISTORY_LIMIT = 1000  # saas.services.conversations.HISTORY_LIMIT: a longer catch-up asks again
RETRYABLE = {"unavailable"}


class LinkDown(Exception):
    """The connection dropped, could not be made, or an acknowledgement did not come in time."""


class Link:
    """One python-socketio connection that never reconnects by itself (the resilient clients do,
    to another server). Unlike ``Client.call``, which waits out its whole timeout when the
    connection drops, a pending call here gives up as soon as the connection is gone."""

    def __init__(self, url: str, namespace: str, auth: dict, headers: dict | None, on_message,
                 want_session: bool = False):
        self.url, self.namespace = url, namespace
        self.down = threading.Event()
        self.down_at: float | None = None
        self.welcome: dict | None = None
        self._session = threading.Event()
        self._pending: set[threading.Event] = set()
        self._lock = threading.Lock()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("message:new", on_message, namespace=namespace)
        self.sio.on("session", self._on_session, namespace=namespace)
        self.sio.on("disconnect", self._on_disconnect, namespace=namespace)
        try:
            self.sio.connect(url, namespaces=[namespace], auth=auth, headers=headers or {},
                             transports=["websocket"], wait_timeout=CONNECT_TIMEOUT)
            if want_session and not self._session.wait(CONNECT_TIMEOUT):
                raise LinkDown(f"no session event from {url}")
        except Exception as exc:
            self.close()
            raise LinkDown(f"cannot connect to {url}: {exc!r}") from exc

    def _on_session(self, data):
        self.welcome = data
        self._session.set()

    def _on_disconnect(self, *_reason):
        with self._lock:
            if self.down_at is None:
                self.down_at = time.monotonic()
            self.down.set()
            for waiting in self._pending:
                waiting.set()

    def call(self, event: str, data: dict, timeout: float = CALL_TIMEOUT) -> dict:
        answered, answer = threading.Event(), []

        def on_ack(*args):
            answer.append(args[0] if args else None)
            answered.set()

        with self._lock:
            if self.down.is_set():
                raise LinkDown("the connection is down")
            self._pending.add(answered)
        try:
            try:
                self.sio.emit(event, data, namespace=self.namespace, callback=on_ack)
            except Exception as exc:
                self._on_disconnect()
                raise LinkDown(f"emit failed: {exc!r}") from exc
            if not answered.wait(timeout):
                self._on_disconnect()  # a server that does not answer is as good as dead
                raise LinkDown(f"no acknowledgement within {timeout} s")
        finally:
            with self._lock:
                self._pending.discard(answered)
        if not answer:
            raise LinkDown("the connection dropped before the acknowledgement")
        return answer[0]

    def close(self) -> None:
        try:
            self.sio.disconnect()
        except Exception:
            pass


class ResilientClient:
    """Outbox, failover and the merged view shared by visitors and agents."""

    namespace = ""
    catch_up_event = ""

    def __init__(self, name: str, urls: list[str], url: str):
        self.name, self.urls, self.home = name, urls, url
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._order = itertools.count()
        self.outbox: dict = defaultdict(deque)  # conversation key -> deque of (order, client_id, body)
        self.written: dict = defaultdict(list)  # conversation key -> [(client_id, body)] as written
        self.views: dict = defaultdict(dict)  # conversation id -> {message id: (message, how it came)}
        self.attempted: set[str] = set()  # client ids sent at least once
        self.stats: Counter = Counter()
        self.failovers: list[dict] = []
        self.errors: list[str] = []
        self.typing_done = threading.Event()
        self.stop = threading.Event()
        self._resend_before: int | None = None  # after a failover: resend older items, then catch up
        self.link = self._connect(url)

    # --- what subclasses say -------------------------------------------------------------
    def _connect(self, url: str) -> Link:
        raise NotImplementedError

    def _payload(self, key, client_id: str, body: str) -> dict:
        raise NotImplementedError

    def _catch_up_payload(self, conversation_id: int, after_seq: int) -> dict:
        raise NotImplementedError

    def own_conversations(self) -> list[int]:
        raise NotImplementedError

    def _acknowledged(self, message: dict) -> None:
        pass

    # --- the view --------------------------------------------------------------------------
    def _merge(self, message: dict, how: str) -> None:
        with self._lock:
            view = self.views[message["conversation_id"]]
            known = view.get(message["id"])
            if known is None:
                view[message["id"]] = (message, how)
            elif any(known[0][k] != message[k] for k in ("seq", "client_id", "body")):
                self.errors.append(f"{self.name}: message {message['id']} came twice, differently: "
                                   f"{known[0]} / {message}")

    def watermark(self, conversation_id: int) -> int:
        """The highest seq up to which this client has seen every message of the conversation."""
        with self._lock:
            seqs = {message["seq"] for message, _how in self.views[conversation_id].values()}
        seen = 0
        while seen + 1 in seqs:
            seen += 1
        return seen

    def transcript(self, conversation_id: int) -> list[dict]:
        with self._lock:
            return sorted((m for m, _how in self.views[conversation_id].values()), key=lambda m: m["seq"])

    def seen(self) -> int:
        with self._lock:
            return sum(len(view) for view in self.views.values())

    def arrivals(self) -> Counter:
        with self._lock:
            return Counter(how for cid in self.own_conversations() for _m, how in self.views[cid].values())

    # --- writing and sending ---------------------------------------------------------------
    def write(self, key, body: str) -> None:
        """The user wrote a message: it waits in the outbox until acknowledged."""
        client_id = new_client_id()
        with self._changed:
            self.outbox[key].append((next(self._order), client_id, body))
            self.written[key].append((client_id, body))
            self._changed.notify_all()

    def unacknowledged(self) -> int:
        with self._lock:
            return sum(len(items) for items in self.outbox.values())

    def _head(self):
        """The oldest unacknowledged message over all conversations (key, order, client_id, body)."""
        with self._lock:
            heads = [(items[0], key) for key, items in self.outbox.items() if items]
        if not heads:
            return None
        (order, client_id, body), key = min(heads, key=lambda head: head[0][0])
        return key, order, client_id, body

    def courier(self) -> None:
        """The sending loop (one thread per client); records any failure in ``errors``."""
        try:
            while not self.stop.is_set():
                try:
                    if self.link.down.is_set():
                        self._fail_over()
                        continue
                    head = self._head()
                    if self._resend_before is not None and (head is None or head[1] >= self._resend_before):
                        # What was unacknowledged when the connection went has been resent: now
                        # fetch what this client missed meanwhile.
                        self.catch_up("catch_up")
                        self.failovers[-1]["caught_up"] = time.monotonic()
                        self._resend_before = None
                        continue
                    if head is None:
                        if self.typing_done.is_set():
                            return
                        with self._changed:
                            self._changed.wait(0.05)
                        continue
                    self._send(*head)
                except LinkDown as exc:
                    self.stats["link_down"] += 1
                    self.stats[f"link_down: {str(exc)[:60]}"] += 1
        except Exception as exc:  # reported by the test, which then fails
            self.errors.append(f"{self.name}: courier failed: {exc!r}")

    def _send(self, key, order: int, client_id: str, body: str) -> None:
        resend = client_id in self.attempted
        self.attempted.add(client_id)
        reply = self.link.call("message:send", self._payload(key, client_id, body))
        if reply.get("ok"):
            message = reply["message"]
            if (message["client_id"], message["body"]) != (client_id, body):
                raise AssertionError(f"acknowledged with another message: {message} for {client_id}")
            if resend:
                # duplicate: stored before the crash, only the ack was lost; else lost in flight.
                self.stats["resent, was stored" if reply["duplicate"] else "resent, stored now"] += 1
            elif reply["duplicate"]:
                raise AssertionError(f"a first send acknowledged as a duplicate: {reply}")
            self._merge(message, "ack")
            with self._lock:
                stored = self.outbox[key].popleft()
            assert stored[1] == client_id
            self.stats["acked"] += 1
            if self.failovers:
                self.stats["acked after failover"] += 1
            self._acknowledged(message)
        elif reply.get("error", {}).get("code") in RETRYABLE:
            self.stats[f"error ack {reply['error']['code']}"] += 1
            time.sleep(0.1)
        else:
            raise AssertionError(f"{self.name}: message:send refused: {reply}")

    # --- failover and catching up --------------------------------------------------------------
    def _fail_over(self) -> None:
        old = self.link
        noticed = time.monotonic()
        old.close()
        start = self.urls.index(old.url) + 1
        candidates = self.urls[start:] + self.urls[:start]  # the other servers first, the failed one last
        deadline, attempt, last = noticed + FAILOVER_DEADLINE, 0, None
        while True:
            for url in candidates:
                try:
                    self.link = self._connect(url)
                    break
                except LinkDown as exc:
                    last = exc
            else:
                if time.monotonic() > deadline or self.stop.is_set():
                    raise AssertionError(f"{self.name} could not reconnect: {last}")
                attempt += 1
                time.sleep(min(0.1 * attempt, 1.0))
                continue
            break
        with self._lock:
            self._resend_before = next(self._order)
            in_outbox = sum(len(items) for items in self.outbox.values())
        self.failovers.append({"from": old.url, "to": self.link.url, "down": old.down_at or noticed,
                               "noticed": noticed, "connected": time.monotonic(), "outbox": in_outbox})

    def catch_up(self, how: str) -> None:
        """Fetch every message after the watermark of each of this client's conversations."""
        for conversation_id in self.own_conversations():
            for _attempt in range(20):
                after = self.watermark(conversation_id)
                reply = self.link.call(self.catch_up_event, self._catch_up_payload(conversation_id, after))
                if not reply.get("ok"):
                    if reply.get("error", {}).get("code") in RETRYABLE:
                        time.sleep(0.1)
                        continue
                    raise AssertionError(f"{self.name}: {self.catch_up_event} refused: {reply}")
                if reply["conversation"]["id"] != conversation_id:
                    raise AssertionError(f"{self.name}: catch-up answered for {reply['conversation']['id']}")
                messages = reply["messages"]
                seqs = [m["seq"] for m in messages]
                if seqs != list(range(after + 1, after + 1 + len(seqs))):
                    self.errors.append(f"{self.name}: catch-up of #{conversation_id} after {after} "
                                       f"returned seqs {seqs}")
                for message in messages:
                    self._merge(message, how)
                if len(messages) < HISTORY_LIMIT:
                    break

    def sync(self) -> None:
        """A final catch-up (what a client does when it sees a gap in the seqs)."""
        for _attempt in range(3):
            try:
                if self.link.down.is_set():
                    self._fail_over()
                self.catch_up("final sync")
                return
            except LinkDown:
                continue
        raise AssertionError(f"{self.name}: final catch-up failed three times")

    def close(self) -> None:
        self.stop.set()
        self.link.close()


class ResilientVisitor(ResilientClient):
    namespace = "/visitor"
    catch_up_event = "history"

    def __init__(self, name: str, urls: list[str], url: str, tenant):
        self.tenant = tenant
        self.token: str | None = None
        self.nickname: str | None = None
        self.conversation_id: int | None = None
        super().__init__(name, urls, url)

    def _connect(self, url: str) -> Link:
        link = Link(url, self.namespace, {"key": self.tenant.widget_key, "token": self.token}, None,
                    lambda message: self._merge(message, "push"), want_session=True)
        if self.token is None:
            self.token, self.nickname = link.welcome["token"], link.welcome["nickname"]
        elif link.welcome["nickname"] != self.nickname:
            link.close()
            raise AssertionError(f"{self.name} came back as someone else: {link.welcome}")
        return link

    def _payload(self, key, client_id: str, body: str) -> dict:
        return {"client_id": client_id, "body": body}

    def _catch_up_payload(self, conversation_id: int, after_seq: int) -> dict:
        return {"after_seq": after_seq}

    def own_conversations(self) -> list[int]:
        return [self.conversation_id] if self.conversation_id is not None else []

    def _acknowledged(self, message: dict) -> None:
        if self.conversation_id is None:
            self.conversation_id = message["conversation_id"]
        elif message["conversation_id"] != self.conversation_id:
            raise AssertionError(f"{self.name}: a message went into another conversation: {message}")


class ResilientAgent(ResilientClient):
    namespace = "/agent"
    catch_up_event = "conversation:open"

    def __init__(self, name: str, urls: list[str], url: str, tenant, person):
        self.tenant, self.person = tenant, person
        http = login(url, tenant.slug, person.email, person.password)
        self.cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
        self.conversations: list[int] = []
        super().__init__(name, urls, url)

    def _connect(self, url: str) -> Link:
        return Link(url, self.namespace, {"tenant": self.tenant.slug}, {"Cookie": self.cookie},
                    lambda data: self._merge(data["message"], "push"))

    def _payload(self, key, client_id: str, body: str) -> dict:
        return {"conversation_id": key, "client_id": client_id, "body": body}

    def _catch_up_payload(self, conversation_id: int, after_seq: int) -> dict:
        return {"conversation_id": conversation_id, "after_seq": after_seq}

    def own_conversations(self) -> list[int]:
        return list(self.conversations)


def _wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def _assign_conversations(agents: list[ResilientAgent], visitors: list[ResilientVisitor]) -> dict:
    """conversation id -> its agent, from each agent's ``conversations:list``."""
    wanted = {visitor.conversation_id for visitor in visitors}

    def assigned():
        owners = {}
        for agent in agents:
            reply = agent.link.call("conversations:list", {})
            assert reply["ok"], reply
            for conversation in reply["conversations"]:
                if conversation["id"] in wanted and conversation["assigned_agent_id"] == agent.person.id:
                    owners[conversation["id"]] = agent
        return owners if set(owners) == wanted else None

    owners = _wait_for(assigned, 15, "every conversation to be assigned to an agent")
    for agent in agents:
        agent.conversations = sorted(cid for cid, owner in owners.items() if owner is agent)
    return owners


def _type_as_visitor(visitor: ResilientVisitor, rng: random.Random) -> None:
    for n in range(1, MESSAGES_EACH + 1):
        if visitor.stop.is_set():
            return
        visitor.write(None, f"{visitor.name} says #{n:02d}")
        time.sleep(rng.uniform(0, 2 * MEAN_PAUSE))
    visitor.typing_done.set()


def _type_as_agent(agent: ResilientAgent, rng: random.Random) -> None:
    for n in range(1, MESSAGES_EACH + 1):
        for conversation_id in agent.conversations:
            if agent.stop.is_set():
                return
            agent.write(conversation_id, f"{agent.name} to #{conversation_id} says #{n:02d}")
            time.sleep(rng.uniform(0, 2 * MEAN_PAUSE / len(agent.conversations)))
    agent.typing_done.set()


def _settle(clients: list[ResilientClient], quiet: float = 0.3, timeout: float = 5) -> None:
    """Wait until no push has arrived for ``quiet`` seconds (the stream has ended)."""
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        now = sum(client.seen() for client in clients)
        if now == last:
            return
        last = now
        time.sleep(quiet)


def _stored_transcripts(app, tenant) -> dict[int, list[dict]]:
    from saas.models import Message
    from tenants import tenant_context, tenant_session

    transcripts = defaultdict(list)
    with app.app_context(), tenant_context(tenant.ref):
        for m in tenant_session().scalars(select(Message).order_by(Message.conversation_id, Message.seq)):
            transcripts[m.conversation_id].append({
                "id": m.id, "seq": m.seq, "client_id": m.client_id, "sender_type": m.sender_type,
                "sender_id": m.sender_id, "body": m.body})
    return transcripts


def _check_conversation(conversation_id: int, stored: list[dict], visitor: ResilientVisitor,
                        agent: ResilientAgent) -> list[str]:
    problems = []
    where = f"conversation #{conversation_id} ({visitor.name}, {agent.name})"
    seqs = [m["seq"] for m in stored]
    if seqs != list(range(1, len(stored) + 1)):
        problems.append(f"{where}: seqs are not 1..{len(stored)}: {seqs}")
    counts = Counter(m["client_id"] for m in stored)
    duplicated = {client_id: n for client_id, n in counts.items() if n > 1}
    if duplicated:
        problems.append(f"{where}: client ids stored more than once: {duplicated}")
    sent = set(visitor.written[None]) | set(agent.written[conversation_id])
    have = {(m["client_id"], m["body"]) for m in stored}
    if sent - have:
        problems.append(f"{where}: lost {len(sent - have)}: {sorted(sent - have, key=lambda s: s[1])}")
    if have - sent:
        problems.append(f"{where}: stored but never sent: {sorted(have - sent)}")
    by_visitor = [(m["client_id"], m["body"]) for m in stored if m["sender_type"] == "visitor"]
    if by_visitor != visitor.written[None]:
        problems.append(f"{where}: the visitor's messages are out of order: {[b for _c, b in by_visitor]}")
    by_agent = [(m["client_id"], m["body"]) for m in stored
                if m["sender_type"] == "agent" and m["sender_id"] == agent.person.id]
    if by_agent != agent.written[conversation_id]:
        problems.append(f"{where}: the agent's messages are out of order: {[b for _c, b in by_agent]}")
    expected = [(m["id"], m["seq"], m["client_id"], m["body"]) for m in stored]
    for client in (visitor, agent):
        seen = [(m["id"], m["seq"], m["client_id"], m["body"]) for m in client.transcript(conversation_id)]
        if seen != expected:
            missing = sorted(set(expected) - set(seen), key=lambda m: m[1])
            extra = sorted(set(seen) - set(expected), key=lambda m: m[1])
            problems.append(f"{where}: {client.name}'s view differs from the stored transcript: "
                            f"missing {missing[:5]} ({len(missing)}), extra {extra[:5]} ({len(extra)})")
    return problems


# Scale-out is the production mode: PostgreSQL + Redis.
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_kill_9_of_one_server_mid_stream_loses_and_duplicates_nothing(start_server, app, make_tenant):
    began = time.monotonic()
    server_a, server_b = start_server(name="a"), start_server(name="b")
    urls = [server_a.url, server_b.url]
    tenant = make_tenant(agents=2 * AGENTS_PER_SERVER)
    seed = random.randrange(1 << 30)
    clients: list[ResilientClient] = []
    threads: list[threading.Thread] = []
    try:
        agents = []
        for n, person in enumerate(tenant.agents):
            home = server_a if n < AGENTS_PER_SERVER else server_b
            agents.append(ResilientAgent(f"agent{n}@{'ab'[home is server_b]}", urls, home.url, tenant, person))
            clients.append(agents[-1])
        visitors = []
        for n in range(2 * VISITORS_PER_SERVER):
            home = server_a if n < VISITORS_PER_SERVER else server_b
            visitors.append(ResilientVisitor(f"visitor{n}@{'ab'[home is server_b]}", urls, home.url, tenant))
            clients.append(visitors[-1])
        couriers = [threading.Thread(target=c.courier, name=f"courier-{c.name}", daemon=True) for c in clients]
        threads += couriers
        for thread in couriers:
            thread.start()

        # Each visitor's first message opens its conversation, which the router gives an agent
        # (capacity 5 x 4 agents: all ten are assigned); each agent opens its conversations.
        for visitor in visitors:
            visitor.write(None, f"{visitor.name} says hello")
            _wait_for(lambda: visitor.conversation_id or visitor.errors, 10, f"{visitor.name}'s first ack")
            assert not visitor.errors, visitor.errors
        owners = _assign_conversations(agents, visitors)
        for agent in agents:
            agent.catch_up("open")
        total = len(visitors) * (1 + MESSAGES_EACH) + len(visitors) * MESSAGES_EACH  # hello + 50, 50 replies
        assert total >= 1000

        # The stream: every visitor and every agent writes from its own thread, with jitter.
        typists = [threading.Thread(target=_type_as_visitor, args=(v, random.Random(seed + i)), daemon=True,
                                    name=f"typist-{v.name}") for i, v in enumerate(visitors)]
        typists += [threading.Thread(target=_type_as_agent, args=(a, random.Random(seed + 100 + i)), daemon=True,
                                     name=f"typist-{a.name}") for i, a in enumerate(agents)]
        threads += typists
        stream_began = time.monotonic()
        for thread in typists:
            thread.start()

        acked = lambda: sum(c.stats["acked"] for c in clients)  # noqa: E731
        _wait_for(lambda: acked() >= KILL_AFTER * total or any(c.errors for c in clients), 30,
                  f"{KILL_AFTER:.0%} of the messages to be acknowledged")
        assert not any(c.errors for c in clients), [e for c in clients for e in c.errors]
        written_at_kill = sum(len(w) for c in clients for w in c.written.values())
        unacked_at_kill = sum(c.unacknowledged() for c in clients)
        acked_at_kill = acked()
        os.kill(server_a.process.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        server_a.process.wait(timeout=10)

        deadline = stream_began + STREAM_DEADLINE
        for thread in threads:
            thread.join(timeout=max(0.1, deadline - time.monotonic()))
        stream_ended = time.monotonic()
        stuck = [thread.name for thread in threads if thread.is_alive()]
        errors = [error for client in clients for error in client.errors]
        assert not errors, errors
        assert not stuck, f"still running after {STREAM_DEADLINE} s: {stuck}; " \
                          f"unacknowledged: {[(c.name, c.unacknowledged()) for c in clients]}"
        assert all(c.unacknowledged() == 0 for c in clients)

        # The crash really happened mid-stream, and every client of "a" moved to "b".
        assert acked_at_kill < total and written_at_kill < total, (acked_at_kill, written_at_kill, total)
        on_a = [c for c in clients if c.home == server_a.url]
        for client in on_a:
            assert client.failovers, f"{client.name} never failed over"
            assert all(f["to"] == server_b.url and "caught_up" in f for f in client.failovers), client.failovers
        assert sum(c.stats["acked after failover"] for c in on_a) > 0

        _settle(clients)
        before_sync = {c.name: c.arrivals() for c in clients}
        for client in clients:
            client.sync()
        errors = [error for client in clients for error in client.errors]
        assert not errors, errors

        transcripts = _stored_transcripts(app, tenant)
        problems = []
        for visitor in visitors:
            problems += _check_conversation(visitor.conversation_id, transcripts[visitor.conversation_id],
                                            visitor, owners[visitor.conversation_id])
        stored_total = sum(len(transcripts[v.conversation_id]) for v in visitors)
        if set(transcripts) != set(owners):
            problems.append(f"messages in unexpected conversations: {set(transcripts) - set(owners)}")

        # What happened, for the record (pytest -rP or -s shows it).
        failovers = [f for c in on_a for f in c.failovers]
        stats = sum((c.stats for c in clients), Counter())
        arrivals = sum((c.arrivals() for c in clients), Counter())
        synced = {name: c.arrivals()["final sync"] - before_sync[name]["final sync"]
                  for name, c in ((c.name, c) for c in clients) if c.arrivals()["final sync"]}
        print(f"\nseed {seed}; {stored_total} messages stored of {total} written; kill -9 of server a after "
              f"{acked_at_kill} acked ({written_at_kill} written, {unacked_at_kill} unacknowledged) "
              f"{killed_at - stream_began:.2f} s into the stream")
        print(f"failovers: {len(failovers)} by {len(on_a)} clients of a; disconnect seen "
              f"{max(f['down'] for f in failovers) - killed_at:.3f} s after the kill at the latest; reconnected "
              f"after {statistics.median(f['connected'] - killed_at for f in failovers):.3f} s median, "
              f"{max(f['connected'] - killed_at for f in failovers):.3f} s max; outbox resent and caught up "
              f"after {max(f['caught_up'] - killed_at for f in failovers):.3f} s max; outboxes at failover "
              f"{[f['outbox'] for f in failovers]}")
        print(f"client stats: {dict(stats)}")
        print(f"views filled by: {dict(arrivals)}; final sync filled: {synced or 'nothing'}")
        print(f"stream {stream_ended - stream_began:.1f} s; test {time.monotonic() - began:.1f} s")
        assert not problems, "\n".join(problems)
        assert stored_total == total
    finally:
        for client in clients:
            client.close()
        for thread in threads:
            thread.join(timeout=2)
        if server_a.process.poll() is None:
            server_a.process.kill()
            server_a.process.wait(timeout=10)
