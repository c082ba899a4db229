// What a message holds beyond plain text, in the agent console: formatting (HTML the server
// rendered and sanitised with nh3), images (a thumbnail that opens full size) and files (a card
// that downloads); and the composer's emoji picker, file button and image paste. Loaded before
// console.js, which asks SwitchboardContent.body(message) for each message's body element.
(function () {
  'use strict';

  var root = document.getElementById('console');
  if (!root) return;
  var FILES_URL = root.dataset.filesUrl; // ends with '/files/'
  var EMOJI = ['😀', '😂', '😊', '😍', '😉', '😎', '🤔', '😅', '😢', '😮', '🙏', '👍', '👎', '👏', '👋', '🙌',
    '💪', '🎉', '❤️', '💯', '✅', '❌', '⭐', '🔥', '📦', '🚚', '💳', '📄', '📎', '⏰', '☕', '🙂'];
  // The formatting a message may carry (the server's nh3 allow-list): anything else becomes its text.
  var RICH_TAGS = { P: [], BR: [], STRONG: [], EM: [], UL: [], OL: [], LI: [], CODE: [], PRE: [], A: ['href'] };
  var t = window.SwitchboardTexts.t;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function formatSize(bytes) {
    if (bytes < 1024) return bytes + ' B';
    if (bytes < 1024 * 1024) return Math.round(bytes / 1024) + ' KB';
    return (bytes / (1024 * 1024)).toFixed(1) + ' MB';
  }

  function safeLink(href) {
    try {
      var url = new URL(href);
      return ['http:', 'https:', 'mailto:'].indexOf(url.protocol) !== -1 ? url.href : null;
    } catch (e) { return null; }
  }

  // Rebuilds the sanitised HTML node by node from the allow-list (the parsed document is inert),
  // so even a sanitiser bug on the server could not put a live attribute on the page.
  function copyAllowed(source, target) {
    source.childNodes.forEach(function (node) {
      if (node.nodeType === Node.TEXT_NODE) { target.appendChild(document.createTextNode(node.nodeValue)); return; }
      if (node.nodeType !== Node.ELEMENT_NODE) return;
      if (!RICH_TAGS[node.tagName]) { target.appendChild(document.createTextNode(node.textContent)); return; }
      var copy = document.createElement(node.tagName.toLowerCase());
      if (copy.tagName === 'A') {
        var href = safeLink(node.getAttribute('href'));
        if (href) copy.href = href;
        copy.target = '_blank';
        copy.rel = 'noopener noreferrer nofollow';
      }
      copyAllowed(node, copy);
      target.appendChild(copy);
    });
  }

  function richBody(html) {
    var body = el('div', 'body rich');
    copyAllowed(new DOMParser().parseFromString(html, 'text/html').body, body);
    return body;
  }

  function attachmentBody(attachment) {
    var url = FILES_URL + encodeURIComponent(attachment.id);
    var body = el('div', 'body attachment');
    if (attachment.is_image) {
      var link = el('a', 'thumb-link');
      link.href = url;
      link.target = '_blank';
      link.rel = 'noopener';
      link.title = t('Open full size: {name}', { name: attachment.name });
      var image = el('img', 'thumb');
      image.src = url;
      image.alt = attachment.name;
      image.loading = 'lazy';
      if (attachment.width && attachment.height) { image.width = attachment.width; image.height = attachment.height; }
      link.appendChild(image);
      body.appendChild(link);
    } else {
      var card = el('a', 'file-card');
      card.href = url;
      card.download = attachment.name;
      card.append(el('span', 'file-icon', '📄'), el('span', 'file-name', attachment.name),
        el('span', 'file-size', formatSize(attachment.size)));
      body.appendChild(card);
    }
    return body;
  }

  function body(message) {
    var extras = message.extras && typeof message.extras === 'object' ? message.extras : {};
    var attachment = extras.attachment;
    if (attachment && typeof attachment.id === 'string' && typeof attachment.name === 'string') {
      return attachmentBody(attachment);
    }
    if (typeof extras.html === 'string' && extras.html) return richBody(extras.html);
    return el('div', 'body', message.body);
  }

  window.SwitchboardContent = { body: body };

  // ---------- the composer: emoji, files, pasted images ----------

  var form = document.getElementById('composer-form');
  var composer = document.getElementById('composer');
  var notice = document.getElementById('notice');
  var emojiButton = document.getElementById('emoji-open');
  var emojiGrid = document.getElementById('emoji-grid');
  var attachButton = document.getElementById('attach-file');
  var fileInput = document.getElementById('file-input');
  var csrfField = document.querySelector('input[name="csrf_token"]');
  var conversationId = null;

  root.addEventListener('conversation:opened', function (event) { conversationId = event.detail.id; });

  EMOJI.forEach(function (emoji) {
    var button = el('button', 'emoji', emoji);
    button.type = 'button';
    button.setAttribute('aria-label', t('Insert {emoji}', { emoji: emoji }));
    emojiGrid.appendChild(button);
  });

  function closeEmoji() {
    emojiGrid.hidden = true;
    emojiButton.setAttribute('aria-expanded', 'false');
  }

  emojiButton.addEventListener('click', function () {
    emojiGrid.hidden = !emojiGrid.hidden;
    emojiButton.setAttribute('aria-expanded', String(!emojiGrid.hidden));
  });
  emojiGrid.addEventListener('click', function (event) {
    var button = event.target.closest('button.emoji');
    if (!button || composer.disabled) return;
    composer.setRangeText(button.textContent, composer.selectionStart, composer.selectionEnd, 'end');
    composer.focus();
    closeEmoji();
  });
  emojiGrid.addEventListener('keydown', function (event) {
    if (event.key === 'Escape') { closeEmoji(); emojiButton.focus(); }
  });

  function showNotice(text) { notice.textContent = text; }

  function upload(file) {
    if (!conversationId || composer.disabled) return;
    var data = new FormData();
    data.append('client_id', Array.from(window.crypto.getRandomValues(new Uint8Array(16)), function (b) {
      return b.toString(16).padStart(2, '0');
    }).join(''));
    data.append('file', file, file.name || 'pasted-image');
    var shownName = file.name || t('image');
    showNotice(t('Sending {name}…', { name: shownName }));
    var url = root.dataset.uploadUrl.replace('/0/', '/' + conversationId + '/');
    fetch(url, { method: 'POST', body: data, headers: { 'X-CSRFToken': csrfField ? csrfField.value : '' },
      credentials: 'same-origin' })
      .then(function (response) { return response.json(); })
      .then(function (ack) { showNotice(ack.ok ? '' : ack.error.message); }) // the message arrives as a push
      .catch(function () { showNotice(t('The file could not be sent. Check your connection and try again.')); });
  }

  attachButton.addEventListener('click', function () { fileInput.click(); });
  fileInput.addEventListener('change', function () {
    Array.from(fileInput.files).forEach(upload);
    fileInput.value = '';
  });
  composer.addEventListener('paste', function (event) {
    var files = Array.from((event.clipboardData && event.clipboardData.files) || []);
    if (!files.length) return; // plain text pastes as usual
    event.preventDefault();
    files.forEach(upload);
  });
  form.addEventListener('submit', closeEmoji);
})();
