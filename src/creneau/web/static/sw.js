// creneau's service worker: shows the alerts pushed by the server (already decrypted by the browser) and
// opens the official booking page (or the alert list) when the notification is tapped.
"use strict";
self.addEventListener("push", function (event) {
  var data = {};
  try { data = event.data ? event.data.json() : {}; } catch (e) { data = { title: "creneau", body: event.data ? event.data.text() : "" }; }
  event.waitUntil(self.registration.showNotification(data.title || "creneau", {
    body: data.body || "",
    lang: data.lang || "fr",
    tag: data.tag || undefined,
    renotify: data.kind === "alert",
    requireInteraction: data.kind === "alert",
    icon: "/static/favicon.svg",
    data: { url: data.url || "/alerts" }
  }));
});
self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var url = (event.notification.data && event.notification.data.url) || "/alerts";
  event.waitUntil(self.clients.openWindow(url));
});
