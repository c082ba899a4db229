"""Resilient chat clients for the fault tests (issue 9): what a widget or console does, as real
python-socketio clients, plus a helper that runs a two-way stream and checks it afterwards.

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
- like the widget and the console, a hole in the seqs still there ``GAP_GRACE`` seconds after it
  was seen is filled with the same catch-up (a push lost with a killed process or while Redis was
  down shows as a hole when the next message arrives);
- pushed ``message:new`` events, acknowledgements and catch-ups are merged into one view per
  conversation, de-duplicated by message id.

A push lost after the last message of a conversation leaves no hole any client can see; like a
real client on its next message, every client does a final catch-up once the stream has ended.
"""
import itertools
import random
import threading
import time
from collections import Counter, defaultdict, deque

import psycopg
import socketio
from sqlalchemy import select

from tests.clients import login, new_client_id
from tests.conftest import POSTGRES_ADMIN_URL

CALL_TIMEOUT = 5.0  # an acknowledgement slower than this counts as a lost connection
CONNECT_TIMEOUT = 5.0
FAILOVER_DEADLINE = 20.0
GAP_GRACE = 0.3  # widget.js / console.js fillGapSoon: a hole may be a push still on its way
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
        self._holes: dict[int, float] = {}  # conversation id -> when a hole in its seqs was first seen
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
                if self._has_hole(message["conversation_id"]):
                    self._holes.setdefault(message["conversation_id"], time.monotonic())
            elif any(known[0][k] != message[k] for k in ("seq", "client_id", "body")):
                self.errors.append(f"{self.name}: message {message['id']} came twice, differently: "
                                   f"{known[0]} / {message}")

    def _has_hole(self, conversation_id: int) -> bool:
        seqs = {message["seq"] for message, _how in self.views[conversation_id].values()}
        return bool(seqs) and len(seqs) < max(seqs)

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
                    self._fill_holes()
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

    def _fill_holes(self) -> None:
        """Catch up on a conversation whose hole in the seqs is still there after ``GAP_GRACE``."""
        now = time.monotonic()
        with self._lock:
            due = [cid for cid, seen_at in self._holes.items() if now - seen_at >= GAP_GRACE]
            for cid in due:
                del self._holes[cid]
        for conversation_id in due:
            with self._lock:
                still_open = self._has_hole(conversation_id)
            if still_open and conversation_id in self.own_conversations():
                self.stats["hole filled"] += 1
                self.catch_up("gap fill", [conversation_id])

    def catch_up(self, how: str, conversations: list[int] | None = None) -> None:
        """Fetch every message after the watermark of each of this client's conversations."""
        for conversation_id in self.own_conversations() if conversations is None else conversations:
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


def database_allows_connections(backend, allowed: bool) -> None:
    """Open or close the test database: closing also ends every session on it (the outage)."""
    name = backend.env["DATABASE_URL"].rsplit("/", 1)[1]
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {"true" if allowed else "false"}')
        if not allowed:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def stored_transcripts(app, tenant) -> dict[int, list[dict]]:
    from saas.models import Message
    from tenants import tenant_context, tenant_session

    transcripts = defaultdict(list)
    with app.app_context(), tenant_context(tenant.ref):
        for m in tenant_session().scalars(select(Message).order_by(Message.conversation_id, Message.seq)):
            transcripts[m.conversation_id].append({
                "id": m.id, "seq": m.seq, "client_id": m.client_id, "sender_type": m.sender_type,
                "sender_id": m.sender_id, "body": m.body})
    return transcripts


