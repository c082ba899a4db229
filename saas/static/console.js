// The agent console: a live inbox (mine, waiting, others) plus one open conversation, over the /agent
// Socket.IO namespace. Everything that came from a visitor or another agent is put on the page with
// textContent only.
(function () {
  'use strict';

  var root = document.getElementById('console');
  if (!root || typeof window.io !== 'function') return;

  var ACK_TIMEOUT_MS = 10000;
  var PREVIEW_LENGTH = 90;
  var NOTICE_MS = 8000;
  var AGENT_NAME = root.dataset.agentName || t('You');
  var ME = Number(root.dataset.agentId);
  var IS_ADMIN = root.dataset.admin === 'true';
  // The agent's language and time zone (profile; none: the browser's zone); the strings in that
  // language come from page_texts.js.
  var LANGUAGE = root.dataset.language || 'en';
  var TIME_ZONE = root.dataset.timeZone || undefined;
  function t(msgid, values) { return window.SwitchboardTexts.t(msgid, values); }

  var listEl = document.getElementById('conversation-list');
  var sections = {
    mine: document.getElementById('section-mine'),
    waiting: document.getElementById('section-waiting'),
    others: document.getElementById('section-others'),
  };
  var inboxEmptyEl = document.getElementById('inbox-empty');
  var connectionEl = document.getElementById('connection');
  var presenceEl = document.getElementById('presence');
  var headingEl = document.getElementById('pane-heading');
  var contactEl = document.getElementById('pane-contact');
  var holderEl = document.getElementById('pane-holder');
  var actionsEl = document.getElementById('pane-actions');
  var transferOpenEl = document.getElementById('transfer-open');
  var closeEl = document.getElementById('close-conversation');
  var transferEl = document.getElementById('transfer-panel');
  var transferTargetEl = document.getElementById('transfer-target');
  var transferNoteEl = document.getElementById('transfer-note');
  var transferConfirmEl = document.getElementById('transfer-confirm');
  var paneEmptyEl = document.getElementById('pane-empty');
  var messagesEl = document.getElementById('messages');
  var noticeEl = document.getElementById('notice');
  var formEl = document.getElementById('composer-form');
  var composerEl = document.getElementById('composer');
  var sendEl = document.getElementById('send');

  var conversations = new Map(); // id -> open Conversation, plus our own `unread` count
  var items = new Map(); // id -> <li> in the inbox
  // Colleagues and departments (team:list), for names, presence and transfer targets.
  var team = { agents: new Map(), departments: new Map() };
  var myPresence = null;
  // Waiting conversation ids per department ('none' for no department), in queue order, as last pushed.
  var queues = new Map();
  // The open conversation: what is on screen, so pushes and acks can be deduplicated. `conv` is its
  // latest snapshot, kept even once it is closed and gone from the list.
  var current = null; // {id, conv, maxSeq, readSeq, ids: Set, byClientId: Map(client_id -> element)}
  // Messages the server has not confirmed yet, per conversation, so that switching to another
  // conversation and back does not lose a failed message.
  var outbox = new Map(); // conversation id -> Map(client_id -> {conversation_id, client_id, body, state, error})

  var socket = window.io('/agent', { auth: { tenant: root.dataset.tenant }, transports: ['websocket', 'polling'] });
  // Console add-ons (the visitor panel) share this one connection.
  window.SwitchboardConsole = { socket: socket, openConversation: function (id) { openConversation(id); },
    // For console_engagement.js: acknowledged requests, notices, and the conversation on screen.
    request: request, showNotice: showNotice, current: function () { return current ? current.conv : null; },
    // For console_notifications.js: what the inbox knows of a conversation, fresh unread counts, strings.
    conversation: function (id) { return conversations.get(id) || null; }, reloadList: loadListSoon, t: t,
    // For every add-on's dates and numbers: toLocaleString(language, { timeZone: timeZone }).
    language: LANGUAGE, timeZone: TIME_ZONE };

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
    var day = { timeZone: TIME_ZONE, year: 'numeric', month: 'numeric', day: 'numeric' };
    var sameDay = date.toLocaleDateString(LANGUAGE, day) === new Date().toLocaleDateString(LANGUAGE, day);
    return sameDay
      ? date.toLocaleTimeString(LANGUAGE, { hour: '2-digit', minute: '2-digit', timeZone: TIME_ZONE })
      : date.toLocaleDateString(LANGUAGE, { day: 'numeric', month: 'short', timeZone: TIME_ZONE });
  }

  function truncate(text, length) {
    var flat = String(text || '').replace(/\s+/g, ' ').trim();
    return flat.length > length ? flat.slice(0, length - 1) + '…' : flat;
  }

  var noticeTimer = null;
  function showNotice(message, info) {
    noticeEl.textContent = message;
    noticeEl.classList.toggle('info', !!info); // info: a confirmation, not an error
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(function () { noticeEl.textContent = ''; }, NOTICE_MS);
  }

  function displayName(conv) {
    return conv.visitor.name || conv.visitor.nickname;
  }

  function agentName(id) {
    if (id === ME) return 'you';
    var agent = team.agents.get(id);
    return agent ? agent.name : 'a colleague';
  }

  function departmentName(id) {
    var department = id == null ? null : team.departments.get(id);
    return department ? department.name : null;
  }

  // Every request carries an ack; a missing answer is reported like any other refusal.
  function request(event, payload, onOk, onFail) {
    socket.timeout(ACK_TIMEOUT_MS).emit(event, payload, function (err, ack) {
      var error = null;
      if (err) error = { code: 'timeout', message: t('The server did not answer in time. Check your connection.') };
      else if (!ack || !ack.ok) error = (ack && ack.error) || { code: 'server_error', message: t('Unexpected answer from the server.') };
      if (!error) { onOk(ack); return; }
      if (onFail) onFail(error); else showNotice(error.message);
    });
  }

  function setConnection(text, offline) {
    connectionEl.textContent = text;
    connectionEl.classList.toggle('offline', !!offline);
  }

  // ---------- inbox ----------

  // Mine: held by me. Waiting: wants a person (in the queue, or the bot keeps them company meanwhile).
  // Others: the bot's, or a colleague's.
  function sectionOf(conv) {
    if (conv.status !== 'open') return null;
    if (conv.handler === 'agent') return conv.assigned_agent_id === ME ? 'mine' : 'others';
    return conv.waiting_since ? 'waiting' : 'others';
  }

  function byRecent(a, b) {
    return parseTime(b.updated_at) - parseTime(a.updated_at) || b.id - a.id;
  }

  function byWaiting(a, b) {
    return parseTime(a.waiting_since) - parseTime(b.waiting_since) || a.id - b.id;
  }

  function queueKey(departmentId) {
    return departmentId == null ? 'none' : String(departmentId);
  }

  // The place in its department's queue: as the server last pushed it, else counted from what we know.
  function placeOf(conv) {
    var order = queues.get(queueKey(conv.department_id)) || [];
    var index = order.indexOf(conv.id);
    if (index !== -1) return index + 1;
    var place = 1;
    conversations.forEach(function (other) {
      if (other.id !== conv.id && sectionOf(other) === 'waiting' && other.department_id === conv.department_id &&
          byWaiting(other, conv) < 0) place += 1;
    });
    return place;
  }

  function waitingText(conv) {
    var department = departmentName(conv.department_id);
    return department ? t('#{place} in the {department} queue', { place: placeOf(conv), department: department })
      : t('#{place} in the queue', { place: placeOf(conv) });
  }

  function holderText(conv) {
    if (conv.handler === 'agent') return t('With {name}', { name: agentName(conv.assigned_agent_id) });
    return t('With the assistant');
  }

  function renderItem(conv, section) {
    var li = items.get(conv.id);
    if (!li) {
      li = el('li');
      li.dataset.conversationId = conv.id;
      var button = el('button', 'conversation-item');
      button.type = 'button';
      button.append(el('span', 'nickname'), el('span', 'channel-tag'), el('time', 'time'), el('span', 'preview'),
        el('span', 'unread'), el('span', 'holder'));
      li.appendChild(button);
      items.set(conv.id, li);
    }
    var last = conv.last_message;
    var preview = '';
    if (last) preview = (last.sender.type === 'visitor' ? '' : last.sender.name + ': ') + last.body;
    var unread = conv.unread || 0;
    li.querySelector('.nickname').textContent = displayName(conv);
    var channelTag = li.querySelector('.channel-tag');
    channelTag.textContent = window.SwitchboardChannels.label(conv.channel);
    channelTag.hidden = !channelTag.textContent;
    var time = li.querySelector('.time');
    time.textContent = formatTime(conv.updated_at);
    time.dateTime = parseTime(conv.updated_at).toISOString();
    li.querySelector('.preview').textContent = truncate(preview, PREVIEW_LENGTH) || t('No messages yet');
    var badge = li.querySelector('.unread');
    badge.textContent = String(unread);
    badge.setAttribute('aria-label', unread + ' unread');
    badge.hidden = unread === 0;
    var holder = li.querySelector('.holder');
    holder.textContent = section === 'waiting' ? waitingText(conv) : section === 'others' ? holderText(conv) : '';
    holder.hidden = !holder.textContent;
    li.classList.toggle('has-unread', unread > 0);
    li.firstChild.setAttribute('aria-current', current && current.id === conv.id ? 'true' : 'false');
    var pick = li.querySelector('.pick');
    if (section === 'waiting' && !pick) {
      pick = el('button', 'pick button small secondary', t('Take'));
      pick.type = 'button';
      li.appendChild(pick);
    } else if (section !== 'waiting' && pick) {
      pick.remove();
      pick = null;
    }
    if (pick) pick.setAttribute('aria-label', t('Take the conversation with {name}', { name: displayName(conv) }));
  }

  // Puts every item in its section and order, moving only those out of place (a focused item is not
  // needlessly re-inserted).
  function renderList() {
    var groups = { mine: [], waiting: [], others: [] };
    conversations.forEach(function (conv) {
      var section = sectionOf(conv);
      if (section) groups[section].push(conv);
    });
    groups.mine.sort(byRecent);
    groups.waiting.sort(byWaiting);
    groups.others.sort(byRecent);
    Object.keys(groups).forEach(function (name) {
      var list = sections[name].querySelector('ul');
      groups[name].forEach(function (conv, index) {
        renderItem(conv, name);
        var li = items.get(conv.id);
        if (list.children[index] !== li) list.insertBefore(li, list.children[index] || null);
      });
      sections[name].querySelector('[data-count]').textContent = String(groups[name].length);
      sections[name].hidden = groups[name].length === 0;
    });
    Object.keys(groups).forEach(function (name) { // whatever is left over belongs nowhere any more
      var list = sections[name].querySelector('ul');
      while (list.children.length > groups[name].length) list.lastElementChild.remove();
    });
    inboxEmptyEl.hidden = conversations.size > 0;
  }

  function forget(id) {
    conversations.delete(id);
    var li = items.get(id);
    if (li) { li.remove(); items.delete(id); }
  }

  // Routing facts (handler, assignee, status…) come from the latest push; the preview only moves
  // forward, since message pushes can overtake each other.
  function upsertConversation(incoming, unread) {
    var known = conversations.get(incoming.id) || (current && current.id === incoming.id ? current.conv : null);
    var conv = Object.assign({}, known || {}, incoming);
    if (known && (incoming.last_seq < known.last_seq || !incoming.last_message)) {
      // Older, or a routing push without its last message: keep what we show (the message push
      // that follows still counts as new).
      conv.last_seq = known.last_seq;
      conv.updated_at = known.updated_at;
      conv.last_message = known.last_message;
    } else if (!known && !incoming.last_message && incoming.last_seq > 0) {
      loadListSoon(); // we never saw its messages: fetch the preview and unread count
    }
    conv.unread = unread !== undefined ? unread : (known ? known.unread || 0 : 0);
    if (current && current.id === conv.id) current.conv = conv;
    if (conv.status === 'open') conversations.set(conv.id, conv); else forget(conv.id);
    return conv;
  }

  function loadList() {
    request('conversations:list', {}, function (ack) {
      var seen = new Set();
      queues.clear(); // may be stale after a reconnect; counted locally until the next push
      ack.conversations.forEach(function (incoming) {
        seen.add(incoming.id);
        conversations.delete(incoming.id); // the server's list (with its unread counts) is authoritative
        upsertConversation(incoming, current && current.id === incoming.id ? 0 : incoming.unread || 0);
      });
      conversations.forEach(function (_conv, id) {
        if (!seen.has(id)) forget(id);
      });
      renderList();
      renderPane();
    });
  }

  var listTimer = null;
  function loadListSoon() {
    clearTimeout(listTimer);
    listTimer = setTimeout(loadList, 300);
  }

  function pick(id, button) {
    button.disabled = true;
    request('conversation:pick', { conversation_id: id }, function (ack) {
      applyConversation(ack.conversation);
      openConversation(id);
    }, function (error) {
      button.disabled = false;
      showNotice(error.message);
    });
  }

  listEl.addEventListener('click', function (event) {
    var li = event.target.closest('[data-conversation-id]');
    if (!li) return;
    var id = Number(li.dataset.conversationId);
    var take = event.target.closest('button.pick');
    if (take) pick(id, take); else openConversation(id);
  });

  // ---------- team and presence ----------

  function setMyPresence(state) {
    myPresence = state;
    presenceEl.value = state;
    presenceEl.disabled = false;
    presenceEl.className = 'presence presence-' + state;
  }

  function loadTeam(then) {
    request('team:list', {}, function (ack) {
      team.agents = new Map(ack.agents.map(function (a) { return [a.id, a]; }));
      team.departments = new Map(ack.departments.map(function (d) { return [d.id, d]; }));
      var me = team.agents.get(ack.me);
      if (me) setMyPresence(me.presence);
      renderList();
      renderPane();
      if (then) then();
    });
  }

  presenceEl.addEventListener('change', function () {
    var wanted = presenceEl.value;
    request('presence:set', { state: wanted }, function (ack) {
      setMyPresence(ack.presence);
    }, function (error) {
      if (myPresence) setMyPresence(myPresence);
      showNotice(error.message);
    });
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
    node.dataset.messageId = message.id;
    var meta = el('span', 'meta');
    var time = el('time', '', formatTime(message.created_at));
    time.dateTime = parseTime(message.created_at).toISOString();
    if (type !== 'visitor') meta.append(el('span', 'sender', message.sender.name), ' · ');
    meta.append(time);
    node.append(meta, window.SwitchboardContent.body(message)); // text, formatting, image or file
    var offered = type === 'bot' ? suggestionLabels(message.extras) : [];
    if (offered.length) node.appendChild(el('span', 'meta suggested', t('Suggested: {items}', { items: offered.join(' · ') })));
    var delivery = window.SwitchboardChannels.deliveryElement(message); // sent out by SMS or webhook
    if (delivery) node.appendChild(delivery);
    return node;
  }

  // What the bot offered as "Did you mean…", so the agent sees it (the visitor saw them as buttons).
  function suggestionLabels(extras) {
    var list = extras && Array.isArray(extras.suggestions) ? extras.suggestions : [];
    return list.map(function (s) { return s && typeof s.label === 'string' ? s.label.trim() : ''; })
      .filter(Boolean);
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
    current.seqs.add(message.seq);
    while (current.seqs.has(current.gapFreeSeq + 1)) current.gapFreeSeq += 1;
    outboxFor(message.conversation_id).delete(message.client_id);
    if (follow || stale) scrollToBottom();
  }

  function entryElement(entry) {
    var node = el('li', 'message from-agent ' + entry.state);
    node.dataset.clientId = entry.client_id;
    node.append(el('span', 'meta', AGENT_NAME + ' · ' + (entry.state === 'failed' ? t('not sent') : t('sending…'))),
      el('div', 'body', entry.body));
    if (entry.state === 'failed') {
      var failure = el('div', 'failure');
      var retry = el('button', 'button small secondary', t('Retry'));
      retry.type = 'button';
      retry.dataset.action = 'retry';
      var discard = el('button', 'link-button', t('Discard'));
      discard.type = 'button';
      discard.dataset.action = 'discard';
      failure.append(el('span', '', entry.error || t('Not sent.')), retry, discard);
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

  // Only a tab on screen reads for the agent (console_notifications.js: the tab in front clears the
  // notifications and tells the other tabs).
  function markRead() {
    if (!current || document.hidden || current.maxSeq <= current.readSeq) return;
    var state = current;
    var conv = conversations.get(state.id);
    if (conv && conv.unread) { conv.unread = 0; renderList(); }
    state.readSeq = state.maxSeq;
    request('conversation:read', { conversation_id: state.id, seq: state.maxSeq }, function () {
      root.dispatchEvent(new CustomEvent('conversation:read', { detail: { id: state.id } }));
    }, function (error) {
      state.readSeq = 0; // try again with the next message
      showNotice(error.message);
    });
  }

  // A hole in the seqs may be a push still on its way, or one that died with a crashed server:
  // look again shortly, then fetch from the last gap-free seq.
  function fillGapSoon(state) {
    if (state.gapTimer) return;
    state.gapTimer = setTimeout(function () {
      state.gapTimer = null;
      if (current === state && state.gapFreeSeq < state.maxSeq) loadMessages();
    }, 300);
  }

  // Fetches what follows the last gap-free seq: everything on open, only the gap after a
  // reconnect or a lost push.
  function loadMessages() {
    var state = current;
    request('conversation:open', { conversation_id: state.id, after_seq: state.gapFreeSeq }, function (ack) {
      if (current !== state) return; // the agent moved on meanwhile
      upsertConversation(ack.conversation);
      renderList();
      renderPane();
      ack.messages.forEach(addMessage);
      outboxFor(state.id).forEach(renderEntry);
      scrollToBottom();
      markRead();
    }, function (error) {
      if (current === state) showNotice(error.message);
    });
  }

  // The open conversation's header: who the visitor is, who holds the conversation, what I may do.
  function renderPane() {
    if (!current || !current.conv) return;
    var conv = current.conv;
    var open = conv.status === 'open';
    headingEl.textContent = displayName(conv);
    var contact = [conv.visitor.email, conv.visitor.phone].filter(Boolean).join(' · ');
    contactEl.textContent = contact;
    contactEl.hidden = !contact;
    var holder;
    if (!open) holder = t('This conversation is closed.');
    else if (sectionOf(conv) === 'waiting') holder = t('Waiting: {where}. Replying takes it.', { where: waitingText(conv) });
    else if (conv.handler === 'bot') holder = t('{holder}. Replying takes it.', { holder: holderText(conv) });
    else holder = t('{holder}.', { holder: holderText(conv) });
    if (holderEl.textContent !== holder) holderEl.textContent = holder;
    actionsEl.hidden = !open;
    var mayHandle = IS_ADMIN || !conv.assigned_agent_id || conv.assigned_agent_id === ME;
    transferOpenEl.disabled = !mayHandle;
    closeEl.disabled = !mayHandle;
    composerEl.disabled = !open || !mayHandle; // the server refuses replies in a colleague's conversation
    sendEl.disabled = composerEl.disabled;
    if (!open) closeTransfer(false);
  }

  function applyConversation(data) {
    upsertConversation(data);
    renderList();
    renderPane();
  }

  function openConversation(id) {
    if (current && current.id === id) { composerEl.focus(); return; }
    closeTransfer(false);
    current = {
      id: id, conv: conversations.get(id) || null, maxSeq: 0, readSeq: 0, seqs: new Set(), gapFreeSeq: 0, gapTimer: null,
      ids: new Set(), byClientId: new Map(),
    };
    messagesEl.textContent = '';
    headingEl.textContent = t('Conversation');
    holderEl.textContent = '';
    paneEmptyEl.hidden = true;
    composerEl.disabled = false;
    sendEl.disabled = false;
    renderList();
    renderPane();
    loadMessages();
    composerEl.focus();
    root.dispatchEvent(new CustomEvent('conversation:opened', { detail: { id: id } }));
  }

  // ---------- transfer and close ----------

  function option(value, text, disabled) {
    var node = el('option', '', text);
    node.value = value;
    node.disabled = !!disabled;
    return node;
  }

  function fillTransferTargets() {
    var previous = transferTargetEl.value;
    transferTargetEl.textContent = '';
    transferTargetEl.appendChild(option('', t('Choose a colleague or a department')));
    var colleagues = el('optgroup');
    colleagues.label = t('Online colleagues');
    team.agents.forEach(function (agent) {
      if (agent.id === ME || agent.presence !== 'online') return;
      var full = agent.load >= agent.capacity;
      colleagues.appendChild(option('agent:' + agent.id,
        agent.name + ' (' + agent.load + '/' + agent.capacity + (full ? t(', full') : '') + ')'));
    });
    if (!colleagues.children.length) colleagues.appendChild(option('', t('Nobody else is online'), true));
    var departments = el('optgroup');
    departments.label = t('Departments');
    team.departments.forEach(function (department) {
      departments.appendChild(option('department:' + department.id, department.name));
    });
    transferTargetEl.appendChild(colleagues);
    if (departments.children.length) transferTargetEl.appendChild(departments);
    transferTargetEl.value = previous;
    if (transferTargetEl.selectedIndex === -1) transferTargetEl.value = '';
  }

  function openTransfer() {
    if (!current || !current.conv) return;
    transferEl.hidden = false;
    transferOpenEl.setAttribute('aria-expanded', 'true');
    fillTransferTargets();
    loadTeam(function () { if (!transferEl.hidden) fillTransferTargets(); }); // fresh presence and load
    transferTargetEl.focus();
  }

  function closeTransfer(restoreFocus) {
    if (transferEl.hidden) return;
    transferEl.hidden = true;
    transferOpenEl.setAttribute('aria-expanded', 'false');
    transferNoteEl.value = '';
    transferTargetEl.value = '';
    if (restoreFocus) transferOpenEl.focus();
  }

  transferOpenEl.addEventListener('click', function () {
    if (transferEl.hidden) openTransfer(); else closeTransfer(true);
  });
  document.getElementById('transfer-cancel').addEventListener('click', function () { closeTransfer(true); });
  transferEl.addEventListener('keydown', function (event) {
    if (event.key === 'Escape') { event.preventDefault(); closeTransfer(true); }
  });

  transferEl.addEventListener('submit', function (event) {
    event.preventDefault();
    if (!current) return;
    var target = transferTargetEl.value.split(':');
    if (target.length !== 2) {
      showNotice(t('Choose a colleague or a department to transfer to.'));
      transferTargetEl.focus();
      return;
    }
    var chosen = (target[0] === 'agent' ? team.agents : team.departments).get(Number(target[1]));
    var targetName = chosen ? chosen.name : 'them';
    var payload = {
      conversation_id: current.id,
      to_agent_id: target[0] === 'agent' ? Number(target[1]) : null,
      to_department_id: target[0] === 'department' ? Number(target[1]) : null,
      note: transferNoteEl.value.trim(),
    };
    transferConfirmEl.disabled = true;
    request('conversation:transfer', payload, function (ack) {
      transferConfirmEl.disabled = false;
      applyConversation(ack.conversation);
      closeTransfer(false);
      (transferOpenEl.disabled ? headingEl : transferOpenEl).focus(); // no longer mine: stay in the pane
      showNotice(t('Transferred to {name}.', { name: targetName }), true);
    }, function (error) {
      transferConfirmEl.disabled = false;
      showNotice(error.message);
    });
  });

  closeEl.addEventListener('click', function () {
    if (!current) return;
    closeEl.disabled = true;
    request('conversation:close', { conversation_id: current.id }, function (ack) {
      applyConversation(ack.conversation);
      headingEl.focus(); // the button is gone; stay in the pane
    }, function (error) {
      closeEl.disabled = false;
      showNotice(error.message);
    });
  });

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

  document.addEventListener('visibilitychange', markRead); // what arrived while hidden is read now

  // ---------- pushes and connection ----------

  socket.on('message:new', function (data) {
    var message = data.message;
    var known = conversations.get(data.conversation.id);
    var isNew = !known || message.seq > known.last_seq;
    var conv = upsertConversation(data.conversation);
    if (current && current.id === conv.id) {
      addMessage(message);
      markRead();
      if (current.gapFreeSeq < current.maxSeq) fillGapSoon(current);
    } else if (isNew && message.sender.type === 'visitor') {
      conv.unread = (conv.unread || 0) + 1;
    }
    renderList();
    renderPane();
  });

  // Routing changed: taken, transferred, queued, held by the bot, closed (then it leaves the list).
  socket.on('conversation:updated', applyConversation);

  socket.on('queue:updated', function (data) {
    queues.set(queueKey(data.department_id), data.conversation_ids);
    if (data.conversation_ids.some(function (id) { return !conversations.has(id); })) loadListSoon();
    renderList();
    renderPane();
  });

  socket.on('agent:presence', function (data) {
    var agent = team.agents.get(data.id);
    if (agent) agent.presence = data.presence; else loadTeam();
    if (data.id === ME) setMyPresence(data.presence);
    if (!transferEl.hidden) fillTransferTargets();
  });

  socket.on('connect', function () {
    setConnection(t('Live'));
    loadTeam();
    loadList();
    if (current) loadMessages(); // fills whatever was missed while offline
  });

  socket.on('disconnect', function (reason) {
    // The client retries lost connections by itself, but not a disconnect the server chose.
    if (reason === 'io server disconnect') {
      setConnection(t('Disconnected'), true);
      showNotice(t('The server closed the connection. Reload the page to reconnect.'));
    } else {
      setConnection(t('Reconnecting…'), true);
    }
  });

  socket.on('connect_error', function (err) {
    if (socket.active) {
      setConnection(t('Reconnecting…'), true); // a network problem: the client keeps retrying
      return;
    }
    // Refused by the server (e.g. logged out): retrying would only be refused again.
    setConnection(t('Offline'), true);
    showNotice(((err.data && err.data.message) || t('The server refused the connection.')) + ' ' +
      t('Reload the page to sign in again.'));
  });
})();
