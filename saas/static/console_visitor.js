// The console's visitor side: the panel beside the open conversation (contact details, source, the
// page trail live, every earlier conversation readable in full, invitations) and the list of who is
// on the site now. Shares console.js's socket. Everything from a visitor goes on the page with
// textContent: page titles and URLs are whatever the visitor's browser reported.
(function () {
  'use strict';

  var root = document.getElementById('console');
  var api = window.SwitchboardConsole;
  var t = api.t;
  if (!root || !api) return;
  var socket = api.socket;

  var ACK_TIMEOUT_MS = 10000;
  var LIVE_REFRESH_MS = 15000; // drops visitors whose heartbeats stopped
  var panelEl = document.getElementById('visitor-panel');
  var headingEl = document.getElementById('visitor-heading');
  var contactEl = document.getElementById('visitor-contact');
  var contactErrorEl = document.getElementById('visitor-contact-error');
  var factsEl = document.getElementById('visitor-facts');
  var inviteEl = document.getElementById('visitor-invite');
  var inviteMessageEl = document.getElementById('visitor-invite-message');
  var inviteStatusEl = document.getElementById('visitor-invite-status');
  var trailEl = document.getElementById('visitor-trail');
  var conversationsEl = document.getElementById('visitor-conversations');
  var eraseAskEl = document.getElementById('visitor-erase-ask'); // owners and admins only
  var eraseConfirmEl = document.getElementById('visitor-erase-confirm');
  var eraseStatusEl = document.getElementById('visitor-erase-status');
  var liveListEl = document.getElementById('live-list');
  var liveEmptyEl = document.getElementById('live-empty');
  var liveCountEl = document.getElementById('live-count');

  var shown = null; // the panel's visitor (visitor:panel answer)
  var asked = null; // what the panel was last asked for: {conversation_id} or {visitor_id}
  var live = new Map(); // visitor_id -> live row

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function request(event, payload, onOk, onFail) {
    socket.timeout(ACK_TIMEOUT_MS).emit(event, payload, function (err, ack) {
      if (err) return onFail && onFail({ message: t('No answer from the server.') });
      if (!ack || !ack.ok) return onFail && onFail((ack && ack.error) || { message: t('Something went wrong.') });
      onOk(ack);
    });
  }

  function parseTime(iso) {
    return new Date(/(Z|[+-]\d\d:?\d\d)$/i.test(iso) ? iso : iso + 'Z');
  }

  function duration(seconds) {
    if (seconds < 60) return seconds + ' s';
    if (seconds < 3600) return Math.floor(seconds / 60) + ' min';
    return Math.floor(seconds / 3600) + ' h ' + Math.floor((seconds % 3600) / 60) + ' min';
  }

  function sourceText(s) {
    if (!s) return 'unknown';
    var parts = [s.source_kind];
    if (s.search_engine) parts.push(s.search_engine + (s.search_terms ? ': “' + s.search_terms + '”' : ''));
    else if (s.social_network) parts.push(s.social_network);
    else if (s.referrer_domain) parts.push(s.referrer_domain);
    if (s.utm_campaign) parts.push(t('campaign {name}', { name: s.utm_campaign }));
    return parts.join(' · ');
  }

  // ---------- the panel ----------

  function fact(label, value, name) {
    if (value === null || value === undefined || value === '') return;
    var dd = el('dd', null, String(value));
    if (name) dd.dataset.fact = name;
    factsEl.append(el('dt', null, label), dd);
  }

  function pageItem(page) {
    var li = el('li');
    li.dataset.pageView = page.id;
    var when = parseTime(page.started_at).toLocaleTimeString(api.language, { timeZone: api.timeZone });
    li.append(el('span', 'when', when),
      el('span', 'title', page.title || t('(no title)')));
    if (page.seconds_on_page) li.append(el('span', 'muted', ' · ' + duration(page.seconds_on_page)));
    li.append(el('span', 'url', page.url));
    return li;
  }

  function renderFacts(v) {
    factsEl.textContent = '';
    var latest = v.latest_source;
    fact(t('Channel'), latest && latest.channel, 'channel');
    fact(t('Source'), sourceText(latest), 'source');
    fact(t('Referrer'), latest && latest.referrer_domain, 'referrer');
    if (latest && latest.search_terms) fact(t('Search terms'), latest.search_terms, 'terms');
    if (v.first_source && v.visits > 1) fact(t('First came from'), sourceText(v.first_source), 'first-source');
    fact(t('Landing page'), latest && latest.landing_page, 'landing');
    fact(t('Current page'), v.current_page && (v.current_page.title || v.current_page.url), 'current');
    fact(t('Visits'), v.visits, 'visits');
    if (latest) fact(t('Device'), [latest.device_type, latest.browser, latest.os].filter(Boolean).join(' · '), 'device');
    if (latest) fact(t('Language'), latest.language, 'language');
    if (latest && latest.location) {
      fact(t('Location'), [latest.location.city, latest.location.country].filter(Boolean).join(', '), 'location');
    }
    if (v.identified) fact(t('Identity'), t('Signed in on your site'), 'identity');
  }

  function renderPanel(v) {
    shown = v;
    panelEl.hidden = false;
    headingEl.textContent = v.name || v.nickname;
    contactEl.elements.name.value = v.name || '';
    contactEl.elements.email.value = v.email || '';
    contactEl.elements.phone.value = v.phone || '';
    contactErrorEl.hidden = true;
    renderFacts(v);
    trailEl.textContent = '';
    v.trail.forEach(function (page) { trailEl.appendChild(pageItem(page)); });
    conversationsEl.textContent = '';
    v.conversations.forEach(function (c) {
      var li = el('li');
      var who = c.participants.length ? c.participants.join(', ') : t('no reply yet');
      var day = parseTime(c.created_at).toLocaleDateString(api.language, { timeZone: api.timeZone });
      var button = el('button', null, '#' + c.id + ' · ' + day + ' · ' + who + ' · ' + c.status);
      button.type = 'button';
      button.dataset.conversation = c.id;
      button.setAttribute('aria-expanded', 'false');
      li.appendChild(button);
      conversationsEl.appendChild(li);
    });
    var row = live.get(v.visitor_id);
    inviteEl.hidden = !row || row.state === 'chatting';
    window.SwitchboardChannels.showCalls(v);
    if (eraseAskEl) showEraseConfirm(false);
  }

  function loadPanel(what) {
    asked = what;
    request('visitor:panel', what, function (ack) {
      if (asked === what) renderPanel(ack.visitor);
    }, function () { if (asked === what) panelEl.hidden = true; });
  }

  function toggleTranscript(button) {
    var li = button.parentNode;
    var open = li.querySelector('.transcript');
    if (open) { open.remove(); button.setAttribute('aria-expanded', 'false'); return; }
    request('visitor:transcript', { conversation_id: Number(button.dataset.conversation) }, function (ack) {
      var list = el('ol', 'transcript');
      ack.messages.forEach(function (m) {
        var item = el('li');
        item.append(el('span', 'who', m.sender.name + ':'), document.createTextNode(m.body));
        list.appendChild(item);
      });
      if (!ack.messages.length) list.appendChild(el('li', 'muted', t('No messages.')));
      li.appendChild(list);
      button.setAttribute('aria-expanded', 'true');
    });
  }

  conversationsEl.addEventListener('click', function (event) {
    var button = event.target.closest('button[data-conversation]');
    if (button) toggleTranscript(button);
  });

  contactEl.addEventListener('submit', function (event) {
    event.preventDefault();
    if (!shown) return;
    var f = contactEl.elements;
    request('visitor:contact', { visitor_id: shown.visitor_id, name: f.name.value, email: f.email.value,
      phone: f.phone.value }, function (ack) { renderPanel(ack.visitor); }, function (error) {
      contactErrorEl.textContent = error.message;
      contactErrorEl.hidden = false;
    });
  });

  inviteEl.addEventListener('submit', function (event) {
    event.preventDefault();
    if (!shown) return;
    inviteStatusEl.textContent = t('Sending…');
    request('visitor:invite', { visitor_id: shown.visitor_id, message: inviteMessageEl.value }, function () {
      inviteStatusEl.textContent = t('Invitation sent; waiting for an answer.');
    }, function (error) { inviteStatusEl.textContent = error.message; });
  });

  // ---------- erasing the visitor's personal data (owners and admins) ----------

  function showEraseConfirm(open) {
    eraseConfirmEl.hidden = !open;
    eraseAskEl.hidden = open;
    eraseAskEl.setAttribute('aria-expanded', String(open));
    eraseStatusEl.hidden = true;
  }

  function erased() {
    api.showNotice(t('Personal data erased.'), true);
    loadLive();
    // The visitor has a new id now: a conversation still leads to them (anonymised), an old id does not.
    if (asked && asked.conversation_id) loadPanel(asked);
    else panelEl.hidden = true;
  }

  if (eraseAskEl) {
    eraseAskEl.addEventListener('click', function () {
      showEraseConfirm(true);
      document.getElementById('visitor-erase-no').focus(); // the harmless choice first
    });
    document.getElementById('visitor-erase-no').addEventListener('click', function () {
      showEraseConfirm(false);
      eraseAskEl.focus();
    });
    document.getElementById('visitor-erase-yes').addEventListener('click', function () {
      if (!shown) return;
      request('visitor:erase', { visitor_id: shown.visitor_id }, erased, function (error) {
        eraseStatusEl.textContent = error.message;
        eraseStatusEl.hidden = false;
      });
    });
  }

  root.addEventListener('conversation:opened', function (event) {
    loadPanel({ conversation_id: event.detail.id });
  });

  // ---------- who is on the site now ----------

  function liveItem(row) {
    var li = el('li');
    li.dataset.visitor = row.visitor_id;
    var page = row.current_page;
    var state = el('span', 'state', row.state);
    state.dataset.state = row.state;
    var show = el('button', 'link-button', t('Details'));
    show.type = 'button';
    show.dataset.show = row.visitor_id;
    li.append(el('span', 'name', row.name || row.nickname), state, show,
      el('span', 'current-page', page ? (page.title || page.url) : ''),
      el('span', 'meta', t('{time} on site', { time: duration(row.seconds_on_site) }) + ' · ' +
        (row.page_count === 1 ? t('{count} page', { count: 1 }) : t('{count} pages', { count: row.page_count })) + ' · ' +
        sourceText(row.source)));
    return li;
  }

  function renderLive() {
    // Newest arrivals first, as the server lists them.
    var rows = Array.from(live.values()).sort(function (a, b) {
      return parseTime(b.source.started_at) - parseTime(a.source.started_at);
    });
    liveListEl.textContent = '';
    rows.forEach(function (row) { liveListEl.appendChild(liveItem(row)); });
    liveEmptyEl.hidden = rows.length > 0;
    liveCountEl.textContent = rows.length ? String(rows.length) : '';
  }

  function loadLive() {
    request('visitors:live', {}, function (ack) {
      live = new Map(ack.visitors.map(function (row) { return [row.visitor_id, row]; }));
      renderLive();
    });
  }

  liveListEl.addEventListener('click', function (event) {
    var button = event.target.closest('button[data-show]');
    if (button) loadPanel({ visitor_id: button.dataset.show });
  });

  socket.on('visitor:activity', function (data) {
    live.set(data.visitor.visitor_id, data.visitor);
    renderLive();
    if (!shown || shown.visitor_id !== data.visitor.visitor_id) return;
    if (data.page && !trailEl.querySelector('[data-page-view="' + data.page.id + '"]')) {
      trailEl.appendChild(pageItem(data.page));
      shown.current_page = data.page;
      renderFacts(shown);
    }
    inviteEl.hidden = data.visitor.state === 'chatting';
  });

  socket.on('invitation:updated', function (data) {
    if (shown && shown.visitor_id === data.visitor_id) inviteStatusEl.textContent = t('Invitation {status}.', { status: data.status });
  });

  socket.on('visitor:updated', function (data) {
    if (shown && shown.visitor_id === data.visitor_id) loadPanel(asked);
  });

  socket.on('connect', loadLive);
  if (socket.connected) loadLive();
  setInterval(loadLive, LIVE_REFRESH_MS);
})();