def check_conversation(conversation_id: int, stored: list[dict], visitor: ResilientVisitor,
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




class ChatStream:
    """Visitors and agents spread over ``servers`` (in blocks: the first servers' clients first),
    every one writing from its own thread with jittered pauses: each visitor says hello and then
    ``messages_each`` messages, its agent answers ``messages_each`` times. ``verify`` compares what
    was written, what was stored and what every client saw."""

    def __init__(self, app, tenant, servers: list, visitors_per_server: int, agents_per_server: int,
                 messages_each: int, mean_pause: float):
        assert len(tenant.agents) == agents_per_server * len(servers), "one tenant agent per agent slot"
        self.app, self.tenant, self.servers = app, tenant, servers
        self.visitors_per_server, self.agents_per_server = visitors_per_server, agents_per_server
        self.messages_each, self.mean_pause = messages_each, mean_pause
        self.seed = random.randrange(1 << 30)
        self.visitors: list[ResilientVisitor] = []
        self.agents: list[ResilientAgent] = []
        self.owners: dict[int, ResilientAgent] = {}
        self.threads: list[threading.Thread] = []
        self.began: float | None = None
        self.before_sync: dict[str, Counter] = {}  # how each client's view was filled before the final sync

    @property
    def clients(self) -> list[ResilientClient]:
        return [*self.agents, *self.visitors]

    @property
    def total(self) -> int:
        """Messages the stream writes: hello + ``messages_each`` per visitor, as many answers."""
        return len(self.visitors) * (1 + 2 * self.messages_each)

    def acked(self) -> int:
        return sum(client.stats["acked"] for client in self.clients)

    def errors(self) -> list[str]:
        return [error for client in self.clients for error in client.errors]

    def start(self) -> None:
        """Connect everyone, open the conversations, get them assigned, then start writing."""
        urls = [server.url for server in self.servers]
        people = iter(self.tenant.agents)
        for server_index, server in enumerate(self.servers):
            for _ in range(self.agents_per_server):
                self.agents.append(ResilientAgent(f"agent{len(self.agents)}@{server_index}", urls, server.url,
                                                  self.tenant, next(people)))
            for _ in range(self.visitors_per_server):
                self.visitors.append(ResilientVisitor(f"visitor{len(self.visitors)}@{server_index}", urls,
                                                      server.url, self.tenant))
        self._run([threading.Thread(target=c.courier, name=f"courier-{c.name}", daemon=True)
                   for c in self.clients])
        for visitor in self.visitors:
            visitor.write(None, f"{visitor.name} says hello")
            wait_for(lambda: visitor.conversation_id or visitor.errors, 10, f"{visitor.name}'s first ack")
            assert not visitor.errors, visitor.errors
        self.owners = self._assign_conversations()
        for agent in self.agents:
            agent.catch_up("open")
        self.began = time.monotonic()
        self._run([threading.Thread(target=self._type_as_visitor, args=(v, random.Random(self.seed + i)),
                                    daemon=True, name=f"typist-{v.name}") for i, v in enumerate(self.visitors)]
                  + [threading.Thread(target=self._type_as_agent, args=(a, random.Random(self.seed + 100 + i)),
                                      daemon=True, name=f"typist-{a.name}") for i, a in enumerate(self.agents)])

    def _run(self, threads: list[threading.Thread]) -> None:
        self.threads += threads
        for thread in threads:
            thread.start()

    def _assign_conversations(self) -> dict[int, ResilientAgent]:
        """conversation id -> its agent, from each agent's ``conversations:list``."""
        wanted = {visitor.conversation_id for visitor in self.visitors}

        def assigned():
            owners = {}
            for agent in self.agents:
                reply = agent.link.call("conversations:list", {})
                assert reply["ok"], reply
                for conversation in reply["conversations"]:
                    if conversation["id"] in wanted and conversation["assigned_agent_id"] == agent.person.id:
                        owners[conversation["id"]] = agent
            return owners if set(owners) == wanted else None

        owners = wait_for(assigned, 15, "every conversation to be assigned to an agent")
        for agent in self.agents:
            agent.conversations = sorted(cid for cid, owner in owners.items() if owner is agent)
        return owners

    def _type_as_visitor(self, visitor: ResilientVisitor, rng: random.Random) -> None:
        for n in range(1, self.messages_each + 1):
            if visitor.stop.is_set():
                return
            visitor.write(None, f"{visitor.name} says #{n:03d}")
            time.sleep(rng.uniform(0, 2 * self.mean_pause))
        visitor.typing_done.set()

    def _type_as_agent(self, agent: ResilientAgent, rng: random.Random) -> None:
        for n in range(1, self.messages_each + 1):
            for conversation_id in agent.conversations:
                if agent.stop.is_set():
                    return
                agent.write(conversation_id, f"{agent.name} to #{conversation_id} says #{n:03d}")
                time.sleep(rng.uniform(0, 2 * self.mean_pause / len(agent.conversations)))
        agent.typing_done.set()

    def wait_until_acked(self, share: float, timeout: float = 30) -> None:
        wait_for(lambda: self.acked() >= share * self.total or self.errors(), timeout,
                 f"{share:.0%} of the messages to be acknowledged")
        assert not self.errors(), self.errors()

    def finish(self, deadline: float) -> None:
        """Wait (until ``deadline`` seconds after the stream began) for every message to be acknowledged."""
        until = self.began + deadline
        for thread in self.threads:
            thread.join(timeout=max(0.1, until - time.monotonic()))
        assert not self.errors(), self.errors()
        stuck = [thread.name for thread in self.threads if thread.is_alive()]
        assert not stuck, f"still running after {deadline} s: {stuck}; " \
                          f"unacknowledged: {[(c.name, c.unacknowledged()) for c in self.clients]}; " \
                          f"{self.summary()}"
        assert all(client.unacknowledged() == 0 for client in self.clients)

    def verify(self) -> list[str]:
        """After a final catch-up by every client: what differs between written, stored and seen."""
        self._settle()
        self.before_sync = {client.name: client.arrivals() for client in self.clients}
        for client in self.clients:
            client.sync()
        assert not self.errors(), self.errors()
        transcripts = stored_transcripts(self.app, self.tenant)
        problems = []
        for visitor in self.visitors:
            cid = visitor.conversation_id
            problems += check_conversation(cid, transcripts[cid], visitor, self.owners[cid])
        if set(transcripts) != set(self.owners):
            problems.append(f"messages in unexpected conversations: {set(transcripts) - set(self.owners)}")
        stored = sum(len(transcripts[v.conversation_id]) for v in self.visitors)
        if stored != self.total:
            problems.append(f"{stored} messages stored, {self.total} written")
        return problems

    def _settle(self, quiet: float = 0.3, timeout: float = 5) -> None:
        """Wait until no push has arrived for ``quiet`` seconds (the stream has ended)."""
        deadline, last = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            now = sum(client.seen() for client in self.clients)
            if now == last:
                return
            last = now
            time.sleep(quiet)

    def summary(self) -> str:
        """What happened, for the record (pytest -rP or -s shows it)."""
        stats = sum((client.stats for client in self.clients), Counter())
        arrivals = sum((client.arrivals() for client in self.clients), Counter())
        synced = {client.name: client.arrivals()["final sync"] - self.before_sync[client.name]["final sync"]
                  for client in self.clients if client.name in self.before_sync and client.arrivals()["final sync"]}
        return (f"seed {self.seed}; {self.total} messages written\nclient stats: {dict(stats)}\n"
                f"views filled by: {dict(arrivals)}; final sync filled: {synced or 'nothing'}")

    def close(self) -> None:
        for client in self.clients:
            client.close()
        for thread in self.threads:
            thread.join(timeout=2)
