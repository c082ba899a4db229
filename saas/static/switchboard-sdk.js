/*
 * Switchboard SDK for web views in mobile apps (issue 7, app channel). No framework.
 *
 *   var chat = Switchboard.connect({baseUrl, tenant, appKey, userId, userHash, name, email});
 *   chat.onMessage(function (message) { ... });   // every message once, in seq order per conversation
 *   chat.send('Hello').then(function (message) { ... });
 *   chat.history().then(function (messages) { ... });
 *   chat.ready.then(...); chat.close();
 *
 * The session comes from the app API (POST /api/app/v1/t/<tenant>/session); live messages from the
 * /visitor Socket.IO namespace with the socket.io client this server vendors. A message is kept
 * until the server acknowledges it and resent with the same client_id after a reconnect, so it is
 * stored exactly once.
 */
(function (global) {
  'use strict';

  var ACK_TIMEOUT_MS = 10000;

  function loadSocketIo(baseUrl) {
    if (global.io) return Promise.resolve(global.io);
    return new Promise(function (resolve, reject) {
      var tag = document.createElement('script');
      tag.src = baseUrl + '/static/vendor/socket.io.min.js';
      tag.onload = function () { resolve(global.io); };
      tag.onerror = function () { reject(new Error('The Socket.IO client could not be loaded.')); };
      document.head.appendChild(tag);
    });
  }

  function newClientId() {
    if (global.crypto && global.crypto.randomUUID) return global.crypto.randomUUID();
    return 'c' + Date.now().toString(36) + Math.random().toString(36).slice(2, 12);
  }

  function failure(error) {
    var problem = new Error(error && error.message ? error.message : 'The request failed.');
    problem.code = error && error.code ? error.code : 'failed';
    return problem;
  }

  function startSession(options) {
    var url = options.baseUrl + '/api/app/v1/t/' + encodeURIComponent(options.tenant) + '/session';
    var body = { user_id: String(options.userId), user_hash: options.userHash };
    if (options.name) body.name = options.name;
    if (options.email) body.email = options.email;
    return fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-App-Key': options.appKey },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (answer) {
        if (!answer.ok) throw failure(answer.error);
        return answer;
      });
    });
  }

  function connect(options) {
    var baseUrl = String(options.baseUrl || '').replace(/\/+$/, '');
    var listeners = [];
    var seen = new Set(); // message ids already handed to listeners
    var pending = new Map(); // client_id -> {body, resolve, reject}: sent, not acknowledged yet
    var socket = null;

    function request(event, payload) {
      return new Promise(function (resolve, reject) {
        if (!socket || !socket.connected) { reject(failure({ code: 'offline', message: 'Not connected.' })); return; }
        socket.timeout(ACK_TIMEOUT_MS).emit(event, payload, function (timedOut, ack) {
          if (timedOut) reject(failure({ code: 'timeout', message: 'No answer from the server.' }));
          else if (!ack || !ack.ok) reject(failure(ack && ack.error));
          else resolve(ack);
        });
      });
    }

    function deliver(message) {
      if (!message || seen.has(message.id)) return;
      seen.add(message.id);
      listeners.forEach(function (listener) { listener(message); });
    }

    function transmit(clientId) {
      var entry = pending.get(clientId);
      request('message:send', { client_id: clientId, body: entry.body }).then(function (ack) {
        pending.delete(clientId);
        deliver(ack.message);
        entry.resolve(ack.message);
      }, function (error) {
        // Offline or a lost answer: kept, and resent with the same client_id on reconnect.
        if (error.code === 'offline' || error.code === 'timeout' || error.code === 'unavailable') return;
        pending.delete(clientId);
        entry.reject(error);
      });
    }

    function history(afterSeq) {
      return request('history', { after_seq: afterSeq || 0 }).then(function (ack) {
        ack.messages.forEach(deliver);
        return ack.messages;
      });
    }

    var ready = startSession(Object.assign({}, options, { baseUrl: baseUrl }))
      .then(function (session) {
        return loadSocketIo(baseUrl).then(function (io) {
          return new Promise(function (resolve, reject) {
            socket = io(baseUrl + session.socket.namespace, { auth: session.socket.auth, transports: ['websocket'] });
            socket.on('message:new', deliver);
            socket.on('connect', function () {
              resolve(session);
              history(0).catch(function () { /* shown again on the next reconnect */ });
              pending.forEach(function (_entry, clientId) { transmit(clientId); });
            });
            socket.on('connect_error', function (error) {
              if (error && error.data) reject(failure(error.data)); // refused: bad key or token
            });
          });
        });
      });

    return {
      ready: ready,
      onMessage: function (listener) { listeners.push(listener); },
      send: function (text) {
        var clientId = newClientId();
        return new Promise(function (resolve, reject) {
          pending.set(clientId, { body: String(text), resolve: resolve, reject: reject });
          ready.then(function () { transmit(clientId); }, reject);
        });
      },
      history: function (afterSeq) { return ready.then(function () { return history(afterSeq); }); },
      markRead: function (seq) {
        return ready.then(function () { return request('conversation:seen', { seq: seq }); });
      },
      close: function () { if (socket) socket.disconnect(); }
    };
  }

  global.Switchboard = { connect: connect };
})(window);
