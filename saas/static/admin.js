// Copy-to-clipboard for the admin page: any <button data-copy-target="ID"> copies that element's text.
(function () {
  'use strict';

  function copyText(text) {
    // The async Clipboard API only exists on secure origins (https, localhost); a self-hosted
    // install on plain http still deserves a working button, hence the selection fallback.
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return new Promise(function (resolve, reject) {
      var area = document.createElement('textarea');
      area.value = text;
      area.setAttribute('readonly', '');
      area.style.position = 'fixed';
      area.style.opacity = '0';
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
      area.remove();
      if (ok) { resolve(); } else { reject(new Error('copy failed')); }
    });
  }

  function flashLabel(button, label, className) {
    var original = button.dataset.label || button.textContent;
    button.dataset.label = original;
    button.textContent = label;
    if (className) button.classList.add(className);
    clearTimeout(button._resetTimer);
    button._resetTimer = setTimeout(function () {
      button.textContent = original;
      if (className) button.classList.remove(className);
    }, 2000);
  }

  document.addEventListener('click', function (event) {
    var button = event.target.closest('button[data-copy-target]');
    if (!button) return;
    var source = document.getElementById(button.dataset.copyTarget);
    if (!source) return;
    copyText(source.textContent).then(
      function () { flashLabel(button, 'Copied!', 'copied'); },
      function () {
        // Leave the text selected so the user can press Ctrl+C themselves.
        var range = document.createRange();
        range.selectNodeContents(source);
        var selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        flashLabel(button, 'Press Ctrl+C to copy');
      }
    );
  });
})();
