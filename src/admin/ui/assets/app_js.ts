/**
 * The admin pages' one script, served as /admin/assets/app.js. It is kept as text in a module
 * so that every form of the program (compiled, bundled) carries it. No template literals or
 * `${` inside: the text is a plain string.
 *
 * What it does: forms marked `data-api="METHOD /path/{field}"` are sent to the admin API as
 * JSON with the session's CSRF token, and the answer's error message is shown in the form's
 * alert line; `data-then` says what follows success (reload, go:URL, show the answer's key,
 * sign in with the same credentials). Buttons open and close dialogs and copy text. A main
 * element with `data-refresh` reloads its content every N seconds.
 */
export const APP_JS = String.raw`"use strict";
(function () {
  var csrf = document.querySelector('meta[name="csrf-token"]');
  var token = csrf ? csrf.getAttribute("content") : null;

  function valueOf(el) {
    if (el.type === "number") return el.value === "" ? null : Number(el.value);
    if (el.type === "checkbox" && !el.hasAttribute("data-list")) return el.checked;
    return el.value;
  }

  function bodyOf(form) {
    var body = {};
    var params = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.disabled || el.type === "submit" || el.type === "button") return;
      if (el.name.charAt(0) === "_") { params[el.name.slice(1)] = el.value; return; }
      if (el.type === "checkbox" && el.hasAttribute("data-list")) {
        body[el.name] = body[el.name] || [];
        if (el.checked) body[el.name].push(el.value);
        return;
      }
      if (el.type === "radio") { if (el.checked) body[el.name] = el.value; return; }
      var value = valueOf(el);
      if (value === "" && !el.hasAttribute("data-keep-empty")) return;
      body[el.name] = value;
    });
    return { body: body, params: params };
  }

  function send(method, path, body, contentType) {
    var headers = { "content-type": contentType || "application/json" };
    if (token) headers["x-csrf-token"] = token;
    return fetch(path, {
      method: method,
      headers: headers,
      credentials: "same-origin",
      body: method === "GET" ? undefined : body,
    }).then(function (res) {
      return res.text().then(function (text) {
        var json = null;
        try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
        if (!res.ok) {
          var message = json && json.error ? json.error.message : "The node answered " + res.status;
          throw new Error(message);
        }
        return json;
      });
    });
  }

  function show(form, text) {
    var line = form.querySelector('[role="alert"]');
    if (line) line.textContent = text;
  }

  function after(form, what, answer, fields) {
    if (!what || what === "reload") { location.reload(); return; }
    if (what.indexOf("go:") === 0) { location.assign(what.slice(3)); return; }
    if (what === "show-key") {
      var out = document.getElementById(form.getAttribute("data-key-output"));
      if (out) {
        out.hidden = false;
        out.querySelector("[data-key]").textContent = answer.key;
        out.querySelector("[data-key]").focus();
      }
      form.reset();
      return;
    }
    if (what === "sign-in") {
      send("POST", "/admin/api/login", JSON.stringify({ username: fields.username, password: fields.password }))
        .then(function () { location.assign("/admin/"); }, function (err) { show(form, err.message); });
    }
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var api = form.getAttribute("data-api");
    if (!api) return;
    event.preventDefault();
    if (form.hasAttribute("data-confirm") && !confirm(form.getAttribute("data-confirm"))) return;
    var parts = api.split(" ");
    var got = bodyOf(form);
    var path = parts[1].replace(/\{(\w+)\}/g, function (_, name) {
      return encodeURIComponent(got.params[name] || "");
    });
    var upload = form.querySelector("[data-upload]");
    var sending = upload
      ? upload.files[0]
        ? send(parts[0], path, upload.files[0], upload.getAttribute("data-upload"))
        : Promise.reject(new Error("Choose a file first"))
      : send(parts[0], path, JSON.stringify(got.body));
    show(form, "");
    var button = form.querySelector('[type="submit"]');
    if (button) button.disabled = true;
    sending.then(function (answer) {
      after(form, form.getAttribute("data-then"), answer || {}, got.body);
    }, function (err) {
      show(form, err.message);
    }).then(function () { if (button) button.disabled = false; });
  });

  document.addEventListener("click", function (event) {
    var el = event.target.closest("button");
    if (!el) return;
    var open = el.getAttribute("data-open-dialog");
    if (open) { document.getElementById(open).showModal(); return; }
    if (el.hasAttribute("data-close-dialog")) { el.closest("dialog").close(); return; }
    var copy = el.getAttribute("data-copy");
    if (copy) {
      var text = document.getElementById(copy).textContent;
      var done = function () { el.textContent = "Copied"; };
      if (navigator.clipboard) navigator.clipboard.writeText(text).then(done, function () {});
    }
  });

  var main = document.getElementById("main");
  var every = main ? Number(main.getAttribute("data-refresh")) : 0;
  if (every > 0) {
    setInterval(function () {
      if (document.querySelector("dialog[open]") || document.activeElement && document.activeElement.form) return;
      fetch(location.href, { credentials: "same-origin" }).then(function (res) {
        return res.ok ? res.text() : null;
      }).then(function (html) {
        if (!html) return;
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("main");
        if (fresh) main.innerHTML = fresh.innerHTML;
      }, function () {});
    }, every * 1000);
  }
})();
`;
