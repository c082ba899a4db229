// The page's strings in the viewer's language, for every script of the page: the server puts them
// in a <script type="application/json" class="page-texts"> block (data, not script: the CSP allows
// no inline script). Load this first; the others call SwitchboardTexts.t('With {name}', {name: n}),
// which gives the English msgid back when a string has no translation.
(function () {
  'use strict';
  var block = document.querySelector('script.page-texts');
  var texts = block ? JSON.parse(block.textContent) : {};

  window.SwitchboardTexts = {
    t: function (msgid, values) {
      return (texts[msgid] || msgid).replace(/\{(\w+)\}/g, function (whole, name) {
        return values && name in values ? values[name] : whole;
      });
    },
  };
})();
