// AICMO's push service worker: shows the notification a campaign sent and opens its link when clicked.
// The site serves it from its root (e.g. /push-sw.js) so that it may control every page.
self.addEventListener("push", (event) => {
  const message = event.data ? event.data.json() : {};
  event.waitUntil(self.registration.showNotification(message.title || "", {
    body: message.body || "", icon: message.icon || undefined, data: { url: message.url || "" } }));
});
self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = event.notification.data && event.notification.data.url;
  if (url) event.waitUntil(self.clients.openWindow(url));
});
