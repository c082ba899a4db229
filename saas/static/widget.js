// Switchboard chat widget. Any website embeds it with one line:
//   <script src="https://HOST/widget.js" data-key="WIDGET_KEY" async></script>
// It lives in a Shadow DOM so the host page's CSS and ours never touch, and it puts every
// message on the page with textContent: bodies and names are untrusted. Rich content — a
// knowledge-base answer's HTML, a formatted message's HTML (both sanitised by the server) — is
// rebuilt node by node from an allow-list, never assigned as markup.
(function () {
  'use strict';

  var script = document.currentScript || document.querySelector('script[data-key][src*="widget.js"]');
  if (!script || !script.dataset.key || window.__switchboardWidget) return;
  window.__switchboardWidget = true; // the snippet pasted twice must not give two launchers

  var ORIGIN = new URL(script.src, window.location.href).origin;
  var KEY = script.dataset.key;
  var PAGE_MODE = script.dataset.mode === 'page'; // the standalone chat page: the panel is the whole page
  var HEX_COLOR = /^#[0-9a-f]{6}$/;
  var TOKEN_KEY = 'switchboard:' + KEY + ':token';
  var OUTBOX_KEY = 'switchboard:' + KEY + ':outbox';
  var RATED_KEY = 'switchboard:' + KEY + ':rated'; // answers already rated, so a reload does not ask again
  var MAX_RATED = 100;
  var ACK_TIMEOUT_MS = 10000;
  // Server-side hiccups worth resending; anything else (too long, empty…) would fail again.
  var RETRYABLE = ['timeout', 'unavailable', 'server_error', 'unauthenticated'];
  // Far above the server's own limit, but below the socket's maximum packet size: a bigger
  // packet makes the server drop the connection, and the outbox would resend it forever.
  var MAX_BODY = 100000;
  // The visitor's language and the widget's strings in it (msgid → text), fetched from the server
  // before the widget is drawn (loadTexts); a missing string shows its English msgid.
  var LANGUAGE = 'en';
  var TEXTS = {};
  // The pre-chat questions a tenant may ask: [label, input type, autocomplete].
  var PRECHAT = {
    name: [N_('Your name'), 'text', 'name'], email: [N_('Email'), 'email', 'email'], phone: [N_('Phone'), 'tel', 'tel'],
  };
  // A bot answer's HTML: the tags kept and, per tag, the attributes kept. Anything else becomes its text.
  var ANSWER_TAGS = {
    P: [], BR: [], B: [], STRONG: [], I: [], EM: [], U: [], UL: [], OL: [], LI: [], CODE: [], PRE: [], BLOCKQUOTE: [],
    A: ['href', 'title'], IMG: ['src', 'alt', 'title'],
  };
  var UNSHOWN = { SCRIPT: true, STYLE: true, TEMPLATE: true }; // their text is code, not words: dropped
  var LINK_PROTOCOLS = ['http:', 'https:', 'mailto:'];
  var IMAGE_PROTOCOLS = ['http:', 'https:'];
  var EMOJI = ['😀', '😂', '😊', '😍', '😉', '😎', '🤔', '😅', '😢', '😮', '🙏', '👍', '👎', '👏', '👋', '🙌',
    '💪', '🎉', '❤️', '💯', '✅', '❌', '⭐', '🔥', '📦', '🚚', '💳', '📄', '📎', '⏰', '☕', '🙂'];

  var CSS = [
    ':host { all: initial; }',
    '* { box-sizing: border-box; font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }',
    '[hidden] { display: none !important; }',
    // A circle for a short launcher text, a pill for a longer one (the tenant chooses it).
    '.launcher { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; min-width: 60px; height: 60px;',
    '  padding: 0 12px; white-space: nowrap; border: 0; border-radius: 30px; background: var(--sb-accent); color: var(--sb-on-accent); font-size: 15px;',
    '  font-weight: 600; cursor: pointer; box-shadow: 0 6px 20px rgba(15, 23, 42, .3); }',
    '.launcher:hover, .send:hover { filter: brightness(.9); }',
    // The tenant's colour (--sb-accent) and the text chosen for it on the server (--sb-on-accent).
    '.launcher, .panel, .invitation { --sb-accent: #2563eb; --sb-on-accent: #ffffff; }',
    // Two rings, dark inside and white outside, stay visible on any tenant colour and any host page.
    'button:focus-visible, textarea:focus-visible, input:focus-visible, select:focus-visible, a:focus-visible {',
    '  outline: 3px solid #1e3a8a; outline-offset: 1px; box-shadow: 0 0 0 5px #fff; }',
    '.logo { width: 28px; height: 28px; margin-right: 10px; border-radius: 50%; object-fit: cover; background: #fff; }',
    '.title { display: flex; align-items: center; min-width: 0; }',
    '.dot { position: absolute; top: 3px; right: 3px; width: 14px; height: 14px; border-radius: 50%;',
    '  background: #ef4444; border: 2px solid #fff; }',
    '.panel { position: fixed; right: 20px; bottom: 92px; z-index: 2147483001; width: 360px;',
    '  max-width: calc(100vw - 40px); height: 520px; max-height: calc(100vh - 112px); display: flex;',
    '  flex-direction: column; overflow: hidden; background: #fff; color: #111827; font-size: 14px;',
    '  line-height: 1.45; border-radius: 14px; box-shadow: 0 12px 40px rgba(15, 23, 42, .28); }',
    '.header { display: flex; align-items: center; justify-content: space-between; padding: 12px 16px;',
    '  background: var(--sb-accent); color: var(--sb-on-accent); }',
    'h2 { margin: 0; font-size: 16px; font-weight: 600; }',
    '.close { width: 32px; height: 32px; border: 0; border-radius: 6px; background: transparent; color: inherit;',
    '  font-size: 22px; line-height: 1; cursor: pointer; }',
    '.close:hover { background: rgba(255, 255, 255, .15); }',
    '.note { margin: 0; padding: 6px 16px; font-size: 12px; color: #6b7280; background: #f8fafc; }',
    '.status-bar { display: flex; align-items: center; gap: 8px; padding: 0 16px; background: #eff6ff;',
    '  color: #1e3a8a; }',
    '.status { flex: 1; margin: 0; font-size: 13px; }',
    '.status:not(:empty) { padding: 8px 0; }',
    '.human { flex: none; margin: 6px 0; padding: 5px 10px; border: 1px solid #2563eb; border-radius: 8px;',
    '  background: #fff; color: #1d4ed8; font-size: 12px; font-weight: 600; cursor: pointer; }',
    '.human:hover { background: #dbeafe; }',
    '.messages { list-style: none; margin: 0; padding: 12px; flex: 1; overflow-y: auto; display: flex;',
    '  flex-direction: column; gap: 8px; background: #f8fafc; }',
    '.message { flex-shrink: 0; max-width: 80%; display: flex; flex-direction: column; gap: 2px; }',
    '.from-agent { align-self: flex-start; }',
    '.from-visitor { align-self: flex-end; align-items: flex-end; }',
    '.name { font-size: 11px; color: #6b7280; }',
    '.body { white-space: pre-wrap; overflow-wrap: anywhere; padding: 8px 12px; border-radius: 14px;',
    '  background: #fff; border: 1px solid #e5e7eb; }',
    '.from-visitor .body { background: var(--sb-accent); border-color: var(--sb-accent); color: var(--sb-on-accent); }',
    '.rich { white-space: normal; }',
    '.rich p, .rich ul, .rich ol, .rich pre, .rich blockquote { margin: 0 0 6px; }',
    '.rich > :last-child { margin-bottom: 0; }',
    '.rich ul, .rich ol { padding-left: 20px; }',
    '.rich a { color: #1d4ed8; }',
    '.rich img { display: block; max-width: 100%; height: auto; margin: 4px 0; border-radius: 6px; }',
    '.rich code, .rich pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }',
    '.rich code { padding: 1px 4px; border-radius: 4px; background: #f1f5f9; }',
    '.rich pre { white-space: pre-wrap; padding: 6px 8px; border-radius: 6px; background: #f1f5f9; }',
    '.rich pre code { padding: 0; background: none; }',
    '.rich blockquote { padding-left: 8px; border-left: 3px solid #cbd5e1; color: #4b5563; }',
    '.from-visitor .rich a { color: var(--sb-on-accent); }',
    '.attachment { padding: 4px; background: #fff !important; border-color: #e5e7eb !important; }',
    '.thumb { display: block; max-width: 220px; max-height: 160px; width: auto; height: auto; border-radius: 10px; }',
    '.file-card { display: flex; align-items: center; gap: 6px; padding: 4px 8px; color: #111827; text-decoration: none; }',
    '.file-name { font-weight: 600; overflow-wrap: anywhere; }',
    '.file-size { color: #6b7280; font-size: 12px; white-space: nowrap; }',
    '.tool { flex: none; width: 34px; padding: 0; border: 1px solid #cbd5e1; border-radius: 10px; background: #fff;',
    '  font-size: 17px; cursor: pointer; }',
    '.tool:hover { background: #f1f5f9; }',
    '.emoji-grid { display: grid; grid-template-columns: repeat(8, 1fr); gap: 2px; padding: 6px 10px;',
    '  border-top: 1px solid #e5e7eb; background: #fff; }',
    '.emoji { height: 32px; border: 0; border-radius: 6px; background: transparent; font-size: 18px; cursor: pointer; }',
    '.emoji:hover { background: #dbeafe; }',
    '.choices { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 4px; }',
    '.choice { padding: 5px 10px; border: 1px solid #2563eb; border-radius: 14px; background: #fff; color: #1d4ed8;',
    '  font-size: 13px; text-align: left; cursor: pointer; }',
    '.choice:hover:not(:disabled) { background: #dbeafe; }',
    '.choice:disabled { border-color: #cbd5e1; color: #6b7280; cursor: default; }',
    '.rating { display: flex; align-items: center; gap: 4px; font-size: 12px; color: #6b7280; }',
    '.rate { padding: 1px 6px; border: 1px solid #e5e7eb; border-radius: 8px; background: #fff; font-size: 14px;',
    '  line-height: 1.4; cursor: pointer; }',
    '.rate:hover:not(:disabled) { background: #f1f5f9; }',
    '.rate:disabled { cursor: default; opacity: .5; }',
    '.rate[aria-pressed="true"] { opacity: 1; border-color: #2563eb; }',
    '.pending .body { opacity: .6; }',
    '.failed .body { background: #fef2f2; border-color: #fecaca; color: #b91c1c; }',
    '.failure { display: flex; gap: 6px; font-size: 12px; color: #b91c1c; }',
    '.retry { padding: 0; border: 0; background: none; color: #2563eb; font-size: 12px; text-decoration: underline; cursor: pointer; }',
    '.error { margin: 0; padding: 8px 16px; background: #fef2f2; color: #b91c1c; font-size: 13px; }',
    '.start { flex: 0 1 auto; flex-direction: column; gap: 12px; padding: 16px; overflow-y: auto; }',
    '.start p { margin: 0; }',
    '.start label { display: flex; flex-direction: column; gap: 4px; font-size: 13px; font-weight: 600;',
    '  color: #374151; }',
    '.start input, .start select { padding: 8px 10px; font-size: 14px; color: #111827; background: #fff;',
    '  border: 1px solid #cbd5e1; border-radius: 8px; }',
    '.start .hint { margin-top: -6px; font-size: 12px; color: #6b7280; }',
    '.start .hint:empty { display: none; }',
    '.start .error { padding: 8px 10px; border-radius: 8px; }',
    '.start .send { align-self: flex-start; padding: 10px 18px; }',
    '.send:disabled { opacity: .6; cursor: wait; }',
    '.req { color: #b91c1c; font-weight: 400; }',
    'form { display: flex; gap: 8px; margin: 0; padding: 10px; border-top: 1px solid #e5e7eb; background: #fff; }',
    'textarea { flex: 1; height: 42px; max-height: 120px; resize: none; padding: 9px 10px; font-size: 14px;',
    '  color: #111827; background: #fff; border: 1px solid #cbd5e1; border-radius: 10px; }',
    '.send { padding: 0 16px; border: 0; border-radius: 10px; background: var(--sb-accent); color: var(--sb-on-accent);',
    '  font-size: 14px; font-weight: 600; cursor: pointer; }',
    '.invitation { position: fixed; right: 20px; bottom: 92px; z-index: 2147483002; width: 300px;',
    '  max-width: calc(100vw - 40px); padding: 14px 16px; background: #fff; color: #111827; font-size: 14px;',
    '  border-radius: 14px; box-shadow: 0 12px 40px rgba(15, 23, 42, .28); }',
    '.invitation p { margin: 0 0 10px; white-space: pre-wrap; overflow-wrap: anywhere; }',
    '.invitation .from { font-size: 12px; color: #6b7280; margin-bottom: 4px; }',
    '.invitation .answers { display: flex; gap: 8px; }',
    '.invitation .send { padding: 8px 14px; }',
    '.typing { margin: 0; padding: 0 16px; font-size: 12px; font-style: italic; color: #6b7280; background: #f8fafc; }',
    '.typing:not(:empty) { padding: 4px 16px; }',
    '.receipt { font-size: 11px; color: #6b7280; }',
    '.csat { flex-direction: column; gap: 8px; max-height: 55%; overflow-y: auto; }',
    '.csat p { margin: 0; font-weight: 600; }',
    '.csat textarea { flex: none; height: 54px; }',
    '.csat .send { align-self: flex-start; padding: 8px 16px; }',
    '.csat .csat-note { font-weight: 400; font-size: 12px; color: #374151; }',
    '.scores, .tags { display: flex; flex-wrap: wrap; gap: 6px; }',
    '.score { padding: 4px 10px; border: 1px solid #cbd5e1; border-radius: 14px; background: #fff; color: #111827;',
    '  font-size: 13px; cursor: pointer; }',
    '.score.star { padding: 0 4px; border: 0; font-size: 26px; line-height: 1; color: #cbd5e1; }',
    '.score.star.lit { color: #f59e0b; }',
    '.score[aria-pressed="true"]:not(.star), .tags .choice[aria-pressed="true"] {',
    '  background: var(--sb-accent); border-color: var(--sb-accent); color: var(--sb-on-accent); }',
    // The standalone chat page (data-mode="page"), and any phone: the panel is the whole viewport.
    '.panel.page-mode { inset: 0; width: 100%; max-width: none; height: 100%; max-height: none; border-radius: 0;',
    '  box-shadow: none; }',
    '@media (max-width: 480px) {',
    '  .panel { inset: 0; width: 100%; max-width: none; height: 100%; max-height: none; border-radius: 0; }',
    '  textarea, .start input, .start select { font-size: 16px; }', // below 16px, iOS zooms the whole page on focus
    '}',
  ].join('\n');

  // ---------- storage (may be blocked by privacy settings: then it lasts for this page only) ----------

  var memory = {};
  var store = {
    get: function (k) { try { return window.localStorage.getItem(k); } catch (e) { return memory[k] || null; } },
    set: function (k, v) { try { window.localStorage.setItem(k, v); } catch (e) { memory[k] = v; } },
    remove: function (k) { try { window.localStorage.removeItem(k); } catch (e) { delete memory[k]; } },
  };

  // Read afresh each time: other tabs of the same site share this outbox.
  function readOutbox() {
    try {
      var list = JSON.parse(store.get(OUTBOX_KEY) || '[]');
      return Array.isArray(list) ? list.filter(function (e) { return e && e.client_id && typeof e.body === 'string'; }) : [];
    } catch (e) { return []; }
  }
  function writeOutbox(list) {
    if (list.length) store.set(OUTBOX_KEY, JSON.stringify(list)); else store.remove(OUTBOX_KEY);
  }
  function outboxAdd(entry) {
    var list = readOutbox().filter(function (e) { return e.client_id !== entry.client_id; });
    list.push({ client_id: entry.client_id, body: entry.body });
    writeOutbox(list);
  }
  function outboxRemove(clientId) {
    var list = readOutbox();
    var kept = list.filter(function (e) { return e.client_id !== clientId; });
    if (kept.length !== list.length) writeOutbox(kept);
  }

  // Turn id -> rating, for the answers this visitor has rated (newest last).
  function readRated() {
    try {
      var list = JSON.parse(store.get(RATED_KEY) || '[]');
      return new Map(Array.isArray(list) ? list.filter(function (e) { return Array.isArray(e) && e.length === 2; }) : []);
    } catch (e) { return new Map(); }
  }
  function rememberRated(turnId, rating) {
    var rated = readRated();
    rated.delete(turnId);
    rated.set(turnId, rating);
    store.set(RATED_KEY, JSON.stringify(Array.from(rated).slice(-MAX_RATED)));
  }

  function newClientId() {
    // randomUUID only exists on secure origins; many small shops still serve plain http.
    if (window.crypto && typeof window.crypto.randomUUID === 'function') return window.crypto.randomUUID();
    return Array.from(window.crypto.getRandomValues(new Uint8Array(16)), function (b) {
      return b.toString(16).padStart(2, '0');
    }).join('');
  }

  // Marks a msgid for extraction (make translations) where t() translates it later: PRECHAT's labels.
  function N_(msgid) { return msgid; }

  function t(msgid, values) {
    return (TEXTS[msgid] || msgid).replace(/\{(\w+)\}/g, function (whole, name) {
      return values && name in values ? values[name] : whole;
    });
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // An outline paperclip drawn, not typed: few fonts on Linux carry the emoji.
  function paperclip() {
    var svgNs = 'http://www.w3.org/2000/svg';
    var svg = document.createElementNS(svgNs, 'svg');
    var path = document.createElementNS(svgNs, 'path');
    [['viewBox', '0 0 24 24'], ['width', '18'], ['height', '18'], ['fill', 'none'], ['stroke', 'currentColor'],
     ['stroke-width', '2'], ['stroke-linecap', 'round'], ['stroke-linejoin', 'round'], ['aria-hidden', 'true']]
      .forEach(function (pair) { svg.setAttribute(pair[0], pair[1]); });
    path.setAttribute('d', 'M21.44 11.05l-9.19 9.19a6 6 0 0 1-8.49-8.49l9.19-9.19a4 4 0 0 1 5.66 5.66l-9.2 9.19a2 2 0 0 1-2.83-2.83l8.49-8.48');
    svg.appendChild(path);
    return svg;
  }

  // ---------- the UI ----------

  var ui = {};
  var state = {
    open: false, loaded: false, convId: 0, maxSeq: 0, ids: new Set(), byClientId: new Map(), inflight: new Set(),
    // Seqs shown of the current conversation, and the highest one with no hole below it: a push
    // that died with a crashed server shows up as a hole, which the history request then fills.
    seqs: new Set(), gapFreeSeq: 0,
    // What the tenant asks before a chat (from 'session'), and who holds the conversation (State or null).
    reception: { picker: false, departments: [], fields: [] }, receptionKey: '', routing: null, formDemanded: false,
    starting: false,
  };
  var socket = null;
  var errorTimer = null;

  function buildUi() {
    var host = el('div', { id: 'switchboard-widget' });
    // The host element sits in the page's own DOM, where page rules (div { … }) beat :host;
    // only an inline !important declaration outranks them. It also stops inherited fonts/colours.
    host.style.setProperty('all', 'initial', 'important');
    var shadow = host.attachShadow({ mode: 'open' });
    var style = el('style');
    style.textContent = CSS;
    ui.look = el('style'); // the tenant's colour and side, from the 'session' payload (applyLook)
    ui.launcher = el('button', { type: 'button', class: 'launcher', 'data-sb': 'launcher', 'aria-label': t('Open chat'), 'aria-expanded': 'false', hidden: '' }, t('Chat'));
    ui.dot = el('span', { class: 'dot', hidden: '' });
    ui.launcher.appendChild(ui.dot);
    ui.panel = el('div', { class: 'panel', role: 'dialog', 'aria-label': t('Chat with us'), 'data-sb': 'panel', hidden: '' });
    var header = el('div', { class: 'header' });
    ui.close = el('button', { type: 'button', class: 'close', 'aria-label': t('Close chat') }, '×');
    ui.logo = el('img', { class: 'logo', alt: '', 'data-sb': 'logo', hidden: '' }); // decorative: the title names it
    var title = el('div', { class: 'title' });
    title.append(ui.logo, el('h2', {}, t('Chat with us')));
    header.append(title, ui.close);
    ui.note = el('p', { class: 'note', role: 'status' }, greeting());
    // Who is answering, or the queue place. Always in the DOM (empty = no height) so changes are announced.
    var statusBar = el('div', { class: 'status-bar' });
    ui.status = el('p', { class: 'status', 'data-sb': 'status', 'aria-live': 'polite' });
    ui.human = el('button', { type: 'button', class: 'human', 'data-sb': 'human', hidden: '' }, t('Talk to a human'));
    statusBar.append(ui.status, ui.human);
    // The server checks the answers (novalidate), so every refusal reads the same way.
    ui.start = el('form', { class: 'start', 'data-sb': 'start-form', 'aria-label': t('Start a chat'), novalidate: '',
      hidden: '' });
    // A list read out as it grows (aria-live); role="log" would stop it being a list for its <li>s.
    ui.messages = el('ol', { class: 'messages', 'data-sb': 'messages', 'aria-label': t('Messages'), 'aria-live': 'polite',
      'aria-relevant': 'additions' });
    ui.error = el('p', { class: 'error', role: 'alert', hidden: '' });
    ui.form = el('form', {});
    ui.input = el('textarea', { 'data-sb': 'input', 'aria-label': t('Type your message'), placeholder: t('Type your message…'), rows: '1' });
    ui.send = el('button', { type: 'submit', class: 'send', 'data-sb': 'send' }, t('Send'));
    ui.emojiButton = el('button', { type: 'button', class: 'tool', 'data-sb': 'emoji-open', 'aria-label': t('Insert emoji'),
      'aria-expanded': 'false' }, '😊');
    ui.attach = el('button', { type: 'button', class: 'tool', 'data-sb': 'attach', 'aria-label': t('Send a file') });
    ui.attach.appendChild(paperclip());
    ui.fileInput = el('input', { type: 'file', 'data-sb': 'file-input', hidden: '' });
    ui.emojiGrid = el('div', { class: 'emoji-grid', 'data-sb': 'emoji-grid', role: 'group', 'aria-label': t('Emoji'), hidden: '' });
    EMOJI.forEach(function (emoji) {
      ui.emojiGrid.appendChild(el('button', { type: 'button', class: 'emoji', 'aria-label': t('Insert {emoji}', { emoji: emoji }) }, emoji));
    });
    ui.form.append(ui.emojiButton, ui.attach, ui.fileInput, ui.input, ui.send);
    ui.panel.append(header, statusBar, ui.note, ui.start, ui.messages, ui.error, ui.emojiGrid, ui.form);
    shadow.append(style, ui.look, ui.launcher, ui.panel, buildInvitation());
    document.body.appendChild(host);
    if (PAGE_MODE) {
      ui.panel.classList.add('page-mode');
      ui.close.hidden = true; // nothing to go back to
    }

    ui.launcher.addEventListener('click', function () { if (state.open) closePanel(); else openPanel(); });
    ui.close.addEventListener('click', closePanel);
    shadow.addEventListener('keydown', function (event) {
      if (event.key === 'Escape' && state.open && !PAGE_MODE) { event.stopPropagation(); closePanel(); }
    });
    ui.input.addEventListener('keydown', function (event) {
      // isComposing: Enter also confirms an IME composition, which must not send.
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) { event.preventDefault(); submit(); }
    });
    ui.form.addEventListener('submit', function (event) { event.preventDefault(); submit(); });
    ui.start.addEventListener('submit', function (event) { event.preventDefault(); startConversation(); });
    ui.start.addEventListener('change', function (event) {
      if (event.target === ui.department) showDepartmentHint();
    });
    ui.human.addEventListener('click', function () { requestHuman(); });
    ui.emojiButton.addEventListener('click', function () { toggleEmoji(ui.emojiGrid.hidden); });
    ui.emojiGrid.addEventListener('click', function (event) {
      var button = event.target.closest('button.emoji');
      if (!button) return;
      ui.input.setRangeText(button.textContent, ui.input.selectionStart, ui.input.selectionEnd, 'end');
      ui.input.focus();
      toggleEmoji(false);
    });
    ui.attach.addEventListener('click', function () { ui.fileInput.click(); });
    ui.fileInput.addEventListener('change', function () {
      Array.from(ui.fileInput.files).forEach(uploadFile);
      ui.fileInput.value = '';
    });
    ui.input.addEventListener('paste', function (event) {
      var files = Array.from((event.clipboardData && event.clipboardData.files) || []);
      if (!files.length) return; // text pastes as usual
      event.preventDefault();
      files.forEach(uploadFile);
    });
    ui.messages.addEventListener('click', function (event) {
      var button = event.target.closest('button.retry');
      var node = button && button.closest('[data-client-id]');
      if (node) retry({ client_id: node.dataset.clientId, body: node.querySelector('.body').textContent });
    });
  }

  function openPanel() {
    state.open = true;
    ui.panel.hidden = false;
    ui.dot.hidden = true;
    ui.launcher.setAttribute('aria-expanded', 'true');
    scrollToBottom();
    focusComposerOrForm();
  }

  function focusComposerOrForm() {
    if (ui.start.hidden) ui.input.focus();
    else ui.start.querySelector('select, input, button').focus();
  }

  function closePanel() {
    state.open = false;
    ui.panel.hidden = true;
    ui.launcher.setAttribute('aria-expanded', 'false');
    ui.launcher.focus();
  }

  // ---------- the tenant's look (admin: Widget look), sent in the 'session' payload ----------

  function greeting() {
    return (state.look && state.look.greeting) || t('Ask us anything — we reply right here.');
  }

  // Only checked colours reach the style sheet; the texts are set as text.
  function applyLook(look) {
    if (!look) return;
    state.look = look;
    var rules = [];
    if (HEX_COLOR.test(look.color) && HEX_COLOR.test(look.text_color)) {
      rules.push('.launcher, .panel, .invitation { --sb-accent: ' + look.color + '; --sb-on-accent: ' + look.text_color + '; }');
    }
    if (look.position === 'left') {
      rules.push('.launcher, .invitation { right: auto; left: 20px; }',
        '@media (min-width: 481px) { .panel:not(.page-mode) { right: auto; left: 20px; } }');
    }
    ui.look.textContent = rules.join('\n');
    if (look.launcher_text) ui.launcher.firstChild.nodeValue = look.launcher_text;
    ui.note.textContent = greeting();
    ui.logo.hidden = !look.has_logo;
    if (look.has_logo) {
      ui.logo.src = ORIGIN + '/widget/look/logo?key=' + encodeURIComponent(KEY) + '&v=' + encodeURIComponent(look.version);
    }
    showLauncher();
  }

  // Shown once connected, except on the chat page (the panel is the page), and outside business hours
  // when the tenant asks for that, unless the visitor is in the middle of a conversation.
  function showLauncher() {
    var hiddenByHours = !!(state.look && state.look.hidden) && !(state.routing && state.routing.status === 'open');
    ui.launcher.hidden = PAGE_MODE || !socket || !socket.connected || hiddenByHours;
  }

  // On a phone the on-screen keyboard covers the bottom of the layout viewport: the full-screen panel
  // shrinks to the visible part so the composer stays above the keyboard.
  function followOnScreenKeyboard() {
    var viewport = window.visualViewport;
    if (!viewport) return;
    viewport.addEventListener('resize', function () {
      var fullScreen = PAGE_MODE || window.matchMedia('(max-width: 480px)').matches;
      ui.panel.style.height = fullScreen ? viewport.height + 'px' : '';
    });
  }

  function showError(message) {
    ui.error.textContent = message;
    ui.error.hidden = false;
    clearTimeout(errorTimer);
    errorTimer = setTimeout(function () { ui.error.hidden = true; }, 8000);
  }

  function scrollToBottom() { ui.messages.scrollTop = ui.messages.scrollHeight; }

  // Ordered by (conversation, seq), so a push that overtakes the history still lands in place;
  // messages not yet confirmed (no seq) stay at the end.
  function insertInOrder(node, convId, seq) {
    var before = null;
    for (var child = ui.messages.lastElementChild; child; child = child.previousElementSibling) {
      if (child.dataset.seq) {
        var c = Number(child.dataset.conversation);
        if (c < convId || (c === convId && Number(child.dataset.seq) < seq)) break;
      }
      before = child;
    }
    ui.messages.insertBefore(node, before);
  }

  function bubble(fromVisitor, name, body) {
    var node = el('li', { class: 'message ' + (fromVisitor ? 'from-visitor' : 'from-agent'), 'data-sb': 'message' });
    if (!fromVisitor) node.appendChild(el('span', { class: 'name' }, name));
    node.appendChild(el('div', { class: 'body' }, body));
    return node;
  }

  // ---------- what the bot adds to a message: a rich answer, choices, a rating ----------

  function safeUrl(value, protocols) {
    if (!value) return null;
    try {
      var url = new URL(value); // absolute URLs only: a relative one would point into the host site
      return protocols.indexOf(url.protocol) !== -1 ? url.href : null;
    } catch (e) { return null; }
  }

  // Copies the allowed elements and attributes of `source`'s children into `target`; text stays text.
  function copyAllowed(source, target) {
    for (var node = source.firstChild; node; node = node.nextSibling) {
      if (node.nodeType === Node.TEXT_NODE) {
        target.appendChild(document.createTextNode(node.nodeValue));
      } else if (node.nodeType === Node.ELEMENT_NODE) {
        var allowed = ANSWER_TAGS[node.tagName];
        if (!allowed) {
          if (!UNSHOWN[node.tagName] && node.textContent) target.appendChild(document.createTextNode(node.textContent));
          continue;
        }
        var copy = document.createElement(node.tagName.toLowerCase());
        allowed.forEach(function (name) {
          var value = node.getAttribute(name);
          if (value === null) return;
          if (name === 'href') value = safeUrl(value, LINK_PROTOCOLS);
          if (name === 'src') value = safeUrl(value, IMAGE_PROTOCOLS);
          if (value !== null) copy.setAttribute(name, value);
        });
        if (copy.tagName === 'A') {
          copy.setAttribute('target', '_blank');
          copy.setAttribute('rel', 'noopener noreferrer nofollow');
        }
        if (copy.tagName === 'IMG') {
          if (!copy.hasAttribute('src')) continue; // nothing safe to show
          copy.setAttribute('loading', 'lazy');
          copy.style.maxWidth = '100%';
        }
        copyAllowed(node, copy);
        target.appendChild(copy);
      } // comments and anything else: dropped
    }
  }

  // The answer's HTML as a fresh element tree (the parsed document is inert: nothing runs or loads).
  function richAnswer(html) {
    var container = el('div', { class: 'body rich', 'data-sb': 'answer' });
    copyAllowed(new DOMParser().parseFromString(html, 'text/html').body, container);
    return container;
  }

  function validChoices(list, needValue) {
    return (Array.isArray(list) ? list : []).filter(function (c) {
      return c && typeof c.label === 'string' && c.label &&
        (typeof c.value === 'string' ? c.value.trim() : (!needValue && c.action === 'human'));
    });
  }

  function choiceButtons(message, extras) {
    var suggestions = validChoices(extras.suggestions, true);
    var replies = validChoices(extras.quick_replies, false);
    if (!suggestions.length && !replies.length) return null;
    var group = el('div', { class: 'choices', role: 'group',
      'aria-label': suggestions.length ? t('Suggested questions') : t('Quick replies') });
    group.dataset.conversation = message.conversation_id;
    suggestions.concat(replies).forEach(function (choice) {
      var button = el('button', { type: 'button', class: 'choice', 'data-sb': 'choice', disabled: '' }, choice.label);
      button.addEventListener('click', function () {
        if (choice.action === 'human') requestHuman(button);
        else sendText(choice.value.trim());
      });
      group.appendChild(button);
    });
    return group;
  }

  function ratingButtons(turnId) {
    var group = el('div', { class: 'rating', role: 'group', 'aria-label': t('Rate this answer') });
    var label = el('span', {}, t('Was this helpful?'));
    var helpful = el('button', { type: 'button', class: 'rate', 'data-sb': 'rate-helpful', 'aria-label': t('Helpful'),
      title: t('Helpful'), 'aria-pressed': 'false' }, '\uD83D\uDC4D');
    var notHelpful = el('button', { type: 'button', class: 'rate', 'data-sb': 'rate-not-helpful',
      'aria-label': t('Not helpful'), title: t('Not helpful'), 'aria-pressed': 'false' }, '\uD83D\uDC4E');
    function rated(rating) {
      label.textContent = t('Thanks for your feedback');
      helpful.disabled = notHelpful.disabled = true;
      helpful.setAttribute('aria-pressed', String(rating === 'helpful'));
      notHelpful.setAttribute('aria-pressed', String(rating === 'not_helpful'));
    }
    function rate(rating) {
      if (!socket || !socket.connected) { showError(t('Not connected — please try again in a moment.')); return; }
      helpful.disabled = notHelpful.disabled = true;
      request('bot:rate', { turn_id: turnId, rating: rating }, function (ack) {
        rememberRated(turnId, ack.rated || rating);
        rated(ack.rated || rating);
      }, function (error) {
        helpful.disabled = notHelpful.disabled = false;
        showError(error.message);
      });
    }
    helpful.addEventListener('click', function () { rate('helpful'); });
    notHelpful.addEventListener('click', function () { rate('not_helpful'); });
    group.append(label, helpful, notHelpful);
    var already = readRated().get(turnId);
    if (already) rated(already);
    return group;
  }

  // A bot message with extras: the rich answer instead of the plain body, then choices and a rating.
  function decorateBotMessage(node, message) {
    var extras = message.extras && typeof message.extras === 'object' ? message.extras : {};
    if (typeof extras.answer_html === 'string' && extras.answer_html) {
      var rich = richAnswer(extras.answer_html);
      if (rich.textContent.trim() || rich.querySelector('img')) node.querySelector('.body').replaceWith(rich);
    }
    var choices = choiceButtons(message, extras);
    if (choices) node.appendChild(choices);
    if (Number.isInteger(extras.rate_turn) && extras.rate_turn > 0) node.appendChild(ratingButtons(extras.rate_turn));
  }

  // Only the newest set of choices is live, and only while the bot holds the conversation: an older
  // offer, or one the conversation has moved past (a person, closed), stays readable but disabled.
  function refreshChoices() {
    var groups = ui.messages.querySelectorAll('.choices');
    var s = state.routing;
    var botHolds = !!s && s.status === 'open' && s.handler === 'bot';
    groups.forEach(function (group, index) {
      var live = botHolds && index === groups.length - 1 && Number(group.dataset.conversation) === s.conversation_id;
      group.querySelectorAll('button').forEach(function (button) { button.disabled = !live; });
    });
  }

  function addMessage(message, notify) {
    if (state.ids.has(message.id)) return;
    var stale = state.byClientId.get(message.client_id); // our own pending copy, if any
    var node = bubble(message.sender.type === 'visitor', message.sender.name, message.body);
    if (message.sender.type === 'visitor' || message.sender.type === 'agent') decorateContent(node, message);
    if (message.sender.type === 'bot') {
      node.classList.add('from-bot');
      decorateBotMessage(node, message);
    }
    node.dataset.seq = message.seq;
    node.dataset.conversation = message.conversation_id;
    node.dataset.clientId = message.client_id;
    // Naive timestamps (SQLite) are UTC; without a zone JS would read them as local time.
    node.title = new Date(/(Z|[+-]\d\d:?\d\d)$/i.test(message.created_at) ? message.created_at : message.created_at + 'Z').toLocaleString(LANGUAGE);
    if (stale) stale.remove();
    insertInOrder(node, message.conversation_id, message.seq);
    state.ids.add(message.id);
    state.byClientId.set(message.client_id, node);
    if (message.conversation_id > state.convId) switchConversation(message.conversation_id);
    if (message.conversation_id === state.convId) {
      state.maxSeq = Math.max(state.maxSeq, message.seq);
      state.seqs.add(message.seq);
      while (state.seqs.has(state.gapFreeSeq + 1)) state.gapFreeSeq += 1;
    }
    outboxRemove(message.client_id);
    if (notify && !state.open && message.sender.type !== 'visitor') ui.dot.hidden = false;
    refreshChoices();
    scrollToBottom();
  }

  function showPending(entry, errorMessage) {
    var existing = state.byClientId.get(entry.client_id);
    if (existing && existing.dataset.seq) return; // already confirmed
    var node = bubble(true, '', entry.body);
    node.dataset.clientId = entry.client_id;
    node.classList.add(errorMessage ? 'failed' : 'pending');
    if (errorMessage) {
      var failure = el('div', { class: 'failure' });
      failure.append(el('span', {}, errorMessage), el('button', { type: 'button', class: 'retry' }, t('Retry')));
      node.appendChild(failure);
    }
    if (existing) existing.replaceWith(node); else ui.messages.appendChild(node);
    state.byClientId.set(entry.client_id, node);
    scrollToBottom();
  }

  // ---------- before the chat: the start form; during it: the status line ----------

  function labelled(text, required, control) {
    var caption = el('span', {}, text);
    if (required) caption.appendChild(el('span', { class: 'req' }, ' ' + t('(required)')));
    var label = el('label', {});
    label.append(caption, control);
    return label;
  }

  // Rebuilt only when the tenant's questions change, so a reconnect keeps what was typed.
  function buildStartForm(reception) {
    var key = JSON.stringify(reception);
    if (key === state.receptionKey) return;
    state.receptionKey = key;
    state.reception = reception;
    ui.start.textContent = '';
    ui.start.appendChild(el('p', {}, t('Tell us a little about your question and we will connect you.')));
    ui.department = null;
    if (reception.picker && reception.departments.length) {
      ui.department = el('select', { 'data-sb': 'department', 'aria-describedby': 'sb-department-hint' });
      ui.department.appendChild(el('option', { value: '' }, t('Any department')));
      reception.departments.forEach(function (d) {
        ui.department.appendChild(el('option', { value: String(d.id) }, d.name));
      });
      ui.departmentHint = el('span', { class: 'hint', id: 'sb-department-hint' });
      ui.start.append(labelled(t('Department'), false, ui.department), ui.departmentHint);
      showDepartmentHint();
    }
    ui.prechat = {};
    reception.fields.forEach(function (f) {
      var spec = PRECHAT[f.field];
      if (!spec || ui.prechat[f.field]) return;
      var input = el('input', { type: spec[1], autocomplete: spec[2], 'data-sb': 'prechat-' + f.field,
        maxlength: '254' });
      input.required = !!f.required;
      ui.prechat[f.field] = input;
      ui.start.appendChild(labelled(t(spec[0]), f.required, input));
    });
    ui.startError = el('p', { class: 'error', role: 'alert', hidden: '' });
    ui.startButton = el('button', { type: 'submit', class: 'send', 'data-sb': 'start' }, t('Start chat'));
    ui.start.append(ui.startError, ui.startButton);
  }

  function showDepartmentHint() {
    var id = Number(ui.department.value);
    var chosen = state.reception.departments.filter(function (d) { return d.id === id; })[0];
    ui.departmentHint.textContent = (chosen && chosen.description) || '';
  }

  function formWanted() {
    var r = state.reception;
    var noConversation = !state.routing || state.routing.status === 'closed';
    return noConversation && (state.formDemanded || (r.picker && r.departments.length > 0) || r.fields.length > 0);
  }

  function queueText(s) {
    var text = t('You are number {position} in the queue', { position: s.position.toLocaleString(LANGUAGE) });
    if (s.estimated_wait_seconds != null) {
      text += ' · ' + t('about {minutes} min', { minutes: Math.ceil(s.estimated_wait_seconds / 60).toLocaleString(LANGUAGE) });
    }
    if (s.agents_online === 0) text += ' · ' + t('no one is online right now, you keep your place');
    return text;
  }

  function statusText(s) {
    if (!s) return '';
    if (s.status === 'closed') return t('This conversation has ended');
    if (s.handler === 'agent') return t('You are chatting with {name}', { name: s.agent_name || t('our team') });
    if (s.handler === 'bot') return t('You are chatting with our assistant') + (s.position ? ' · ' + queueText(s) : '');
    return s.position ? queueText(s) : t('Waiting for the next available person');
  }

  function render() {
    var s = state.routing;
    var text = statusText(s);
    if (ui.status.textContent !== text) ui.status.textContent = text; // unchanged text is not re-announced
    ui.human.hidden = !(s && s.status === 'open' && s.handler === 'bot' && !s.position);
    var showForm = formWanted();
    var hadFocus = ui.panel.contains(ui.panel.getRootNode().activeElement);
    var changed = ui.start.hidden === showForm;
    ui.start.hidden = !showForm;
    ui.form.hidden = showForm;
    if (ui.leave) {
      ui.leave.hidden = !leaveWanted();
      if (!ui.leave.hidden) ui.start.hidden = ui.form.hidden = true;
    }
    ui.messages.hidden = showForm && !ui.messages.firstElementChild; // earlier messages stay readable
    refreshChoices();
    if (changed && state.open && hadFocus) focusComposerOrForm();
  }

  // Pushes and acks may cross; a state about an older conversation never replaces a newer one.
  function setRouting(s) {
    if (!s || (state.routing && s.conversation_id < state.routing.conversation_id)) return;
    state.routing = s;
    if (s.status === 'open') state.formDemanded = false;
    render();
    showLauncher();
  }

  // ---------- talking to the server ----------

  function request(event, payload, onOk, onFail) {
    socket.timeout(ACK_TIMEOUT_MS).emit(event, payload, function (err, ack) {
      if (err) return onFail({ code: 'timeout', message: t('No answer from the server; we will retry.') });
      if (!ack || !ack.ok) return onFail((ack && ack.error) || { code: 'server_error', message: t('Something went wrong.') });
      onOk(ack);
    });
  }

  function transmit(entry) {
    showPending(entry);
    if (!socket.connected || state.inflight.has(entry.client_id)) return; // the next connect flushes the outbox
    state.inflight.add(entry.client_id);
    request('message:send', { client_id: entry.client_id, body: entry.body }, function (ack) {
      state.inflight.delete(entry.client_id);
      outboxRemove(entry.client_id);
      addMessage(ack.message, false);
    }, function (error) {
      state.inflight.delete(entry.client_id);
      var shown = state.byClientId.get(entry.client_id);
      if (shown && shown.dataset.seq) return; // the push confirmed it while the ack was lost
      if (RETRYABLE.indexOf(error.code) === -1) outboxRemove(entry.client_id);
      showPending(entry, error.message);
      showError(error.message);
      if (error.code === 'prechat_required') { state.formDemanded = true; render(); }
    });
  }

  function startConversation() {
    if (state.starting) return;
    if (!socket || !socket.connected) { showStartError(t('Not connected yet — please try again in a moment.')); return; }
    var prechat = {};
    Object.keys(ui.prechat).forEach(function (field) {
      var value = ui.prechat[field].value.trim();
      if (value) prechat[field] = value;
    });
    var departmentId = ui.department && ui.department.value ? Number(ui.department.value) : null;
    state.starting = true;
    ui.startButton.disabled = true;
    ui.startError.hidden = true;
    request('conversation:start', { department_id: departmentId, prechat: prechat }, function (ack) {
      state.starting = false;
      ui.startButton.disabled = false;
      setRouting(ack.state);
    }, function (error) {
      state.starting = false;
      ui.startButton.disabled = false;
      showStartError(error.message);
    });
  }

  function showStartError(message) {
    ui.startError.textContent = message;
    ui.startError.hidden = false;
  }

  // ---------- nobody can answer (outside business hours, no agent online): leave a message ----------

  function buildLeaveForm() {
    ui.leave = el('form', { class: 'start', 'data-sb': 'leave-form', 'aria-label': t('Leave a message'), novalidate: '',
      hidden: '' });
    ui.leaveNote = el('p', { 'data-sb': 'leave-note' });
    ui.leaveName = el('input', { type: 'text', autocomplete: 'name', 'data-sb': 'leave-name', maxlength: '80' });
    ui.leaveEmail = el('input', { type: 'email', autocomplete: 'email', 'data-sb': 'leave-email', maxlength: '254' });
    ui.leaveBody = el('textarea', { 'data-sb': 'leave-body', rows: '3' });
    ui.leaveError = el('p', { class: 'error', role: 'alert', hidden: '' });
    ui.leaveButton = el('button', { type: 'submit', class: 'send', 'data-sb': 'leave-send' }, t('Send message'));
    ui.leave.append(ui.leaveNote, labelled(t('Name'), true, ui.leaveName), labelled(t('Email'), true, ui.leaveEmail),
      labelled(t('Message'), true, ui.leaveBody), ui.leaveError, ui.leaveButton);
    ui.leave.addEventListener('submit', function (event) { event.preventDefault(); leaveMessage(); });
    ui.start.after(ui.leave);
  }

  // From 'session': {open, reason, message}; closed means the form instead of the chat.
  function offerLeaveMessage(availability) {
    state.unavailable = availability && availability.open === false ? availability : null;
    if (state.unavailable && !ui.leave) buildLeaveForm();
    if (state.unavailable) {
      ui.leaveNote.textContent = state.unavailable.message || t('Nobody can answer right now: leave us a message.');
    }
  }

  function leaveWanted() {
    return !!state.unavailable && (!state.routing || state.routing.status === 'closed');
  }

  function leaveMessage() {
    ui.leaveError.hidden = true;
    if (!socket || !socket.connected) { showLeaveError(t('Not connected yet — please try again in a moment.')); return; }
    ui.leaveButton.disabled = true;
    request('message:leave', { client_id: newClientId(), name: ui.leaveName.value, email: ui.leaveEmail.value,
      body: ui.leaveBody.value }, function (ack) {
      ui.leaveButton.disabled = false;
      state.unavailable = null;
      addMessage(ack.message, false);
      ui.note.textContent = t('Thanks! We will answer at {email}.', { email: ack.conversation.visitor.email });
      render();
    }, function (error) {
      ui.leaveButton.disabled = false;
      showLeaveError(error.message);
    });
  }

  function showLeaveError(message) {
    ui.leaveError.textContent = message;
    ui.leaveError.hidden = false;
  }

  // From the status bar's button, or the bot's "Talk to a human" offer (`button`).
  function requestHuman(button) {
    var buttons = [ui.human];
    if (button && button !== ui.human) buttons.push(button);
    if (!socket || !socket.connected) { showError(t('Not connected — please try again in a moment.')); return; }
    buttons.forEach(function (b) { b.disabled = true; });
    request('human:request', {}, function (ack) {
      ui.human.disabled = false;
      setRouting(ack.state);
      refreshChoices();
    }, function (error) {
      ui.human.disabled = false;
      refreshChoices();
      showError(error.message);
    });
  }

  // ---------- what a person's message holds beyond text: formatting, an image, a file ----------

  function fileUrl(attachment) {
    return ORIGIN + '/widget/files/' + encodeURIComponent(attachment.id) + '?key=' + encodeURIComponent(KEY) +
      '&token=' + encodeURIComponent(store.get(TOKEN_KEY) || '');
  }

  function formatSize(bytes) {
    if (bytes < 1024) return bytes + ' B';
    if (bytes < 1024 * 1024) return Math.round(bytes / 1024) + ' KB';
    return (bytes / (1024 * 1024)).toFixed(1) + ' MB';
  }

  function attachmentView(attachment) {
    var url = fileUrl(attachment);
    var view = el('div', { class: 'body attachment', 'data-sb': 'attachment' });
    if (attachment.is_image) {
      var link = el('a', { href: url, target: '_blank', rel: 'noopener noreferrer', title: t('Open full size') });
      var image = el('img', { class: 'thumb', src: url, alt: attachment.name, loading: 'lazy' });
      if (attachment.width && attachment.height) { image.width = attachment.width; image.height = attachment.height; }
      link.appendChild(image);
      view.appendChild(link);
    } else {
      var card = el('a', { class: 'file-card', href: url, download: attachment.name });
      card.append(el('span', {}, '📄'), el('span', { class: 'file-name' }, attachment.name),
        el('span', { class: 'file-size' }, formatSize(attachment.size)));
      view.appendChild(card);
    }
    return view;
  }

  // The server rendered the formatting and sanitised it (nh3); it is still rebuilt from the allow-list.
  function decorateContent(node, message) {
    var extras = message.extras && typeof message.extras === 'object' ? message.extras : {};
    var attachment = extras.attachment;
    if (attachment && typeof attachment.id === 'string' && typeof attachment.name === 'string') {
      node.querySelector('.body').replaceWith(attachmentView(attachment));
    } else if (typeof extras.html === 'string' && extras.html) {
      var rich = richAnswer(extras.html);
      rich.dataset.sb = 'rich';
      node.querySelector('.body').replaceWith(rich);
    }
  }

  function toggleEmoji(open) {
    ui.emojiGrid.hidden = !open;
    ui.emojiButton.setAttribute('aria-expanded', String(open));
  }

  function uploadFile(file) {
    var data = new FormData();
    data.append('key', KEY);
    data.append('token', store.get(TOKEN_KEY) || '');
    data.append('client_id', newClientId());
    data.append('file', file, file.name || 'pasted-image');
    ui.error.hidden = true;
    ui.note.textContent = t('Sending {name}…', { name: file.name || t('image') });
    fetch(ORIGIN + '/widget/upload', { method: 'POST', body: data })
      .then(function (response) { return response.json(); })
      .then(function (ack) {
        if (ack.ok) addMessage(ack.message, false); else showError(ack.error.message);
      })
      .catch(function () { showError(t('The file could not be sent. Check your connection and try again.')); })
      .then(function () { ui.note.textContent = greeting(); });
  }

  function retry(entry) {
    outboxAdd(entry);
    transmit(entry); // same client_id: the server stores it at most once
  }

  function submit() {
    var body = ui.input.value.trim();
    if (!body) return;
    if (body.length > MAX_BODY) { showError(t('This message is too long.')); return; }
    ui.input.value = '';
    sendText(body);
  }

  function sendText(body) {
    var entry = { client_id: newClientId(), body: body };
    ui.error.hidden = true;
    outboxAdd(entry);
    transmit(entry);
  }

  function flushOutbox() {
    readOutbox().forEach(function (entry) {
      var shown = state.byClientId.get(entry.client_id);
      if (shown && shown.dataset.seq) outboxRemove(entry.client_id); else transmit(entry);
    });
  }

  function switchConversation(id) {
    state.convId = id;
    state.maxSeq = 0;
    state.seqs = new Set();
    state.gapFreeSeq = 0;
  }

  // Asks only for what follows the last gap-free seq, so reconnects and lost pushes are filled
  // without repeats.
  function loadHistory() {
    var afterSeq = state.gapFreeSeq;
    request('history', { after_seq: afterSeq }, function (ack) {
      if (ack.conversation && afterSeq > 0 && ack.conversation.id !== state.convId) {
        switchConversation(ack.conversation.id); // a new conversation started meanwhile; seqs restart at 1
        return loadHistory();
      }
      ack.messages.forEach(function (m) { addMessage(m, state.loaded); });
      state.loaded = true;
      setRouting(ack.state);
      render(); // the message list may have become non-empty
      flushOutbox();
    }, function (error) {
      showError(error.message);
      flushOutbox();
    });
  }

  // A hole may just be a push still on its way: look again shortly, then ask for what is missing.
  var gapTimer = null;
  function fillGapSoon() {
    if (gapTimer) return;
    gapTimer = setTimeout(function () {
      gapTimer = null;
      if (state.gapFreeSeq < state.maxSeq) loadHistory();
    }, 300);
  }

  function connect() {
    var badTokenRetried = false;
    socket = window.io(ORIGIN + '/visitor', {
      // A function, so every reconnect presents the freshest token rather than the first one.
      auth: function (cb) { cb({ key: KEY, token: store.get(TOKEN_KEY) || null }); },
      transports: ['websocket', 'polling'],
    });
    socket.on('session', function (session) {
      if (!session) return;
      if (session.token) store.set(TOKEN_KEY, session.token);
      applyLook(session.look);
      buildStartForm({
        picker: !!session.department_picker,
        departments: session.departments || [],
        fields: session.prechat_fields || [],
      });
      offerLeaveMessage(session.availability);
      if (session.state) setRouting(session.state); else render();
    });
    socket.on('connect', function () {
      badTokenRetried = false;
      showLauncher();
      ui.note.textContent = greeting();
      identifyUser(function () { loadHistory(); reportPageOnConnect(); });
    });
    socket.on('disconnect', function () {
      ui.note.textContent = t('Connection lost — reconnecting…');
    });
    socket.on('connect_error', function (err) {
      if (socket.active) return; // a network problem: the client keeps retrying by itself
      // Refused by the server. The token is the only thing we bring that can go stale (new
      // server secret, copied storage), so drop it once and come back as a new visitor.
      var data = err.data || {};
      if (data.code !== 'unknown_widget_key' && !badTokenRetried && store.get(TOKEN_KEY)) {
        badTokenRetried = true;
        store.remove(TOKEN_KEY);
        socket.connect();
        return;
      }
      console.warn('Switchboard: the chat is disabled: ' + (data.message || err.message) +
        (data.code === 'unknown_widget_key' ? ' Check the data-key of the embed snippet.' : ''));
      ui.launcher.hidden = true;
      ui.panel.hidden = true;
    });
    socket.on('message:new', function (message) {
      addMessage(message, true);
      if (state.gapFreeSeq < state.maxSeq) fillGapSoon();
    });
    socket.on('conversation:state', setRouting);
    listenEngagement();
    socket.on('invitation', showInvitation);
  }

  // ---------- before any chat: pages seen, time on page, who the site says this is, invitations ----------

  var HEARTBEAT_MS = 15000;
  var INVITATION_SHOWN_MS = 60000; // then it counts as ignored (the server agrees after 2 minutes)
  // An app's web view may declare "app". A phone-sized touch screen says "mobile_web", which counts
  // when the browser's user agent does not tell the server what device it is.
  var CHANNEL = script.dataset.channel ||
    (window.matchMedia('(max-width: 480px) and (pointer: coarse)').matches ? 'mobile_web' : null);
  var page = { url: null, referrer: document.referrer || null, viewId: null, visibleMs: 0, visibleSince: null };
  var invitationTimer = null;

  function visibleSeconds() {
    return Math.floor((page.visibleMs + (page.visibleSince ? Date.now() - page.visibleSince : 0)) / 1000);
  }

  function heartbeat() {
    if (!page.viewId || !socket || !socket.connected) return;
    var viewId = page.viewId;
    request('page:heartbeat', { page_view_id: viewId, seconds_on_page: visibleSeconds() }, function () {}, function (error) {
      // The visitor changed (identified, or data erased): this page belongs to the new one.
      if (error.code === 'page_view_not_found' && page.viewId === viewId) { page.viewId = null; sendPageView(); }
    });
  }

  function sendPageView() {
    if (!socket || !socket.connected || !page.url) return;
    var url = page.url;
    request('page:view', { url: url, title: document.title || '', referrer: page.referrer, language: navigator.language || null,
      channel: CHANNEL }, function (ack) {
      if (page.url === url) page.viewId = ack.page_view_id;
      if (ack.invitation) showInvitation(ack.invitation);
    }, function () {});
  }

  function pageChanged() {
    var url = window.location.href;
    if (url === page.url) return;
    heartbeat(); // the time spent on the page being left
    if (page.url) page.referrer = page.url;
    page.url = url;
    page.viewId = null;
    page.visibleMs = 0;
    page.visibleSince = document.visibilityState === 'visible' ? Date.now() : null;
    sendPageView();
  }

  function reportPageOnConnect() {
    if (!page.viewId) sendPageView();
  }

  // Single-page apps change the address with pushState/replaceState (no event fires for those) or
  // the back button (popstate). The title is read a moment later, once the app has set it.
  function watchPages() {
    ['pushState', 'replaceState'].forEach(function (name) {
      var original = window.history[name];
      window.history[name] = function () {
        var result = original.apply(this, arguments);
        setTimeout(pageChanged, 50);
        return result;
      };
    });
    window.addEventListener('popstate', function () { setTimeout(pageChanged, 50); });
    document.addEventListener('visibilitychange', function () {
      if (document.visibilityState === 'visible') {
        if (!page.visibleSince) page.visibleSince = Date.now();
      } else if (page.visibleSince) {
        page.visibleMs += Date.now() - page.visibleSince;
        page.visibleSince = null;
        heartbeat();
      }
    });
    setInterval(heartbeat, HEARTBEAT_MS);
    pageChanged();
  }

  // The site may say who its logged-in user is: window.switchboardSettings = {user_id, user_hash, name, email},
  // user_hash being hex(HMAC-SHA256(identity secret, user_id)) computed on the site's server.
  function identifyUser(then) {
    var given = window.switchboardSettings;
    if (!given || !given.user_id || !given.user_hash) return then();
    var claim = { user_id: String(given.user_id), user_hash: String(given.user_hash) };
    if (given.name) claim.name = String(given.name);
    if (given.email) claim.email = String(given.email);
    request('visitor:identify', claim, function (ack) {
      store.set(TOKEN_KEY, ack.token);
      if (ack.changed) forgetConversation(); // the known contact's conversations replace the anonymous one's
      then();
    }, function (error) {
      console.warn('Switchboard: the user was not identified: ' + error.message);
      then();
    });
  }

  function forgetConversation() {
    ui.messages.textContent = '';
    state.ids = new Set();
    state.byClientId = new Map();
    state.routing = null;
    state.loaded = false;
    switchConversation(0);
  }

  function buildInvitation() {
    ui.invitation = el('div', { class: 'invitation', role: 'dialog', 'aria-label': t('Invitation to chat'),
      'data-sb': 'invitation', hidden: '' });
    ui.invitationFrom = el('p', { class: 'from' });
    ui.invitationText = el('p', { 'data-sb': 'invitation-message' });
    var answers = el('div', { class: 'answers' });
    var accept = el('button', { type: 'button', class: 'send', 'data-sb': 'invitation-accept' }, t('Chat now'));
    var decline = el('button', { type: 'button', class: 'human', 'data-sb': 'invitation-decline' }, t('No thanks'));
    accept.addEventListener('click', function () { answerInvitation('accept'); });
    decline.addEventListener('click', function () { answerInvitation('decline'); });
    answers.append(accept, decline);
    ui.invitation.append(ui.invitationFrom, ui.invitationText, answers);
    return ui.invitation;
  }

  function showInvitation(invitation) {
    if (!invitation || invitation.status !== 'pending') return;
    ui.invitation.dataset.id = invitation.id;
    ui.invitationFrom.textContent = invitation.agent_name ? invitation.agent_name + ' says:' : 'A message for you:';
    ui.invitationText.textContent = invitation.message;
    ui.invitation.hidden = false;
    clearTimeout(invitationTimer);
    invitationTimer = setTimeout(function () { answerInvitation('ignore'); }, INVITATION_SHOWN_MS);
  }

  function answerInvitation(decision) {
    var id = Number(ui.invitation.dataset.id);
    clearTimeout(invitationTimer);
    ui.invitation.hidden = true;
    if (!id || !socket || !socket.connected) return;
    request('invitation:answer', { invitation_id: id, answer: decision }, function (ack) {
      if (decision !== 'accept') return;
      if (ack.state) setRouting(ack.state);
      openPanel();
      loadHistory();
    }, function (error) {
      if (decision === 'accept') { openPanel(); showError(error.message); }
    });
  }

  // ---------- typing, read receipts and the satisfaction rating ----------

  var TYPING_INTERVAL_MS = 250; // the draft preview goes out at most 4 times a second
  var AGENT_TYPING_MS = 6000; // an agent's "typing" fades if its stop was lost
  var engagement = { typingTimer: null, typingSentAt: 0, typingSent: '', agentTypingTimer: null, seenSent: 0,
    seenConv: 0, agentsReadSeq: 0, rating: null, ratingKey: '', score: 0, tags: new Set() };

  function buildEngagement() {
    ui.typing = el('p', { class: 'typing', 'data-sb': 'typing', 'aria-live': 'polite' });
    ui.csat = el('form', { class: 'csat', 'data-sb': 'rating', 'aria-label': t('Rate this conversation'), hidden: '' });
    ui.csatScores = el('div', { class: 'scores', role: 'group', 'aria-label': t('Your rating') });
    ui.csatTags = el('div', { class: 'tags', role: 'group', 'aria-label': t('What stood out') });
    ui.csatComment = el('textarea', { 'data-sb': 'rating-comment', 'aria-label': t('Comment (optional)'),
      placeholder: t('Anything else? (optional)'), maxlength: '1000' });
    ui.csatSend = el('button', { type: 'submit', class: 'send', 'data-sb': 'rating-submit' }, t('Send rating'));
    ui.csatNote = el('p', { class: 'csat-note', 'data-sb': 'rating-note', role: 'status' });
    ui.csat.append(el('p', {}, t('How was this conversation?')), ui.csatScores, ui.csatTags, ui.csatComment,
      ui.csatSend, ui.csatNote);
    ui.form.before(ui.typing, ui.csat);

    ui.input.addEventListener('input', reportTyping);
    ui.form.addEventListener('submit', reportTyping); // after the composer was emptied: typing stopped
    ui.input.addEventListener('keydown', function (event) { if (event.key === 'Enter') setTimeout(reportTyping); });
    ui.launcher.addEventListener('click', reportSeen);
    document.addEventListener('visibilitychange', reportSeen);
    window.addEventListener('focus', reportSeen);
    new MutationObserver(function () { reportSeen(); showRead(); }).observe(ui.messages, { childList: true });
    ui.csatScores.addEventListener('click', function (event) {
      var button = event.target.closest('button');
      if (button) chooseScore(Number(button.dataset.score), []);
    });
    ui.csatTags.addEventListener('click', function (event) {
      var button = event.target.closest('button');
      if (!button) return;
      var tag = button.dataset.tag;
      if (engagement.tags.has(tag)) engagement.tags.delete(tag); else engagement.tags.add(tag);
      button.setAttribute('aria-pressed', String(engagement.tags.has(tag)));
    });
    ui.csat.addEventListener('submit', function (event) { event.preventDefault(); submitRating(); });
  }

  function reportTyping() {
    var s = state.routing;
    if (!socket || !socket.connected || !s || s.status !== 'open') return;
    var draft = ui.input.value.slice(0, MAX_BODY);
    var wait = engagement.typingSentAt + TYPING_INTERVAL_MS - Date.now();
    if (draft && wait > 0) {
      if (!engagement.typingTimer) {
        engagement.typingTimer = setTimeout(function () { engagement.typingTimer = null; reportTyping(); }, wait);
      }
      return;
    }
    if (draft === engagement.typingSent) return;
    engagement.typingSent = draft;
    engagement.typingSentAt = Date.now();
    socket.emit('typing', { draft: draft });
  }

  function showAgentTyping(push) {
    if (push.conversation_id !== state.convId) return;
    clearTimeout(engagement.agentTypingTimer);
    ui.typing.textContent = push.typing ? t('{name} is typing…', { name: push.name || t('Agent') }) : '';
    if (push.typing) engagement.agentTypingTimer = setTimeout(function () { ui.typing.textContent = ''; }, AGENT_TYPING_MS);
  }

  // The agent sees the visitor has read up to here: only while the chat is open and the page visible.
  function reportSeen() {
    if (!socket || !socket.connected || !state.open || document.visibilityState !== 'visible') return;
    if (engagement.seenConv !== state.convId) { engagement.seenConv = state.convId; engagement.seenSent = -1; }
    if (state.maxSeq <= engagement.seenSent) return;
    var seq = state.maxSeq;
    engagement.seenSent = seq;
    request('conversation:seen', { seq: seq }, function (ack) {
      if (ack.conversation_id === state.convId) showRead(ack.agents_read_seq);
    }, function () { engagement.seenSent = 0; });
  }

  // "Read" under the visitor's newest message the team has read.
  function showRead(readSeq) {
    if (readSeq !== undefined) engagement.agentsReadSeq = Math.max(engagement.agentsReadSeq, readSeq);
    var last = null;
    ui.messages.querySelectorAll('.from-visitor[data-seq]').forEach(function (node) {
      if (Number(node.dataset.conversation) === state.convId && Number(node.dataset.seq) <= engagement.agentsReadSeq) last = node;
    });
    var shown = ui.messages.querySelector('.receipt');
    if (shown && shown.parentNode === last) return;
    if (shown) shown.remove();
    if (last) last.appendChild(el('span', { class: 'receipt', 'data-sb': 'read' }, t('Read')));
  }

  function loadRatingForm() {
    request('rating:form', {}, function (form) {
      engagement.rating = form;
      ui.csat.hidden = !form.may_rate;
      if (!form.may_rate) return;
      ui.csatScores.textContent = '';
      form.levels.forEach(function (level) {
        var stars = form.scale === 'stars5';
        ui.csatScores.appendChild(el('button', { type: 'button', class: 'score' + (stars ? ' star' : ''),
          'data-sb': 'rating-score-' + level.score, 'data-score': String(level.score), 'aria-pressed': 'false',
          'aria-label': level.label }, stars ? '★' : level.label));
      });
      var given = form.rating;
      if (given) ui.csatComment.value = given.comment;
      chooseScore(given ? given.score : 0, given ? given.tags : []);
      ui.csatNote.textContent = given ? t('Thanks for your rating — you can change it.') : '';
    }, function () { ui.csat.hidden = true; });
  }

  function chooseScore(score, tags) {
    engagement.score = score;
    engagement.tags = new Set(tags);
    ui.csatScores.querySelectorAll('button').forEach(function (button) {
      var value = Number(button.dataset.score);
      button.setAttribute('aria-pressed', String(value === score));
      button.classList.toggle('lit', engagement.rating.scale === 'stars5' && value <= score);
    });
    ui.csatTags.textContent = '';
    var level = engagement.rating.levels.filter(function (l) { return l.score === score; })[0];
    (level ? level.tags : []).forEach(function (tag) {
      ui.csatTags.appendChild(el('button', { type: 'button', class: 'choice', 'data-sb': 'rating-tag', 'data-tag': tag,
        'aria-pressed': String(engagement.tags.has(tag)) }, level.tag_labels[tag] || tag));
    });
  }

  function submitRating() {
    if (!engagement.score) { ui.csatNote.textContent = t('Choose a rating first.'); return; }
    ui.csatSend.disabled = true;
    request('rating:submit', { conversation_id: engagement.rating.conversation_id, score: engagement.score,
      tags: Array.from(engagement.tags), comment: ui.csatComment.value }, function () {
      ui.csatSend.disabled = false;
      ui.csatSend.textContent = t('Update rating');
      ui.csatNote.textContent = t('Thanks for your rating!');
    }, function (error) {
      ui.csatSend.disabled = false;
      ui.csatNote.textContent = error.message;
    });
  }

  // Asked after the conversation closed (or on the agent's invitation, 'rating:prompt'). Only a change
  // of conversation or status reloads the form, so a push never resets what the visitor is choosing.
  function offerRating(s) {
    if (!s) return;
    if (s.status !== 'open') ui.typing.textContent = '';
    var key = s.conversation_id + ':' + s.status;
    if (key === engagement.ratingKey) return;
    engagement.ratingKey = key;
    if (s.status === 'closed' || !ui.csat.hidden) loadRatingForm();
  }

  function listenEngagement() {
    socket.on('typing', showAgentTyping);
    socket.on('receipt:agents', function (push) { if (push.conversation_id === state.convId) showRead(push.read_seq); });
    socket.on('rating:prompt', loadRatingForm);
    socket.on('conversation:state', offerRating);
    socket.on('session', function (session) { if (session) offerRating(session.state); });
    socket.on('connect', reportSeen);
  }

  function loadSocketClient(callback) {
    if (typeof window.io === 'function') return callback();
    var tag = document.createElement('script');
    tag.src = ORIGIN + '/static/vendor/socket.io.min.js';
    tag.async = true;
    tag.addEventListener('load', function () {
      if (typeof window.io === 'function') callback();
      else console.warn('Switchboard: the chat client did not load (is an AMD loader on this page?).');
    });
    tag.addEventListener('error', function () { console.warn('Switchboard: could not load ' + tag.src); });
    document.head.appendChild(tag);
  }

  function loadTexts(callback) {
    // Without the strings (an old server, a network hiccup) the widget still works, in English.
    fetch(ORIGIN + '/widget/i18n.json?key=' + encodeURIComponent(KEY))
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (catalogue) {
        if (catalogue) { LANGUAGE = catalogue.language || LANGUAGE; TEXTS = catalogue.texts || {}; }
      }, function () {})
      .then(callback);
  }

  function start() {
    loadTexts(function () {
      buildUi();
      buildEngagement();
      if (PAGE_MODE) openPanel();
      followOnScreenKeyboard();
      watchPages();
      loadSocketClient(connect);
    });
  }

  if (document.body) start(); else document.addEventListener('DOMContentLoaded', start);
})();
