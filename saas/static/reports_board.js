// The real-time board: a snapshot from `board:watch` on the /agent namespace, then `board:updated`
// pushes. Watching does not make the viewer online (auth `watch: "board"`). Everything is put on
// the page as text; waits tick locally between pushes.
(function () {
  'use strict';
  var config = document.getElementById('board-config');
  if (!config || !window.io) return;
  var t = window.SwitchboardTexts.t;
  var PRESENCE_NAMES = { online: t('online'), away: t('away'), offline: t('offline') };
  var statusEl = document.getElementById('board-status');
  var board = null;
  var receivedAt = 0;

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return '–';
    seconds = Math.max(0, Math.round(seconds));
    if (seconds < 60) return seconds + ' s';
    if (seconds < 3600) return Math.floor(seconds / 60) + ' min ' + String(seconds % 60).padStart(2, '0') + ' s';
    return Math.floor(seconds / 3600) + ' h ' + String(Math.floor(seconds % 3600 / 60)).padStart(2, '0') + ' min';
  }

  function elapsed() { return (Date.now() - receivedAt) / 1000; }

  function later(seconds) {
    return seconds === null || seconds === undefined ? null : seconds + elapsed();
  }

  function cell(row, text, className) {
    var td = document.createElement('td');
    td.textContent = text;
    if (className) td.className = className;
    row.appendChild(td);
    return td;
  }

  function agentLink(agent) {
    var a = document.createElement('a');
    a.href = config.dataset.agentUrl.replace(/\/0(\?|$)/, '/' + agent.id + '$1');
    a.textContent = agent.name;
    return a;
  }

  function renderTables() {
    var totals = board.totals;
    document.getElementById('board-online').textContent = String(totals.online);
    document.getElementById('board-load').textContent = totals.load + ' / ' + totals.capacity;
    document.getElementById('board-waiting').textContent = String(totals.waiting);
    document.getElementById('board-longest').textContent = duration(later(totals.longest_wait_seconds));

    var queues = document.getElementById('board-queues');
    queues.replaceChildren();
    board.queues.forEach(function (queue) {
      var row = document.createElement('tr');
      // The queue of no department comes with the server's English name: it is named here.
      cell(row, queue.department_id === null ? t('No department') : queue.name);
      cell(row, String(queue.waiting), 'num');
      cell(row, duration(later(queue.longest_wait_seconds)), 'num');
      queues.appendChild(row);
    });
    document.getElementById('board-queues-empty').hidden = board.queues.length > 0;

    var agents = document.getElementById('board-agents');
    agents.replaceChildren();
    board.agents.forEach(function (agent) {
      var row = document.createElement('tr');
      row.dataset.agent = String(agent.id);
      var name = document.createElement('th');
      name.scope = 'row';
      name.appendChild(agentLink(agent));
      row.appendChild(name);
      cell(row, PRESENCE_NAMES[agent.presence] || agent.presence, 'presence presence-' + agent.presence);
      cell(row, duration(later(agent.since_seconds)));
      cell(row, agent.load + ' / ' + agent.capacity, 'num');
      agents.appendChild(row);
    });
  }

  function renderChart() {
    var chart = document.getElementById('board-chart');
    if (!window.Plotly) return;
    var online = board.agents.filter(function (agent) { return agent.presence === 'online'; });
    if (!online.length) {
      chart.hidden = true;
      return;
    }
    chart.hidden = false;
    var names = online.map(function (agent) { return agent.name; });
    var largest = Math.max.apply(null, online.map(function (agent) { return agent.capacity; }));
    window.Plotly.react(chart, [
      { type: 'bar', name: t('Conversations held'), x: names, y: online.map(function (a) { return a.load; }) },
      { type: 'bar', name: t('Free slots'), x: names,
        y: online.map(function (a) { return Math.max(0, a.capacity - a.load); }) }
    ], {
      title: { text: t('Load against capacity (online agents)') }, barmode: 'stack', height: 320,
      xaxis: { type: 'category', automargin: true },
      yaxis: { title: { text: 'conversations' }, rangemode: 'tozero', tickformat: ',d', dtick: largest <= 10 ? 1 : null },
      legend: { orientation: 'h' }, margin: { t: 50 }
    }, { displayModeBar: false, responsive: true });
  }

  function show(snapshot) {
    board = snapshot;
    receivedAt = Date.now();
    renderTables();
    renderChart();
    statusEl.textContent = t('Live. Updated {time}.', { time: new Date().toLocaleTimeString() });
  }

  var socket = window.io('/agent', { auth: { tenant: config.dataset.tenant, watch: 'board' },
                                     transports: ['websocket', 'polling'] });
  socket.on('connect', function () {
    socket.timeout(10000).emit('board:watch', {}, function (err, ack) {
      if (err || !ack || !ack.ok) {
        statusEl.textContent = (ack && ack.error && ack.error.message) || t('The board did not load. Reload the page.');
        return;
      }
      show(ack.board);
    });
  });
  socket.on('board:updated', show);
  socket.on('disconnect', function () { statusEl.textContent = t('Disconnected: reconnecting…'); });
  socket.on('connect_error', function (err) {
    statusEl.textContent = (err && err.data && err.data.message) || t('Cannot connect: reconnecting…');
  });
  window.setInterval(function () { if (board) renderTables(); }, 1000);
})();
