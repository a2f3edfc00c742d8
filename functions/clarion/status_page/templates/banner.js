/* Clarion status banner. Load it from the status page's own origin:
   <script src="https://STATUS-PAGE/embed/banner.js" async></script>
   It reads api/v2/summary.json from that origin and shows a dismissible banner while the
   indicator is not "none". No cookies, no storage, no other requests. */
(function () {
  "use strict";
  var s = document.currentScript, T = __TEXT__, D = "__DEFAULT__";
  if (!s || !window.fetch) return;
  var base = new URL("../", s.src).href, shown = null, closed = "";
  var lang = (s.getAttribute("data-lang") || document.documentElement.lang || D).slice(0, 2).toLowerCase();
  if (!T[lang]) lang = D;
  var t = T[lang], home = base + (lang === D ? "" : lang + "/") + "index.html";
  var C = {minor: ["#fff8e1", "#8a6d00"], major: ["#fff3e0", "#b34700"], critical: ["#fdecea", "#b71c1c"]};
  function load() {
    fetch(base + "api/v2/summary.json", {credentials: "omit", referrerPolicy: "no-referrer"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(show, function () {});
  }
  function show(d) {
    var ind = d && d.status && d.status.indicator;
    if (!ind || ind === "none") { hide(); return; }
    var text = lang === D ? d.status.description : t[ind] || d.status.description;
    var names = (d.incidents || []).map(function (i) { return i.name; });
    var key = ind + "|" + text + "|" + names.join("|");
    if (key === closed || (shown && shown.getAttribute("data-key") === key)) return;
    hide();
    var c = C[ind] || C.major, box = document.createElement("div");
    box.className = "clarion-banner";
    box.setAttribute("role", "status");
    box.setAttribute("lang", lang);
    box.setAttribute("data-key", key);
    box.setAttribute("data-indicator", ind);
    box.style.cssText = "display:flex;gap:.75em;align-items:center;flex-wrap:wrap;margin:0;padding:.6em 1em;" +
      "font:15px/1.4 system-ui,sans-serif;color:#1a1a1a;background:" + c[0] + ";border-left:6px solid " + c[1];
    var msg = document.createElement("strong");
    msg.textContent = text;
    box.appendChild(msg);
    if (lang === D && names.length) {
      var n = document.createElement("span");
      n.textContent = names.join("; ");
      box.appendChild(n);
    }
    var a = document.createElement("a");
    a.href = home;
    a.textContent = t.view;
    a.rel = "noopener";
    a.style.cssText = "color:#0b3d91;text-decoration:underline";
    box.appendChild(a);
    var b = document.createElement("button");
    b.type = "button";
    b.textContent = "\u00d7";
    b.setAttribute("aria-label", t.dismiss);
    b.title = t.dismiss;
    b.style.cssText = "margin-left:auto;font:inherit;font-size:1.25em;line-height:1;padding:.1em .45em;" +
      "background:transparent;color:inherit;border:1px solid currentColor;border-radius:4px;cursor:pointer";
    b.onclick = function () { closed = key; hide(); };
    box.appendChild(b);
    var host = document.getElementById(s.getAttribute("data-target") || "clarion-status") || document.body;
    host.insertBefore(box, host.firstChild);
    shown = box;
  }
  function hide() {
    if (shown && shown.parentNode) shown.parentNode.removeChild(shown);
    shown = null;
  }
  load();
  setInterval(load, 300000);
})();
