// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  // Show times in the browser's own zone from the next page on.
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && document.cookie.indexOf("tz=" + encodeURIComponent(zone)) < 0) {
      document.cookie = "tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; samesite=strict";
    }
  } catch (e) { /* keep the server's default zone */ }

  // A second thought before what cannot be undone (revoking a key, suspending an account).
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });

  // Copy buttons for one-time secrets.
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var field = document.querySelector(button.getAttribute("data-copy"));
    if (!field || !navigator.clipboard) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(field.value).then(function () { button.textContent = "Copied"; });
    });
  });

  // Live quote while typing on the send form.
  var form = document.getElementById("send-form");
  if (form) {
    var panel = document.getElementById("quote");
    var timer = null, latest = 0;
    var render = function (data) {
      panel.textContent = "";
      var p = document.createElement("p");
      if (data.message) {
        p.className = "hint";
        p.textContent = data.message;
      } else {
        var strong = document.createElement("strong");
        strong.textContent = data.credits;
        p.appendChild(strong);
        p.appendChild(document.createTextNode(" for " + data.recipients + " recipient(s) · " + data.segments + " segment(s), " +
          data.encoding + " · balance after: " + data.balance_after + (data.sufficient ? "" : " — not enough credits")));
      }
      panel.appendChild(p);
    };
    var quote = function () {
      var ticket = ++latest;
      fetch(form.getAttribute("data-quote-url"), { method: "POST", body: new FormData(form), credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : { message: "The quote is not available right now." }; })
        .then(function (data) { if (ticket === latest) { render(data); } })
        .catch(function () { });
    };
    form.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(quote, 350);
    });
  }

  // Live preview of a campaign's text for its first recipient.
  var campaign = document.getElementById("campaign-form");
  if (campaign) {
    var previewPanel = document.getElementById("preview");
    var previewTimer = null, previewLatest = 0;
    var showPreview = function (data) {
      previewPanel.textContent = "";
      if (data.text !== undefined) {
        var text = document.createElement("p");
        text.className = "preview";
        text.setAttribute("data-testid", "preview-text");
        text.textContent = data.text;
        previewPanel.appendChild(text);
      }
      var detail = document.createElement("p");
      detail.className = "hint";
      detail.textContent = data.detail || data.message || "";
      previewPanel.appendChild(detail);
    };
    var preview = function () {
      var ticket = ++previewLatest;
      fetch(campaign.getAttribute("data-preview-url"), { method: "POST", body: new FormData(campaign), credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : { message: "The preview is not available right now." }; })
        .then(function (data) { if (ticket === previewLatest) { showPreview(data); } })
        .catch(function () { });
    };
    var later = function () { clearTimeout(previewTimer); previewTimer = setTimeout(preview, 350); };
    campaign.addEventListener("input", later);
    campaign.addEventListener("change", later);
  }

  // A delivery report (or a pending payment) refreshes itself while its status is the one it waits out.
  var live = document.querySelector("[data-refresh-while]");
  if (live && live.id && live.getAttribute("data-status") === live.getAttribute("data-refresh-while")) {
    var every = parseInt(live.getAttribute("data-refresh-ms"), 10) || 3000;
    var refresh = function () {
      fetch(location.href, { credentials: "same-origin" })
        .then(function (response) {
          if (response.redirected || !response.ok) { location.reload(); return null; }
          return response.text();
        })
        .then(function (html) {
          if (html === null) { return; }
          var next = new DOMParser().parseFromString(html, "text/html").getElementById(live.id);
          if (!next) { return; }
          live.replaceWith(next);
          live = next;
          if (next.getAttribute("data-status") === next.getAttribute("data-refresh-while")) { setTimeout(refresh, every); }
        })
        .catch(function () { setTimeout(refresh, every * 2); });
    };
    setTimeout(refresh, every);
  }
})();
