// Live preview of the widget's look on the admin's "Widget look" page. The text colour and the contrast
// warning come from the server (one rule, saas/services/widget_look.py), asked as the colour is typed.
(function () {
  'use strict';

  var form = document.getElementById('look-form');
  var preview = document.getElementById('look-preview');
  if (!form || !preview) return;
  var colorInput = document.getElementById('color');
  var picker = document.getElementById('color-picker');
  var note = form.querySelector('[data-look="contrast"]');
  var logo = preview.querySelector('[data-look="logo"]');
  var asked = 0; // answers may arrive out of order: only the newest question's answer is shown
  var timer = null;

  function showContrast(answer) {
    note.classList.toggle('text-danger', !answer.ok || !!answer.warning);
    if (!answer.ok) { note.textContent = answer.error.message; return; }
    preview.style.setProperty('--look-accent', answer.color);
    preview.style.setProperty('--look-on-accent', answer.text_color);
    if (picker.value !== answer.color) picker.value = answer.color;
    note.textContent = answer.warning || 'Text contrast ' + answer.ratio + ':1 — meets WCAG 2.1 AA.';
  }

  function checkColor() {
    var question = ++asked;
    fetch(form.dataset.contrastUrl + '?color=' + encodeURIComponent(colorInput.value), { credentials: 'same-origin' })
      .then(function (response) { return response.json(); })
      .then(function (answer) { if (question === asked) showContrast(answer); })
      .catch(function () { if (question === asked) note.textContent = 'The contrast could not be checked just now.'; });
  }

  function colorChanged() {
    clearTimeout(timer);
    timer = setTimeout(checkColor, 200);
  }

  function showLogo(file) {
    if (logo.dataset.objectUrl) URL.revokeObjectURL(logo.dataset.objectUrl);
    if (!file) return;
    logo.dataset.objectUrl = URL.createObjectURL(file);
    logo.src = logo.dataset.objectUrl;
    logo.hidden = false;
  }

  colorInput.addEventListener('input', colorChanged);
  picker.addEventListener('input', function () { colorInput.value = picker.value; colorChanged(); });
  form.addEventListener('change', function (event) {
    var target = event.target;
    if (target.name === 'position') preview.dataset.position = target.value;
    if (target.id === 'logo') showLogo(target.files[0]);
    if (target.id === 'remove_logo') logo.hidden = target.checked;
  });
  form.addEventListener('input', function (event) {
    var target = event.target;
    if (target.id === 'launcher_text') preview.querySelector('[data-look="launcher"]').textContent = target.value;
    if (target.id === 'greeting') preview.querySelector('[data-look="greeting"]').textContent = target.value;
  });
})();
