/* The field app's outbox (待发送): everything the inspector sends — reports with their photos,
   self-handled reports, task answers, GPS fixes — is written to IndexedDB first and sent from
   there, so a dead zone only delays it. Each item is sent exactly once:
   - a report carries its `report_key` (a UUID made on the phone); the server answers a repeat
     with the case the first one made, so a lost answer followed by a resend makes no second case;
   - its photos are uploaded one by one, named `<key>-<n>.<ext>`; before a retry the case's media
     are read and the names already there are skipped;
   - a task answer that meets 409 is checked against the case's tasks: done by this inspector
     means it arrived before;
   - fixes are keyed by their time on the server (tracker, t), so a batch sent twice is all
     duplicates.
   Network errors, 5xx and a lost session keep an item waiting; any other refusal marks it
   failed with the server's reason, to be corrected or resent by hand.
   The same file runs in the service worker (sw.js imports it): when the browser fires the
   Background Sync event `citygrid-outbox` — the network is back, the app may be closed — the
   worker sends what waits as the person signed in last, with the CSRF token the page stored
   (`session` in the `meta` store). The server's keys make a send from both at once harmless. */
(function () {
  "use strict";
  var root = typeof window !== "undefined" ? window : self;
  var DB_NAME = "citygrid-field", VERSION = 2;
  var SYNC_TAG = "citygrid-outbox";
  var db = null;
  /* A phone may be shared: each item and fix belongs to the person signed in when it was made,
     and only theirs is sent or listed while they are signed in. */
  var user = null;

  function open() {
    if (db) { return Promise.resolve(db); }
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, VERSION);
      request.onupgradeneeded = function () {
        var d = request.result;
        if (!d.objectStoreNames.contains("items")) { d.createObjectStore("items", { keyPath: "key" }); }
        if (!d.objectStoreNames.contains("fixes")) { d.createObjectStore("fixes", { keyPath: "t" }); }
        if (!d.objectStoreNames.contains("meta")) { d.createObjectStore("meta", { keyPath: "key" }); }
      };
      request.onsuccess = function () { db = request.result; resolve(db); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function store(name, mode, work) {
    return open().then(function (d) {
      return new Promise(function (resolve, reject) {
        var tx = d.transaction(name, mode), result;
        tx.oncomplete = function () { resolve(result); };
        tx.onerror = function () { reject(tx.error); };
        result = work(tx.objectStore(name));
      });
    });
  }

  function all(name) {
    return store(name, "readonly", function (s) {
      var out = [];
      s.openCursor().onsuccess = function (e) {
        var cursor = e.target.result;
        if (cursor) { out.push(cursor.value); cursor.continue(); }
      };
      return out;
    }).then(function (rows) {
      return rows.filter(function (r) { return r.user === user; });
    });
  }

  function put(item) { return store("items", "readwrite", function (s) { s.put(item); }).then(changed); }

  function uuid() {
    if (crypto.randomUUID) { return crypto.randomUUID(); }
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return [h.slice(0, 8), h.slice(8, 12), h.slice(12, 16), h.slice(16, 20), h.slice(20)].join("-");
  }

  var listeners = [];
  function changed() { listeners.forEach(function (f) { try { f(); } catch (e) { /* a view's own error */ } }); }

  /* Adds an item (kind: report, self, answer) to send; gives it. */
  function add(item) {
    item.key = item.key || uuid();
    item.user = user;
    item.created = item.created || new Date().toISOString();
    item.status = "queued";
    item.attempts = 0;
    item.uploaded = item.uploaded || [];
    return put(item).then(function () { askSync(); flush(); return item; });
  }

  /* Asks the browser for a Background Sync (page only): it wakes the worker to send what waits
     once the network is back, even with the app closed. Browsers without it: the page sends. */
  function askSync() {
    if (typeof window === "undefined" || !navigator.serviceWorker) { return; }
    navigator.serviceWorker.ready.then(function (registration) {
      return registration.sync ? registration.sync.register(SYNC_TAG) : null;
    }).catch(function () { /* no worker (http), or sync refused: the page sends */ });
  }

  /* The page records who is signed in and its CSRF token for the worker's sends. */
  function setUser(name) {
    user = name;
    if (typeof window === "undefined") { return Promise.resolve(); }
    var session = { key: "session", user: name, csrf: csrf() };
    return store("meta", "readwrite", function (s) { s.put(session); }).catch(function () {});
  }

  /* The worker takes the person and token the page stored last. */
  function loadSession() {
    return store("meta", "readonly", function (s) {
      var found = {};
      s.get("session").onsuccess = function (e) { found.value = e.target.result; };
      return found;
    }).then(function (found) {
      var session = found.value;
      if (session) { user = session.user; root.FIELD_CSRF = session.csrf; }
      return session || null;
    });
  }

  function addFix(fix) {
    fix.user = user;
    return store("fixes", "readwrite", function (s) { s.put(fix); }).then(changed);
  }

  /* --- sending ----------------------------------------------------------------------------- */
  function csrf() {
    var m = typeof document !== "undefined" && document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : (root.FIELD_CSRF || "");
  }

  /* fetch with the session; gives the JSON, throws {status, message, field, network}. */
  function call(path, options) {
    options = options || {};
    var init = { method: options.method || "GET", credentials: "same-origin",
      headers: { Accept: "application/json" } };
    if (options.json !== undefined) {
      init.method = options.method || "POST";
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(options.json);
    } else if (options.form) {
      init.method = "POST";
      init.body = options.form;
    }
    if (init.method !== "GET") { init.headers["X-CSRFToken"] = csrf(); }
    return fetch(path, init).catch(function () {
      throw { network: true, message: "网络不可用" };
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var error = (data && data.error) || {};
          throw { status: response.status, message: error.message || ("请求失败 (" + response.status + ")"),
            field: error.field, current: data.current };
        }
        return data;
      });
    });
  }

  function waits(error) {  /* keep waiting rather than fail */
    return error.network || error.status >= 500 || error.status === 401 || error.status === 408 ||
      error.status === 429 || (error.status === 403 && /CSRF|登录|credentials/i.test(error.message || ""));
  }

  function extension(blob) {
    return ({ "image/png": "png", "image/webp": "webp" })[blob.type] || "jpg";
  }

  /* Uploads the photos of `item` not yet on case `caseId`, each once. */
  function uploadPhotos(item, caseId) {
    var photos = item.photos || [];
    if (!photos.length) { return Promise.resolve(); }
    var known = item.photosTried
      ? call("/api/v1/cases/" + caseId + "/media").then(function (d) { return d.media.map(function (m) { return m.name; }); })
      : Promise.resolve([]);
    item.photosTried = true;
    return put(item).then(function () { return known; }).then(function (there) {
      return photos.reduce(function (chain, blob, i) {
        var name = item.key + "-" + (i + 1) + "." + extension(blob);
        return chain.then(function () {
          if (item.uploaded.indexOf(name) >= 0 || there.indexOf(name) >= 0) { return; }
          var form = new FormData();
          form.append("file", blob, name);
          return call("/api/v1/cases/" + caseId + "/media", { form: form }).then(function () {
            item.uploaded.push(name);
            return put(item);
          });
        });
      }, Promise.resolve());
    });
  }

  var send = {
    report: function (item) {
      var made = item.caseId ? Promise.resolve() : call("/api/v1/cases", { json: item.body }).then(function (c) {
        item.caseId = c.id; item.number = c.number; item.warnings = c.warnings || [];
        return put(item);
      });
      return made.then(function () { return uploadPhotos(item, item.caseId); });
    },
    self: function (item) {
      var form = new FormData();
      Object.keys(item.body).forEach(function (k) { form.append(k, item.body[k]); });
      item.before.forEach(function (b, i) { form.append("before", b, item.key + "-b" + (i + 1) + "." + extension(b)); });
      item.after.forEach(function (b, i) { form.append("after", b, item.key + "-a" + (i + 1) + "." + extension(b)); });
      return call("/api/v1/cases/self-handled", { form: form }).then(function (c) {
        item.caseId = c.id; item.number = c.number;
      });
    },
    clock: function (item) {  /* 离线打卡: the phone's time goes as taken_at */
      var form = new FormData();
      Object.keys(item.body).forEach(function (k) { form.append(k, item.body[k]); });
      form.append("photo", item.photos[0], item.key + "." + extension(item.photos[0]));
      return call("/api/v1/tracking/clock", { form: form }).then(function (c) { item.clockId = c.id; });
    },
    answer: function (item) {
      return uploadPhotos(item, item.caseId).then(function () {
        return call("/api/v1/cases/" + item.caseId + "/actions/" + item.action, { json: item.body });
      }).catch(function (error) {
        if (error.status !== 409) { throw error; }
        /* answered already (a lost answer) or moved on: the case's tasks tell */
        return call("/api/v1/cases/" + item.caseId + "/tasks").then(function (d) {
          var done = (d.tasks || []).some(function (t) {
            var same = item.taskId ? t.id === item.taskId : (t.kind === item.task && t.inspector_id === item.userId);
            return same && t.done_at && new Date(t.done_at) >= new Date(item.created);
          });
          if (!done) { throw error; }
        });
      });
    }
  };

  var flushing = null;
  /* Sends what waits, oldest first; one run at a time. Gives {sent, failed, waiting}. */
  function flush() {
    if (flushing) { return flushing; }
    var counts = { sent: 0, failed: 0, waiting: 0 };
    flushing = sendFixes().then(function () { return all("items"); }).then(function (items) {
      items = items.filter(function (i) { return i.status === "queued" || i.status === "sending"; })
        .sort(function (a, b) { return a.created < b.created ? -1 : 1; });
      var stopped = false;
      return items.reduce(function (chain, item) {
        return chain.then(function () {
          if (stopped) { counts.waiting += 1; return; }
          item.status = "sending"; item.attempts += 1;
          return put(item).then(function () { return send[item.kind](item); }).then(function () {
            item.status = "sent"; item.sentAt = new Date().toISOString(); item.error = null;
            counts.sent += 1;
            return put(item);
          }, function (error) {
            if (waits(error)) {
              item.status = "queued"; stopped = true; counts.waiting += 1;
              item.error = error.status === 401 || error.status === 403
                ? "登录已过期，请重新登录，登录后自动发送" : error.message;
            } else {
              item.status = "failed"; item.error = error.message; item.field = error.field; counts.failed += 1;
            }
            return put(item);
          });
        });
      }, Promise.resolve());
    }).then(function () { return counts; }, function () { return counts; }).then(function (c) {
      flushing = null; changed();
      if (c.waiting) { askSync(); }
      return c;
    });
    return flushing;
  }

  /* GPS fixes: up to 1,000 a batch to the inspector's own tracker; deleted once accepted. */
  var noTracker = false;
  function sendFixes() {
    if (noTracker) { return Promise.resolve(); }
    return all("fixes").then(function (fixes) {
      if (!fixes.length) { return; }
      fixes.sort(function (a, b) { return a.t < b.t ? -1 : 1; });
      var batch = fixes.slice(0, 1000);
      var body = batch.map(function (f) {
        var copy = {};
        Object.keys(f).forEach(function (k) { if (k !== "user") { copy[k] = f[k]; } });
        return copy;
      });
      return call("/api/v1/tracking/fixes", { json: { fixes: body } }).then(function () {
        return store("fixes", "readwrite", function (s) { batch.forEach(function (f) { s.delete(f.t); }); });
      }, function (error) {
        if (error.status === 403 || error.status === 404) { noTracker = true; }  /* no phone bound */
        else if (error.status === 400) {  /* a bad fix refuses the batch: drop that one */
          var m = /fixes\[(\d+)\]/.exec(error.field || "");
          if (m) { return store("fixes", "readwrite", function (s) { s.delete(batch[Number(m[1])].t); }); }
        }
      });
    }).then(changed);
  }

  function retry(key) {
    return all("items").then(function (items) {
      var item = items.filter(function (i) { return i.key === key; })[0];
      if (!item) { return; }
      item.status = "queued"; item.error = null;
      return put(item).then(flush);
    });
  }

  function remove(key) { return store("items", "readwrite", function (s) { s.delete(key); }).then(changed); }

  root.FieldOutbox = {
    setUser: setUser, loadSession: loadSession, SYNC_TAG: SYNC_TAG,
    add: add, addFix: addFix, flush: flush, retry: retry, remove: remove, call: call, uuid: uuid,
    items: function () { return all("items"); }, fixes: function () { return all("fixes"); },
    onChange: function (f) { listeners.push(f); }
  };
})();
