// Web push for creneau: register the service worker, subscribe with the instance's VAPID key, and save the
// subscription (POST /push/subscribe with the page's CSRF token). No inline script: the button carries the key.
(function () {
  "use strict";
  function urlBase64ToUint8Array(value) {
    var padding = "=".repeat((4 - (value.length % 4)) % 4);
    var raw = atob((value + padding).replace(/-/g, "+").replace(/_/g, "/"));
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }
  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRF-Token"]; } catch (e) { return ""; }
  }
  function say(button, text) {
    var status = document.getElementById(button.getAttribute("aria-controls"));
    if (status) status.textContent = text;
  }
  function enable(button) {
    if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
      say(button, button.dataset.unsupported);
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      button.disabled = true;
      Notification.requestPermission().then(function (permission) {
        if (permission !== "granted") throw new Error(button.dataset.denied);
        return navigator.serviceWorker.register("/static/sw.js", { scope: "/static/" });
      }).then(function (registration) {
        return registration.pushManager.subscribe({
          userVisibleOnly: true,
          applicationServerKey: urlBase64ToUint8Array(button.dataset.key)
        });
      }).then(function (subscription) {
        return fetch("/push/subscribe", {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
          body: JSON.stringify(subscription.toJSON())
        });
      }).then(function (response) {
        if (!response.ok) throw new Error(button.dataset.failed);
        say(button, button.dataset.done);
        window.location.reload();
      }).catch(function (error) {
        button.disabled = false;
        say(button, error && error.message ? error.message : button.dataset.failed);
      });
    });
  }
  document.querySelectorAll("button[data-push-subscribe]").forEach(enable);
})();
