// Console: the visitor's draft previewed live, "Seen" receipts, the agent's own typing signal,
// the conversation's satisfaction rating and invitation, and canned replies (/shortcut in the
// composer, a searchable list on "/", and a dialog to manage one's personal replies).
// Loaded after console.js, whose window.SwitchboardConsole it uses.
(function () {
  'use strict';

  var app = window.SwitchboardConsole;
  var root = document.getElementById('console');
  if (!app || !root) return;
  var t = app.t;

  var TYPING_REFRESH_MS = 2000; // "still typing" is re-sent this often while the agent types
  var VISITOR_TYPING_MS = 6000; // a preview fades if the visitor's stop was lost
  var SHORTCUT_BEFORE_CARET = /(^|\s)\/([a-z0-9_-]*)$/i;
  var LEVEL_STARS = { stars5: true };

  var socket = app.socket;
  var composer = document.getElementById('composer');
  var composerForm = document.getElementById('composer-form');
  var messagesEl = document.getElementById('messages');
  var typingEl = document.getElementById('visitor-typing');
  var draftEl = document.getElementById('visitor-draft');
  var ratingEl = document.getElementById('conversation-rating');
  var toolsEl = document.getElementById('engagement-tools');
  var inviteEl = document.getElementById('invite-rating');
  var suggestionsEl = document.getElementById('canned-suggestions');
  var dialog = document.getElementById('canned-dialog');
  var cannedForm = document.getElementById('canned-form');
  var cannedError = document.getElementById('canned-error');
  var fields = {
    id: document.getElementById('canned-id'), shortcut: document.getElementById('canned-shortcut'),
    title: document.getElementById('canned-title'), body: document.getElementById('canned-body'),
  };

  var replies = []; // what canned:list answered: personal ones and the workspace's not overridden
  var visitorTypingTimer = null;
  var myTyping = { conversationId: 0, sentAt: 0 };

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function current() { return app.current(); }

  // ---------- typing ----------

  function hideVisitorTyping() {
    clearTimeout(visitorTypingTimer);
    typingEl.hidden = true;
    draftEl.textContent = '';
  }

  socket.on('typing', function (push) {
    var conv = current();
    if (!conv || push.conversation_id !== conv.id) return;
    if (!push.typing) { hideVisitorTyping(); return; }
    draftEl.textContent = push.draft; // untrusted: text only
    typingEl.hidden = false;
    clearTimeout(visitorTypingTimer);
    visitorTypingTimer = setTimeout(hideVisitorTyping, VISITOR_TYPING_MS);
  });

  socket.on('message:new', function (data) {
    var conv = current();
    if (conv && data.message.conversation_id === conv.id && data.message.sender.type === 'visitor') hideVisitorTyping();
  });

  function reportMyTyping() {
    var conv = current();
    if (!conv || conv.status !== 'open') return;
    var typing = composer.value.trim() !== '';
    var now = Date.now();
    if (typing && myTyping.conversationId === conv.id && now - myTyping.sentAt < TYPING_REFRESH_MS) return;
    if (!typing && myTyping.conversationId !== conv.id) return; // nothing to take back
    myTyping = typing ? { conversationId: conv.id, sentAt: now } : { conversationId: 0, sentAt: 0 };
    socket.emit('typing', { conversation_id: conv.id, typing: typing });
  }

  // ---------- read receipts: "Seen" under the newest agent message the visitor has seen ----------

  function showSeen(seq) {
    var conv = current();
    if (!conv) return;
    if (seq !== undefined) conv.visitor_read_seq = Math.max(conv.visitor_read_seq || 0, seq);
    var last = null;
    messagesEl.querySelectorAll('.message.from-agent[data-seq]').forEach(function (node) {
      if (Number(node.dataset.seq) <= (conv.visitor_read_seq || 0)) last = node;
    });
    var shown = messagesEl.querySelector('.receipt');
    if (shown && shown.parentNode === last) return;
    if (shown) shown.remove();
    if (last) last.appendChild(el('span', 'receipt', t('Seen')));
  }

  socket.on('receipt:visitor', function (push) {
    var conv = current();
    if (conv && push.conversation_id === conv.id) showSeen(push.visitor_read_seq);
  });
  new MutationObserver(function () { showSeen(); offerInvite(); }).observe(messagesEl, { childList: true });

  // ---------- satisfaction rating ----------

  function showRating(rating) {
    ratingEl.textContent = '';
    ratingEl.hidden = !rating;
    if (!rating) return;
    ratingEl.append(el('strong', '', t('Rating:') + ' '));
    if (LEVEL_STARS[rating.scale]) {
      ratingEl.append(el('span', 'stars', '★'.repeat(rating.score) + '☆'.repeat(5 - rating.score)), ' ');
    }
    ratingEl.append(rating.level);
    if (rating.tags.length) ratingEl.append(' · ' + rating.tags.join(', '));
    if (rating.comment) ratingEl.append(' · “' + rating.comment + '”');
  }

  socket.on('rating:saved', function (push) {
    var conv = current();
    if (conv && push.conversation_id === conv.id) showRating(push.rating);
  });

  // A closed conversation asks for its rating by itself.
  function offerInvite() {
    var conv = current();
    inviteEl.hidden = !conv || conv.status !== 'open';
  }
  socket.on('conversation:updated', offerInvite);

  inviteEl.addEventListener('click', function () {
    var conv = current();
    if (!conv) return;
    inviteEl.disabled = true;
    app.request('rating:invite', { conversation_id: conv.id }, function () {
      inviteEl.disabled = false;
      app.showNotice(t('The visitor is invited to rate this conversation.'), true);
    }, function (error) {
      inviteEl.disabled = false;
      app.showNotice(error.message);
    });
  });

  root.addEventListener('conversation:opened', function (event) {
    var id = event.detail.id;
    hideVisitorTyping();
    hideSuggestions();
    showRating(null);
    toolsEl.hidden = false;
    offerInvite();
    loadReplies(); // the workspace's replies may have changed since
    app.request('rating:get', { conversation_id: id }, function (ack) {
      var conv = current();
      if (conv && conv.id === id) showRating(ack.rating);
    }, function () {});
  });

  // ---------- canned replies ----------

  function loadReplies(then) {
    app.request('canned:list', {}, function (ack) {
      replies = ack.replies;
      if (then) then();
    }, function (error) { app.showNotice(error.message); });
  }

  function tokenBeforeCaret() {
    var match = SHORTCUT_BEFORE_CARET.exec(composer.value.slice(0, composer.selectionStart));
    return match ? { text: match[2].toLowerCase(), start: composer.selectionStart - match[2].length - 1 } : null;
  }

  function matching(text) {
    return replies.filter(function (r) {
      return r.shortcut.indexOf(text) === 0 || r.title.toLowerCase().indexOf(text) !== -1;
    });
  }

  function hideSuggestions() {
    suggestionsEl.hidden = true;
    suggestionsEl.textContent = '';
  }

  function showSuggestions() {
    var token = tokenBeforeCaret();
    var found = token ? matching(token.text) : [];
    suggestionsEl.textContent = '';
    found.forEach(function (reply, index) {
      var item = el('li');
      item.setAttribute('role', 'option');
      item.setAttribute('aria-selected', String(index === 0));
      item.dataset.shortcut = reply.shortcut;
      item.append(el('span', 'shortcut', '/' + reply.shortcut), ' ', reply.title);
      suggestionsEl.appendChild(item);
    });
    suggestionsEl.hidden = !found.length;
  }

  // Server-side expansion: the service fills the variables from the conversation.
  function expand(shortcut, token, suffix) {
    var conv = current();
    if (!conv) return;
    app.request('canned:expand', { conversation_id: conv.id, shortcut: shortcut }, function (ack) {
      var end = token.start + 1 + token.text.length;
      if (composer.value.slice(token.start, end).toLowerCase() !== '/' + token.text) return; // edited meanwhile
      composer.setRangeText(ack.text + suffix, token.start, end, 'end');
      composer.focus();
      reportMyTyping();
    }, function (error) { app.showNotice(error.message); });
    hideSuggestions();
  }

  // Capture phase on the form: runs before console.js's Enter-sends handler on the composer.
  composerForm.addEventListener('keydown', function (event) {
    if (event.target !== composer || event.isComposing) return;
    if (event.key === 'Escape' && !suggestionsEl.hidden) { event.stopPropagation(); hideSuggestions(); return; }
    if ([' ', 'Tab', 'Enter'].indexOf(event.key) === -1 || event.shiftKey) return;
    var token = tokenBeforeCaret();
    if (!token || !token.text) return;
    var exact = replies.filter(function (r) { return r.shortcut === token.text; })[0];
    var first = suggestionsEl.hidden ? null : suggestionsEl.querySelector('li');
    var chosen = exact ? exact.shortcut : (event.key !== ' ' && first ? first.dataset.shortcut : null);
    if (!chosen) return;
    event.preventDefault();
    event.stopPropagation();
    expand(chosen, token, event.key === ' ' ? ' ' : '');
  }, true);

  composer.addEventListener('input', function () {
    showSuggestions();
    reportMyTyping();
  });
  composerForm.addEventListener('submit', function () { setTimeout(reportMyTyping); });
  composer.addEventListener('keyup', function (event) { if (event.key === 'Enter') reportMyTyping(); });
  suggestionsEl.addEventListener('mousedown', function (event) {
    var item = event.target.closest('li');
    var token = tokenBeforeCaret();
    if (!item || !token) return;
    event.preventDefault(); // keep the composer's focus and caret
    expand(item.dataset.shortcut, token, '');
  });

  // ---------- the dialog: one's personal replies ----------

  function fillForm(reply) {
    fields.id.value = reply ? reply.id : '';
    fields.shortcut.value = reply ? reply.shortcut : '';
    fields.title.value = reply ? reply.title : '';
    fields.body.value = reply ? reply.body : '';
    cannedError.hidden = true;
  }

  function renderDialog() {
    var mine = document.getElementById('canned-mine');
    var workspace = document.getElementById('canned-workspace');
    mine.textContent = '';
    workspace.textContent = '';
    replies.forEach(function (reply) {
      var item = el('li');
      item.append(el('span', 'shortcut', '/' + reply.shortcut), el('span', 'title', reply.title));
      if (reply.scope === 'personal') {
        [[t('Edit'), 'edit'], [t('Delete'), 'delete']].forEach(function (pair) {
          var button = el('button', 'link-button', pair[0]);
          button.type = 'button';
          button.dataset.action = pair[1];
          button.dataset.id = reply.id;
          item.appendChild(button);
        });
        mine.appendChild(item);
      } else {
        workspace.appendChild(item);
      }
    });
    if (!mine.firstChild) mine.appendChild(el('li', 'help', t('None yet: add one below.')));
    if (!workspace.firstChild) {
      workspace.appendChild(el('li', 'help', t('None (admins add them in Admin → Canned replies).')));
    }
  }

  document.getElementById('canned-manage-open').addEventListener('click', function () {
    loadReplies(function () {
      renderDialog();
      fillForm(null);
      dialog.showModal();
      fields.shortcut.focus();
    });
  });
  document.getElementById('canned-close').addEventListener('click', function () { dialog.close(); });
  document.getElementById('canned-new').addEventListener('click', function () {
    fillForm(null);
    fields.shortcut.focus();
  });

  dialog.addEventListener('click', function (event) {
    var button = event.target.closest('button[data-action]');
    if (!button) return;
    var id = Number(button.dataset.id);
    if (button.dataset.action === 'edit') {
      fillForm(replies.filter(function (r) { return r.id === id; })[0]);
      fields.shortcut.focus();
      return;
    }
    app.request('canned:delete', { id: id }, function () { loadReplies(renderDialog); }, function (error) {
      cannedError.textContent = error.message;
      cannedError.hidden = false;
    });
  });

  cannedForm.addEventListener('submit', function (event) {
    event.preventDefault();
    var payload = { shortcut: fields.shortcut.value, title: fields.title.value, body: fields.body.value };
    if (fields.id.value) payload.id = Number(fields.id.value);
    app.request('canned:save', payload, function () {
      fillForm(null);
      loadReplies(renderDialog);
    }, function (error) {
      cannedError.textContent = error.message;
      cannedError.hidden = false;
    });
  });

  socket.on('connect', function () { loadReplies(); });
  if (socket.connected) loadReplies();
})();
