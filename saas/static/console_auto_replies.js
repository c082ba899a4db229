// Console: the "agent has not replied" alert of the automatic replies. The visitor has already been
// told an agent will answer shortly; the agent holding the conversation gets a notice that opens it.
// Loaded after console.js, whose window.SwitchboardConsole it uses.
(function () {
  'use strict';

  var app = window.SwitchboardConsole;
  var root = document.getElementById('console');
  if (!app || !root) return;
  var me = Number(root.dataset.agentId);

  app.socket.on('agent:alert', function (alert) {
    if (!alert || alert.kind !== 'agent_silent' || alert.agent_id !== me || !alert.conversation) return;
    var visitor = alert.conversation.visitor || {};
    app.showNotice((visitor.name || visitor.nickname || 'A visitor') + ' is still waiting for your reply.');
    document.title = '⏰ ' + document.title.replace(/^⏰ /, '');
    window.addEventListener('focus', function () { document.title = document.title.replace(/^⏰ /, ''); },
      { once: true });
  });
})();
