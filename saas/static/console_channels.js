// The console's SMS, phone and API channel parts: a conversation's channel tag, the delivery
// status under an agent's reply that goes out by SMS or webhook (queued, sending, delivered,
// failed, with attempts), and the visitor panel's calls with "Log a call". Loaded after console.js
// and console_visitor.js; they ask SwitchboardChannels for the tag and the status element. Text
// only: everything goes on the page with textContent.
(function () {
  'use strict';

  var root = document.getElementById('console');
  var api = window.SwitchboardConsole;
  if (!root || !api) return;
  var t = api.t;
  // Marks msgids that are translated where shown.
  function N_(msgid) { return msgid; }
  var LABELS = { mobile_web: N_('Mobile web'), app: N_('App'), sms: 'SMS', phone: N_('Phone'), api: 'API' }; // web: none
  var STATUS_TEXT = { queued: N_('Queued'), sending: N_('Sending…'), delivered: N_('Delivered'),
    failed: N_('Not delivered') };
  var messagesEl = document.getElementById('messages');
  var callsEl = document.getElementById('visitor-calls');
  var callFormEl = document.getElementById('call-log');
  var callStatusEl = document.getElementById('call-log-status');
  var visitorId = null; // the panel's visitor

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function label(channel) {
    return LABELS[channel] ? t(LABELS[channel]) : '';
  }

  function deliveryText(delivery) {
    var text = t(STATUS_TEXT[delivery.status] || delivery.status);
    if (delivery.status !== 'delivered' && delivery.attempts > 1) text += ' · ' + t('attempt {n}', { n: delivery.attempts });
    if (delivery.status !== 'delivered' && delivery.error) text += ' · ' + delivery.error;
    return (LABELS[delivery.channel] ? t(LABELS[delivery.channel]) + ': ' : '') + text;
  }

  // The status line under an agent's message sent out by SMS or webhook; null for web chats.
  function deliveryElement(message) {
    var delivery = message.extras && message.extras.delivery;
    if (!delivery) return null;
    var node = el('span', 'meta delivery delivery-' + delivery.status, deliveryText(delivery));
    node.setAttribute('role', 'status');
    return node;
  }

  window.SwitchboardChannels = { label: label, deliveryElement: deliveryElement };

  api.socket.on('message:delivery', function (data) {
    var node = messagesEl.querySelector('[data-message-id="' + Number(data.message_id) + '"]');
    if (!node) return; // not on screen: opening the conversation shows the stored status
    var old = node.querySelector('.delivery');
    var fresh = deliveryElement({ extras: { delivery: data.delivery } });
    if (old) old.replaceWith(fresh); else node.appendChild(fresh);
  });

  // ---------- calls in the visitor panel ----------

  function callItem(call) {
    var li = el('li');
    var when = new Date(call.created_at).toLocaleString();
    var what = [call.direction === 'inbound' ? t('Inbound call') : t('Outbound call'),
      call.status === 'logged' ? t('logged by {name}', { name: call.logged_by || '?' }) : call.status];
    if (call.duration_seconds !== null) what.push(Math.floor(call.duration_seconds / 60) + ' min ' + call.duration_seconds % 60 + ' s');
    li.append(el('span', 'when', when), el('span', 'what', ' · ' + what.join(' · ')));
    if (call.note) li.append(el('span', 'note', call.note));
    if (call.recording_url && /^https?:\/\//.test(call.recording_url)) {
      var link = el('a', 'recording', t('Recording'));
      link.href = call.recording_url;
      link.target = '_blank';
      link.rel = 'noopener noreferrer';
      li.appendChild(link);
    }
    return li;
  }

  function showCalls(visitor) {
    visitorId = visitor.visitor_id;
    callsEl.textContent = '';
    (visitor.calls || []).forEach(function (call) { callsEl.appendChild(callItem(call)); });
    callStatusEl.textContent = '';
  }

  window.SwitchboardChannels.showCalls = showCalls;

  api.socket.on('call:event', function (call) {
    if (call.visitor_id === visitorId) callsEl.insertBefore(callItem(call), callsEl.firstChild);
  });

  callFormEl.addEventListener('submit', function (event) {
    event.preventDefault();
    if (!visitorId) return;
    var minutes = Number(callFormEl.elements.minutes.value || 0);
    api.request('call:log', {
      visitor_id: visitorId, direction: callFormEl.elements.direction.value,
      duration_seconds: Math.round(minutes * 60), note: callFormEl.elements.note.value
    }, function () {
      callFormEl.reset();
      callStatusEl.textContent = t('Call logged.');
    }, function (error) {
      callStatusEl.textContent = error.message;
    });
  });
})();
