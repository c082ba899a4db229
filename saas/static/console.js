// The agent console: a live inbox plus one open conversation, over the /agent Socket.IO namespace.
// Everything that came from a visitor or another agent is put on the page with textContent only.
(function () {
  'use strict';

  var root = document.getElementById('console');
  if (!root || typeof window.io !== 'function') return;

  var ACK_TIMEOUT_MS = 10000;
  var PREVIEW_LENGTH = 90;
  var NOTICE_MS = 8000;
  var BASE_TITLE = document.title;
  var AGENT_NAME = root.dataset.agentName || 'You';

  var listEl = document.getElementById('conversation-list');
  var inboxEmptyEl = document.getElementById('inbox-empty');
  var connectionEl = document.getElementById('connection');
  var headingEl = document.getElementById('pane-heading');
  var paneEmptyEl = document.getElementById('pane-empty');
  var messagesEl = document.getElementById('messages');
  var noticeEl = document.getElementById('notice');
  var formEl = document.getElementById('composer-form');
  var composerEl = document.getElementById('composer');
  var sendEl = document.getElementById('send');

  var conversations = new Map(); // id -> Conversation, plus our own `unread` count
  var items = new Map(); // id -> <li> in the inbox
  // The open conversation: what is on screen, so pushes and acks can be deduplicated.
  var current = null; // {id, maxSeq, readSeq, ids: Set, byClientId: Map(client_id -> element)}
  // Messages the server has not confirmed yet, per conversation, so that switching to another
  // conversation and back does not lose a failed message.
  var outbox = new Map(); // conversation id -> Map(client_id -> {conversation_id, client_id, body, state, error})

  var socket = window.io('/agent', { auth: { tenant: root.dataset.tenant }, transports: ['websocket', 'polling'] });

  // ---------- small helpers ----------

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function newClientId() {
    // randomUUID only exists on secure origins; a plain-http install still needs unique ids.
    if (window.crypto && typeof window.crypto.randomUUID === 'function') return window.crypto.randomUUID();
    return Array.from(window.crypto.getRandomValues(new Uint8Array(16)), function (b) {
      return b.toString(16).padStart(2, '0');
    }).join('');
  }

  function parseTime(iso) {
    if (!iso) return new Date(0);
    // SQLite hands back naive timestamps; they are UTC, but JS would read them as local time.
    var hasZone = /(Z|[+-]\d\d:?\d\d)$/i.test(iso);
    return new Date(hasZone ? iso : iso + 'Z');
  }

  function formatTime(iso) {
    var date = parseTime(iso);
    var sameDay = date.toDateString() === new Date().toDateString();
    return sameDay
      ? date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
      : date.toLocaleDateString([], { day: 'numeric', month: 'short' });
  }

  function truncate(text, length) {
    var flat = String(text || '').replace(/\s+/g, ' ').trim();
    return flat.length > length ? flat.slice(0, length - 1) + '…' : flat;
  }

  var noticeTimer = null;
  function showNotice(message) {
    noticeEl.textContent = message;
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(function () { noticeEl.textContent = ''; }, NOTICE_MS);
  }

  // Every request carries an ack; a missing answer is reported like any other refusal.
  function request(event, payload, onOk, onFail) {
    socket.timeout(ACK_TIMEOUT_MS).emit(event, payload, function (err, ack) {
      var error = null;
      if (err) error = { code: 'timeout', message: 'The server did not answer in time. Check your connection.' };
      else if (!ack || !ack.ok) error = (ack && ack.error) || { code: 'server_error', message: 'Unexpected answer from the server.' };
      if (!error) { onOk(ack); return; }
      if (onFail) onFail(error); else showNotice(error.message);
    });
  }

  function setConnection(text, offline) {
    connectionEl.textContent = text;
    connectionEl.classList.toggle('offline', !!offline);
  }

  // ---------- inbox ----------

  function updateTitle() {
    var total = 0;
    conversations.forEach(function (conv) { total += conv.unread || 0; });
    document.title = total > 0 ? '(' + total + ') ' + BASE_TITLE : BASE_TITLE;
  }

  function renderItem(conv) {
    var li = items.get(conv.id);
    if (!li) {
      li = el('li');
      li.dataset.conversationId = conv.id;
      var button = el('button', 'conversation-item');
      button.type = 'button';
      button.append(el('span', 'nickname'), el('time', 'time'), el('span', 'preview'), el('span', 'unread'));
      li.appendChild(button);
      items.set(conv.id, li);
    }
    var last = conv.last_message;
    var preview = '';
    if (last) preview = (last.sender.type === 'visitor' ? '' : last.sender.name + ': ') + last.body;
    var unread = conv.unread || 0;
    li.querySelector('.nickname').textContent = conv.visitor.nickname;
    var time = li.querySelector('.time');
    time.textContent = formatTime(conv.updated_at);
    time.dateTime = parseTime(conv.updated_at).toISOString();
    li.querySelector('.preview').textContent = truncate(preview, PREVIEW_LENGTH) || 'No messages yet';
    var badge = li.querySelector('.unread');
    badge.textContent = String(unread);
    badge.setAttribute('aria-label', unread + ' unread');
    badge.hidden = unread === 0;
    li.classList.toggle('has-unread', unread > 0);
    li.firstChild.setAttribute('aria-current', current && current.id === conv.id ? 'true' : 'false');
  }

  function byRecent(a, b) {
    return parseTime(b.updated_at) - parseTime(a.updated_at) || b.id - a.id;
  }

  // Moves only the items that are out of place, so a focused item is not needlessly re-inserted.
  function sortList() {
    Array.from(conversations.values()).sort(byRecent).forEach(function (conv, index) {
      var li = items.get(conv.id);
      if (listEl.children[index] !== li) listEl.insertBefore(li, listEl.children[index] || null);
    });
    inboxEmptyEl.hidden = conversations.size > 0;
  }

  function upsertConversation(incoming, unread) {
    var known = conversations.get(incoming.id);
    // Pushes can overtake each other; never let an older snapshot replace a newer preview.
    if (known && incoming.last_seq < known.last_seq) return known;
    var conv = Object.assign({}, incoming, {
      unread: unread !== undefined ? unread : (known ? known.unread || 0 : 0),
    });
    conversations.set(conv.id, conv);
    return conv;
  }

  function loadList() {
    request('conversations:list', {}, function (ack) {
      var seen = new Set();
      ack.conversations.forEach(function (incoming) {
        seen.add(incoming.id);
        conversations.delete(incoming.id); // the server's list (with its unread counts) is authoritative
        var conv = upsertConversation(incoming, current && current.id === incoming.id ? 0 : incoming.unread || 0);
        renderItem(conv);
      });
      conversations.forEach(function (_conv, id) {
        if (!seen.has(id)) { conversations.delete(id); items.get(id).remove(); items.delete(id); }
      });
      sortList();
      updateTitle();
    });
  }

  listEl.addEventListener('click', function (event) {
    var li = event.target.closest('[data-conversation-id]');
    if (li) openConversation(Number(li.dataset.conversationId));
  });

  // ---------- the open conversation ----------

  function isNearBottom() {
    return messagesEl.scrollHeight - messagesEl.scrollTop - messagesEl.clientHeight < 80;
  }

  function scrollToBottom() {
    messagesEl.scrollTop = messagesEl.scrollHeight;
  }

  // Keeps the list in seq order even when a push arrives before the history it follows;
  // unconfirmed messages (no seq yet) always stay at the end.
  function insertBySeq(node, seq) {
    var before = null;
    for (var child = messagesEl.lastElementChild; child; child = child.previousElementSibling) {
      if (child.dataset.seq && Number(child.dataset.seq) < seq) break;
      before = child;
    }
    messagesEl.insertBefore(node, before);
  }

  function messageElement(message) {
    var type = message.sender.type;
    var node = el('li', 'message ' + (type === 'visitor' ? 'from-visitor' : 'from-agent'));
    if (type === 'bot' || type === 'system') node.classList.add('from-' + type);
    node.dataset.seq = message.seq;
    node.dataset.clientId = message.client_id;
    var meta = el('span', 'meta');
    var time = el('time', '', formatTime(message.created_at));
    time.dateTime = parseTime(message.created_at).toISOString();
    if (type !== 'visitor') meta.append(el('span', 'sender', message.sender.name), ' · ');
    meta.append(time);
    node.append(meta, el('div', 'body', message.body));
    return node;
  }

  function outboxFor(conversationId) {
    if (!outbox.has(conversationId)) outbox.set(conversationId, new Map());
    return outbox.get(conversationId);
  }

  function addMessage(message) {
    if (!current || message.conversation_id !== current.id || current.ids.has(message.id)) return;
    var follow = isNearBottom();
    var stale = current.byClientId.get(message.client_id); // our own pending copy, if any
    var node = messageElement(message);
    if (stale) stale.remove();
    insertBySeq(node, message.seq);
    current.ids.add(message.id);
    current.byClientId.set(message.client_id, node);
    current.maxSeq = Math.max(current.maxSeq, message.seq);
    outboxFor(message.conversation_id).delete(message.client_id);
    if (follow || stale) scrollToBottom();
  }

  function entryElement(entry) {
    var node = el('li', 'message from-agent ' + entry.state);
    node.dataset.clientId = entry.client_id;
    node.append(el('span', 'meta', AGENT_NAME + ' · ' + (entry.state === 'failed' ? 'not sent' : 'sending…')),
      el('div', 'body', entry.body));
    if (entry.state === 'failed') {
      var failure = el('div', 'failure');
      var retry = el('button', 'button small secondary', 'Retry');
      retry.type = 'button';
      retry.dataset.action = 'retry';
      var discard = el('button', 'link-button', 'Discard');
      discard.type = 'button';
      discard.dataset.action = 'discard';
      failure.append(el('span', '', entry.error || 'Not sent.'), retry, discard);
      node.appendChild(failure);
    }
    return node;
  }

  function renderEntry(entry) {
    if (!current || current.id !== entry.conversation_id) return;
    var existing = current.byClientId.get(entry.client_id);
    if (existing && existing.dataset.seq) return; // already confirmed by the server
    var node = entryElement(entry);
    if (existing) existing.replaceWith(node); else messagesEl.appendChild(node);
    current.byClientId.set(entry.client_id, node);
    scrollToBottom();
  }

  function transmit(entry) {
    entry.state = 'pending';
    entry.error = null;
    renderEntry(entry);
    request('message:send', { conversation_id: entry.conversation_id, client_id: entry.client_id, body: entry.body },
      function (ack) {
        outboxFor(entry.conversation_id).delete(entry.client_id);
        addMessage(ack.message);
      },
      function (error) {
        // The broadcast may have confirmed it while the ack was lost.
        if (!outboxFor(entry.conversation_id).has(entry.client_id)) return;
        entry.state = 'failed';
        entry.error = error.message;
        renderEntry(entry);
        showNotice(error.message);
      });
  }

  function markRead() {
    if (!current || current.maxSeq <= current.readSeq) return;
    var state = current;
    var conv = conversations.get(state.id);
    if (conv && conv.unread) { conv.unread = 0; renderItem(conv); updateTitle(); }
    state.readSeq = state.maxSeq;
    request('conversation:read', { conversation_id: state.id, seq: state.maxSeq }, function () {}, function (error) {
      state.readSeq = 0; // try again with the next message
      showNotice(error.message);
    });
  }

  // Fetches what is newer than what is shown: everything on open, only the gap after a reconnect.
  function loadMessages() {
    var state = current;
    request('conversation:open', { conversation_id: state.id, after_seq: state.maxSeq }, function (ack) {
      if (current !== state) return; // the agent moved on meanwhile
      headingEl.textContent = ack.conversation.visitor.nickname;
      ack.messages.forEach(addMessage);
      outboxFor(state.id).forEach(renderEntry);
      scrollToBottom();
      markRead();
    }, function (error) {
      if (current === state) showNotice(error.message);
    });
  }

  function openConversation(id) {
    if (current && current.id === id) { composerEl.focus(); return; }
    current = { id: id, maxSeq: 0, readSeq: 0, ids: new Set(), byClientId: new Map() };
    messagesEl.textContent = '';
    var conv = conversations.get(id);
    headingEl.textContent = conv ? conv.visitor.nickname : 'Conversation';
    paneEmptyEl.hidden = true;
    composerEl.disabled = false;
    sendEl.disabled = false;
    conversations.forEach(renderItem);
    loadMessages();
    composerEl.focus();
  }

  function submit() {
    var body = composerEl.value.trim();
    if (!body || !current) return;
    var entry = { conversation_id: current.id, client_id: newClientId(), body: body, state: 'pending', error: null };
    outboxFor(current.id).set(entry.client_id, entry);
    composerEl.value = '';
    transmit(entry);
  }

  formEl.addEventListener('submit', function (event) {
    event.preventDefault();
    submit();
  });

  composerEl.addEventListener('keydown', function (event) {
    // isComposing: Enter also confirms an IME composition (Japanese, Chinese…), which must not send.
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    }
  });

  messagesEl.addEventListener('click', function (event) {
    var button = event.target.closest('button[data-action]');
    var node = button && button.closest('[data-client-id]');
    if (!node || !current) return;
    var box = outboxFor(current.id);
    var entry = box.get(node.dataset.clientId);
    if (!entry) return;
    if (button.dataset.action === 'retry') {
      transmit(entry); // same client_id: the server stores it at most once
    } else {
      box.delete(entry.client_id);
      current.byClientId.delete(entry.client_id);
      node.remove();
      composerEl.focus();
    }
  });

  // ---------- pushes and connection ----------

  socket.on('message:new', function (data) {
    var message = data.message;
    var known = conversations.get(data.conversation.id);
    var isNew = !known || message.seq > known.last_seq;
    var conv = upsertConversation(data.conversation);
    if (current && current.id === conv.id) {
      addMessage(message);
      markRead();
    } else if (isNew && message.sender.type === 'visitor') {
      conv.unread = (conv.unread || 0) + 1;
    }
    renderItem(conv);
    sortList();
    updateTitle();
  });

  socket.on('connect', function () {
    setConnection('Live');
    loadList();
    if (current) loadMessages(); // fills whatever was missed while offline
  });

  socket.on('disconnect', function (reason) {
    // The client retries lost connections by itself, but not a disconnect the server chose.
    if (reason === 'io server disconnect') {
      setConnection('Disconnected', true);
      showNotice('The server closed the connection. Reload the page to reconnect.');
    } else {
      setConnection('Reconnecting…', true);
    }
  });

  socket.on('connect_error', function (err) {
    if (socket.active) {
      setConnection('Reconnecting…', true); // a network problem: the client keeps retrying
      return;
    }
    // Refused by the server (e.g. logged out): retrying would only be refused again.
    setConnection('Offline', true);
    showNotice(((err.data && err.data.message) || 'The server refused the connection.') +
      ' Reload the page to sign in again.');
  });
})();
