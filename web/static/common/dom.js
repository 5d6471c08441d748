/* What every page script needs, once: JSON requests that send the CSRF token and throw the
   API's error object ({code, message, field}) on a 4xx/5xx, element building, and the status
   toast. A page loads it before its own script and finds it as window.CityGridDom. */
(function () {
  "use strict";

  /* fetch with the session cookie, JSON accepted and the CSRF token on writes; resolves to
     the body, or rejects with the API's error (a plain message when the body is not JSON). */
  function request(path, init, csrfToken) {
    init = init || {};
    init.credentials = "same-origin";
    init.headers = Object.assign({ Accept: "application/json" }, init.headers || {});
    if (init.method && init.method !== "GET" && csrfToken) { init.headers["X-CSRFToken"] = csrfToken; }
    return fetch(path, init).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) { throw (data && data.error) || { message: "请求失败 (" + response.status + ")" }; }
        return data;
      });
    });
  }

  /* GET `path`; with `body`, POST it as JSON. */
  function json(path, body, csrfToken) {
    if (body === undefined) { return request(path, {}, csrfToken); }
    return request(path, { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body) }, csrfToken);
  }

  /* el("button", {text: "派遣", class: "primary", onclick: go}, [children]): attributes (null
     ones left out), "on…" listeners, text; children as nodes or strings, empty ones left out. */
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; }
      else if (k.slice(0, 2) === "on") { node.addEventListener(k.slice(2), attrs[k]); }
      else if (attrs[k] !== null && attrs[k] !== undefined) { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) {
      if (c) { node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); }
    });
    return node;
  }

  /* Shows `text` in the page's #toast (role=status) for `ms` (3 s). */
  function toast(text, ms) {
    var box = document.getElementById("toast");
    box.textContent = text;
    box.classList.add("show");
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { box.classList.remove("show"); }, ms || 3000);
  }

  window.CityGridDom = { request: request, json: json, el: el, toast: toast };
})();
