// Report pages: draw every .chart[data-figure] with Plotly (the figure is JSON made by the
// server), keep the builder's filter inputs named after their chosen dimension, and follow an
// export's progress until its file is ready.
(function () {
  'use strict';
  var t = window.SwitchboardTexts.t;

  function drawCharts() {
    if (!window.Plotly) return;
    document.querySelectorAll('.chart[data-figure]').forEach(function (element) {
      var figure = JSON.parse(element.getAttribute('data-figure'));
      window.Plotly.newPlot(element, figure.data, figure.layout, {responsive: true, displaylogo: false});
      element.setAttribute('data-drawn', 'true');
    });
  }

  function wireFilters() {
    document.querySelectorAll('select.filter-name').forEach(function (select) {
      var slot = select.getAttribute('data-filter-slot');
      var input = document.querySelector('input.filter-value[data-filter-slot="' + slot + '"]');
      function rename() {
        if (select.value) input.setAttribute('name', 'f.' + select.value);
        else input.removeAttribute('name');
      }
      select.addEventListener('change', rename);
      rename();
    });
  }

  // An export's state as the server stores it → as shown (the page draws the first one itself).
  var EXPORT_STATES = { queued: t('Queued'), running: t('Running') };

  function followExport() {
    var card = document.querySelector('.export-progress[data-status-url]');
    if (!card) return;
    var bar = card.querySelector('progress');
    var state = card.querySelector('.export-state');
    function poll() {
      fetch(card.getAttribute('data-status-url'), {credentials: 'same-origin'})
        .then(function (response) { return response.json(); })
        .then(function (reply) {
          var job = reply.export;
          if (job.rows_total) bar.max = job.rows_total;
          bar.value = job.status === 'done' ? bar.max : job.rows_written;
          state.textContent = '';
          if (job.status === 'done') {
            state.textContent = t('Ready: {count} rows.', { count: job.rows_written.toLocaleString() }) + ' ';
            var link = document.createElement('a');
            link.className = 'button small';
            link.href = reply.download;
            link.textContent = t('Download');
            state.appendChild(link);
          } else if (job.status === 'failed') {
            var reason = job.error || t('unknown error');
            state.textContent = t('Failed: {reason}', { reason: reason });
          } else {
            state.textContent = (EXPORT_STATES[job.status] || job.status) + '… ' +
              t('{count} rows written.', { count: job.rows_written.toLocaleString() });
            setTimeout(poll, 1000);
          }
        })
        .catch(function () { setTimeout(poll, 3000); });
    }
    if (!card.querySelector('a.button')) poll();
  }

  function start() {
    drawCharts();
    wireFilters();
    followExport();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
}());
