/* The field app's service worker (城管通), served from /m/sw.js by web/pages.py, which puts
   SHELL_VERSION and SHELL (the page and its static files) above this file.
   - The app shell is cached at install; the page is fetched from the network first (a fresh
     sign-in state and CSRF token) and from the cache when the phone is offline; static files
     come from the cache.
   - Map tiles, glyphs and styles are cached as they are viewed (the inspector's grid, where they
     work all day), answered from the cache at once and refreshed behind, at most TILE_LIMIT.
   - The API is never answered by the worker: the page's own outbox (outbox.js) queues what it
     could not send. The worker imports the same outbox and sends it when the browser fires the
     Background Sync event (the network back, the app perhaps closed); a run that leaves items
     waiting fails the event, so the browser tries again later. */
/* global SHELL_VERSION, SHELL */
"use strict";
var SHELL_CACHE = "citygrid-field-shell-" + SHELL_VERSION;
var TILE_CACHE = "citygrid-field-tiles";
var TILE_LIMIT = 3000;
var CACHED_MAP = /^\/(tiles\/(?!cases\/|tracking\/)|fonts\/|styles\/)/;
var OUTBOX_URL = SHELL.filter(function (url) { return /\/field\/outbox\.js$/.test(url); })[0];
if (OUTBOX_URL) { importScripts(OUTBOX_URL); }

self.addEventListener("sync", function (event) {
  if (!self.FieldOutbox || event.tag !== self.FieldOutbox.SYNC_TAG) { return; }
  event.waitUntil(self.FieldOutbox.loadSession().then(function (session) {
    if (!session) { return null; }
    return self.FieldOutbox.flush();
  }).then(function (counts) {
    if (counts && counts.waiting) { throw new Error("outbox: " + counts.waiting + " still waiting"); }
  }));
});

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(SHELL_CACHE).then(function (cache) {
    return cache.addAll(SHELL.map(function (url) { return new Request(url, { credentials: "same-origin" }); }));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) {
      return k.indexOf("citygrid-field-shell-") === 0 && k !== SHELL_CACHE;
    }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

function trimTiles() {
  return caches.open(TILE_CACHE).then(function (cache) {
    return cache.keys().then(function (keys) {
      var extra = keys.length - TILE_LIMIT;
      return Promise.all(keys.slice(0, Math.max(0, extra)).map(function (k) { return cache.delete(k); }));
    });
  });
}

function mapResource(event) {
  var request = event.request;
  var refreshed = fetch(request).then(function (response) {
    if (response.ok || response.status === 204) {
      var copy = response.clone();
      event.waitUntil(caches.open(TILE_CACHE).then(function (cache) {
        return cache.put(request, copy);
      }).then(trimTiles));
    }
    return response;
  });
  return caches.match(request, { cacheName: TILE_CACHE }).then(function (hit) {
    if (hit) { refreshed.catch(function () {}); return hit; }
    return refreshed;
  });
}

function page(request) {
  return fetch(request).then(function (response) {
    if (response.ok && !response.redirected) {
      var copy = response.clone();
      caches.open(SHELL_CACHE).then(function (cache) { cache.put("/m/", copy); });
    }
    return response;
  }).catch(function () {
    return caches.match("/m/", { cacheName: SHELL_CACHE });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.mode === "navigate" && (url.pathname === "/m/" || url.pathname === "/m")) {
    event.respondWith(page(request));
  } else if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(caches.match(request, { cacheName: SHELL_CACHE, ignoreSearch: true }).then(function (hit) {
      return hit || fetch(request);
    }));
  } else if (CACHED_MAP.test(url.pathname)) {
    event.respondWith(mapResource(event));
  }
});
