// Live SMS segment count (the server checks again on submit; the page works without this script).
(function () {
  var basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var ext = "\f^{}\\[~]|€";
  function count(text) {
    var gsm = true, units = 0, i, ch;
    for (i = 0; i < text.length; i++) {
      ch = text.charAt(i);
      if (basic.indexOf(ch) >= 0) { units += 1; } else if (ext.indexOf(ch) >= 0) { units += 2; } else { gsm = false; break; }
    }
    if (gsm) { return { enc: "GSM-7", units: units, seg: units <= 160 ? 1 : Math.ceil(units / 153) }; }
    units = text.length;
    return { enc: "UCS-2", units: units, seg: units <= 70 ? 1 : Math.ceil(units / 67) };
  }
  var boxes = document.querySelectorAll("textarea[data-sms]");
  Array.prototype.forEach.call(boxes, function (box) {
    var out = document.getElementById(box.getAttribute("aria-describedby"));
    var budget = parseInt(box.getAttribute("data-sms"), 10);
    function update() {
      var c = count(box.value.replace(/\r\n/g, "\n").trim());
      out.textContent = c.seg + (c.seg === 1 ? " segment" : " segments") + " · " + c.units + " " + c.enc +
        " characters; the budget is " + budget + (budget === 1 ? " segment." : " segments.") +
        (c.seg > budget ? " Too long: shorten it before approving." : "");
      out.className = c.seg > budget ? "small err" : "small muted";
    }
    box.addEventListener("input", update);
  });
})();
