// Agent notifications: a new conversation, a visitor message in one of mine, a transfer to me and a
// queue waiting too long each raise a browser notification and a short beep, and count in the tab
// title until the agent looks at a console tab again. An agent may have several console tabs open,
// all hearing the same pushes: one of them, the leader (a Web Lock held until the tab closes), does
// the notifying; the title's count and the "someone is looking" mark are shared through
// localStorage, and a tab the agent looks at clears the count and reads its conversation for all.
// Each tab also announces, for screen readers, what arrives in the conversation it shows.
// Loaded after console.js, whose window.SwitchboardConsole it uses.
(function () {
  'use strict';

  var app = window.SwitchboardConsole;
  var root = document.getElementById('console');
  if (!app || !root) return;

  var ME = Number(root.dataset.agentId);
  var STORAGE_PREFIX = 'switchboard:' + root.dataset.tenant + ':' + ME + ':'; // one agent of one workspace
  var SETTINGS_KEY = STORAGE_PREFIX + 'notifications';
  var UNSEEN_KEY = STORAGE_PREFIX + 'unseen';
  var LOOKING_KEY = STORAGE_PREFIX + 'looking';
  var NOTIFIED_KEY = STORAGE_PREFIX + 'notified';
  var ACTED_KEY = STORAGE_PREFIX + 'acted';
  var ASKED_KEY = STORAGE_PREFIX + 'permission-asked';
  var KINDS = ['new_conversation', 'message', 'transfer', 'queue'];
  // A tab that crashed cannot say it stopped looking: its mark expires unless renewed.
  var LOOKING_RENEW_MS = 20000;
  var LOOKING_STALE_MS = 45000;
  // Keys of what was notified (so a new leader does not repeat it), and of conversations this agent
  // just took or answered (their assignment is no news to them).
  var NOTIFIED_KEEP_MS = 24 * 3600 * 1000;
  var ACTED_KEEP_MS = 15000;

  var t = app.t;
  var tabId = Math.random().toString(36).slice(2);
  var isLeader = !navigator.locks; // without Web Locks (plain http) every tab notifies for itself
  var looking = false;
  var lookingTimer = null;
  var shown = []; // this tab's open Notification objects, closed once the agent looks
  var audio = null;
  var queueTimers = new Map(); // department key -> timer of its pending "waiting too long" alert
  var channel = 'BroadcastChannel' in window ? new BroadcastChannel(STORAGE_PREFIX + 'console') : null;

  var settingsEl = document.getElementById('notification-settings');
  var permissionEl = document.getElementById('notification-permission');
  var permissionButton = document.getElementById('notification-allow');
  var announcerEl = document.getElementById('console-announcer');

  // ---------- shared state (localStorage) ----------

  function readJson(key, fallback) {
    try {
      var value = JSON.parse(localStorage.getItem(key));
      return value && typeof value === 'object' ? value : fallback;
    } catch (error) {
      return fallback;
    }
  }

  function writeJson(key, value) {
    try { localStorage.setItem(key, JSON.stringify(value)); } catch (error) { /* storage full or off: best effort */ }
  }

  // Timestamps by key, without the ones older than `keepMs`.
  function freshStamps(key, keepMs) {
    var stamps = readJson(key, {});
    var now = Date.now();
    Object.keys(stamps).forEach(function (name) { if (now - stamps[name] > keepMs) delete stamps[name]; });
    return stamps;
  }

  function stamp(key, name, keepMs) {
    var stamps = freshStamps(key, keepMs);
    stamps[name] = Date.now();
    writeJson(key, stamps);
  }

  function settings() {
    var saved = readJson(SETTINGS_KEY, {});
    var all = { sound: saved.sound !== false };
    KINDS.forEach(function (kind) { all[kind] = saved[kind] !== false; });
    return all;
  }

  function unseen() {
    return Number(localStorage.getItem(UNSEEN_KEY)) || 0;
  }

  function someoneLooking() {
    var mark = readJson(LOOKING_KEY, null);
    return looking || !!(mark && Date.now() - mark.at < LOOKING_STALE_MS);
  }

  // ---------- the title, and looking at a tab ----------

  function renderTitle() {
    var count = unseen();
    var rest = document.title.replace(/\(\d+\) /, '');
    document.title = count > 0 ? '(' + count + ') ' + rest : rest;
  }

  function markLooking() {
    writeJson(LOOKING_KEY, { tab: tabId, at: Date.now() });
  }

  function setLooking(now) {
    if (now === looking) return;
    looking = now;
    clearInterval(lookingTimer);
    if (looking) {
      markLooking();
      lookingTimer = setInterval(markLooking, LOOKING_RENEW_MS);
      localStorage.setItem(UNSEEN_KEY, '0');
      renderTitle();
      closeShown();
      if (channel) channel.postMessage({ type: 'seen' });
    } else {
      var mark = readJson(LOOKING_KEY, null);
      if (mark && mark.tab === tabId) localStorage.removeItem(LOOKING_KEY);
    }
  }

  function closeShown() {
    shown.forEach(function (notification) { notification.close(); });
    shown = [];
  }

  function lookingNow() {
    return document.visibilityState === 'visible' && document.hasFocus();
  }

  window.addEventListener('focus', function () { setLooking(!document.hidden); });
  window.addEventListener('blur', function () { setLooking(false); });
  document.addEventListener('visibilitychange', function () { setLooking(lookingNow()); });
  window.addEventListener('pagehide', function () { setLooking(false); });
  window.addEventListener('storage', function (event) {
    if (event.key === UNSEEN_KEY) renderTitle();
  });
  if (channel) {
    channel.onmessage = function (event) {
      var data = event.data || {};
      if (data.type === 'seen') closeShown();
      if (data.type === 'read') app.reloadList(); // the server's read markers moved: fresh unread counts
    };
  }
  // console.js tells when this tab has read a conversation; the other tabs' counts follow.
  root.addEventListener('conversation:read', function () {
    if (channel) channel.postMessage({ type: 'read' });
  });

  if (navigator.locks) {
    // Held for the tab's whole life; when the leader closes, the next tab in line takes over.
    navigator.locks.request(STORAGE_PREFIX + 'notifier', function () {
      isLeader = true;
      return new Promise(function () {});
    });
  }

  // ---------- sound and permission ----------

  function beep() {
    var AudioContext = window.AudioContext || window.webkitAudioContext;
    if (!AudioContext) return;
    if (!audio) audio = new AudioContext(); // stays silent until a user gesture resumes it
    var oscillator = audio.createOscillator();
    var gain = audio.createGain();
    var start = audio.currentTime;
    oscillator.frequency.value = 880;
    gain.gain.setValueAtTime(0.12, start);
    gain.gain.exponentialRampToValueAtTime(0.001, start + 0.25);
    oscillator.connect(gain);
    gain.connect(audio.destination);
    oscillator.start(start);
    oscillator.stop(start + 0.25);
  }

  function renderPermission() {
    var supported = 'Notification' in window;
    var state = supported ? Notification.permission : 'unsupported';
    permissionEl.textContent = {
      granted: t('Browser notifications are on.'),
      denied: t('Browser notifications are blocked for this site; allow them in the browser’s site settings.'),
      'default': t('Browser notifications are not allowed yet.'),
      unsupported: t('This browser cannot show notifications here (they need https).'),
    }[state];
    permissionButton.hidden = state !== 'default';
  }

  function askPermission() {
    localStorage.setItem(ASKED_KEY, '1');
    Notification.requestPermission().then(renderPermission, renderPermission);
  }

  // Browsers only ask on a user gesture, and asking at every visit would nag: the first click or key
  // in the console asks once; the settings keep a button for later.
  function onGesture() {
    if (audio && audio.state === 'suspended') audio.resume();
    if ('Notification' in window && Notification.permission === 'default' && !localStorage.getItem(ASKED_KEY)) {
      askPermission();
    }
  }
  document.addEventListener('click', onGesture, true);
  document.addEventListener('keydown', onGesture, true);
  permissionButton.addEventListener('click', askPermission);

  // ---------- settings ----------

  function renderSettings() {
    var current = settings();
    settingsEl.querySelectorAll('input[type=checkbox][name]').forEach(function (box) {
      box.checked = current[box.name];
    });
  }

  settingsEl.addEventListener('change', function (event) {
    var box = event.target;
    if (box.type !== 'checkbox' || !box.name) return;
    var saved = settings();
    saved[box.name] = box.checked;
    writeJson(SETTINGS_KEY, saved);
  });
  window.addEventListener('storage', function (event) {
    if (event.key === SETTINGS_KEY) renderSettings();
  });

  // ---------- notifying ----------

  function announce(text) {
    announcerEl.textContent = '';
    // A fresh text node after clearing, so the same words twice are read twice.
    setTimeout(function () { announcerEl.textContent = text; }, 50);
  }

  function visitorName(conv) {
    return conv.visitor.name || conv.visitor.nickname;
  }

  function notify(kind, key, conv, text) {
    var shownHere = app.current();
    var onScreen = !!(shownHere && conv && shownHere.id === conv.id);
    if (!(kind === 'message' && onScreen)) announce(text); // a message on screen was announced as such
    if (!isLeader || !settings()[kind]) return;
    if (freshStamps(NOTIFIED_KEY, NOTIFIED_KEEP_MS)[key]) return;
    stamp(NOTIFIED_KEY, key, NOTIFIED_KEEP_MS);
    if (settings().sound && !(looking && onScreen)) beep();
    if (someoneLooking()) return; // the console is in front of the agent: a beep is enough
    localStorage.setItem(UNSEEN_KEY, String(unseen() + 1));
    renderTitle();
    if (!('Notification' in window) || Notification.permission !== 'granted') return;
    var notification = new Notification(text, { tag: key, body: t('Switchboard console') });
    notification.onclick = function () {
      window.focus();
      if (conv) app.openConversation(conv.id);
      notification.close();
    };
    shown.push(notification);
  }

  function isMine(conv) {
    return conv.status === 'open' && conv.handler === 'agent' && conv.assigned_agent_id === ME;
  }

  function isWaiting(conv) {
    return conv.status === 'open' && conv.handler !== 'agent' && !!conv.waiting_since;
  }

  function actedOn(conv) {
    return !!freshStamps(ACTED_KEY, ACTED_KEEP_MS)[conv.id];
  }

  // What a conversation push means for this agent, given what the console knew before it.
  function conversationNews(before, after) {
    if (isMine(after) && before && before.handler === 'agent' && before.assigned_agent_id &&
        before.assigned_agent_id !== ME) {
      return { kind: 'transfer', key: 'transfer:' + after.id + ':' + after.updated_at,
        text: t('{name} was transferred to you', { name: visitorName(after) }) };
    }
    if (isWaiting(after) && !(before && isWaiting(before))) {
      return { kind: 'new_conversation', key: 'waiting:' + after.id + ':' + after.waiting_since,
        text: t('{name} is waiting for an agent', { name: visitorName(after) }) };
    }
    if (isMine(after) && !(before && (isMine(before) || isWaiting(before))) && !actedOn(after)) {
      return { kind: 'new_conversation', key: 'assigned:' + after.id + ':' + after.updated_at,
        text: t('New conversation with {name}', { name: visitorName(after) }) };
    }
    return null;
  }

  function onMessage(data) {
    var message = data.message;
    var after = data.conversation;
    var before = app.conversation(after.id);
    var news = conversationNews(before, after);
    var current = app.current();
    if (current && current.id === after.id && message.sender.type !== 'agent') {
      announce(t('{name}: {text}', { name: message.sender.name || visitorName(after), text: message.body }));
    }
    if (news) {
      notify(news.kind, news.key, after, news.text);
    } else if (message.sender.type === 'visitor' && isMine(after) && (!before || message.seq > before.last_seq)) {
      notify('message', 'message:' + after.id + ':' + message.seq, after,
        t('{name}: {text}', { name: visitorName(after), text: message.body }));
    }
  }

  function onConversation(after) {
    var news = conversationNews(app.conversation(after.id), after);
    if (news) notify(news.kind, news.key, after, news.text);
  }

  // The server counts the longest wait when it sends the queue; the alert fires when that wait
  // passes the workspace's threshold and the same visitor is still first in line.
  function onQueue(data) {
    var department = data.department_id == null ? 'none' : String(data.department_id);
    clearTimeout(queueTimers.get(department));
    queueTimers.delete(department);
    var head = data.conversation_ids[0];
    if (!head || !data.alert_after_seconds) return;
    var alert = function () {
      queueTimers.delete(department);
      var conv = app.conversation(head);
      if (!conv || !isWaiting(conv)) return;
      notify('queue', 'queue:' + head + ':' + conv.waiting_since, conv,
        t('{name} has been waiting too long in the queue', { name: visitorName(conv) }));
    };
    var remaining = data.alert_after_seconds - data.longest_wait_seconds;
    // After console.js has taken the push in (and fetched a conversation it did not know).
    queueTimers.set(department, setTimeout(alert, Math.max(remaining * 1000, 1000)));
  }

  // onAny listeners run before the event's own handlers: console.js has not yet taken the push in,
  // so app.conversation() still says what the console knew before it.
  app.socket.onAny(function (event, data) {
    if (!data) return;
    if (event === 'message:new') onMessage(data);
    else if (event === 'conversation:updated') onConversation(data);
    else if (event === 'queue:updated') onQueue(data);
  });
  // Taking or answering a conversation is no news to the one who did it, in any of their tabs.
  app.socket.onAnyOutgoing(function (event, data) {
    if ((event === 'conversation:pick' || event === 'message:send') && data && data.conversation_id) {
      stamp(ACTED_KEY, data.conversation_id, ACTED_KEEP_MS);
    }
  });

  renderSettings();
  renderPermission();
  setLooking(lookingNow());
  renderTitle();
})();
